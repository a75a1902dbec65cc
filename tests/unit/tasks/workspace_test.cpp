// Workspaces: what a task changed, and what a workspace holds on disk, computed from the file
// system.
#include "core/tasks/workspace.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/temp_dir.hpp"

namespace coda::tasks {
namespace {

TEST(Workspace, ChangedSinceListsAddedModifiedAndDeletedFiles) {
  test::TempDir dir;
  dir.write("keep.txt", "same");
  dir.write("edit.txt", "before");
  dir.write("gone.txt", "x");
  dir.write("sub/deep.txt", "d");
  auto before = WorkspaceSnapshot::take(dir.path());
  EXPECT_EQ(before.size(), 4u);
  dir.write("edit.txt", "after, longer");
  std::filesystem::remove(dir.path() + "/gone.txt");
  dir.write("sub/new.txt", "n");
  dir.write(".git/objects/ab", "ignored");
  auto task_dir = prepare_task_dir(dir.path(), "task_1");
  std::ofstream(task_dir + "/result.json") << "{}";
  auto after = WorkspaceSnapshot::take(dir.path());
  EXPECT_EQ(after.changed_since(before),
            (std::vector<std::string>{"edit.txt", "gone.txt", "sub/new.txt"}));
  EXPECT_EQ(test::read_file(dir.path() + "/.coda/.gitignore"), "*\n");
}

TEST(Workspace, RemoveWorkspacesDeletesOnlyDirectChildrenOfTheRootAndNeverFollowsSymlinks) {
  namespace fs = std::filesystem;
  test::TempDir dir;
  dir.write("outside/precious.txt", "keep me");
  dir.write("workspaces/sess_a/file.txt", "a");
  fs::create_symlink(dir.path() + "/outside", dir.path() + "/workspaces/sess_a/link");
  dir.write("workspaces/sess_b/file.txt", "b");
  const std::string root = dir.path() + "/workspaces";
  EXPECT_EQ(remove_workspaces(
                root, {root + "/sess_a", dir.path() + "/outside", root + "/../outside", root, "/"}),
            1);
  EXPECT_FALSE(fs::exists(root + "/sess_a"));
  EXPECT_TRUE(fs::exists(root + "/sess_b/file.txt"));
  EXPECT_EQ(test::read_file(dir.path() + "/outside/precious.txt"), "keep me");
}

TEST(Workspace, AWorkspaceSwappedForALinkIsRefusedAndNothingIsWrittenThrough) {
  test::TempDir dir, elsewhere;
  std::filesystem::create_directory_symlink(elsewhere.path(), dir.path() + "/sess_1");
  try {
    prepare_task_dir(dir.path() + "/sess_1", "task_1");
    ADD_FAILURE() << "a workspace that is a symlink was used";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("is a symlink"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(std::filesystem::is_empty(elsewhere.path()));
}

TEST(Workspace, SnapshotStopsAtTheFileLimit) {
  test::TempDir dir;
  for (int i = 0; i < 10; ++i) dir.write("f" + std::to_string(i), "x");
  auto snap = WorkspaceSnapshot::take(dir.path(), 5);
  EXPECT_TRUE(snap.truncated());
  EXPECT_EQ(snap.size(), 5u);
  EXPECT_EQ(WorkspaceSnapshot::take(dir.path() + "/missing").size(), 0u);
}

constexpr uint64_t kMiB = 1u << 20;

TEST(WorkspaceUsage, CountsEveryFileIncludingGitAndTaskFiles) {
  test::TempDir dir;
  dir.write("big", test::incompressible_bytes(kMiB));
  dir.write(".git/objects/pack", test::incompressible_bytes(kMiB));
  dir.write(".coda/tasks/task_1/out", test::incompressible_bytes(kMiB));
  const WorkspaceUsage usage = measure_workspace(dir.path());
  EXPECT_TRUE(usage.complete);
  EXPECT_GE(usage.bytes, 3 * kMiB);
  EXPECT_LT(usage.bytes, 3 * kMiB + 256 * 1024) << "directories and metadata are small";
  EXPECT_EQ(usage.entries, 8u);  // 3 files and 5 directories
}

TEST(WorkspaceUsage, SymlinksCountAsThemselvesAndAreNeverFollowed) {
  namespace fs = std::filesystem;
  test::TempDir dir, outside;
  outside.write("huge", test::incompressible_bytes(4 * kMiB));
  outside.write("tree/huge", test::incompressible_bytes(4 * kMiB));
  dir.write("small", "x");
  fs::create_symlink(outside.path() + "/huge", dir.path() + "/to_file");
  fs::create_symlink(outside.path() + "/tree", dir.path() + "/to_dir");
  const WorkspaceUsage usage = measure_workspace(dir.path());
  EXPECT_TRUE(usage.complete);
  EXPECT_EQ(usage.entries, 3u);
  EXPECT_LT(usage.bytes, kMiB) << "the links' targets were counted";
}

TEST(WorkspaceUsage, AFileWithSeveralHardLinksCountsOnce) {
  namespace fs = std::filesystem;
  test::TempDir dir;
  dir.write("a/data", test::incompressible_bytes(2 * kMiB));
  fs::create_hard_link(dir.path() + "/a/data", dir.path() + "/b");
  fs::create_hard_link(dir.path() + "/a/data", dir.path() + "/c");
  const WorkspaceUsage usage = measure_workspace(dir.path());
  EXPECT_GE(usage.bytes, 2 * kMiB);
  EXPECT_LT(usage.bytes, 3 * kMiB);
}

TEST(WorkspaceUsage, WhatCannotBeMeasuredMarksTheFigureIncomplete) {
  test::TempDir dir;
  for (int i = 0; i < 10; ++i) dir.write("f" + std::to_string(i), "x");
  EXPECT_FALSE(measure_workspace(dir.path(), 5).complete) << "past max_entries";
  EXPECT_TRUE(measure_workspace(dir.path(), 10).complete);
  dir.write("1/2/3/4/deep", "x");
  EXPECT_FALSE(measure_workspace(dir.path(), 1000, 3).complete) << "past max_depth";
  EXPECT_TRUE(measure_workspace(dir.path(), 1000, 4).complete);
  const WorkspaceUsage missing = measure_workspace(dir.path() + "/missing");
  EXPECT_TRUE(missing.complete);
  EXPECT_EQ(missing.bytes, 0u);
  if (::geteuid() != 0) {  // root reads any directory
    dir.write("hidden/huge", test::incompressible_bytes(kMiB));
    std::filesystem::permissions(dir.path() + "/hidden", std::filesystem::perms::none);
    EXPECT_FALSE(measure_workspace(dir.path()).complete) << "an unreadable directory";
    std::filesystem::permissions(dir.path() + "/hidden", std::filesystem::perms::owner_all);
  }
}

}  // namespace
}  // namespace coda::tasks
