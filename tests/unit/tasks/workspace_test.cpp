// Workspace snapshots: what a task changed, computed from the file system.
#include "core/tasks/workspace.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace coda::tasks
