#include "core/tasks/task_tools.hpp"

#include <algorithm>
#include <cmath>

#include "core/tasks/json_text.hpp"

namespace coda::tasks {
namespace {

using Poco::JSON::Object;

constexpr const char* kStillRunning = "Result not yet available — task is still in progress.";

// A bad argument: the message says what to send instead.
[[noreturn]] void bad_argument(const std::string& message) {
  throw TaskError(TaskError::Kind::kInvalidArgument, message);
}

std::string string_arg(const Object::Ptr& args, const std::string& key,
                       const std::string& fallback = "") {
  if (!args->has(key) || args->get(key).isEmpty()) return fallback;
  auto value = args->get(key);
  if (!value.isString()) bad_argument(key + " must be a string");
  return value.convert<std::string>();
}

std::optional<double> number_arg(const Object::Ptr& args, const std::string& key) {
  if (!args->has(key) || args->get(key).isEmpty()) return std::nullopt;
  auto value = args->get(key);
  if (!value.isNumeric() || value.type() == typeid(bool)) bad_argument(key + " must be a number");
  return value.convert<double>();
}

std::optional<int> integer_arg(const Object::Ptr& args, const std::string& key, int min, int max) {
  auto value = number_arg(args, key);
  if (!value) return std::nullopt;
  if (std::floor(*value) != *value || *value < min || *value > max) {
    bad_argument(key + " must be a whole number from " + std::to_string(min) + " to " +
                 std::to_string(max));
  }
  return static_cast<int>(*value);
}

bool bool_arg(const Object::Ptr& args, const std::string& key) {
  if (!args->has(key) || args->get(key).isEmpty()) return false;
  auto value = args->get(key);
  if (value.type() != typeid(bool)) bad_argument(key + " must be true or false");
  return value.extract<bool>();
}

// isError with the prototype's error shape as text: {"status":"error","error":"..."}.
mcp::ToolResult error_result(const std::string& message) {
  auto obj = ordered_object();
  obj->set("status", "error");
  obj->set("error", message);
  return mcp::ToolResult::error(to_json_text(obj));
}

int64_t elapsed_s(const Task& task) {
  int64_t end = task.finished_ms > 0 ? task.finished_ms : now_ms();
  return std::max<int64_t>(0, (end - task.created_ms) / 1000);
}

std::string prompt_summary(const std::string& prompt) {
  // The first 100 characters (code points), as the prototype did.
  std::size_t chars = 0, i = 0;
  while (i < prompt.size() && chars < 100) {
    unsigned char c = static_cast<unsigned char>(prompt[i]);
    i += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    ++chars;
  }
  return prompt.substr(0, std::min(i, prompt.size()));
}

Object::Ptr schema(const std::string& json) {
  auto obj = parse_object(json);
  if (obj.isNull()) throw std::logic_error("task tools: a schema is not valid JSON: " + json);
  return obj;
}

Object::Ptr annotations(bool read_only, bool destructive, bool idempotent, bool open_world) {
  auto a = ordered_object();
  a->set("readOnlyHint", read_only);
  a->set("destructiveHint", destructive);
  a->set("idempotentHint", idempotent);
  a->set("openWorldHint", open_world);
  return a;
}

Object::Ptr definition(const std::string& name, const std::string& title,
                       const std::string& description, const Object::Ptr& input,
                       const Object::Ptr& output, Object::Ptr notes) {
  auto d = ordered_object();
  d->set("name", name);
  d->set("title", title);
  d->set("description", description);
  d->set("inputSchema", input);
  d->set("outputSchema", output);
  notes->set("title", title);
  d->set("annotations", notes);
  return d;
}

std::string state_enum_json() {
  std::string out = "[\"\"";
  for (auto s : {TaskState::kQueued, TaskState::kRunning, TaskState::kCompleted,
                 TaskState::kFailed, TaskState::kCancelled, TaskState::kTimedOut,
                 TaskState::kInterrupted, TaskState::kNeedsApproval, TaskState::kInfoNeeded}) {
    out += ",\"" + std::string(to_string(s)) + "\"";
  }
  return out + ",\"timeout\"]";
}

const char* const kResultProperties = R"({
  "task_id": {"type": "string"}, "session_id": {"type": "string"},
  "status": {"type": "string", "description": "queued, running, completed, failed, cancelled, timed_out, interrupted, needs_approval or info_needed"},
  "summary": {"type": "string"}, "files_changed": {"type": "array", "items": {"type": "string"}},
  "artifacts": {"type": "array"}, "errors": {"type": "array", "items": {"type": "string"}},
  "feedback": {"type": "string"}, "progress": {"type": "string"}, "message": {"type": "string"},
  "agent": {"type": "string"}, "exit_code": {"type": ["integer", "null"]}, "usage": {"type": "object"},
  "agents_tried": {"type": "array", "description": "Backends the router skipped or that failed to start before 'agent' ran, each {agent, skipped|failed, reason}"},
  "previous_session_id": {"type": "string"}, "prompt_summary": {"type": "string", "description": "The first 100 characters of the prompt"}, "created_at": {"type": "string"},
  "started_at": {"type": "string"}, "finished_at": {"type": "string"}, "elapsed_s": {"type": "integer"}
})";

