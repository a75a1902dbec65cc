#include "core/tasks/task_engine.hpp"

#include <Poco/Logger.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>

#include "core/tasks/json_text.hpp"
#include "core/tasks/workspace.hpp"
#include "core/util/safe_path.hpp"
#include "core/util/utf8.hpp"

namespace coda::tasks {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kSchedulerTick = std::chrono::milliseconds(500);
constexpr auto kPurgeEvery = std::chrono::hours(1);
// How often a running task's workspace is measured for the storage budget, at least; a walk that
// takes long waits ten times its duration, so measuring never takes more than a tenth of the time.
constexpr auto kMeasureEvery = std::chrono::seconds(2);
constexpr std::size_t kMaxPromptBytes = 1u << 20;
constexpr std::size_t kMaxContextBytes = 256u << 10;
constexpr std::size_t kMaxProgressChars = 500;

Poco::Logger& logger() { return Poco::Logger::get("coda.tasks"); }

std::string trim(std::string_view text) {
  auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  auto end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

std::string runner_id(const std::string& data_dir) {
  char host[256] = {0};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = 0;
  return std::string(host[0] ? host : "localhost") + ":" + data_dir;
}

std::string owner_of(const auth::Identity& who) {
  return who.subject.empty() ? auth::Identity::local_user().subject : who.subject;
}

// A JSON value as a list of strings: strings as they are, anything else as its JSON text.
Poco::JSON::Array::Ptr string_list(const Poco::Dynamic::Var& value) {
  Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
  if (value.isEmpty()) return out;
  if (value.type() == typeid(Poco::JSON::Array::Ptr)) {
    for (const auto& item : *value.extract<Poco::JSON::Array::Ptr>()) {
      out->add(item.isString() ? item.convert<std::string>() : to_json_text(item));
    }
  } else if (value.isString()) {
    auto text = value.convert<std::string>();
    if (!text.empty()) out->add(text);
  }
  return out;
}

// The artifacts list: kept as the agent reported it (strings or objects).
Poco::JSON::Array::Ptr any_list(const Poco::Dynamic::Var& value) {
  if (!value.isEmpty() && value.type() == typeid(Poco::JSON::Array::Ptr)) {
    return value.extract<Poco::JSON::Array::Ptr>();
  }
  return new Poco::JSON::Array;
}

std::string string_field(const Poco::JSON::Object::Ptr& obj, const std::string& key) {
  if (obj.isNull() || !obj->has(key)) return "";
  auto value = obj->get(key);
  if (value.isEmpty()) return "";
  return value.isString() ? value.convert<std::string>() : to_json_text(value);
}

// What a finished run reports, before the engine applies its own knowledge (cancel, timeout).
struct Report {
  std::optional<TaskState> state;
  std::string summary, feedback, agent_session;
  std::optional<int> exit_code;
  Poco::JSON::Array::Ptr errors = new Poco::JSON::Array;
  Poco::JSON::Array::Ptr artifacts = new Poco::JSON::Array;
  std::string usage_json = "{}";
};

void merge_report(Report& report, const Poco::JSON::Object::Ptr& obj, bool fill_only) {
  if (obj.isNull()) return;
  auto status = parse_state(string_field(obj, "status"));
  if (status && (!fill_only || !report.state || *report.state == TaskState::kCompleted)) {
    report.state = status;
  }
  auto set = [&](std::string& field, const std::string& key) {
    auto value = string_field(obj, key);
    if (!value.empty() && (!fill_only || field.empty())) field = value;
  };
  set(report.summary, "summary");
  set(report.feedback, "feedback");
  set(report.agent_session, "agent_session");
  if (obj->has("exit_code") && !fill_only) {
    try {
      report.exit_code = obj->getValue<int>("exit_code");
    } catch (const Poco::Exception&) {
    }
  }
  auto errors = string_list(obj->get("errors"));
  for (const auto& e : *errors) report.errors->add(e);
  auto single_error = string_field(obj, "error");
  if (!single_error.empty()) report.errors->add(single_error);
  auto artifacts = any_list(obj->get("artifacts"));
  if (artifacts->size() > 0 && (!fill_only || report.artifacts->size() == 0)) {
    report.artifacts = artifacts;
  }
  if (obj->has("usage") && obj->get("usage").type() == typeid(Poco::JSON::Object::Ptr) &&
      (!fill_only || report.usage_json == "{}")) {
    report.usage_json = to_json_text(obj->get("usage"));
  }
}

// The task directory relative to its workspace (for util/safe_path.hpp).
std::string task_files_of(const std::string& task_id) {
  return std::string(kTaskFilesDir) + "/tasks/" + task_id;
}

}  // namespace

// One task while this host runs it.
struct TaskEngine::Run {
  uint64_t handle = 0;
  std::string task_id;
  int timeout_s = 0;
  std::string workspace;
  std::string task_dir;
  WorkspaceSnapshot before;
  std::shared_ptr<AgentBackend> backend;  // null until a backend accepted the start
  Clock::time_point deadline;
  std::optional<TaskState> stop_reason;  // cancelled, timed_out or interrupted once asked to stop
  Clock::time_point force_at;            // when a stop that the agent ignores is forced
  util::Utf8Stream output;               // the agent's text events, made valid UTF-8 (engine mutex)
  // The storage budget (engine mutex).
  std::string owner;
  std::string home;              // the owner's agents' HOME (agents.policy.home: per_owner), or ""
  std::size_t events_bytes = 0;  // what this run's output holds in the store, at most the cap
  bool over_budget = false;      // the owner went over: its output is no longer stored
  bool workspace_unmeasurable = false;  // the last measurement was incomplete
  Clock::time_point next_measure;       // when its workspace is measured next (epoch: at once)
  std::string stop_error;  // the host's reason when it stopped the run (set by stop_run)
};

namespace {

// The files of `workspace` added, changed or deleted since `before`, as a JSON array of paths (made
// valid UTF-8: an agent may name a file with any bytes).
std::string files_changed_json(const std::string& workspace, const WorkspaceSnapshot& before) {
  Poco::JSON::Array::Ptr files = new Poco::JSON::Array;
  for (const auto& path : WorkspaceSnapshot::take(workspace).changed_since(before)) {
    files->add(util::valid_utf8(path));
  }
  return to_json_text(files);
}

}  // namespace

// The sink handed to a backend. Holds the engine weakly: a late call after the engine is gone is
// dropped.
class TaskEngine::RunEvents : public AgentRunEvents {
 public:
  explicit RunEvents(std::weak_ptr<TaskEngine> engine) : engine_(std::move(engine)) {}
  void event(uint64_t handle, int kind, std::string_view data) override {
    if (auto engine = engine_.lock()) engine->on_event(handle, kind, data);
  }
  void finished(uint64_t handle, std::string_view result_json) override {
    if (auto engine = engine_.lock()) engine->on_finished(handle, result_json);
  }

