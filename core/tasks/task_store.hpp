#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/types.h>

#include "core/tasks/task.hpp"

// Durable task storage. The interface speaks only in tasks, events and limits — no SQL dialect, no
// file, no lock semantics leak out — so that a PostgreSQL implementation can back several hosts that
// share one queue (claim_next is the only way work is taken, and it is atomic across hosts).
namespace coda::tasks {

// The store failed (I/O, corruption, a constraint). what() names the operation.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Which tasks list()/count_by_state() return. Empty strings and 0 mean "no filter".
struct TaskQuery {
  std::string owner;        // "" only for admins' all-users views
  std::string email;        // the email label
  std::optional<TaskState> state;
  int64_t created_after_ms = 0;  // created_ms >= this
  int limit = 50;                // newest first; at most this many
};

// What claim_next may take.
struct ClaimLimits {
  int max_concurrent = 5;  // running tasks in the whole store (all hosts)
  int max_per_owner = 2;   // running tasks of one owner
};

// One stored piece of a task's output or a structured event.
struct TaskEvent {
  int64_t seq = 0;  // increasing per task
  int64_t time_ms = 0;
  std::string stream;  // "stdout", "stderr", "text", "progress", "event", "host"
  std::string data;
};

// An agent process group recorded while it runs, so a restarted host can kill survivors.
struct ProcessRecord {
  uint64_t process_id = 0;  // the process service's id
  pid_t pid = 0;
  pid_t pgid = 0;
  uint64_t start_time = 0;  // /proc/<pid>/stat field 22
};

// The storage an owner's tasks hold, as the store knows it (the per-owner budget,
// tasks.owner_storage_mb).
struct OwnerStorage {
  int64_t events_bytes = 0;     // the stored events of every task of the owner
  int64_t workspace_bytes = 0;  // the last recorded size of each of their workspaces, summed
  int64_t total() const { return events_bytes + workspace_bytes; }
};

// Thread-safe: every member may be called from any thread.
class TaskStore {
 public:
  virtual ~TaskStore() = default;

  // Why insert_queued refused a task.
  enum class InsertResult { kInserted, kQueueFull, kOwnerQueueFull };
  // Inserts `task` (state queued) unless `max_queued` tasks are already queued, or
  // `max_queued_per_owner` tasks of task.owner are (so one owner cannot fill the whole queue); atomic,
  // so a refused task leaves nothing behind. Returns false when refused.
  bool insert_queued(const Task& task, int max_queued) {
    return insert_queued_checked(task, max_queued, max_queued) == InsertResult::kInserted;
  }
  virtual InsertResult insert_queued_checked(const Task& task, int max_queued,
                                             int max_queued_per_owner) = 0;
  virtual std::optional<Task> get(const std::string& task_id) = 0;
  // The newest task with this session id.
  virtual std::optional<Task> find_by_session(const std::string& session_id) = 0;
  // Matching tasks, newest first.
  virtual std::vector<Task> list(const TaskQuery& query) = 0;
  // Counts per state name over the query (its state filter and limit are ignored).
  virtual std::map<std::string, int64_t> count_by_state(const TaskQuery& query) = 0;
  virtual int64_t count_in_state(TaskState state) = 0;

  // Atomically takes the next queued task for `runner` and marks it running (started_ms = now_ms):
  // FIFO, but an owner with fewer running tasks goes first, then the owner served least recently
  // (per-owner fairness: one owner's burst cannot starve the others); never past the
  // limits; never a task whose workspace is busy with another running task. nullopt when none fits.
  virtual std::optional<Task> claim_next(const ClaimLimits& limits, const std::string& runner,
                                         int64_t now_ms) = 0;
  // Records which backend runs a claimed task and why others were passed over.
  virtual void set_agent(const std::string& task_id, const std::string& agent,
                         const std::string& notes_json) = 0;
  virtual void set_progress(const std::string& task_id, const std::string& message) = 0;
  // running → a final state. Returns false (and changes nothing) when the task is not running.
  virtual bool finish(const std::string& task_id, const TaskOutcome& outcome) = 0;
  // queued → cancelled. Returns false when the task is not queued.
  virtual bool cancel_queued(const std::string& task_id, int64_t now_ms) = 0;
  // Asks the runner of a running task to cancel it (seen through cancel_requests()).
  virtual void request_cancel(const std::string& task_id) = 0;
  // Running tasks of `runner` whose cancel was requested.
  virtual std::vector<std::string> cancel_requests(const std::string& runner) = 0;
  // Running tasks claimed by `runner`, or by any runner when it is "" (recovery after a restart).
  virtual std::vector<Task> running_tasks(const std::string& runner) = 0;
  // running → queued, for recovery by requeue. Returns false when not running.
  virtual bool requeue(const std::string& task_id) = 0;

  // Appends output or an event. Past `max_bytes` per task the first half (head) and the newest half
  // (tail) are kept; what falls out in between is counted in the task's events_dropped_* fields.
  virtual void append_event(const std::string& task_id, const std::string& stream,
                            const std::string& data, int64_t time_ms, std::size_t max_bytes) = 0;
  // Events with seq > after_seq, oldest first, at most `limit`.
  virtual std::vector<TaskEvent> events(const std::string& task_id, int64_t after_seq,
                                        int limit) = 0;

  // What `owner`'s tasks hold: the bytes of their stored events (what append_event kept) and the
  // workspace sizes recorded by record_workspace_bytes. Costs one indexed pass over the owner's
  // tasks and workspaces.
  virtual OwnerStorage owner_storage(const std::string& owner) = 0;
  // Records the measured size of `workspace`, a workspace of `owner`'s tasks, replacing the last
  // figure. The record goes when the workspace's last task is purged (purge_finished_before).
  virtual void record_workspace_bytes(const std::string& owner, const std::string& workspace,
                                      int64_t bytes) = 0;

  virtual void record_process(const std::string& task_id, const ProcessRecord& record) = 0;
  virtual void remove_process(const std::string& task_id, uint64_t process_id) = 0;
  // Process groups recorded for tasks of `runner` ("" = any runner; all of them: the caller checks
  // liveness). clear_processes forgets the same set.
  virtual std::vector<ProcessRecord> processes(const std::string& runner) = 0;
  virtual void clear_processes(const std::string& runner) = 0;

  // Deletes final tasks (and their events) that finished before `before_ms`. Returns how many. When
  // `orphaned_workspaces` is given, it receives the workspaces of the deleted tasks that no
  // remaining task references (a session chain's workspace goes with its last task, never before);
  // their recorded sizes are forgotten either way.
  virtual int64_t purge_finished_before(int64_t before_ms,
                                        std::vector<std::string>* orphaned_workspaces) = 0;
  int64_t purge_finished_before(int64_t before_ms) {
    return purge_finished_before(before_ms, nullptr);
  }
  // Deletes one final task (and its events) at once, as retention would: `orphaned_workspaces`
  // receives its workspace when no remaining task references it. Returns false (and deletes
  // nothing) when the task is unknown, queued or running.
  virtual bool delete_finished(const std::string& task_id,
                               std::vector<std::string>* orphaned_workspaces) = 0;
  // "ok" when the storage is consistent, else what is wrong.
  virtual std::string integrity_check() = 0;
};

// The SQLite store in one file (created with its parent directory when missing): WAL, a busy timeout,
// schema version with ordered migrations. Throws StoreError when the file cannot be opened or migrated
// (e.g. it is from a newer coda).
std::unique_ptr<TaskStore> open_sqlite_store(const std::string& path);

}  // namespace coda::tasks