// Runs `body`, turning TaskError and store failures into error results.
template <typename Body>
void answer(const std::shared_ptr<mcp::ToolCall>& call, Body&& body) {
  try {
    call->finish(body());
  } catch (const TaskError& e) {
    call->finish(error_result(e.what()));
  } catch (const std::exception& e) {
    call->finish(error_result(std::string("internal error: ") + e.what()));
  }
}

// answer() for a call that may go on: a body returning nullopt has arranged to finish the call later.
template <typename Body>
void answer_or_wait(const std::shared_ptr<mcp::ToolCall>& call, Body&& body) {
  try {
    if (auto result = body()) call->finish(std::move(*result));
  } catch (const TaskError& e) {
    call->finish(error_result(e.what()));
  } catch (const std::exception& e) {
    call->finish(error_result(std::string("internal error: ") + e.what()));
  }
}

class RunTool : public mcp::Tool {
 public:
  RunTool(std::shared_ptr<TaskEngine> engine, ViewerLinks links)
      : engine_(std::move(engine)), links_(std::move(links)) {}

  Object::Ptr definition() const override {
    const auto& cfg = engine_->tasks_config();
    std::string agents;
    for (const auto& name : engine_->selectable_agents()) {
      agents += (agents.empty() ? "\"" : ", \"") + name + "\"";
    }
    std::string input = R"({"type": "object", "properties": {
      "prompt": {"type": "string", "minLength": 1, "description": "The coding task, in plain words. It is run by a coding agent in a workspace directory on the host."},
      "email": {"type": "string", "description": "The user's email, a label used only when the host has no authentication; otherwise ignored (the owner and email are the authenticated caller's)."},
      "context": {"type": ["string", "object"], "default": "{}", "description": "A JSON object (or a string holding one) with context such as Unity Catalog catalog, schema and table names."},
      "previous_session_id": {"type": "string", "default": "", "description": "The session_id of an earlier task to continue: same workspace files, and the agent resumes its own session where it can."},
      "permissions": {"type": "string", "enum": ["smart", "yolo"], "default": "smart", "description": "smart: the agent asks before risky steps; yolo: auto-approve (only where the administrator allows it)."},
      "timeout_s": {"type": "integer", "minimum": 1, "maximum": )" +
                        std::to_string(cfg.max_timeout_s) + R"(, "default": )" +
                        std::to_string(cfg.default_timeout_s) +
                        R"(, "description": "Stop the agent after this many seconds."})";
    if (!agents.empty()) {
      input += R"(, "agent": {"type": "string", "enum": [)" + agents +
               R"(], "description": "Run on this backend instead of the first available one."})";
    }
    input += R"(}, "required": ["prompt"]})";
    return tasks::definition(
        "coda_run", "Run a coding task",
        "Submits a coding task to a coding agent and returns at once with task_id and session_id "
        "(status queued). The task runs in the background: tell the user it was submitted and "
        "move on. Do not poll; use coda_get_result when the user asks for the result. To continue "
        "earlier work, pass that task's session_id as previous_session_id.",
        schema(input),
        schema(R"({"type": "object", "properties": {"task_id": {"type": "string"},
          "session_id": {"type": "string"}, "status": {"type": "string"},
          "message": {"type": "string"},
          "viewer_url": {"type": "string", "description": "Opens this task in the web dashboard (when the host serves one)."}},
          "required": ["task_id", "session_id", "status"]})"),
        annotations(false, false, false, true));
  }

  void call(std::shared_ptr<mcp::ToolCall> call) override {
    answer(call, [&] {
      const auto& args = call->arguments();
      RunRequest request;
      request.prompt = string_arg(args, "prompt");
      request.email = string_arg(args, "email");
      if (args->has("context") && args->get("context").type() == typeid(Object::Ptr)) {
        request.context_json = to_json_text(args->get("context"));
      } else {
        request.context_json = string_arg(args, "context", "{}");
      }
      request.previous_session_id = string_arg(args, "previous_session_id");
      request.permissions = string_arg(args, "permissions", "smart");
      request.timeout_s =
          integer_arg(args, "timeout_s", 1, engine_->tasks_config().max_timeout_s);
      request.agent = string_arg(args, "agent");
      Task task = engine_->submit(call->context().identity, request);
      auto out = ordered_object();
      out->set("task_id", task.id);
      out->set("session_id", task.session_id);
      out->set("status", std::string(to_string(task.state)));
      out->set("message",
               "Task submitted. It runs in the background; look it up with coda_get_result "
               "when the user asks.");
      auto url = viewer_url(links_, call->context().base_url, task.id);
      if (!url.empty()) out->set("viewer_url", url);
      return mcp::ToolResult::structured_json(out);
    });
  }

 private:
  std::shared_ptr<TaskEngine> engine_;
  ViewerLinks links_;
};