 private:
  std::weak_ptr<TaskEngine> engine_;
};

TaskEngine::TaskEngine(const config::TasksConfig& tasks, const config::AgentsConfig& agents,
                       std::string data_dir, process::ProcessService* processes)
    : TaskEngine(tasks, agents, data_dir, processes,
                 open_sqlite_store((fs::path(data_dir) / "tasks.db").string())) {}

TaskEngine::TaskEngine(const config::TasksConfig& tasks, const config::AgentsConfig& agents,
                       std::string data_dir, process::ProcessService* processes,
                       std::unique_ptr<TaskStore> store)
    : tasks_(tasks),
      agents_(agents),
      data_dir_(std::move(data_dir)),
      processes_(processes),
      store_(std::move(store)),
      budget_(*store_, tasks_),
      envelope_(tasks.envelope_template.empty() ? Envelope()
                                                : Envelope::from_file(tasks.envelope_template)),
      runner_(runner_id(data_dir_)) {
  std::error_code ec;
  fs::create_directories(fs::path(data_dir_) / "workspaces", ec);
  if (ec) {
    throw std::runtime_error("cannot create " + (fs::path(data_dir_) / "workspaces").string() +
                             ": " + ec.message());
  }
}

TaskEngine::~TaskEngine() {
  try {
    stop();
  } catch (...) {
  }
}

void TaskEngine::add_backend(std::shared_ptr<AgentBackend> backend) {
  std::lock_guard lock(mutex_);
  backends_.push_back(std::move(backend));
}

std::vector<std::string> TaskEngine::selectable_agents() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& b : backends_) {
    const auto& allowed = agents_.selectable;
    if (allowed.empty() || std::find(allowed.begin(), allowed.end(), b->name()) != allowed.end()) {
      names.push_back(b->name());
    }
  }
  return names;
}

std::vector<std::shared_ptr<AgentBackend>> TaskEngine::candidates(const Task& task) const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<AgentBackend>> out;
  auto by_name = [&](const std::string& name) {
    for (const auto& b : backends_) {
      if (b->name() == name) out.push_back(b);
    }
  };
  if (!task.agent_requested.empty()) {
    by_name(task.agent_requested);
  } else if (agents_.order.empty()) {
    out = backends_;
  } else {
    for (const auto& name : agents_.order) by_name(name);
  }
  return out;
}

// ---- submitting, looking up, waiting, cancelling ------------------------------------------------

