// The per-owner storage budget against a real SQLite store: what it reads, what it charges between
// reads, and what it tells an owner who is over.
#include "core/tasks/storage_budget.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/temp_dir.hpp"

namespace coda::tasks {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

class StorageBudgetTest : public ::testing::Test {
 protected:
  StorageBudget budget(int64_t mb, int retention_days = 30) {
    config::TasksConfig tasks;
    tasks.owner_storage_mb = mb;
    tasks.retention_days = retention_days;
    return StorageBudget(*store_, tasks);
  }
  Task insert(const std::string& owner) {
    Task t;
    t.id = new_task_id();
    t.session_id = new_session_id();
    t.owner = owner;
    t.prompt = "p";
    t.workspace = "/ws/" + t.session_id;
    EXPECT_TRUE(store_->insert_queued(t, 100));
    return t;
  }

  test::TempDir dir_;
  std::unique_ptr<TaskStore> store_ = open_sqlite_store(dir_.path() + "/tasks.db");
};

TEST_F(StorageBudgetTest, AdmitChargesTheCachedFigureUntilTheBudgetIsFull) {
  StorageBudget b = budget(1);
  ASSERT_TRUE(b.enabled());
  EXPECT_EQ(b.limit_bytes(), kMiB);
  store_->record_workspace_bytes("alice", "/ws/a", kMiB - 100);
  EXPECT_TRUE(b.admit("alice", 60));
  EXPECT_TRUE(b.admit("alice", 40));
  EXPECT_FALSE(b.admit("alice", 1)) << "past the budget";
  EXPECT_TRUE(b.admit("alice", 0)) << "exactly at the budget is not over it";
  EXPECT_EQ(b.usage("alice"), kMiB);
  EXPECT_TRUE(b.admit("bob", kMiB)) << "each owner has a budget of their own";
}

TEST_F(StorageBudgetTest, RefreshReplacesTheChargesWithWhatTheStoreHolds) {
  StorageBudget b = budget(1);
  Task t = insert("alice");
  EXPECT_TRUE(b.admit("alice", 5000));  // charged, but never stored
  store_->append_event(t.id, "output", std::string(300, 'x'), 1, 1u << 20);
  EXPECT_EQ(b.refresh("alice"), 300);
  EXPECT_EQ(b.usage("alice"), 300);
  store_->record_workspace_bytes("alice", t.workspace, 2 * kMiB);
  EXPECT_EQ(b.usage("alice"), 300) << "cached until refreshed";
  EXPECT_TRUE(b.over(b.refresh("alice")));
  EXPECT_FALSE(b.admit("alice", 0)) << "an owner over the budget stores nothing more";
  b.forget("alice");
  EXPECT_EQ(b.usage("alice"), 2 * kMiB + 300) << "read again once forgotten";
}

TEST_F(StorageBudgetTest, ZeroIsUnlimitedAndReadsNothing) {
  StorageBudget b = budget(0);
  EXPECT_FALSE(b.enabled());
  store_->record_workspace_bytes("alice", "/ws/a", int64_t{1} << 50);
  EXPECT_TRUE(b.admit("alice", int64_t{1} << 40));
  EXPECT_FALSE(b.over(int64_t{1} << 60));
  EXPECT_EQ(b.refresh("alice"), 0);
}

TEST_F(StorageBudgetTest, RecordWorkspaceMeasuresAndStoresTheFigure) {
  StorageBudget b = budget(1);
  test::TempDir workspace;
  workspace.write("big", test::incompressible_bytes(2 * kMiB));
  const WorkspaceUsage usage = b.record_workspace("alice", workspace.path());
  EXPECT_TRUE(usage.complete);
  EXPECT_GE(store_->owner_storage("alice").workspace_bytes, 2 * kMiB);
  EXPECT_EQ(b.usage("alice"), store_->owner_storage("alice").total()) << "read on first use";
  EXPECT_TRUE(b.over(b.usage("alice")));
  std::filesystem::remove(workspace.path() + "/big");
  b.record_workspace("alice", workspace.path());
  EXPECT_FALSE(b.over(b.refresh("alice"))) << "a later measurement replaces the figure";
}

TEST_F(StorageBudgetTest, AWorkspaceThatCouldNotBeMeasuredCountsAsOver) {
  StorageBudget b = budget(1);
  WorkspaceUsage measured;
  measured.bytes = 1000;
  EXPECT_EQ(b.counted(measured), 1000);
  measured.complete = false;
  EXPECT_TRUE(b.over(b.counted(measured)));
  measured.bytes = 5 * kMiB;
  EXPECT_EQ(b.counted(measured), 5 * kMiB) << "a lower bound above the budget stays as it is";
  EXPECT_NE(b.describe_unmeasurable().find("could not be measured"), std::string::npos);
}

TEST_F(StorageBudgetTest, TheRefusalSaysTheUsageTheBudgetAndWhatToDo) {
  EXPECT_EQ(budget(1).refusal(3 * kMiB / 2),
            "over the storage budget: your tasks' stored output and workspaces come to 1.5 MiB, "
            "more than the 1.0 MiB that tasks.owner_storage_mb allows: nothing was created; space "
            "comes back as your finished tasks are purged, 30 days after they finish "
            "(tasks.retention_days), or ask the administrator to delete old tasks (coda tasks "
            "delete) or raise the budget");
  EXPECT_NE(budget(1, 0).refusal(2 * kMiB).find("this host keeps finished tasks"),
            std::string::npos);
  EXPECT_NE(budget(1).describe(kMiB + 5000).find("come to 1.005 MiB, more than the 1.000 MiB"),
            std::string::npos)
      << "as many decimals as tell the two apart";
}

}  // namespace
}  // namespace coda::tasks
