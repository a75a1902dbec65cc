// util/safe_path: files below an agent-controlled directory are never reached through a symlink.
#include "core/util/safe_path.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <functional>
#include <stdexcept>

#include "tests/support/temp_dir.hpp"

namespace coda::util {
namespace {

namespace fs = std::filesystem;
using coda::test::read_file;
using coda::test::TempDir;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(SafePath, CreatesWritesAndReadsBelowTheRoot) {
  TempDir root;
  make_dirs_below(root.path(), ".coda/tasks/t1");
  make_dirs_below(root.path(), ".coda/tasks/t1");  // idempotent
  EXPECT_TRUE(fs::is_directory(root.path() + "/.coda/tasks/t1"));
  EXPECT_TRUE(create_file_below(root.path(), ".coda/.gitignore", "*\n"));
  EXPECT_FALSE(create_file_below(root.path(), ".coda/.gitignore", "other"));
  EXPECT_EQ(read_file(root.path() + "/.coda/.gitignore"), "*\n");
  write_file_below(root.path(), ".coda/tasks/t1/prompt.txt", "first");
  write_file_below(root.path(), ".coda/tasks/t1/prompt.txt", "second");
  EXPECT_EQ(read_file_below(root.path(), ".coda/tasks/t1/prompt.txt", 100), "second");
  EXPECT_EQ(read_file_below(root.path(), ".coda/tasks/t1/prompt.txt", 3), "sec");
  EXPECT_EQ(read_file_below(root.path(), ".coda/tasks/t1/missing.json", 100), std::nullopt);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(root.path() + "/.coda/tasks/t1")) {
    ++entries;
  }
  EXPECT_EQ(entries, 1u);  // no temporary left behind
}

TEST(SafePath, RefusesASymlinkedDirectoryAtEveryLevel) {
  for (const std::string planted : {".coda", ".coda/tasks", ".coda/tasks/t1"}) {
    TempDir root, outside;
    fs::create_directories(root.path() + "/" + fs::path(planted).parent_path().string());
    fs::create_directory_symlink(outside.path(), root.path() + "/" + planted);
    auto error = error_of([&] { make_dirs_below(root.path(), ".coda/tasks/t1"); });
    EXPECT_NE(error.find("refusing to follow the symlink " + root.path() + "/" + planted),
              std::string::npos)
        << planted << ": " << error;
    EXPECT_NE(error_of([&] { write_file_below(root.path(), ".coda/tasks/t1/prompt.txt", "x"); }),
              "");
    EXPECT_NE(error_of([&] { read_file_below(root.path(), ".coda/tasks/t1/result.json", 100); }),
              "");
    EXPECT_TRUE(fs::is_empty(outside.path())) << planted;
  }
}

TEST(SafePath, NeverReadsOrWritesThroughASymlinkedFile) {
  TempDir root, outside;
  auto secret = outside.write("secret", "SECRET-VALUE");
  make_dirs_below(root.path(), "d");
  fs::create_symlink(secret, root.path() + "/d/result.json");
  auto error = error_of([&] { read_file_below(root.path(), "d/result.json", 100); });
  EXPECT_NE(error.find("refusing to follow the symlink"), std::string::npos) << error;
  EXPECT_FALSE(create_file_below(root.path(), "d/result.json", "x"));
  // Writing replaces the link itself; the target is untouched.
  write_file_below(root.path(), "d/result.json", "mine");
  EXPECT_EQ(read_file(secret), "SECRET-VALUE");
  EXPECT_FALSE(fs::is_symlink(root.path() + "/d/result.json"));
  EXPECT_EQ(read_file(root.path() + "/d/result.json"), "mine");
}

TEST(SafePath, RefusesFifosHardLinksAndBadPaths) {
  TempDir root, outside;
  make_dirs_below(root.path(), "d");
  ASSERT_EQ(::mkfifo((root.path() + "/d/fifo").c_str(), 0600), 0);
  EXPECT_NE(
      error_of([&] { read_file_below(root.path(), "d/fifo", 100); }).find("not a regular file"),
      std::string::npos);
  auto other = outside.write("other", "FOREIGN");
  std::error_code ec;
  fs::create_hard_link(other, root.path() + "/d/linked", ec);
  if (!ec) {
    EXPECT_NE(error_of([&] { read_file_below(root.path(), "d/linked", 100); }).find("hard links"),
              std::string::npos);
  }
  for (const std::string bad : {"", "/etc/passwd", "d/../x", "./d", "d//x", "d/"}) {
    EXPECT_NE(error_of([&] { read_file_below(root.path(), bad, 10); }).find("not a plain relative"),
              std::string::npos)
        << bad;
  }
}

}  // namespace
}  // namespace coda::util