Task TaskEngine::submit(const auth::Identity& who, const RunRequest& request) {
  using Kind = TaskError::Kind;
  Task task;
  task.prompt = request.prompt;
  if (trim(task.prompt).empty()) {
    throw TaskError(Kind::kInvalidArgument,
                    "prompt is empty: send the coding task to do as `prompt` (a non-empty string)");
  }
  if (task.prompt.size() > kMaxPromptBytes) {
    throw TaskError(Kind::kInvalidArgument,
                    "prompt is too long (" + std::to_string(task.prompt.size()) +
                        " bytes): send at most 1 MiB and put large inputs in files or context");
  }
  std::string context = trim(request.context_json);
  if (context.empty()) context = "{}";
  if (context.size() > kMaxContextBytes) {
    throw TaskError(Kind::kInvalidArgument, "context is too large: send at most 256 KiB of JSON");
  }
  auto context_obj = parse_object(context);
  if (context_obj.isNull()) {
    throw TaskError(
        Kind::kInvalidArgument,
        "context is not a JSON object: send a string holding a JSON object, e.g. "
        "\"{\\\"catalog\\\": \\\"main\\\", \\\"schema\\\": \\\"sales\\\"}\", or \"{}\"");
  }
  task.context_json = to_json_text(context_obj);
  task.permissions = request.permissions.empty() ? "smart" : request.permissions;
  if (task.permissions != "smart" && task.permissions != "yolo") {
    throw TaskError(Kind::kInvalidArgument,
                    "permissions must be \"smart\" (the agent asks before risky steps) or "
                    "\"yolo\" (auto-approve), not \"" +
                        task.permissions + "\"");
  }
  if (task.permissions == "yolo" && !agents_.policy.yolo_allowed) {
    throw TaskError(Kind::kInvalidArgument,
                    "permissions \"yolo\" is not allowed on this host (the administrator has not "
                    "set agents.policy.yolo_allowed): send \"smart\"");
  }
  task.timeout_s = request.timeout_s.value_or(tasks_.default_timeout_s);
  if (task.timeout_s < 1 || task.timeout_s > tasks_.max_timeout_s) {
    throw TaskError(Kind::kInvalidArgument, "timeout_s must be between 1 and " +
                                                std::to_string(tasks_.max_timeout_s) +
                                                " seconds, not " + std::to_string(task.timeout_s));
  }
  if (!request.agent.empty()) {
    auto names = selectable_agents();
    if (std::find(names.begin(), names.end(), request.agent) == names.end()) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      throw TaskError(Kind::kInvalidArgument, "unknown agent \"" + request.agent +
                                                  "\": send one of [" + list +
                                                  "] or omit `agent` to use the configured order");
    }
    task.agent_requested = request.agent;
  }
  task.owner = owner_of(who);
  // An authenticated caller's email is the one authentication gave: the argument is a label for the
  // local user only (auth off), never a way to name someone else in the prompt or the task.
  task.email = who.authenticated || request.email.empty() ? who.email : request.email;
  task.id = new_task_id();
  task.session_id = new_session_id();
  task.previous_session_id = trim(request.previous_session_id);
  if (!task.previous_session_id.empty()) {
    auto previous = store_->find_by_session(task.previous_session_id);
    if (!previous || previous->owner != task.owner) {
      throw TaskError(Kind::kInvalidArgument,
                      "unknown previous_session_id \"" + task.previous_session_id +
                          "\": send the session_id of one of your earlier tasks, or omit it to "
                          "start a new session");
    }
    task.workspace = previous->workspace;
  } else {
    task.workspace = (fs::path(data_dir_) / "workspaces" / task.session_id).string();
  }
  task.state = TaskState::kQueued;
  task.created_ms = now_ms();
  if (budget_.enabled()) {
    int64_t used = budget_.refresh(task.owner);
    if (budget_.over(used) && agents_.policy.per_owner_home) {
      // The owner's HOME counts too, and only its agents or the admin shrink it: measured again
      // before refusing, so a home the admin emptied does not keep the owner out.
      budget_.record_workspace(task.owner, prepare_owner_home(data_dir_, task.owner));
      used = budget_.refresh(task.owner);
    }
    if (budget_.over(used)) throw TaskError(Kind::kBusy, budget_.refusal(used));
  }
  switch (store_->insert_queued_checked(task, tasks_.max_queued, tasks_.max_queued_per_owner)) {
    case TaskStore::InsertResult::kInserted:
      break;
    case TaskStore::InsertResult::kQueueFull:
      throw TaskError(Kind::kBusy, "the task queue is full (" + std::to_string(tasks_.max_queued) +
                                       " tasks are waiting): nothing was created; try again later "
                                       "or cancel a queued task");
    case TaskStore::InsertResult::kOwnerQueueFull:
      throw TaskError(Kind::kBusy, "you already have " +
                                       std::to_string(tasks_.max_queued_per_owner) +
                                       " tasks waiting (tasks.max_queued_per_owner): nothing was "
                                       "created; wait for one to start or cancel a queued task");
  }
  wake_scheduler();
  return task;
}

std::optional<Task> TaskEngine::find(const auth::Identity& who, const std::string& task_id) {
  auto task = store_->get(task_id);
  if (!task) return std::nullopt;
  if (task->owner != owner_of(who) && !who.admin) return std::nullopt;
  return task;
}

WatchId TaskEngine::watch(const auth::Identity& who, const std::string& task_id, Watch watch) {
  return watches_.add(who, task_id, std::move(watch));
}

void TaskEngine::end_watch(WatchId id) { watches_.end(id); }

std::optional<Task> TaskEngine::wait(const auth::Identity& who, const std::string& task_id,
                                     std::chrono::milliseconds timeout,
                                     const std::function<bool()>& stop_waiting,
                                     const std::function<void(const Task&)>& on_tick,
                                     std::chrono::milliseconds tick) {
  auto result = std::make_shared<std::promise<std::optional<Task>>>();
  auto ended = result->get_future();
  Watch w;
  w.timeout = timeout;
  w.stop_waiting = stop_waiting;
  w.on_tick = on_tick;
  w.tick = tick;
  w.done = [result](std::optional<Task> task) { result->set_value(std::move(task)); };
  watches_.add(who, task_id, std::move(w));
  return ended.get();
}

InboxResult TaskEngine::inbox(const auth::Identity& who, const InboxRequest& request) {
  if (request.all_users && !who.admin) {
    throw TaskError(TaskError::Kind::kInvalidArgument,
                    "all_users is only for administrators: omit it to see your own tasks");
  }
  TaskQuery query;
  if (!request.all_users) query.owner = owner_of(who);
  if (!who.authenticated) query.email = request.email;  // a label filter while auth is off
  query.state = request.state;
  query.created_after_ms = now_ms() - static_cast<int64_t>(tasks_.inbox_window_s) * 1000;
  query.limit = std::clamp(request.limit, 1, 500);
  InboxResult result;
  result.tasks = store_->list(query);
  result.counts = store_->count_by_state(query);
  return result;
}

