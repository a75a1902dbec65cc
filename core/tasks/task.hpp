#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// The task model: one delegated coding job, as stored and as shown to its owner.
namespace coda::tasks {

// Where a task is in its life. queued and running are live; every other state is final.
// needs_approval and info_needed are final states an agent reports (the owner answers with a new task
// that names this one's session as previous_session_id).
enum class TaskState {
  kQueued,
  kRunning,
  kCompleted,
  kFailed,
  kCancelled,
  kTimedOut,
  kInterrupted,
  kNeedsApproval,
  kInfoNeeded,
};

// "queued", "running", "completed", "failed", "cancelled", "timed_out", "interrupted",
// "needs_approval", "info_needed".
std::string_view to_string(TaskState state);
// The state named `text` (the names above; the prototype's "timeout" is read as timed_out), or
// nullopt for anything else.
std::optional<TaskState> parse_state(std::string_view text);
// True for every state except queued and running.
bool is_final(TaskState state);

// A new public id: `prefix` followed by 32 lower-case hex digits (128 bits from the OS CSPRNG).
std::string new_id(std::string_view prefix);
inline std::string new_task_id() { return new_id("task_"); }
inline std::string new_session_id() { return new_id("sess_"); }

// Milliseconds since the Unix epoch (wall clock), the unit of every time field.
int64_t now_ms();
// "2026-11-27T10:54:05.123Z"; "" for 0.
std::string format_time(int64_t ms);

// One task. Plain data; JSON-valued fields hold JSON text so that the store stays schema-stable.
struct Task {
  std::string id;                   // task_<hex>
  std::string session_id;           // sess_<hex>: what a follow-up task names as previous
  std::string previous_session_id;  // "" when none
  std::string owner;                // auth::Identity::subject of the submitter
  std::string email;                // a label only (the submitter's email, or what it sent)
  std::string prompt;               // as submitted (not enveloped)
  std::string context_json = "{}";  // a JSON object
  std::string permissions = "smart";  // smart | yolo
  int timeout_s = 3600;
  std::string agent_requested;  // the `agent` argument, "" for the configured order
  std::string agent;            // the backend that ran it, "" until started
  std::string agent_notes_json = "[]";  // [{"agent","skipped"|"failed","reason"}] of the router
  std::string agent_session;            // the agent's own session id (for resuming), may be empty
  std::string workspace;                // absolute directory, shared along a session chain
  std::string runner;                   // the host that claimed it ("" while queued)
  TaskState state = TaskState::kQueued;
  int64_t created_ms = 0;
  int64_t started_ms = 0;   // 0 until running
  int64_t finished_ms = 0;  // 0 until final
  std::optional<int> exit_code;
  std::string summary;
  std::string progress;   // the last progress message
  std::string feedback;   // what the agent needs (info_needed, needs_approval)
  std::string files_changed_json = "[]";  // ["relative/path", ...], computed from the workspace
  std::string artifacts_json = "[]";
  std::string errors_json = "[]";  // ["message", ...]
  std::string usage_json = "{}";   // tokens/cost when reported
  bool cancel_requested = false;
  int64_t events_dropped_bytes = 0;  // output dropped between the kept head and tail
  int64_t events_dropped_count = 0;
};

// How a running task ended (what the store writes when it leaves running).
struct TaskOutcome {
  TaskState state = TaskState::kCompleted;
  int64_t finished_ms = 0;
  std::optional<int> exit_code;
  std::string summary;
  std::string feedback;
  std::string files_changed_json = "[]";
  std::string artifacts_json = "[]";
  std::string errors_json = "[]";
  std::string usage_json = "{}";
  std::string agent_session;
};

}  // namespace coda::tasks
