#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/auth/identity.hpp"
#include "core/config/config.hpp"
#include "core/process/process_service.hpp"
#include "core/tasks/agent_backend.hpp"
#include "core/tasks/envelope.hpp"
#include "core/tasks/storage_budget.hpp"
#include "core/tasks/task.hpp"
#include "core/tasks/task_store.hpp"
#include "core/tasks/task_watches.hpp"

// The task engine: the operations behind the coda_* tools (validation, ownership, queueing, waiting,
// cancelling) and the scheduler that runs queued tasks on agent backends. TaskService owns one and
// wires it into the host; tests drive it directly.
namespace coda::tasks {

// Why a request was refused. what() says what was wrong and what to send instead.
class TaskError : public std::runtime_error {
 public:
  enum class Kind {
    kInvalidArgument,  // a bad argument (context, permissions, timeout_s, agent, ...)
    kNotFound,         // unknown task or session — also someone else's
    kBusy,             // a limit was reached (max_queued): nothing was created
  };
  TaskError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// The arguments of coda_run.
struct RunRequest {
  std::string prompt;
  std::string email;                  // a label (and the inbox filter while auth is off)
  std::string context_json = "{}";    // JSON object text ("" means {})
  std::string previous_session_id;    // "" for a new session chain
  std::string permissions = "smart";  // smart | yolo
  std::optional<int> timeout_s;       // nullopt: tasks.default_timeout_s
  std::string agent;                  // "" for agents.order
};

// The arguments of coda_inbox.
struct InboxRequest {
  std::string email;
  std::optional<TaskState> state;
  int limit = 50;
  bool all_users = false;  // admins only
};

struct InboxResult {
  std::vector<Task> tasks;  // newest first
  std::map<std::string, int64_t> counts;
};

// Thread-safe: every member may be called from any thread, except that add_backend, start and stop
// are for the control thread. Callbacks from backends and the process service may arrive on any
// thread at any time until stop() returns.
class TaskEngine : public std::enable_shared_from_this<TaskEngine>, public process::ProcessObserver {
 public:
  // Opens the store at data_dir/tasks.db. Throws StoreError, or std::runtime_error for an unusable
  // data dir or envelope template.
  TaskEngine(const config::TasksConfig& tasks, const config::AgentsConfig& agents,
             std::string data_dir, process::ProcessService* processes);
  // The same with a given store (tests; a future PostgreSQL store).
  TaskEngine(const config::TasksConfig& tasks, const config::AgentsConfig& agents,
             std::string data_dir, process::ProcessService* processes,
             std::unique_ptr<TaskStore> store);
  ~TaskEngine() override;

  void add_backend(std::shared_ptr<AgentBackend> backend);
  // Called once for every run this host ends (after its final state is stored): the backend that ran
  // it ("" when none could start it) and the final state (interrupted also when the task is
  // requeued). Set before start(); it runs on the thread that ended the run and must not block.
  using RunFinished = std::function<void(const std::string& backend, TaskState state)>;
  void set_run_finished(RunFinished callback);
  // See TaskService::start / stop.
  void start();
  void stop();

  // Validates and queues a task for `who`; returns it (state queued) at once. Throws TaskError.
  Task submit(const auth::Identity& who, const RunRequest& request);
  // The task if `who` may see it (its owner, or an admin), else nullopt — exactly as for an unknown id.
  std::optional<Task> find(const auth::Identity& who, const std::string& task_id);
  // Waits until the task is final, `timeout` passed, or stop_waiting() returns true (checked whenever
  // the task changes and at every `tick`; on_tick runs after each tick that did not end the wait),
  // holding no thread: watch.done gets the task as it is then (nullopt when `who` may not see it), on
  // another thread. stop() ends every watch. end_watch() ends one now (a cancelled call).
  WatchId watch(const auth::Identity& who, const std::string& task_id, Watch watch);
  void end_watch(WatchId id);
  // watch(), blocking the caller until it ends; returns what done would get.
  std::optional<Task> wait(const auth::Identity& who, const std::string& task_id,
                           std::chrono::milliseconds timeout,
                           const std::function<bool()>& stop_waiting = {},
                           const std::function<void(const Task&)>& on_tick = {},
                           std::chrono::milliseconds tick = std::chrono::seconds(5));
  // Tasks of `who` created within tasks.inbox_window_s, newest first, and counts per state.
  // Throws TaskError for all_users from a non-admin.
  InboxResult inbox(const auth::Identity& who, const InboxRequest& request);
  // Cancels a queued or running task (running: stops the agent's whole process group) and returns
  // the task afterwards — final when the agent stopped within the kill grace. A final task is returned
  // unchanged. Throws TaskError kNotFound.
  Task cancel(const auth::Identity& who, const std::string& task_id);