Task TaskEngine::cancel(const auth::Identity& who, const std::string& task_id) {
  auto task = find(who, task_id);
  if (!task) {
    throw TaskError(TaskError::Kind::kNotFound, "unknown task_id \"" + task_id +
                                                    "\": send a task_id from coda_run or "
                                                    "coda_inbox");
  }
  if (task->state == TaskState::kQueued && store_->cancel_queued(task_id, now_ms())) {
    notify_changed(task_id);
    return *store_->get(task_id);
  }
  if (is_final(task->state)) return *task;
  std::shared_ptr<Run> run;
  {
    std::lock_guard lock(mutex_);
    auto it = handles_.find(task_id);
    if (it != handles_.end()) run = runs_.at(it->second);
  }
  if (run) {
    stop_run(run, TaskState::kCancelled);
  } else {
    store_->request_cancel(task_id);  // another host runs it, or it is being launched
    wake_scheduler();
  }
  auto grace = std::chrono::seconds(agents_.policy.kill_grace_s + 5);
  auto after = wait(who, task_id, std::chrono::duration_cast<std::chrono::milliseconds>(grace));
  return after ? *after : *task;
}

// ---- the scheduler
// -------------------------------------------------------------------------------

void TaskEngine::start() {
  {
    std::lock_guard lock(mutex_);
    if (started_ || stopping_) return;
    started_ = true;
  }
  if (processes_ != nullptr) processes_->set_observer(this);
  recover();
  scheduler_ = std::thread([this] { scheduler_loop(); });
}

void TaskEngine::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    wake_.notify_all();
  }
  if (scheduler_.joinable()) scheduler_.join();
  std::vector<std::shared_ptr<Run>> runs;
  {
    std::lock_guard lock(mutex_);
    for (auto& [handle, run] : runs_) runs.push_back(run);
  }
  for (auto& run : runs) stop_run(run, TaskState::kInterrupted);
  {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(agents_.policy.kill_grace_s + 5),
                      [&] { return runs_.empty(); });
  }
  check_deadlines();  // force what is left
  std::vector<std::shared_ptr<Run>> left;
  {
    std::lock_guard lock(mutex_);
    for (auto& [handle, run] : runs_) left.push_back(run);
    runs_.clear();
    handles_.clear();
  }
  for (auto& run : left) {
    TaskOutcome outcome;
    outcome.state = TaskState::kInterrupted;
    outcome.finished_ms = now_ms();
    outcome.errors_json = R"(["the host stopped while the agent ran"])";
    finalize(run->task_id, backend_name(*run), outcome);
  }
  if (processes_ != nullptr && started_) processes_->set_observer(nullptr);
  watches_.stop();  // waiting callers get the tasks as they are now (final or interrupted)
}

void TaskEngine::wake_scheduler() {
  std::lock_guard lock(mutex_);
  work_pending_ = true;
  wake_.notify_all();
}

void TaskEngine::notify_changed(const std::string& task_id) {
  {
    std::lock_guard lock(mutex_);
    ++generation_;
    changed_.notify_all();
  }
  watches_.changed(task_id);
}

void TaskEngine::recover() {
  // Every runner, not only ours: the data-dir lock makes this host the only one using the store, so
  // a task still `running` under another runner id (the host renamed, the data dir moved) is as
  // dead as one of ours and would otherwise stay running forever, holding its owner's share and
  // session.
  const std::string any_runner;
  int killed = 0;
  for (const auto& record : store_->processes(any_runner)) {
    if (process::kill_surviving_group(record.pid, record.pgid, record.start_time)) ++killed;
  }
  store_->clear_processes(any_runner);
  const bool requeue = tasks_.on_restart == "requeue";
  int recovered = 0;
  for (const auto& task : store_->running_tasks(any_runner)) {
    ++recovered;
    if (requeue) {
      store_->requeue(task.id);
      continue;
    }
    TaskOutcome outcome;
    outcome.state = TaskState::kInterrupted;
    outcome.finished_ms = now_ms();
    outcome.summary = "The host restarted while this task ran; it was interrupted.";
    outcome.errors_json =
        R"(["the host stopped while the task ran: submit it again, or continue it with previous_session_id"])";
    store_->finish(task.id, outcome);
  }
  if (killed > 0 || recovered > 0) {
    logger().information(
        "recovery: %d running task(s) %s, %d surviving agent process group(s) "
        "killed",
        recovered, std::string(requeue ? "requeued" : "interrupted"), killed);
  }
}