class InboxTool : public mcp::Tool {
 public:
  explicit InboxTool(std::shared_ptr<TaskEngine> engine) : engine_(std::move(engine)) {}

  Object::Ptr definition() const override {
    std::string input = R"({"type": "object", "properties": {
      "email": {"type": "string", "default": "", "description": "Only tasks submitted with this email label (hosts without authentication)."},
      "status": {"type": "string", "enum": )" + state_enum_json() +
                        R"(, "default": "", "description": "Only tasks in this state; empty for all."},
      "limit": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
      "all_users": {"type": "boolean", "default": false, "description": "Every user's tasks (administrators only)."}}})";
    std::string output = R"({"type": "object", "properties": {
      "tasks": {"type": "array", "items": {"type": "object", "properties": )" +
                         std::string(kResultProperties) + R"(}},
      "counts": {"type": "object", "additionalProperties": {"type": "integer"}}},
      "required": ["tasks", "counts"]})";
    return tasks::definition(
        "coda_inbox", "List my coding tasks",
        "Lists your tasks from the last " +
            std::to_string(engine_->tasks_config().inbox_window_s / 3600) +
            " hours, newest first, with counts per status. Call it only when the user asks about "
            "their tasks.",
        schema(input), schema(output), annotations(true, false, true, false));
  }

  void call(std::shared_ptr<mcp::ToolCall> call) override {
    answer(call, [&] {
      const auto& args = call->arguments();
      InboxRequest request;
      request.email = string_arg(args, "email");
      auto status = string_arg(args, "status");
      if (!status.empty()) {
        request.state = parse_state(status);
        if (!request.state) {
          bad_argument("unknown status \"" + status + "\": send one of queued, running, "
                       "completed, failed, cancelled, timed_out, interrupted, needs_approval, "
                       "info_needed, or omit it");
        }
      }
      request.limit = integer_arg(args, "limit", 1, 500).value_or(50);
      request.all_users = bool_arg(args, "all_users");
      auto result = engine_->inbox(call->context().identity, request);
      Poco::JSON::Array::Ptr tasks = new Poco::JSON::Array;
      for (const auto& task : result.tasks) tasks->add(task_summary_json(task));
      auto counts = ordered_object();
      for (auto name : {"queued", "running", "completed", "failed"}) counts->set(name, 0);
      for (const auto& [state, n] : result.counts) counts->set(state, n);
      auto out = ordered_object();
      out->set("tasks", tasks);
      out->set("counts", counts);
      return mcp::ToolResult::structured_json(out);
    });
  }

 private:
  std::shared_ptr<TaskEngine> engine_;
};

