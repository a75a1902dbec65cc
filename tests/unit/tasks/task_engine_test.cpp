// The task engine with in-test backends: queueing, limits, fairness, routing, timeouts, cancel,
// ownership, workspaces, the storage budget and recovery — through TaskEngine's public operations.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/process/process_service.hpp"
#include "core/tasks/task_engine.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/tasks/fake_backend.hpp"

namespace coda::tasks {
namespace {

using namespace std::chrono_literals;
using fakes::FakeBackend;

auth::Identity user(const std::string& subject, bool admin = false) {
  auth::Identity id;
  id.subject = subject;
  id.email = subject + "@example.com";
  id.admin = admin;
  id.authenticated = true;
  return id;
}

// Polls `pred` until true or `timeout`.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 10s) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tasks_cfg_.max_concurrent = 5;
    tasks_cfg_.max_per_owner = 5;
    tasks_cfg_.max_queued = 100;
    agents_cfg_.policy.kill_grace_s = 0;
  }
  void TearDown() override {
    if (engine_) engine_->stop();
  }
  std::shared_ptr<TaskEngine> make_engine() {
    engine_ = std::make_shared<TaskEngine>(tasks_cfg_, agents_cfg_, dir_.path(), nullptr);
    for (auto& b : backends_) engine_->add_backend(b);
    return engine_;
  }
  std::shared_ptr<FakeBackend> add(const std::string& name) {
    backends_.push_back(std::make_shared<FakeBackend>(name));
    return backends_.back();
  }
  RunRequest request(const std::string& prompt = "write hello.txt") {
    RunRequest r;
    r.prompt = prompt;
    return r;
  }
  TaskState state_of(const std::string& id) { return engine_->store().get(id)->state; }

  coda::test::TempDir dir_;
  config::TasksConfig tasks_cfg_;
  config::AgentsConfig agents_cfg_;
  std::vector<std::shared_ptr<FakeBackend>> backends_;
  std::shared_ptr<TaskEngine> engine_;
  auth::Identity alice_ = user("alice");
  auth::Identity bob_ = user("bob");
};

TEST_F(EngineTest, SubmitReturnsQueuedAtOnceAndTheTaskRunsToCompletion) {
  auto agent = add("hermes");
  make_engine()->start();
  Task task = engine_->submit(alice_, request());
  EXPECT_EQ(task.state, TaskState::kQueued);
  EXPECT_EQ(task.id.rfind("task_", 0), 0u);
  EXPECT_EQ(task.id.size(), 5u + 32u);
  EXPECT_EQ(task.session_id.rfind("sess_", 0), 0u);
  ASSERT_TRUE(agent->wait_started(1));
  auto run = agent->started()[0];
  EXPECT_EQ(run.task_id, task.id);
  EXPECT_NE(run.prompt.find("---CODA-TASK---"), std::string::npos);
  EXPECT_NE(run.prompt.find("write hello.txt"), std::string::npos);
  EXPECT_NE(run.prompt.find("SAFETY"), std::string::npos);
  EXPECT_TRUE(std::filesystem::is_directory(run.workspace));
  EXPECT_EQ(coda::test::read_file(run.prompt_file), run.prompt);
  EXPECT_NE(run.options_json.find("\"permissions\":\"smart\""), std::string::npos);
  EXPECT_EQ(state_of(task.id), TaskState::kRunning);

  ASSERT_TRUE(agent->emit(task.id, 2, "halfway there"));
  ASSERT_TRUE(agent->emit(task.id, 1, "some output\nPROGRESS: writing files\n"));
  EXPECT_EQ(engine_->store().get(task.id)->progress, "writing files");
  ASSERT_TRUE(agent->finish(task.id, R"({"status":"completed","summary":"wrote it","exit_code":0,
      "usage":{"input_tokens":10},"agent_session":"h-1","artifacts":["table main.x"]})"));
  auto done = engine_->wait(alice_, task.id, 5s);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->state, TaskState::kCompleted);
  EXPECT_EQ(done->summary, "wrote it");
  EXPECT_EQ(done->exit_code, 0);
  EXPECT_EQ(done->agent, "hermes");
  EXPECT_EQ(done->agent_session, "h-1");
  EXPECT_EQ(done->usage_json, R"({"input_tokens":10})");
  EXPECT_EQ(done->artifacts_json, R"(["table main.x"])");
  auto events = engine_->store().events(task.id, 0, 100);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].stream, "progress");
  EXPECT_EQ(events[1].data, "some output\nPROGRESS: writing files\n");
}