void TaskEngine::scheduler_loop() {
  auto last_purge = Clock::now() - kPurgeEvery;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, kSchedulerTick, [&] { return stopping_ || work_pending_; });
      if (stopping_) return;
      work_pending_ = false;
    }
    try {
      check_deadlines();
      enforce_storage_budget();
      for (const auto& id : store_->cancel_requests(runner_)) {
        std::shared_ptr<Run> run;
        {
          std::lock_guard lock(mutex_);
          auto it = handles_.find(id);
          if (it != handles_.end()) run = runs_.at(it->second);
        }
        if (run) stop_run(run, TaskState::kCancelled);
      }
      ClaimLimits limits{tasks_.max_concurrent, tasks_.max_per_owner};
      while (true) {
        {
          std::lock_guard lock(mutex_);
          if (stopping_) return;
        }
        auto task = store_->claim_next(limits, runner_, now_ms());
        if (!task) break;
        launch(std::move(*task));
      }
      if (tasks_.retention_days > 0 && Clock::now() - last_purge >= kPurgeEvery) {
        last_purge = Clock::now();
        std::vector<std::string> orphaned;
        auto purged = store_->purge_finished_before(
            now_ms() - static_cast<int64_t>(tasks_.retention_days) * 86400 * 1000, &orphaned);
        const int removed =
            remove_workspaces((fs::path(data_dir_) / "workspaces").string(), orphaned);
        if (purged > 0) {
          logger().information("retention: purged %Ld old task(s), %d workspace(s)", purged,
                               removed);
        }
      }
    } catch (const std::exception& e) {
      logger().error(std::string("scheduler: ") + e.what());
    }
  }
}

std::string TaskEngine::options_json(const Task& task, const std::string& resume_session) const {
  auto options = ordered_object();
  options->set("permissions", task.permissions);
  options->set("yolo_allowed", agents_.policy.yolo_allowed);
  options->set("timeout_s", task.timeout_s);
  auto owner = ordered_object();
  owner->set("subject", task.owner);
  owner->set("email", task.email);
  options->set("owner", owner);
  if (resume_session.empty()) {
    options->set("resume_session", Poco::Dynamic::Var());
  } else {
    options->set("resume_session", resume_session);
  }
  return to_json_text(options);
}

void TaskEngine::launch(Task task) {
  auto fail = [&](const std::string& error, const std::string& notes_json) {
    store_->set_agent(task.id, "", notes_json);
    TaskOutcome outcome;
    outcome.state = TaskState::kFailed;
    outcome.finished_ms = now_ms();
    auto errors = new Poco::JSON::Array;
    Poco::JSON::Array::Ptr errors_ptr(errors);
    errors_ptr->add(error);
    outcome.errors_json = to_json_text(errors_ptr);
    outcome.summary = error;
    store_->finish(task.id, outcome);
    if (run_finished_) run_finished_("", outcome.state);
    notify_changed(task.id);
    wake_scheduler();
  };

  try {
    // A task queued before its owner went over the storage budget does not start.
    if (const int64_t used = budget_.refresh(task.owner); budget_.over(used)) {
      fail(budget_.describe(used) + ": the task was not started", "[]");
      return;
    }
  } catch (const std::exception& e) {
    logger().warning("task " + task.id + ": storage budget not checked: " + e.what());
  }

  auto run = std::make_shared<Run>();
  run->task_id = task.id;
  run->timeout_s = task.timeout_s;
  run->workspace = task.workspace;
  run->owner = task.owner;
  std::string prompt, prompt_file, home;
  std::optional<Task> previous;
  try {
    run->task_dir = prepare_task_dir(task.workspace, task.id);
    if (agents_.policy.per_owner_home) home = run->home = prepare_owner_home(data_dir_, task.owner);
    run->before = WorkspaceSnapshot::take(task.workspace);
    if (!task.previous_session_id.empty())
      previous = store_->find_by_session(task.previous_session_id);
    std::string prior = "none (this task starts a new session).";
    if (previous) {
      prior = "this task continues session " + task.previous_session_id + " (task " + previous->id +
              ", " + std::string(to_string(previous->state)) +
              "). Its files are in the workspace; its result file was " +
              (fs::path(task.workspace) / kTaskFilesDir / "tasks" / previous->id / "result.json")
                  .string() +
              ". Its summary: " + (previous->summary.empty() ? "(none)" : previous->summary);
    }
    auto context = parse_object(task.context_json);
    std::ostringstream pretty;
    if (!context.isNull()) context->stringify(pretty, 2);
    prompt = envelope_.render({
        {"task_id", task.id},
        {"session_id", task.session_id},
        {"user", task.email.empty() ? task.owner : task.email},
        {"permissions", task.permissions},
        {"workspace", task.workspace},
        {"result_file", (fs::path(run->task_dir) / "result.json").string()},
        {"previous_session_id", task.previous_session_id},
        {"prior_session", prior},
        {"previous_summary", previous ? previous->summary : ""},
        {"context", pretty.str()},
        {"prompt", task.prompt},
    });
    prompt_file = (fs::path(run->task_dir) / "prompt.txt").string();
    // Below the workspace the agent owns the tree: written without following its symlinks.
    util::write_file_below(task.workspace, task_files_of(task.id) + "/prompt.txt", prompt);
  } catch (const std::exception& e) {
    fail(std::string("could not prepare the workspace: ") + e.what(), "[]");
    return;
  }

  {
    std::lock_guard lock(mutex_);
    run->handle = next_handle_++;
    run->deadline = Clock::now() + std::chrono::seconds(task.timeout_s);
    runs_[run->handle] = run;
    handles_[task.id] = run->handle;
  }
  if (!home.empty() && processes_ != nullptr) processes_->set_task_home(run->handle, home);
  auto events = std::make_shared<RunEvents>(weak_from_this());
  Poco::JSON::Array::Ptr notes = new Poco::JSON::Array;
  auto note = [&](const std::string& agent, const char* what, const std::string& reason) {
    auto n = ordered_object();
    n->set("agent", agent);
    n->set("result", what);
    n->set("reason", reason);
    notes->add(n);
  };
  std::shared_ptr<AgentBackend> chosen;
  auto backends = candidates(task);
  for (const auto& backend : backends) {
    try {
      if (auto why = backend->probe()) {
        note(backend->name(), "skipped", *why);
        continue;
      }
      std::string resume;
      if (previous && previous->agent == backend->name()) resume = previous->agent_session;
      AgentRun agent_run;
      agent_run.handle = run->handle;
      agent_run.task_id = task.id;
      agent_run.session_id = task.session_id;
      agent_run.prompt = prompt;
      agent_run.prompt_file = prompt_file;
      agent_run.workspace = task.workspace;
      agent_run.task_dir = run->task_dir;
      agent_run.options_json = options_json(task, resume);
      {
        std::lock_guard lock(mutex_);
        run->backend = backend;
      }
      store_->set_agent(task.id, backend->name(), to_json_text(notes));
      backend->start(agent_run, events);
      chosen = backend;
      break;
    } catch (const std::exception& e) {
      note(backend->name(), "failed", e.what());
      std::lock_guard lock(mutex_);
      run->backend = nullptr;
    }
  }
  if (!chosen) {
    bool registered;
    {
      std::lock_guard lock(mutex_);
      registered = runs_.erase(run->handle) > 0;
      handles_.erase(task.id);
    }
    if (processes_ != nullptr) processes_->set_task_home(run->handle, "");
    if (!registered) return;
    std::string error = backends.empty()
                            ? (task.agent_requested.empty()
                                   ? "no agent backend is configured (agents.order names none "
                                     "that is loaded)"
                                   : "the agent \"" + task.agent_requested + "\" is not loaded")
                            : "no agent backend could run the task";
    for (const auto& n : *notes) {
      auto obj = n.extract<Poco::JSON::Object::Ptr>();
      error +=
          "; " + obj->getValue<std::string>("agent") + ": " + obj->getValue<std::string>("reason");
    }
    fail(error, to_json_text(notes));
    return;
  }
  if (notes->size() > 0) store_->set_agent(task.id, chosen->name(), to_json_text(notes));
  notify_changed(task.id);
  // A cancel that arrived while the backend was starting.
  std::optional<TaskState> pending;
  {
    std::lock_guard lock(mutex_);
    if (runs_.count(run->handle) && run->stop_reason) pending = run->stop_reason;
  }
  if (pending) {
    chosen->cancel(run->handle);
    if (processes_ != nullptr) processes_->terminate_task(run->handle);
  }
}

