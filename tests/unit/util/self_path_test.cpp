#include "core/util/self_path.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace coda::util {
namespace {

TEST(SelfPath, IsTheRunningTestBinary) {
  std::string path = executable_path();
  EXPECT_TRUE(std::filesystem::path(path).is_absolute());
  EXPECT_EQ(std::filesystem::path(path).filename(), "unit_util");
}

TEST(SelfPath, DefaultPluginDirsAreNextToTheExecutableThenUnderThePrefix) {
  auto dirs = default_plugin_dirs();
  ASSERT_GE(dirs.size(), 2u);
  auto dir = std::filesystem::path(executable_path()).parent_path();
  EXPECT_EQ(dirs[0], (dir / "plugins").string());
  EXPECT_EQ(dirs.back(), (dir.parent_path() / "lib/coda/plugins").lexically_normal().string());
}

}  // namespace
}  // namespace coda::util
