// The SQLite task store: schema, queue limits, atomic claims, bounded events, retention, and what
// each owner's tasks hold (the storage budget).
#include <atomic>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>

#include "core/tasks/task_store.hpp"
#include "tests/support/temp_dir.hpp"

namespace coda::tasks {
namespace {

Task make_task(const std::string& owner, int64_t created_ms, const std::string& workspace = "") {
  Task t;
  t.id = new_task_id();
  t.session_id = new_session_id();
  t.owner = owner;
  t.prompt = "do " + t.id;
  t.workspace = workspace.empty() ? "/ws/" + t.session_id : workspace;
  t.created_ms = created_ms;
  return t;
}

class StoreTest : public ::testing::Test {
 protected:
  test::TempDir dir_;
  std::string path_ = dir_.path() + "/sub/tasks.db";
  std::unique_ptr<TaskStore> store_ = open_sqlite_store(path_);
};

TEST_F(StoreTest, InsertedTaskReadsBackWithEveryField) {
  Task t = make_task("alice", 1000);
  t.email = "alice@example.com";
  t.context_json = R"({"catalog":"main"})";
  t.previous_session_id = "sess_prev";
  t.permissions = "yolo";
  t.timeout_s = 42;
  t.agent_requested = "claude";
  ASSERT_TRUE(store_->insert_queued(t, 10));
  auto got = store_->get(t.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->session_id, t.session_id);
  EXPECT_EQ(got->owner, "alice");
  EXPECT_EQ(got->email, "alice@example.com");
  EXPECT_EQ(got->context_json, t.context_json);
  EXPECT_EQ(got->previous_session_id, "sess_prev");
  EXPECT_EQ(got->permissions, "yolo");
  EXPECT_EQ(got->timeout_s, 42);
  EXPECT_EQ(got->agent_requested, "claude");
  EXPECT_EQ(got->state, TaskState::kQueued);
  EXPECT_EQ(got->created_ms, 1000);
  EXPECT_FALSE(got->exit_code);
  EXPECT_FALSE(store_->get("task_unknown"));
  EXPECT_EQ(store_->find_by_session(t.session_id)->id, t.id);
}

TEST_F(StoreTest, ReopeningKeepsDataAndSchema) {
  Task t = make_task("alice", 1000);
  ASSERT_TRUE(store_->insert_queued(t, 10));
  store_.reset();
  auto again = open_sqlite_store(path_);
  EXPECT_TRUE(again->get(t.id));
  EXPECT_EQ(again->integrity_check(), "ok");
}

TEST_F(StoreTest, MaxQueuedRefusesWithoutInserting) {
  ASSERT_TRUE(store_->insert_queued(make_task("a", 1), 2));
  ASSERT_TRUE(store_->insert_queued(make_task("a", 2), 2));
  Task third = make_task("a", 3);
  EXPECT_FALSE(store_->insert_queued(third, 2));
  EXPECT_FALSE(store_->get(third.id));
  EXPECT_EQ(store_->count_in_state(TaskState::kQueued), 2);
}

TEST_F(StoreTest, MaxQueuedPerOwnerRefusesOnlyThatOwner) {
  using R = TaskStore::InsertResult;
  ASSERT_EQ(store_->insert_queued_checked(make_task("a", 1), 10, 2), R::kInserted);
  ASSERT_EQ(store_->insert_queued_checked(make_task("a", 2), 10, 2), R::kInserted);
  Task third = make_task("a", 3);
  EXPECT_EQ(store_->insert_queued_checked(third, 10, 2), R::kOwnerQueueFull);
  EXPECT_FALSE(store_->get(third.id));
  EXPECT_EQ(store_->insert_queued_checked(make_task("b", 4), 10, 2), R::kInserted);
  EXPECT_EQ(store_->insert_queued_checked(make_task("c", 5), 3, 2), R::kQueueFull);
}

TEST_F(StoreTest, ClaimIsFifoWithinLimits) {
  Task a = make_task("a", 1), b = make_task("a", 2), c = make_task("a", 3);
  for (auto* t : {&a, &b, &c}) ASSERT_TRUE(store_->insert_queued(*t, 10));
  ClaimLimits limits{2, 5};
  auto first = store_->claim_next(limits, "host", 100);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->id, a.id);
  EXPECT_EQ(first->state, TaskState::kRunning);
  EXPECT_EQ(first->started_ms, 100);
  EXPECT_EQ(first->runner, "host");
  EXPECT_EQ(store_->claim_next(limits, "host", 101)->id, b.id);
  EXPECT_FALSE(store_->claim_next(limits, "host", 102)) << "max_concurrent 2 reached";
}

TEST_F(StoreTest, ClaimPrefersOwnersWithFewerRunningTasks) {
  Task a1 = make_task("a", 1), a2 = make_task("a", 2), a3 = make_task("a", 3);
  Task b1 = make_task("b", 4);
  for (auto* t : {&a1, &a2, &a3, &b1}) ASSERT_TRUE(store_->insert_queued(*t, 10));
  ClaimLimits limits{10, 2};
  EXPECT_EQ(store_->claim_next(limits, "h", 1)->id, a1.id);
  EXPECT_EQ(store_->claim_next(limits, "h", 1)->id, b1.id) << "b has none running";
  EXPECT_EQ(store_->claim_next(limits, "h", 1)->id, a2.id);
  EXPECT_FALSE(store_->claim_next(limits, "h", 1)) << "a is at max_per_owner";
}

TEST_F(StoreTest, ClaimSkipsTasksWhoseWorkspaceIsBusy) {
  Task first = make_task("a", 1, "/ws/shared"), second = make_task("a", 2, "/ws/shared");
  Task other = make_task("a", 3);
  for (auto* t : {&first, &second, &other}) ASSERT_TRUE(store_->insert_queued(*t, 10));
  ClaimLimits limits{10, 10};
  EXPECT_EQ(store_->claim_next(limits, "h", 1)->id, first.id);
  EXPECT_EQ(store_->claim_next(limits, "h", 1)->id, other.id);
  EXPECT_FALSE(store_->claim_next(limits, "h", 1));
  TaskOutcome done;
  done.finished_ms = 5;
  ASSERT_TRUE(store_->finish(first.id, done));
  EXPECT_EQ(store_->claim_next(limits, "h", 1)->id, second.id);
}

TEST_F(StoreTest, ConcurrentClaimsFromTwoConnectionsNeverTakeATaskTwice) {
  constexpr int kTasks = 60;
  for (int i = 0; i < kTasks; ++i) ASSERT_TRUE(store_->insert_queued(make_task("o" + std::to_string(i), i), 1000));
  auto other = open_sqlite_store(path_);
  std::mutex m;
  std::multiset<std::string> claimed;
  auto worker = [&](TaskStore* s, const std::string& runner) {
    while (auto t = s->claim_next({1000, 1000}, runner, 1)) {
      std::lock_guard lock(m);
      claimed.insert(t->id);
    }
  };
  std::thread t1(worker, store_.get(), "h1"), t2(worker, other.get(), "h2");
  t1.join();
  t2.join();
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kTasks));
  for (const auto& id : claimed) EXPECT_EQ(claimed.count(id), 1u) << id;
}