void TaskEngine::stop_run(const std::shared_ptr<Run>& run, TaskState why,
                          const std::string& reason) {
  std::shared_ptr<AgentBackend> backend;
  {
    std::lock_guard lock(mutex_);
    if (run->stop_reason || !runs_.count(run->handle)) return;
    run->stop_reason = why;
    run->stop_error = reason;
    run->force_at = Clock::now() + std::chrono::seconds(agents_.policy.kill_grace_s + 5);
    backend = run->backend;
  }
  std::string what = "the host is stopping: stopping the agent";
  if (!reason.empty()) {
    what = reason + ": stopping the agent";
  } else if (why == TaskState::kTimedOut) {
    what = "timed out after " + std::to_string(run->timeout_s) + " s: stopping the agent";
  } else if (why == TaskState::kCancelled) {
    what = "cancelled: stopping the agent";
  }
  try {
    store_->append_event(run->task_id, "host", what, now_ms(), tasks_.events_max_bytes);
  } catch (const std::exception& e) {
    logger().warning(e.what());
  }
  if (backend) {
    try {
      backend->cancel(run->handle);
    } catch (const std::exception& e) {
      logger().warning("cancel on " + backend->name() + ": " + e.what());
    }
  }
  if (processes_ != nullptr) processes_->terminate_task(run->handle);
  wake_scheduler();
}

void TaskEngine::check_deadlines() {
  std::vector<std::shared_ptr<Run>> expired, forced;
  {
    std::lock_guard lock(mutex_);
    auto now = Clock::now();
    for (auto& [handle, run] : runs_) {
      if (!run->stop_reason && now >= run->deadline) expired.push_back(run);
      if (run->stop_reason && now >= run->force_at) forced.push_back(run);
    }
    for (auto& run : forced) {
      runs_.erase(run->handle);
      handles_.erase(run->task_id);
    }
  }
  for (auto& run : expired) stop_run(run, TaskState::kTimedOut);
  for (auto& run : forced) {
    if (processes_ != nullptr) processes_->terminate_task(run->handle);
    if (processes_ != nullptr) processes_->set_task_home(run->handle, "");
    TaskOutcome outcome;
    outcome.state = *run->stop_reason;
    outcome.finished_ms = now_ms();
    Poco::JSON::Array::Ptr errors = new Poco::JSON::Array;
    if (!run->stop_error.empty()) errors->add(run->stop_error + "; the agent was stopped");
    errors->add(
        "the agent did not report its end within the kill grace; its process group was killed");
    outcome.errors_json = to_json_text(errors);
    outcome.files_changed_json = files_changed_json(run->workspace, run->before);
    record_final_workspace(*run);
    finalize(run->task_id, backend_name(*run), outcome);
  }
}