class GetResultTool : public mcp::Tool {
 public:
  explicit GetResultTool(std::shared_ptr<TaskEngine> engine) : engine_(std::move(engine)) {}

  Object::Ptr definition() const override {
    const int max_wait = engine_->tasks_config().max_wait_s;
    std::string input = R"({"type": "object", "properties": {
      "task_id": {"type": "string", "minLength": 1, "description": "The task_id from coda_run or coda_inbox."},
      "session_id": {"type": "string", "description": "Optional: the task's session_id (checked when given)."},
      "wait_s": {"type": "number", "minimum": 0, "maximum": )" +
                        std::to_string(max_wait) +
                        R"(, "default": 0, "description": "Wait up to this many seconds for the task to finish (progress notifications are sent while waiting)."},
      "events_after": {"type": "integer", "minimum": 0, "description": "Also return the task's output events with a sequence number above this (0: from the start); with wait_s the wait also ends when a new event arrives. For live views."}},
      "required": ["task_id"]})";
    std::string properties = kResultProperties;
    properties.pop_back();  // the closing brace: the event fields join the result's
    properties += R"json(,
      "events": {"type": "array", "description": "With events_after: output and events, oldest first", "items": {"type": "object", "properties": {"seq": {"type": "integer"}, "time_ms": {"type": "integer"}, "stream": {"type": "string"}, "data": {"type": "string"}}}},
      "next_seq": {"type": "integer", "description": "With events_after: pass next_seq - 1 as events_after to continue"},
      "has_more": {"type": "boolean", "description": "With events_after: more events are waiting beyond this page"},
      "events_dropped_bytes": {"type": "integer", "description": "Output dropped between the kept head and tail (the per-task cap)"}})json";
    std::string output = R"({"type": "object", "properties": )" + properties +
                         R"(, "required": ["task_id", "session_id", "status"]})";
    return tasks::definition(
        "coda_get_result", "Get a coding task's result",
        "Returns a task's status and result: summary, files_changed, artifacts, errors (and "
        "feedback when the agent needs approval or information). While the task runs it returns "
        "the current status; wait_s (at most " + std::to_string(max_wait) +
            ") waits for the end. Call it when the user asks for a result.",
        schema(input), schema(output), annotations(true, false, true, false));
  }

  void call(std::shared_ptr<mcp::ToolCall> call) override {
    answer_or_wait(call, [&]() -> std::optional<mcp::ToolResult> {
      const auto& args = call->arguments();
      const int max_wait = engine_->tasks_config().max_wait_s;
      auto task_id = string_arg(args, "task_id");
      auto session_id = string_arg(args, "session_id");
      auto wait_s = number_arg(args, "wait_s").value_or(0);
      if (wait_s < 0 || wait_s > max_wait) {
        bad_argument("wait_s must be from 0 to " + std::to_string(max_wait) +
                     " seconds: ask again after it returns to wait longer");
      }
      std::optional<int64_t> events_after;
      if (auto after = number_arg(args, "events_after")) {
        if (std::floor(*after) != *after || *after < 0 || *after > 9.0e15) {
          bad_argument("events_after must be a whole number >= 0: the next_seq - 1 of the last "
                       "answer, or 0 for all events");
        }
        events_after = static_cast<int64_t>(*after);
      }
      const auto& who = call->context().identity;
      auto task = engine_->find(who, task_id);
      if (!task || (!session_id.empty() && task->session_id != session_id)) {
        throw not_found(task_id);
      }
      if (wait_s > 0 && !is_final(task->state)) {
        start_wait(call, *task, wait_s, events_after);
        return std::nullopt;  // answered when the wait ends
      }
      return result(*engine_, *task, events_after);
    });
  }

 private:
  static TaskError not_found(const std::string& task_id) {
    return TaskError(TaskError::Kind::kNotFound,
                     "unknown task_id \"" + task_id +
                         "\": send a task_id from coda_run or coda_inbox");
  }

  static mcp::ToolResult result(TaskEngine& engine, const Task& task,
                                std::optional<int64_t> events_after) {
    auto out = task_result_json(task);
    if (events_after) add_events(engine, out, task, *events_after);
    return mcp::ToolResult::structured_json(out);
  }

  // The wait holds no thread: the task engine answers the call when the task is final, the wait is
  // over, a live view's task has news, or the call is cancelled. Progress about every 5 s meanwhile.
  void start_wait(const std::shared_ptr<mcp::ToolCall>& call, const Task& task, double wait_s,
                  std::optional<int64_t> events_after) {
    struct Progress {
      std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
      std::chrono::steady_clock::time_point last = started - std::chrono::hours(1);
    };
    auto progress = std::make_shared<Progress>();
    TaskEngine* engine = engine_.get();  // outlives its watches: ~TaskEngine ends and joins them
    Watch watch;
    watch.timeout = std::chrono::milliseconds(static_cast<int64_t>(wait_s * 1000));
    watch.tick = std::chrono::seconds(1);
    watch.stop_waiting = [call, engine, task_id = task.id, events_after, initial = task.state] {
      if (call->cancelled()) return true;
      if (!events_after) return false;
      // A live view's wait ends on new output or a change of state.
      if (!engine->store().events(task_id, *events_after, 1).empty()) return true;
      auto now = engine->find(call->context().identity, task_id);
      return !now || now->state != initial;
    };
    watch.on_tick = [call, progress, wait_s](const Task& now) {
      auto t = std::chrono::steady_clock::now();
      // About every 5 s on the 1 s ticks (which drift by a few ms: 4.5 s keeps them on the 5th).
      if (t - progress->last < std::chrono::milliseconds(4500)) return;
      progress->last = t;
      double waited = std::chrono::duration<double>(t - progress->started).count();
      call->progress(waited, wait_s,
                     now.progress.empty() ? "Task is " + std::string(to_string(now.state))
                                          : now.progress);
    };
    watch.done = [engine, call, task_id = task.id, events_after](std::optional<Task> now) {
      answer(call, [&] {
        if (!now) throw not_found(task_id);
        return result(*engine, *now, events_after);
      });
    };
    WatchId id = engine_->watch(call->context().identity, task.id, std::move(watch));
    call->on_cancel([engine, id] { engine->end_watch(id); });
  }

  // One page of events after `after`: at most kEventsPerPage events and about kEventBytesPerPage
  // bytes (one event always fits, so a page never comes back empty while more exist).
  static void add_events(TaskEngine& engine, Object::Ptr out, const Task& task, int64_t after) {
    constexpr int kEventsPerPage = 500;
    constexpr std::size_t kEventBytesPerPage = 256u << 10;
    auto events = engine.store().events(task.id, after, kEventsPerPage + 1);
    Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
    std::size_t bytes = 0;
    int64_t next = after + 1;
    bool more = false;
    for (const auto& event : events) {
      if (list->size() == static_cast<std::size_t>(kEventsPerPage) ||
          (list->size() > 0 && bytes + event.data.size() > kEventBytesPerPage)) {
        more = true;
        break;
      }
      auto e = ordered_object();
      e->set("seq", event.seq);
      e->set("time_ms", event.time_ms);
      e->set("stream", event.stream);
      e->set("data", event.data);
      list->add(e);
      bytes += event.data.size();
      next = event.seq + 1;
    }
    out->set("events", list);
    out->set("next_seq", next);
    out->set("has_more", more);
    out->set("events_dropped_bytes", task.events_dropped_bytes);
  }

  std::shared_ptr<TaskEngine> engine_;
};