TEST_F(StoreTest, FinishOnlyFromRunningAndCancelOnlyFromQueued) {
  Task t = make_task("a", 1);
  ASSERT_TRUE(store_->insert_queued(t, 10));
  TaskOutcome outcome;
  outcome.state = TaskState::kCompleted;
  outcome.finished_ms = 9;
  outcome.exit_code = 3;
  outcome.summary = "did it";
  outcome.files_changed_json = R"(["a.txt"])";
  outcome.usage_json = R"({"tokens":5})";
  outcome.agent_session = "agent-1";
  EXPECT_FALSE(store_->finish(t.id, outcome)) << "not running yet";
  ASSERT_TRUE(store_->claim_next({5, 5}, "h", 2));
  EXPECT_FALSE(store_->cancel_queued(t.id, 3));
  EXPECT_TRUE(store_->finish(t.id, outcome));
  EXPECT_FALSE(store_->finish(t.id, outcome)) << "already final";
  auto got = *store_->get(t.id);
  EXPECT_EQ(got.state, TaskState::kCompleted);
  EXPECT_EQ(got.exit_code, 3);
  EXPECT_EQ(got.summary, "did it");
  EXPECT_EQ(got.files_changed_json, R"(["a.txt"])");
  EXPECT_EQ(got.usage_json, R"({"tokens":5})");
  EXPECT_EQ(got.agent_session, "agent-1");
  EXPECT_EQ(got.finished_ms, 9);

  Task q = make_task("a", 4);
  ASSERT_TRUE(store_->insert_queued(q, 10));
  EXPECT_TRUE(store_->cancel_queued(q.id, 5));
  EXPECT_EQ(store_->get(q.id)->state, TaskState::kCancelled);
}