void TaskEngine::finalize(const std::string& task_id, const std::string& backend,
                          const TaskOutcome& outcome) {
  bool stopping;
  {
    std::lock_guard lock(mutex_);
    stopping = stopping_;
  }
  if (stopping && outcome.state == TaskState::kInterrupted && tasks_.on_restart == "requeue") {
    store_->requeue(task_id);
  } else {
    store_->finish(task_id, outcome);
  }
  if (run_finished_) run_finished_(backend, outcome.state);
  notify_changed(task_id);
  wake_scheduler();
}

std::string TaskEngine::backend_name(const Run& run) const {
  std::lock_guard lock(mutex_);
  return run.backend ? run.backend->name() : "";
}

void TaskEngine::set_run_finished(RunFinished callback) { run_finished_ = std::move(callback); }

void TaskEngine::on_event(uint64_t handle, int kind, std::string_view data) {
  std::shared_ptr<Run> run;
  std::string task_id;
  std::string text;  // what the backend sent, as valid UTF-8: it is stored and served as JSON
  {
    std::lock_guard lock(mutex_);
    auto it = runs_.find(handle);
    if (it == runs_.end()) return;
    run = it->second;
    task_id = it->second->task_id;
    // Output comes in arbitrary chunks; progress and JSON events are whole messages.
    text = kind == 2 || kind == 3 ? util::valid_utf8(data) : it->second->output.feed(data);
  }
  if (text.empty()) return;
  try {
    switch (kind) {
      case 2: {  // CODA_TASK_PROGRESS
        auto message = trim(text);
        if (message.size() > kMaxProgressChars) message.resize(kMaxProgressChars);
        store_->set_progress(task_id, message);
        store_output(run, "progress", message);
        break;
      }
      case 3:  // CODA_TASK_EVENT_JSON
        store_output(run, "event", text);
        break;
      default: {  // CODA_TASK_TEXT: output; "PROGRESS: ..." lines are progress reports
        store_output(run, "output", text);
        std::size_t pos = text.rfind("PROGRESS:");
        if (pos != std::string::npos && (pos == 0 || text[pos - 1] == '\n')) {
          auto end = text.find('\n', pos);
          auto message = trim(text.substr(pos + 9, end == std::string::npos ? end : end - pos - 9));
          if (message.size() > kMaxProgressChars) message.resize(kMaxProgressChars);
          if (!message.empty()) store_->set_progress(task_id, message);
        }
        break;
      }
    }
  } catch (const std::exception& e) {
    logger().warning("task " + task_id + ": " + e.what());
  }
  notify_changed(task_id);  // wakes coda_get_result calls waiting for new events (events_after)
}

// ---- the storage budget -------------------------------------------------------------------------

bool TaskEngine::store_output(const std::shared_ptr<Run>& run, const std::string& stream,
                              const std::string& data) {
  // Past events_max_bytes the store keeps head and tail: a run never holds more than that, so
  // only what it adds below the cap is charged to its owner.
  std::size_t charge = 0;
  {
    std::lock_guard lock(mutex_);
    if (run->over_budget) return false;
    charge = std::min(run->events_bytes + data.size(), tasks_.events_max_bytes) - run->events_bytes;
  }
  if (!budget_.admit(run->owner, static_cast<int64_t>(charge))) {
    stop_storing_output(run,
                        budget_.describe(budget_.usage(run->owner) + static_cast<int64_t>(charge)));
    wake_scheduler();  // which stops the run
    return false;
  }
  {
    std::lock_guard lock(mutex_);
    run->events_bytes += charge;
  }
  store_->append_event(run->task_id, stream, data, now_ms(), tasks_.events_max_bytes);
  return true;
}

void TaskEngine::stop_storing_output(const std::shared_ptr<Run>& run, const std::string& reason) {
  {
    std::lock_guard lock(mutex_);
    if (run->over_budget) return;
    run->over_budget = true;
  }
  try {
    store_->append_event(run->task_id, "host", reason + ": the task's further output is not stored",
                         now_ms(), tasks_.events_max_bytes);
  } catch (const std::exception& e) {
    logger().warning(e.what());
  }
}

void TaskEngine::enforce_storage_budget() {
  if (!budget_.enabled()) return;
  std::vector<std::shared_ptr<Run>> live, due;
  std::set<std::shared_ptr<Run>> refused;  // output was refused: already over
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    for (auto& [handle, run] : runs_) {
      if (run->stop_reason) continue;
      live.push_back(run);
      if (run->over_budget) {
        refused.insert(run);
      } else if (now >= run->next_measure) {
        due.push_back(run);
      }
    }
  }
  std::set<std::string> owners;  // whose figure changed
  for (const auto& run : due) {
    const auto started = Clock::now();
    WorkspaceUsage usage = budget_.record_workspace(run->owner, run->workspace);
    if (!run->home.empty()) {
      usage.complete = budget_.record_workspace(run->owner, run->home).complete && usage.complete;
    }
    const auto took = Clock::now() - started;
    {
      std::lock_guard lock(mutex_);
      run->next_measure = Clock::now() + std::max<Clock::duration>(kMeasureEvery, took * 10);
      run->workspace_unmeasurable = !usage.complete;
    }
    owners.insert(run->owner);
  }
  for (const auto& owner : owners) budget_.refresh(owner);
  for (const auto& run : live) {
    const int64_t used = budget_.usage(run->owner);
    if (!refused.count(run) && (!owners.count(run->owner) || !budget_.over(used))) continue;
    bool unmeasurable;
    {
      std::lock_guard lock(mutex_);
      unmeasurable = run->workspace_unmeasurable;
    }
    const std::string reason =
        unmeasurable ? budget_.describe_unmeasurable() : budget_.describe(used);
    stop_storing_output(run, reason);  // the run's output is refused from here on (once)
    stop_run(run, TaskState::kFailed, reason);
  }
}