TEST_F(EngineTest, BadArgumentsAreRefusedWithWhatToSendAndCreateNothing) {
  add("hermes");
  make_engine()->start();
  auto refused = [&](RunRequest r, const std::string& needle) {
    try {
      engine_->submit(alice_, r);
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const TaskError& e) {
      EXPECT_EQ(e.kind(), TaskError::Kind::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  auto r = request();
  r.context_json = "{not json";
  refused(r, "context is not a JSON object");
  r = request();
  r.context_json = "[1,2]";
  refused(r, "context is not a JSON object");
  r = request();
  r.permissions = "admin";
  refused(r, "permissions must be \"smart\"");
  r = request();
  r.permissions = "yolo";
  refused(r, "yolo_allowed");
  r = request();
  r.timeout_s = 0;
  refused(r, "timeout_s must be between 1 and");
  r.timeout_s = tasks_cfg_.max_timeout_s + 1;
  refused(r, "timeout_s must be between 1 and");
  r = request();
  r.agent = "nope";
  refused(r, "send one of [hermes]");
  r = request("   ");
  refused(r, "prompt is empty");
  r = request();
  r.previous_session_id = "sess_doesnotexist";
  refused(r, "unknown previous_session_id");
  TaskQuery all;
  EXPECT_TRUE(engine_->store().list(all).empty());
}

TEST_F(EngineTest, MaxQueuedRefusesPastTheLimitAndNothingIsHalfCreated) {
  tasks_cfg_.max_concurrent = 1;
  tasks_cfg_.max_queued = 2;
  auto agent = add("hermes");
  make_engine()->start();
  engine_->submit(alice_, request("one"));
  ASSERT_TRUE(agent->wait_started(1));  // running, not queued
  engine_->submit(alice_, request("two"));
  engine_->submit(alice_, request("three"));
  try {
    engine_->submit(alice_, request("four"));
    FAIL() << "expected kBusy";
  } catch (const TaskError& e) {
    EXPECT_EQ(e.kind(), TaskError::Kind::kBusy);
    EXPECT_NE(std::string(e.what()).find("queue is full"), std::string::npos);
  }
  TaskQuery all;
  EXPECT_EQ(engine_->store().list(all).size(), 3u);
  std::size_t workspaces = 0;
  for (auto& e : std::filesystem::directory_iterator(dir_.path() + "/workspaces")) {
    (void)e;
    ++workspaces;
  }
  EXPECT_EQ(workspaces, 1u) << "only the running task has a workspace on disk";
}

TEST_F(EngineTest, MaxConcurrentBoundsRunningTasks) {
  tasks_cfg_.max_concurrent = 2;
  auto agent = add("hermes");
  make_engine()->start();
  std::vector<Task> tasks;
  for (int i = 0; i < 4; ++i) tasks.push_back(engine_->submit(user("u" + std::to_string(i)), request()));
  ASSERT_TRUE(agent->wait_started(2));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(agent->started().size(), 2u);
  EXPECT_EQ(engine_->store().count_in_state(TaskState::kRunning), 2);
  ASSERT_TRUE(agent->finish(agent->started()[0].task_id, R"({"status":"completed"})"));
  ASSERT_TRUE(agent->wait_started(3));
  EXPECT_EQ(agent->live(), 2u);
}

TEST_F(EngineTest, PerOwnerFairnessLetsAnotherOwnerGoFirst) {
  tasks_cfg_.max_concurrent = 1;
  tasks_cfg_.max_per_owner = 1;
  auto agent = add("hermes");
  make_engine()->start();
  Task a1 = engine_->submit(alice_, request("a1"));
  ASSERT_TRUE(agent->wait_started(1));
  Task a2 = engine_->submit(alice_, request("a2"));
  Task b1 = engine_->submit(bob_, request("b1"));
  ASSERT_TRUE(agent->finish(a1.id, R"({"status":"completed"})"));
  ASSERT_TRUE(agent->wait_started(2));
  EXPECT_EQ(agent->started()[1].task_id, b1.id) << "bob was waiting while alice had run one";
  ASSERT_TRUE(agent->finish(b1.id, R"({"status":"completed"})"));
  ASSERT_TRUE(agent->wait_started(3));
  EXPECT_EQ(agent->started()[2].task_id, a2.id);
}

TEST_F(EngineTest, TimeoutStopsTheAgentAndRecordsTimedOut) {
  auto agent = add("hermes");
  make_engine()->start();
  auto r = request();
  r.timeout_s = 1;
  Task task = engine_->submit(alice_, r);
  ASSERT_TRUE(agent->wait_started(1));
  auto done = engine_->wait(alice_, task.id, 10s);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->state, TaskState::kTimedOut);
  EXPECT_EQ(agent->cancels().size(), 1u);
  EXPECT_NE(done->summary.find("Timed out after 1 s"), std::string::npos);
}

TEST_F(EngineTest, AnAgentThatIgnoresCancelIsForcedAfterTheGrace) {
  auto agent = add("hermes");
  agent->set_ignore_cancel(true);
  make_engine()->start();
  auto r = request();
  r.timeout_s = 1;
  Task task = engine_->submit(alice_, r);
  auto done = engine_->wait(alice_, task.id, 15s);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->state, TaskState::kTimedOut);
  EXPECT_NE(done->errors_json.find("kill grace"), std::string::npos) << done->errors_json;
  EXPECT_FALSE(agent->finish(task.id, R"({"status":"completed"})") &&
               engine_->store().get(task.id)->state != TaskState::kTimedOut)
      << "a late finish does not change the final state";
  EXPECT_EQ(state_of(task.id), TaskState::kTimedOut);
}

TEST_F(EngineTest, CancelStopsQueuedAndRunningTasks) {
  tasks_cfg_.max_concurrent = 1;
  auto agent = add("hermes");
  make_engine()->start();
  Task running = engine_->submit(alice_, request("r"));
  ASSERT_TRUE(agent->wait_started(1));
  Task queued = engine_->submit(alice_, request("q"));
  EXPECT_EQ(engine_->cancel(alice_, queued.id).state, TaskState::kCancelled);
  Task after = engine_->cancel(alice_, running.id);
  EXPECT_EQ(after.state, TaskState::kCancelled);
  EXPECT_EQ(agent->cancels().size(), 1u);
  EXPECT_EQ(agent->live(), 0u);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(agent->started().size(), 1u) << "the cancelled queued task never started";
  EXPECT_EQ(engine_->cancel(alice_, running.id).state, TaskState::kCancelled) << "idempotent";
}

TEST_F(EngineTest, OwnersCannotSeeWaitOnOrCancelEachOthersTasks) {
  auto agent = add("hermes");
  make_engine()->start();
  Task mine = engine_->submit(alice_, request());
  ASSERT_TRUE(agent->wait_started(1));
  EXPECT_FALSE(engine_->find(bob_, mine.id));
  EXPECT_FALSE(engine_->wait(bob_, mine.id, 100ms));
  try {
    engine_->cancel(bob_, mine.id);
    FAIL();
  } catch (const TaskError& foreign) {
    try {
      engine_->cancel(bob_, "task_00000000000000000000000000000000");
      FAIL();
    } catch (const TaskError& unknown) {
      EXPECT_EQ(foreign.kind(), TaskError::Kind::kNotFound);
      std::string f = foreign.what(), u = unknown.what();
      EXPECT_EQ(f.substr(f.find("\":")), u.substr(u.find("\":"))) << "same answer as unknown";
    }
  }
  EXPECT_EQ(state_of(mine.id), TaskState::kRunning);
  EXPECT_TRUE(engine_->inbox(bob_, {}).tasks.empty());
  EXPECT_EQ(engine_->inbox(alice_, {}).tasks.size(), 1u);
  InboxRequest all;
  all.all_users = true;
  EXPECT_THROW(engine_->inbox(bob_, all), TaskError);
  EXPECT_EQ(engine_->inbox(user("root", true), all).tasks.size(), 1u);
  RunRequest follow = request();
  follow.previous_session_id = mine.session_id;
  EXPECT_THROW(engine_->submit(bob_, follow), TaskError) << "bob cannot continue alice's session";
}

TEST_F(EngineTest, RouterFallsThroughUnavailableAndFailingBackendsAndRecordsWhy) {
  agents_cfg_.order = {"hermes", "claude", "codex"};
  auto hermes = add("hermes");
  auto claude = add("claude");
  auto codex = add("codex");
  hermes->set_unavailable("hermes: not found on PATH");
  claude->set_start_error("claude: spawn failed");
  make_engine()->start();
  Task task = engine_->submit(alice_, request());
  ASSERT_TRUE(codex->wait_started(1));
  auto stored = *engine_->store().get(task.id);
  EXPECT_EQ(stored.agent, "codex");
  EXPECT_NE(stored.agent_notes_json.find("not found on PATH"), std::string::npos);
  EXPECT_NE(stored.agent_notes_json.find("spawn failed"), std::string::npos);

  RunRequest pick = request();
  pick.agent = "hermes";
  Task chosen = engine_->submit(alice_, pick);
  auto done = engine_->wait(alice_, chosen.id, 5s);
  EXPECT_EQ(done->state, TaskState::kFailed) << "the requested backend is unavailable";
  EXPECT_NE(done->errors_json.find("not found on PATH"), std::string::npos) << done->errors_json;
}

TEST_F(EngineTest, AgentsSelectableLimitsTheAgentArgument) {
  agents_cfg_.selectable = {"claude"};
  add("hermes");
  add("claude");
  make_engine();
  EXPECT_EQ(engine_->selectable_agents(), std::vector<std::string>{"claude"});
  RunRequest r = request();
  r.agent = "hermes";
  EXPECT_THROW(engine_->submit(alice_, r), TaskError);
}

TEST_F(EngineTest, FollowUpReusesTheWorkspaceAndFilesChangedComeFromTheWorkspace) {
  auto agent = add("hermes");
  agent->set_on_start([](const AgentRun& run, AgentRunEvents&) {
    std::ofstream(run.workspace + "/" + run.task_id.substr(5, 6) + ".txt") << "hi";
    std::ofstream(run.task_dir + "/result.json")
        << R"({"status":"needs_approval","summary":"from file","feedback":"may I drop?",
              "files_changed":["/etc/passwd"]})";
  });
  make_engine()->start();
  Task first = engine_->submit(alice_, request());
  ASSERT_TRUE(agent->wait_started(1));
  ASSERT_TRUE(agent->finish(first.id, R"({"status":"completed"})"));
  auto done = engine_->wait(alice_, first.id, 5s);
  EXPECT_EQ(done->state, TaskState::kNeedsApproval) << "result.json refines a plain completion";
  EXPECT_EQ(done->summary, "from file");
  EXPECT_EQ(done->feedback, "may I drop?");
  EXPECT_EQ(done->files_changed_json, "[\"" + first.id.substr(5, 6) + ".txt\"]")
      << "computed, not trusted";

  RunRequest follow = request("continue");
  follow.previous_session_id = first.session_id;
  Task second = engine_->submit(alice_, follow);
  ASSERT_TRUE(agent->wait_started(2));
  auto run = agent->started()[1];
  EXPECT_EQ(run.workspace, agent->started()[0].workspace);
  EXPECT_NE(run.prompt.find("continues session " + first.session_id), std::string::npos);
  EXPECT_NE(run.prompt.find("from file"), std::string::npos);
  ASSERT_TRUE(agent->finish(second.id, R"({"status":"completed","summary":"ok"})"));
  done = engine_->wait(alice_, second.id, 5s);
  EXPECT_EQ(done->files_changed_json, "[\"" + second.id.substr(5, 6) + ".txt\"]");
}