TEST_F(StoreTest, ListAndCountsFilterByOwnerWindowAndState) {
  Task old = make_task("a", 100), a1 = make_task("a", 2000), a2 = make_task("a", 3000);
  Task b1 = make_task("b", 2500);
  for (auto* t : {&old, &a1, &a2, &b1}) ASSERT_TRUE(store_->insert_queued(*t, 10));
  ASSERT_TRUE(store_->claim_next({5, 5}, "h", 1));  // old (FIFO) is running
  TaskQuery q;
  q.owner = "a";
  q.created_after_ms = 1000;
  auto tasks = store_->list(q);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].id, a2.id) << "newest first";
  EXPECT_EQ(tasks[1].id, a1.id);
  q.state = TaskState::kQueued;
  q.limit = 1;
  EXPECT_EQ(store_->list(q).size(), 1u);
  auto counts = store_->count_by_state(q);
  EXPECT_EQ(counts["queued"], 2);
  EXPECT_EQ(counts.count("running"), 0u) << "the running one is outside the window";
  TaskQuery everyone;
  EXPECT_EQ(store_->list(everyone).size(), 4u);
}

TEST_F(StoreTest, EventsKeepHeadAndTailAndCountWhatWasDropped) {
  Task t = make_task("a", 1);
  ASSERT_TRUE(store_->insert_queued(t, 10));
  const std::size_t cap = 1000;  // 500 head + 500 tail
  for (int i = 0; i < 100; ++i) {
    store_->append_event(t.id, "output", std::string(99, 'a' + i % 26) + "\n", i, cap);
  }
  auto events = store_->events(t.id, 0, 1000);
  std::size_t bytes = 0;
  for (const auto& e : events) bytes += e.data.size();
  EXPECT_LE(bytes, cap);
  EXPECT_GE(bytes, cap - 200);
  EXPECT_EQ(events.front().seq, 1) << "the head is kept";
  EXPECT_EQ(events.back().seq, 100) << "the newest is kept";
  auto got = *store_->get(t.id);
  EXPECT_EQ(got.events_dropped_bytes + static_cast<int64_t>(bytes), 100 * 100);
  EXPECT_EQ(got.events_dropped_count + static_cast<int64_t>(events.size()), 100);
  auto later = store_->events(t.id, events[events.size() - 2].seq, 10);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].seq, 100);
}

TEST_F(StoreTest, OneHugeEventKeepsItsEnd) {
  Task t = make_task("a", 1);
  ASSERT_TRUE(store_->insert_queued(t, 10));
  std::string huge = std::string(5000, 'x') + "END";
  store_->append_event(t.id, "output", huge, 1, 1000);
  auto events = store_->events(t.id, 0, 10);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data.size(), 500u);
  EXPECT_EQ(events[0].data.substr(497), "END");
  EXPECT_EQ(store_->get(t.id)->events_dropped_bytes, 5003 - 500);
}

TEST_F(StoreTest, PurgeRemovesOnlyOldFinishedTasksAndTheirEvents) {
  Task done = make_task("a", 1), live = make_task("a", 2), recent = make_task("a", 3);
  for (auto* t : {&done, &live, &recent}) ASSERT_TRUE(store_->insert_queued(*t, 10));
  ASSERT_TRUE(store_->claim_next({5, 5}, "h", 1));
  TaskOutcome o;
  o.finished_ms = 100;
  ASSERT_TRUE(store_->finish(done.id, o));
  store_->append_event(done.id, "output", "x", 1, 1000);
  ASSERT_TRUE(store_->cancel_queued(recent.id, 5000));
  EXPECT_EQ(store_->purge_finished_before(1000), 1);
  EXPECT_FALSE(store_->get(done.id));
  EXPECT_TRUE(store_->events(done.id, 0, 10).empty());
  EXPECT_TRUE(store_->get(live.id));
  EXPECT_TRUE(store_->get(recent.id));
}