  // Names coda_run's `agent` accepts.
  std::vector<std::string> selectable_agents() const;
  const config::TasksConfig& tasks_config() const { return tasks_; }
  TaskStore& store() { return *store_; }
  // The id under which this host claims tasks in the store.
  const std::string& runner() const { return runner_; }

  // process::ProcessObserver: records agent process groups for crash recovery.
  void spawned(const process::ProcessInfo& info) override;
  void exited(const process::ProcessInfo& info) override;

 private:
  struct Run;
  class RunEvents;

  void scheduler_loop();
  void launch(Task task);
  void on_event(uint64_t handle, int kind, std::string_view data);
  void on_finished(uint64_t handle, std::string_view result_json);
  // Asks the run's backend to stop and kills its process group; `why` becomes the final state.
  // A non-empty `reason` (the host's, e.g. the storage budget) is added to the task's errors.
  void stop_run(const std::shared_ptr<Run>& run, TaskState why, const std::string& reason = "");
  // Stores one piece of the run's output unless its owner is over the storage budget; then the run
  // is marked over (stop_storing_output) and the scheduler stops it. Returns whether it was stored.
  bool store_output(const std::shared_ptr<Run>& run, const std::string& stream,
                    const std::string& data);
  // From now on nothing the run outputs is stored; the first call adds one host event saying so.
  void stop_storing_output(const std::shared_ptr<Run>& run, const std::string& reason);
  // The scheduler's budget work: measures the workspaces of running tasks that are due, and stops
  // (failed) every run whose owner is over tasks.owner_storage_mb.
  void enforce_storage_budget();
  // Records the final size of a run's workspace once it ended.
  void record_final_workspace(const Run& run);
  // Ends a run that was still registered: its outcome goes to the store (or, for an interrupted
  // task at shutdown with on_restart: requeue, the task is queued again).
  void finalize(const std::string& task_id, const std::string& backend, const TaskOutcome& outcome);
  std::string backend_name(const Run& run) const;
  void check_deadlines();
  void recover();
  // A task changed (state, progress, output): waiters on it look again.
  void notify_changed(const std::string& task_id);
  void wake_scheduler();
  std::vector<std::shared_ptr<AgentBackend>> candidates(const Task& task) const;
  std::string options_json(const Task& task, const std::string& resume_session) const;

  config::TasksConfig tasks_;
  config::AgentsConfig agents_;
  std::string data_dir_;
  process::ProcessService* processes_;
  std::unique_ptr<TaskStore> store_;
  StorageBudget budget_;  // over store_
  Envelope envelope_;
  std::string runner_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;     // the scheduler: work, a finish, stop
  std::condition_variable changed_;  // waiters: some task changed state
  uint64_t generation_ = 0;          // bumped on every state change
  std::vector<std::shared_ptr<AgentBackend>> backends_;
  RunFinished run_finished_;  // set before start(), then read-only
  std::map<uint64_t, std::shared_ptr<Run>> runs_;  // by handle
  std::map<std::string, uint64_t> handles_;        // task id → handle
  std::map<uint64_t, std::string> process_tasks_;  // process id → task id (recorded groups)
  uint64_t next_handle_ = 1;
  bool started_ = false;
  bool stopping_ = false;
  bool work_pending_ = false;  // a submit or a finish since the scheduler last looked
  std::thread scheduler_;
  // Last: destroyed first, joining its callbacks while the store they read still exists.
  TaskWatches watches_{[this](const auth::Identity& who, const std::string& task_id) {
    return find(who, task_id);
  }};
};

}  // namespace coda::tasks