TEST_F(EngineTest, WaitReturnsWhenTheTaskFinishesAndTicksWhileWaiting) {
  auto agent = add("hermes");
  make_engine()->start();
  Task task = engine_->submit(alice_, request());
  ASSERT_TRUE(agent->wait_started(1));
  int ticks = 0;
  auto partial = engine_->wait(alice_, task.id, 350ms, {}, [&](const Task&) { ++ticks; }, 100ms);
  EXPECT_EQ(partial->state, TaskState::kRunning);
  EXPECT_GE(ticks, 2);
  std::thread finisher([&] {
    std::this_thread::sleep_for(200ms);
    agent->finish(task.id, R"({"status":"failed","errors":["boom"]})");
  });
  auto start = std::chrono::steady_clock::now();
  auto done = engine_->wait(alice_, task.id, 20s);
  finisher.join();
  EXPECT_EQ(done->state, TaskState::kFailed);
  EXPECT_EQ(done->errors_json, R"(["boom"])");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

// Threads of this process (for "a wait holds no thread").
std::size_t thread_count() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

TEST_F(EngineTest, WatchesHoldNoThreadAndAllEndWhenTheTaskChanges) {
  auto agent = add("hermes");
  make_engine()->start();
  Task task = engine_->submit(alice_, request());
  ASSERT_TRUE(agent->wait_started(1));
  const std::size_t before = thread_count();
  constexpr int kWaiters = 200;
  std::atomic<int> done{0}, ticks{0};
  std::atomic<bool> stop_early{false};
  std::vector<WatchId> ids;
  for (int i = 0; i < kWaiters; ++i) {
    Watch w;
    w.timeout = 60s;
    w.tick = 50ms;
    w.on_tick = [&](const Task&) { ++ticks; };
    // Waiter 0 ends on a condition checked when the task changes (as a live view's new output).
    if (i == 0) w.stop_waiting = [&] { return stop_early.load(); };
    w.done = [&, i](std::optional<Task> t) {
      if (t && (i == 0 || i == 1 || t->state == TaskState::kCompleted)) ++done;
    };
    ids.push_back(engine_->watch(alice_, task.id, std::move(w)));
  }
  ASSERT_TRUE(eventually([&] { return ticks.load() >= kWaiters; }));
  EXPECT_LE(thread_count(), before + 2) << "waits must not take a thread each";
  EXPECT_EQ(done.load(), 0);
  // Someone else's watch of the task sees nothing: done(nullopt) at once.
  std::atomic<bool> bob_done{false};
  Watch spy;
  spy.timeout = 60s;
  spy.done = [&](std::optional<Task> t) { bob_done = !t.has_value(); };
  engine_->watch(bob_, task.id, std::move(spy));
  ASSERT_TRUE(eventually([&] { return bob_done.load(); }));
  // A change wakes the watch whose condition now holds; end() ends another (a cancelled call).
  stop_early = true;
  ASSERT_TRUE(agent->emit(task.id, 1, "output\n"));
  engine_->end_watch(ids[1]);
  ASSERT_TRUE(eventually([&] { return done.load() == 2; }));
  agent->finish(task.id, R"({"status":"completed","summary":"ok"})");
  ASSERT_TRUE(eventually([&] { return done.load() == kWaiters; }));
}

TEST_F(EngineTest, RecoveryInterruptsRunningTasksAndKeepsQueuedOnes) {
  tasks_cfg_.max_concurrent = 1;
  auto agent = add("hermes");
  make_engine()->start();
  Task running = engine_->submit(alice_, request("r"));
  ASSERT_TRUE(agent->wait_started(1));
  Task queued = engine_->submit(alice_, request("q"));
  // Simulate a crash: a second engine on the same data dir, the first never stopped cleanly.
  auto crashed = std::move(engine_);
  crashed.reset();  // the destructor stops it: running → interrupted (on_restart: interrupt)
  EXPECT_EQ(open_sqlite_store(dir_.path() + "/tasks.db")->get(running.id)->state,
            TaskState::kInterrupted);
  auto fresh = add("hermes");
  backends_ = {fresh};
  make_engine()->start();
  ASSERT_TRUE(fresh->wait_started(1));
  EXPECT_EQ(fresh->started()[0].task_id, queued.id) << "queued tasks run after a restart";
}

TEST_F(EngineTest, RecoveryRequeuesRunningTasksWhenConfigured) {
  tasks_cfg_.on_restart = "requeue";
  // A task left running by a host that died (nothing stopped it).
  {
    auto store = open_sqlite_store(dir_.path() + "/tasks.db");
    Task t;
    t.id = new_task_id();
    t.session_id = new_session_id();
    t.owner = "alice";
    t.prompt = "left over";
    t.workspace = dir_.path() + "/workspaces/" + t.session_id;
    t.created_ms = now_ms();
    ASSERT_TRUE(store->insert_queued(t, 10));
    auto probe_engine = std::make_shared<TaskEngine>(tasks_cfg_, agents_cfg_, dir_.path(), nullptr);
    ASSERT_TRUE(store->claim_next({5, 5}, probe_engine->runner(), now_ms()));
  }
  auto agent = add("hermes");
  make_engine()->start();
  ASSERT_TRUE(agent->wait_started(1));
  EXPECT_EQ(agent->started()[0].prompt.find("left over") != std::string::npos, true);
}

TEST_F(EngineTest, RecoveryInterruptsTasksOfAnyEarlierRunnerId) {
  // A task left running under another runner id (the host was renamed or the data dir moved): the
  // data-dir lock makes this host the only one, so it is recovered like one of ours.
  Task t;
  {
    auto store = open_sqlite_store(dir_.path() + "/tasks.db");
    t.id = new_task_id();
    t.session_id = new_session_id();
    t.owner = "alice";
    t.prompt = "left over by another runner";
    t.workspace = dir_.path() + "/workspaces/" + t.session_id;
    t.created_ms = now_ms();
    ASSERT_TRUE(store->insert_queued(t, 10));
    ASSERT_TRUE(store->claim_next({5, 5}, "old-hostname:/old/data", now_ms()));
  }
  make_engine()->start();
  EXPECT_EQ(state_of(t.id), TaskState::kInterrupted);
}

TEST_F(EngineTest, RecoveryKillsASurvivingAgentProcessGroup) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::setsid();
    ::execlp("sleep", "sleep", "60", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_TRUE(eventually([&] { return ::getpgid(child) == child; }));
  auto start_time = process::process_start_time(child);
  ASSERT_TRUE(start_time);
  {
    auto store = open_sqlite_store(dir_.path() + "/tasks.db");
    Task t;
    t.id = new_task_id();
    t.session_id = new_session_id();
    t.owner = "alice";
    t.prompt = "p";
    t.workspace = dir_.path() + "/workspaces/x";
    t.created_ms = now_ms();
    ASSERT_TRUE(store->insert_queued(t, 10));
    auto probe_engine = std::make_shared<TaskEngine>(tasks_cfg_, agents_cfg_, dir_.path(), nullptr);
    ASSERT_TRUE(store->claim_next({5, 5}, probe_engine->runner(), now_ms()));
    store->record_process(t.id, ProcessRecord{1, child, child, *start_time});
    // A record whose start time does not match must not be killed (pid reuse).
    store->record_process(t.id, ProcessRecord{2, ::getpid(), ::getpgrp(), 1});
  }
  make_engine()->start();
  int status = 0;
  bool reaped = eventually([&] { return ::waitpid(child, &status, WNOHANG) == child; });
  if (!reaped) ::kill(child, SIGKILL), ::waitpid(child, &status, 0);
  ASSERT_TRUE(reaped);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_TRUE(engine_->store().processes(engine_->runner()).empty());
}

TEST_F(EngineTest, StopInterruptsRunningTasks) {
  auto agent = add("hermes");
  make_engine()->start();
  Task task = engine_->submit(alice_, request());
  ASSERT_TRUE(agent->wait_started(1));
  engine_->stop();
  EXPECT_EQ(state_of(task.id), TaskState::kInterrupted);
  EXPECT_EQ(agent->cancels().size(), 1u);
}

// ---- the per-owner storage budget (tasks.owner_storage_mb) ----

constexpr std::size_t kMiB = 1u << 20;

// The host events of a task that mention `text`.
int host_events_with(TaskStore& store, const std::string& task_id, const std::string& text) {
  int n = 0;
  for (const auto& e : store.events(task_id, 0, 100000)) {
    if (e.stream == "host" && e.data.find(text) != std::string::npos) ++n;
  }
  return n;
}

TEST_F(EngineTest, AWorkspaceGrowingPastTheBudgetFailsTheTaskAndRefusesTheOwnerOnly) {
  tasks_cfg_.owner_storage_mb = 1;
  auto agent = add("hermes");
  agent->set_on_start([](const AgentRun& run, AgentRunEvents&) {
    if (run.prompt.find("grow") != std::string::npos) {
      std::ofstream(run.workspace + "/big", std::ios::binary)
          << coda::test::incompressible_bytes(2 * kMiB);
    }
  });
  make_engine()->start();
  Task bob_running = engine_->submit(bob_, request("wait"));
  ASSERT_TRUE(agent->wait_started(1));
  Task task = engine_->submit(alice_, request("grow"));
  auto done = engine_->wait(alice_, task.id, 20s, {}, {}, 100ms);
  ASSERT_TRUE(done);
  ASSERT_EQ(done->state, TaskState::kFailed) << done->errors_json;
  EXPECT_NE(done->errors_json.find("over the storage budget"), std::string::npos)
      << done->errors_json;
  EXPECT_NE(done->errors_json.find("tasks.owner_storage_mb"), std::string::npos);
  EXPECT_NE(done->summary.find("storage budget"), std::string::npos) << done->summary;
  EXPECT_EQ(agent->cancels().size(), 1u) << "stopped through the cancel path";
  EXPECT_EQ(host_events_with(engine_->store(), task.id, "not stored"), 1);
  EXPECT_GE(engine_->store().owner_storage("alice").workspace_bytes, int64_t{2 * kMiB});

  const auto before = engine_->store().list(TaskQuery{}).size();
  try {
    engine_->submit(alice_, request("again"));
    FAIL() << "expected kBusy";
  } catch (const TaskError& e) {
    EXPECT_EQ(e.kind(), TaskError::Kind::kBusy);
    const std::string what = e.what();
    EXPECT_NE(what.find("over the storage budget"), std::string::npos) << what;
    EXPECT_NE(what.find("1.0 MiB that tasks.owner_storage_mb allows"), std::string::npos) << what;
    EXPECT_NE(what.find("nothing was created"), std::string::npos) << what;
    EXPECT_NE(what.find("tasks.retention_days"), std::string::npos) << what;
  }
  EXPECT_EQ(engine_->store().list(TaskQuery{}).size(), before) << "the refusal left nothing";

  EXPECT_EQ(state_of(bob_running.id), TaskState::kRunning) << "another owner's task was hit";
  ASSERT_TRUE(agent->finish(bob_running.id, R"({"status":"completed"})"));
  EXPECT_EQ(engine_->wait(bob_, bob_running.id, 5s)->state, TaskState::kCompleted);
  Task bob_next = engine_->submit(bob_, request("more"));
  ASSERT_TRUE(agent->wait_started(3));
  ASSERT_TRUE(agent->finish(bob_next.id, R"({"status":"completed"})"));
  EXPECT_EQ(engine_->wait(bob_, bob_next.id, 5s)->state, TaskState::kCompleted);
}

TEST_F(EngineTest, OutputPastTheBudgetIsNotStoredAndStopsTheTask) {
  tasks_cfg_.owner_storage_mb = 1;
  auto agent = add("hermes");
  make_engine()->start();
  Task task = engine_->submit(alice_, request());
  ASSERT_TRUE(agent->wait_started(1));
  const std::string chunk(64 * 1024, 'o');
  for (int i = 0; i < 64 && agent->emit(task.id, 1, chunk); ++i) {
  }
  auto done = engine_->wait(alice_, task.id, 20s, {}, {}, 100ms);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->state, TaskState::kFailed);
  EXPECT_NE(done->errors_json.find("over the storage budget"), std::string::npos)
      << done->errors_json;
  std::size_t output = 0;
  for (const auto& e : engine_->store().events(task.id, 0, 100000)) {
    if (e.stream == "output") output += e.data.size();
  }
  EXPECT_LE(output, kMiB) << "output past the budget was stored";
  EXPECT_GE(output, kMiB / 2);
  EXPECT_EQ(host_events_with(engine_->store(), task.id, "not stored"), 1) << "said once";
}