class CancelTool : public mcp::Tool {
 public:
  explicit CancelTool(std::shared_ptr<TaskEngine> engine) : engine_(std::move(engine)) {}

  Object::Ptr definition() const override {
    return tasks::definition(
        "coda_cancel", "Cancel a coding task",
        "Cancels a queued or running task: a running agent is stopped (its whole process group). "
        "Returns the task's new status. Cancelling a finished task changes nothing.",
        schema(R"({"type": "object", "properties": {"task_id": {"type": "string", "minLength": 1,
          "description": "The task_id from coda_run or coda_inbox."}}, "required": ["task_id"]})"),
        schema(R"({"type": "object", "properties": )" + std::string(kResultProperties) +
               R"(, "required": ["task_id", "session_id", "status"]})"),
        annotations(false, true, true, false));
  }

  void call(std::shared_ptr<mcp::ToolCall> call) override {
    answer(call, [&] {
      auto task = engine_->cancel(call->context().identity,
                                  string_arg(call->arguments(), "task_id"));
      return mcp::ToolResult::structured_json(task_result_json(task));
    });
  }

 private:
  std::shared_ptr<TaskEngine> engine_;
};

}  // namespace

Poco::JSON::Object::Ptr task_summary_json(const Task& task) {
  auto out = ordered_object();
  out->set("task_id", task.id);
  out->set("session_id", task.session_id);
  out->set("status", std::string(to_string(task.state)));
  out->set("elapsed_s", elapsed_s(task));
  out->set("prompt_summary", prompt_summary(task.prompt));
  out->set("previous_session_id", task.previous_session_id);
  out->set("created_at", format_time(task.created_ms));
  out->set("agent", task.agent);
  if (is_final(task.state)) {
    out->set("summary", task.summary);
  } else {
    out->set("progress", task.progress);
  }
  return out;
}