TEST_F(StoreTest, PurgeNamesAWorkspaceOnlyWhenItsLastTaskGoes) {
  Task solo = make_task("a", 1, "/ws/solo");
  Task chain_old = make_task("a", 2, "/ws/chain"), chain_new = make_task("a", 3, "/ws/chain");
  for (auto* t : {&solo, &chain_old, &chain_new}) ASSERT_TRUE(store_->insert_queued(*t, 10));
  ASSERT_TRUE(store_->cancel_queued(solo.id, 100));
  ASSERT_TRUE(store_->cancel_queued(chain_old.id, 100));
  ASSERT_TRUE(store_->cancel_queued(chain_new.id, 5000));
  std::vector<std::string> orphaned;
  EXPECT_EQ(store_->purge_finished_before(1000, &orphaned), 2);
  EXPECT_EQ(orphaned, std::vector<std::string>{"/ws/solo"}) << "the chain's newer task still uses it";
  orphaned.clear();
  EXPECT_EQ(store_->purge_finished_before(10000, &orphaned), 1);
  EXPECT_EQ(orphaned, std::vector<std::string>{"/ws/chain"});
}

TEST_F(StoreTest, OwnerStorageSumsTheKeptEventsOfEveryTaskOfTheOwner) {
  Task a1 = make_task("alice", 1), a2 = make_task("alice", 2), b = make_task("bob", 3);
  for (auto* t : {&a1, &a2, &b}) ASSERT_TRUE(store_->insert_queued(*t, 10));
  EXPECT_EQ(store_->owner_storage("alice").total(), 0);
  store_->append_event(a1.id, "output", std::string(300, 'x'), 1, 1000);
  store_->append_event(a2.id, "output", std::string(200, 'y'), 1, 1000);
  store_->append_event(b.id, "output", std::string(50, 'z'), 1, 1000);
  EXPECT_EQ(store_->owner_storage("alice").events_bytes, 500);
  EXPECT_EQ(store_->owner_storage("bob").events_bytes, 50);
  EXPECT_EQ(store_->owner_storage("carol").total(), 0);
  // Past events_max_bytes only the kept head and tail count, not what was dropped.
  for (int i = 0; i < 50; ++i) {
    store_->append_event(a1.id, "output", std::string(100, 'w'), i, 1000);
  }
  std::size_t kept = 0;
  for (const auto& e : store_->events(a1.id, 0, 1000)) kept += e.data.size();
  EXPECT_LE(kept, 1000u);
  EXPECT_EQ(store_->owner_storage("alice").events_bytes, static_cast<int64_t>(kept) + 200);
}

TEST_F(StoreTest, OwnerStorageAddsTheLastRecordedSizeOfEachWorkspace) {
  Task a1 = make_task("alice", 1, "/ws/one"), a2 = make_task("alice", 2, "/ws/one");
  Task a3 = make_task("alice", 3, "/ws/two"), b = make_task("bob", 4, "/ws/bob");
  for (auto* t : {&a1, &a2, &a3, &b}) ASSERT_TRUE(store_->insert_queued(*t, 10));
  store_->record_workspace_bytes("alice", "/ws/one", 4000);
  store_->record_workspace_bytes("alice", "/ws/one", 1000);  // a later measurement replaces
  store_->record_workspace_bytes("alice", "/ws/two", 20);
  store_->record_workspace_bytes("bob", "/ws/bob", 7);
  store_->append_event(a3.id, "output", "abc", 1, 1000);
  const OwnerStorage alice = store_->owner_storage("alice");
  EXPECT_EQ(alice.workspace_bytes, 1020) << "a session chain's workspace counts once";
  EXPECT_EQ(alice.events_bytes, 3);
  EXPECT_EQ(alice.total(), 1023);
  EXPECT_EQ(store_->owner_storage("bob").total(), 7);
}

TEST_F(StoreTest, PurgeForgetsAWorkspaceSizeWithItsLastTask) {
  Task old_task = make_task("alice", 1, "/ws/chain"), new_task = make_task("alice", 2, "/ws/chain");
  for (auto* t : {&old_task, &new_task}) ASSERT_TRUE(store_->insert_queued(*t, 10));
  store_->append_event(old_task.id, "output", std::string(10, 'x'), 1, 1000);
  store_->record_workspace_bytes("alice", "/ws/chain", 500);
  ASSERT_TRUE(store_->cancel_queued(old_task.id, 100));
  ASSERT_TRUE(store_->cancel_queued(new_task.id, 5000));
  EXPECT_EQ(store_->purge_finished_before(1000), 1);
  EXPECT_EQ(store_->owner_storage("alice").events_bytes, 0) << "purged events no longer count";
  EXPECT_EQ(store_->owner_storage("alice").workspace_bytes, 500) << "the chain still uses it";
  EXPECT_EQ(store_->purge_finished_before(10000), 1);
  EXPECT_EQ(store_->owner_storage("alice").total(), 0);
}