TEST_F(EngineTest, AQueuedTaskOfAnOwnerOverTheBudgetDoesNotStart) {
  tasks_cfg_.owner_storage_mb = 1;
  tasks_cfg_.max_concurrent = 1;
  auto agent = add("hermes");
  make_engine()->start();
  Task first = engine_->submit(alice_, request("first"));
  ASSERT_TRUE(agent->wait_started(1));
  Task second = engine_->submit(alice_, request("second"));
  // Alice's other workspace (e.g. measured on another host) takes her over.
  engine_->store().record_workspace_bytes("alice", dir_.path() + "/workspaces/other", 2 * kMiB);
  ASSERT_TRUE(agent->finish(first.id, R"({"status":"completed"})"));
  auto done = engine_->wait(alice_, second.id, 10s, {}, {}, 100ms);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->state, TaskState::kFailed);
  EXPECT_NE(done->errors_json.find("the task was not started"), std::string::npos)
      << done->errors_json;
  EXPECT_EQ(agent->started().size(), 1u);
}

TEST_F(EngineTest, ABudgetOfZeroIsUnlimited) {
  tasks_cfg_.owner_storage_mb = 0;
  auto agent = add("hermes");
  agent->set_on_start([](const AgentRun& run, AgentRunEvents&) {
    std::ofstream(run.workspace + "/big", std::ios::binary)
        << coda::test::incompressible_bytes(2 * kMiB);
  });
  make_engine()->start();
  Task task = engine_->submit(alice_, request());
  ASSERT_TRUE(agent->wait_started(1));
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(agent->emit(task.id, 1, std::string(64 * 1024, 'o')));
  ASSERT_TRUE(agent->finish(task.id, R"({"status":"completed"})"));
  EXPECT_EQ(engine_->wait(alice_, task.id, 5s)->state, TaskState::kCompleted);
  engine_->submit(alice_, request("again"));
}

}  // namespace
}  // namespace coda::tasks