Poco::JSON::Object::Ptr task_result_json(const Task& task) {
  auto out = ordered_object();
  out->set("task_id", task.id);
  out->set("session_id", task.session_id);
  out->set("status", std::string(to_string(task.state)));
  if (!is_final(task.state)) {
    out->set("message", kStillRunning);
    out->set("progress", task.progress);
  }
  out->set("summary", task.summary);
  out->set("files_changed", parse_array_or_empty(task.files_changed_json));
  out->set("artifacts", parse_array_or_empty(task.artifacts_json));
  out->set("errors", parse_array_or_empty(task.errors_json));
  if (!task.feedback.empty()) out->set("feedback", task.feedback);
  out->set("agent", task.agent);
  out->set("agents_tried", parse_array_or_empty(task.agent_notes_json));
  if (task.exit_code) {
    out->set("exit_code", *task.exit_code);
  } else {
    out->set("exit_code", Poco::Dynamic::Var());
  }
  auto usage = parse_object(task.usage_json);
  out->set("usage", usage.isNull() ? ordered_object() : usage);
  out->set("previous_session_id", task.previous_session_id);
  out->set("prompt_summary", prompt_summary(task.prompt));
  out->set("created_at", format_time(task.created_ms));
  out->set("started_at", format_time(task.started_ms));
  out->set("finished_at", format_time(task.finished_ms));
  out->set("elapsed_s", elapsed_s(task));
  return out;
}

std::string viewer_url(const ViewerLinks& links, const std::string& base_url,
                       const std::string& task_id) {
  if (links.viewer_path.empty()) return "";
  const std::string& base = links.public_url.empty() ? base_url : links.public_url;
  if (base.empty()) return "";
  const std::string path = links.viewer_path == "/" ? "" : links.viewer_path;
  return base + path + "/#/tasks/" + task_id;
}

std::vector<std::shared_ptr<mcp::Tool>> make_task_tools(std::shared_ptr<TaskEngine> engine,
                                                        ViewerLinks links) {
  return {std::make_shared<RunTool>(engine, std::move(links)), std::make_shared<InboxTool>(engine),
          std::make_shared<GetResultTool>(engine), std::make_shared<CancelTool>(engine)};
}

const std::string& task_tools_instructions() {
  static const std::string kInstructions =
      "CoDA delegates coding tasks to coding agents (Hermes, Claude Code, Codex, ...) that work "
      "in a workspace on this host.\n"
      "- To delegate work, call coda_run with the task as `prompt` (and `context` JSON such as "
      "Unity Catalog names). It returns at once with task_id and session_id. Tell the user the "
      "task was submitted and move on: fire and forget. Do not poll.\n"
      "- Call coda_inbox only when the user asks about their tasks.\n"
      "- Call coda_get_result with a task_id when the user asks for a result. Pass wait_s only "
      "when the user wants to wait for the task to finish.\n"
      "- To continue earlier work (same files, the agent's own memory), pass the earlier task's "
      "session_id as previous_session_id to coda_run.\n"
      "- When a result's status is needs_approval or info_needed, show the user its feedback and "
      "submit their answer with coda_run and previous_session_id.\n"
      "- coda_cancel stops a queued or running task.";
  return kInstructions;
}

}  // namespace coda::tasks