TEST_F(StoreTest, DeleteFinishedRemovesOneFinalTaskAsRetentionWould) {
  Task live = make_task("alice", 1, "/ws/chain"), done = make_task("alice", 2, "/ws/chain");
  Task solo = make_task("alice", 3, "/ws/solo");
  for (auto* t : {&live, &done, &solo}) ASSERT_TRUE(store_->insert_queued(*t, 10));
  ASSERT_TRUE(store_->cancel_queued(done.id, 100));
  ASSERT_TRUE(store_->cancel_queued(solo.id, 100));
  store_->append_event(solo.id, "output", std::string(10, 'x'), 1, 1000);
  store_->record_workspace_bytes("alice", "/ws/chain", 70);
  store_->record_workspace_bytes("alice", "/ws/solo", 500);
  std::vector<std::string> orphaned;
  EXPECT_FALSE(store_->delete_finished(live.id, &orphaned)) << "a queued task stays";
  EXPECT_FALSE(store_->delete_finished("task_unknown", &orphaned));
  EXPECT_TRUE(store_->delete_finished(done.id, &orphaned));
  EXPECT_TRUE(orphaned.empty()) << "the chain's queued task still uses its workspace";
  EXPECT_TRUE(store_->delete_finished(solo.id, &orphaned));
  EXPECT_EQ(orphaned, std::vector<std::string>{"/ws/solo"});
  EXPECT_FALSE(store_->get(solo.id));
  EXPECT_TRUE(store_->events(solo.id, 0, 10).empty());
  EXPECT_TRUE(store_->get(live.id));
  EXPECT_EQ(store_->owner_storage("alice").total(), 70) << "the solo workspace and events went";
}

TEST_F(StoreTest, AStoreOfSchemaOneGainsWorkspaceSizesOnOpen) {
  Task t = make_task("alice", 1, "/ws/a");
  ASSERT_TRUE(store_->insert_queued(t, 10));
  store_.reset();
  {  // What a coda before the storage budget left behind.
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session old("SQLite", path_);
    old << "DROP TABLE workspace_usage", Poco::Data::Keywords::now;
    old << "UPDATE schema_version SET version = 1", Poco::Data::Keywords::now;
  }
  store_ = open_sqlite_store(path_);
  EXPECT_TRUE(store_->get(t.id));
  store_->record_workspace_bytes("alice", "/ws/a", 42);
  EXPECT_EQ(store_->owner_storage("alice").workspace_bytes, 42);
  EXPECT_EQ(store_->integrity_check(), "ok");
}

TEST_F(StoreTest, ProcessesAreRecordedPerRunnerForRecovery) {
  Task t = make_task("a", 1);
  ASSERT_TRUE(store_->insert_queued(t, 10));
  ASSERT_TRUE(store_->claim_next({5, 5}, "h1", 1));
  store_->record_process(t.id, ProcessRecord{7, 1234, 1234, 99});
  store_->record_process(t.id, ProcessRecord{8, 1240, 1240, 100});
  EXPECT_EQ(store_->processes("h1").size(), 2u);
  EXPECT_TRUE(store_->processes("h2").empty());
  store_->remove_process(t.id, 7);
  auto left = store_->processes("h1");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].pid, 1240);
  EXPECT_EQ(left[0].start_time, 100u);
  store_->clear_processes("h1");
  EXPECT_TRUE(store_->processes("h1").empty());
}

TEST_F(StoreTest, CancelRequestsAndRequeue) {
  Task t = make_task("a", 1);
  ASSERT_TRUE(store_->insert_queued(t, 10));
  ASSERT_TRUE(store_->claim_next({5, 5}, "h1", 1));
  store_->request_cancel(t.id);
  EXPECT_EQ(store_->cancel_requests("h1"), std::vector<std::string>{t.id});
  EXPECT_TRUE(store_->cancel_requests("h2").empty());
  EXPECT_EQ(store_->running_tasks("h1").size(), 1u);
  EXPECT_TRUE(store_->requeue(t.id));
  EXPECT_EQ(store_->get(t.id)->state, TaskState::kQueued);
  EXPECT_TRUE(store_->running_tasks("h1").empty());
}

TEST(StoreOpen, UnwritablePathIsAClearError) {
  try {
    open_sqlite_store("/proc/forbidden/tasks.db");
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("/proc/forbidden/tasks.db"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace coda::tasks