void TaskEngine::record_final_workspace(const Run& run) {
  if (!budget_.enabled()) return;
  try {
    budget_.record_workspace(run.owner, run.workspace);  // what it wrote since the last time
    if (!run.home.empty()) budget_.record_workspace(run.owner, run.home);
    bool owner_runs = false;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [handle, other] : runs_) {
        if (other->owner == run.owner) owner_runs = true;
      }
    }
    if (!owner_runs) budget_.forget(run.owner);
  } catch (const std::exception& e) {
    logger().warning("task " + run.task_id + ": workspace size not recorded: " + e.what());
  }
}

void TaskEngine::on_finished(uint64_t handle, std::string_view result_json) {
  std::shared_ptr<Run> run;
  {
    std::lock_guard lock(mutex_);
    auto it = runs_.find(handle);
    if (it == runs_.end()) return;  // already forced
    run = it->second;
    runs_.erase(it);
    handles_.erase(run->task_id);
  }
  if (processes_ != nullptr) processes_->set_task_home(handle, "");
  try {
    // The agent's last bytes ended inside a character: kept as U+FFFD, not dropped.
    if (auto rest = run->output.finish(); !rest.empty()) store_output(run, "output", rest);
    // Everything below reaches JSON clients; an agent may have written any bytes into it.
    Report report;
    merge_report(report, parse_object(util::valid_utf8(result_json)), false);
    // The agent may have made result.json (or a directory above it) a symlink to a foreign file:
    // read without following, and such a file is an error in the report, never its content.
    std::optional<std::string> file_text;
    try {
      file_text = util::read_file_below(run->workspace,
                                        task_files_of(run->task_id) + "/result.json", 1u << 20);
    } catch (const std::exception& e) {
      report.errors->add(std::string("result.json not read: ") + e.what());
    }
    if (file_text) {
      auto obj = parse_object(util::valid_utf8(*file_text));
      if (obj.isNull()) {
        report.errors->add("result.json in the task directory is not a JSON object");
      } else {
        merge_report(report, obj, true);
      }
    }
    TaskOutcome outcome;
    outcome.finished_ms = now_ms();
    if (run->stop_reason) {
      outcome.state = *run->stop_reason;
    } else if (!report.state || !is_final(*report.state) ||
               *report.state == TaskState::kInterrupted) {
      outcome.state = TaskState::kFailed;
      if (!report.state) report.errors->add("the agent reported no valid status");
    } else {
      outcome.state = *report.state;
    }
    if (!run->stop_error.empty()) {
      // The host's reason is the cause; what the agent reported on its way out follows it.
      Poco::JSON::Array::Ptr errors = new Poco::JSON::Array;
      errors->add(run->stop_error + "; the agent was stopped");
      for (const auto& e : *report.errors) errors->add(e);
      report.errors = errors;
      report.summary = "Stopped: " + run->stop_error + ".";
    }
    if (report.summary.empty()) {
      if (outcome.state == TaskState::kTimedOut) {
        report.summary = "Timed out after " + std::to_string(run->timeout_s) + " s.";
      } else if (outcome.state == TaskState::kCancelled) {
        report.summary = "Cancelled.";
      }
    }
    outcome.summary = report.summary;
    outcome.feedback = report.feedback;
    outcome.exit_code = report.exit_code;
    outcome.errors_json = to_json_text(report.errors);
    outcome.artifacts_json = to_json_text(report.artifacts);
    outcome.usage_json = report.usage_json;
    outcome.agent_session = report.agent_session;
    outcome.files_changed_json = files_changed_json(run->workspace, run->before);
    if (processes_ != nullptr) processes_->terminate_task(handle);  // no stragglers
    record_final_workspace(*run);
    finalize(run->task_id, backend_name(*run), outcome);
  } catch (const std::exception& e) {
    logger().error("task " + run->task_id + ": recording the result failed: " + e.what());
    notify_changed(run->task_id);
  }
}

void TaskEngine::spawned(const process::ProcessInfo& info) {
  std::string task_id;
  {
    std::lock_guard lock(mutex_);
    auto it = runs_.find(info.task);
    if (it == runs_.end()) return;
    task_id = it->second->task_id;
    process_tasks_[info.id] = task_id;
  }
  try {
    store_->record_process(task_id, ProcessRecord{info.id, info.pid, info.pgid, info.start_time});
  } catch (const std::exception& e) {
    logger().warning(e.what());
  }
}

void TaskEngine::exited(const process::ProcessInfo& info) {
  std::string task_id;
  {
    std::lock_guard lock(mutex_);
    auto it = process_tasks_.find(info.id);
    if (it == process_tasks_.end()) return;
    task_id = it->second;
    process_tasks_.erase(it);
  }
  try {
    store_->remove_process(task_id, info.id);
  } catch (const std::exception& e) {
    logger().warning(e.what());
  }
}

}  // namespace coda::tasks
