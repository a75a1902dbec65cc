// `coda tasks list|show|logs|cancel|delete|check`: the administrator's view of the task store. It
// opens the store directly (SQLite in WAL mode), so it works while the server runs; a cancel of a
// running task is a request that the server running it carries out within a second.
#include <iostream>
#include <memory>

#include "core/app/commands.hpp"
#include "core/app/runtime.hpp"
#include "core/config/config.hpp"
#include "core/tasks/json_text.hpp"
#include "core/tasks/task_store.hpp"
#include "core/tasks/task_tools.hpp"
#include "core/tasks/workspace.hpp"

namespace coda::app {
namespace {

struct TasksOptions {
  std::string config_path;
  std::string data_dir;
  std::string owner;
  std::string status;
  std::string task_id;
  int limit = 50;
  int64_t after = 0;
  bool json = false;
};

std::string data_dir_of(const TasksOptions& options) {
  if (!options.data_dir.empty()) return options.data_dir;
  config::Config config = config::load(options.config_path);
  return resolve_data_dir(config.server);
}

std::unique_ptr<tasks::TaskStore> open_store(const std::string& data_dir) {
  return tasks::open_sqlite_store(data_dir + "/tasks.db");
}

std::unique_ptr<tasks::TaskStore> open_store(const TasksOptions& options) {
  return open_store(data_dir_of(options));
}

// Runs a subcommand body, mapping failures to exit codes with a one-line reason.
template <typename Body>
void run(Body&& body) {
  int code = kExitOk;
  try {
    code = body();
  } catch (const config::ConfigError& e) {
    std::cerr << "coda: " << e.what() << "\n";
    code = kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "coda: " << e.what() << "\n";
    code = kExitFailure;
  }
  if (code != kExitOk) fail(code);
}

int list(const TasksOptions& options) {
  auto store = open_store(options);
  tasks::TaskQuery query;
  query.owner = options.owner;
  query.limit = options.limit;
  if (!options.status.empty()) {
    query.state = tasks::parse_state(options.status);
    if (!query.state) {
      std::cerr << "coda: unknown status '" << options.status
                << "' (queued, running, completed, failed, cancelled, timed_out, interrupted, "
                   "needs_approval, info_needed)\n";
      return kExitUsage;
    }
  }
  auto found = store->list(query);
  if (options.json) {
    Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
    for (const auto& task : found) {
      auto item = tasks::task_summary_json(task);
      item->set("owner", task.owner);
      out->add(item);
    }
    out->stringify(std::cout, 2);
    std::cout << "\n";
    return kExitOk;
  }
  for (const auto& task : found) {
    std::cout << task.id << "  " << tasks::to_string(task.state) << "  " << task.owner << "  "
              << tasks::format_time(task.created_ms) << "  "
              << (task.agent.empty() ? "-" : task.agent) << "  "
              << tasks::task_summary_json(task)->getValue<std::string>("prompt_summary") << "\n";
  }
  return kExitOk;
}

int show(const TasksOptions& options) {
  auto store = open_store(options);
  auto task = store->get(options.task_id);
  if (!task) {
    std::cerr << "coda: no task " << options.task_id << "\n";
    return kExitFailure;
  }
  auto out = tasks::task_result_json(*task);
  out->set("owner", task->owner);
  out->set("email", task->email);
  out->set("prompt", task->prompt);
  out->set("context", tasks::parse_object(task->context_json));
  out->set("permissions", task->permissions);
  out->set("timeout_s", task->timeout_s);
  out->set("workspace", task->workspace);
  out->set("agent_notes", tasks::parse_array_or_empty(task->agent_notes_json));
  out->set("agent_session", task->agent_session);
  out->set("events_dropped_bytes", task->events_dropped_bytes);
  out->stringify(std::cout, 2);
  std::cout << "\n";
  return kExitOk;
}

int logs(const TasksOptions& options) {
  auto store = open_store(options);
  auto task = store->get(options.task_id);
  if (!task) {
    std::cerr << "coda: no task " << options.task_id << "\n";
    return kExitFailure;
  }
  int64_t after = options.after;
  int64_t last = 0;
  while (true) {
    auto events = store->events(options.task_id, after, 1000);
    if (events.empty()) break;
    for (const auto& e : events) {
      if (last != 0 && e.seq != last + 1) {
        std::cout << "[... " << task->events_dropped_bytes << " bytes of output dropped ...]\n";
      }
      last = e.seq;
      if (options.json) {
        auto obj = tasks::ordered_object();
        obj->set("seq", e.seq);
        obj->set("time", tasks::format_time(e.time_ms));
        obj->set("stream", e.stream);
        obj->set("data", e.data);
        obj->stringify(std::cout);
        std::cout << "\n";
      } else if (e.stream == "output") {
        std::cout << e.data;
        if (!e.data.empty() && e.data.back() != '\n') std::cout << "\n";
      } else {
        std::cout << "[" << e.stream << "] " << e.data << "\n";
      }
    }
    after = events.back().seq;
  }
  return kExitOk;
}

int cancel(const TasksOptions& options) {
  auto store = open_store(options);
  auto task = store->get(options.task_id);
  if (!task) {
    std::cerr << "coda: no task " << options.task_id << "\n";
    return kExitFailure;
  }
  if (task->state == tasks::TaskState::kQueued &&
      store->cancel_queued(options.task_id, tasks::now_ms())) {
    std::cout << options.task_id << ": cancelled\n";
    return kExitOk;
  }
  task = store->get(options.task_id);
  if (task->state == tasks::TaskState::kRunning) {
    store->request_cancel(options.task_id);
    std::cout << options.task_id << ": cancel requested (the host running it stops the agent)\n";
    return kExitOk;
  }
  std::cout << options.task_id << ": already " << tasks::to_string(task->state) << "\n";
  return kExitOk;
}

int delete_task(const TasksOptions& options) {
  const std::string data_dir = data_dir_of(options);
  auto store = open_store(data_dir);
  auto task = store->get(options.task_id);
  if (!task) {
    std::cerr << "coda: no task " << options.task_id << "\n";
    return kExitFailure;
  }
  std::vector<std::string> orphaned;
  if (!store->delete_finished(options.task_id, &orphaned)) {
    std::cerr << "coda: task " << options.task_id << " is " << tasks::to_string(task->state)
              << ": cancel it first (coda tasks cancel " << options.task_id << ")\n";
    return kExitFailure;
  }
  tasks::remove_workspaces(data_dir + "/workspaces", orphaned);
  std::cout << options.task_id << ": deleted with its events"
            << (orphaned.empty() ? "; its workspace stays with its session's other tasks"
                                 : " and its workspace")
            << "\n";
  return kExitOk;
}

int check(const TasksOptions& options) {
  auto store = open_store(options);
  auto result = store->integrity_check();
  std::cout << "integrity_check: " << result << "\n";
  return result == "ok" ? kExitOk : kExitFailure;
}

}  // namespace

void register_tasks_command(CLI::App& app) {
  CLI::App* tasks = app.add_subcommand(
      "tasks", "Inspect, cancel and delete tasks in the task store (works while the server runs).");
  tasks->require_subcommand(1);
  tasks->footer(kExitCodesHelp);
  auto options = std::make_shared<TasksOptions>();
  auto common = [&](CLI::App* sub) {
    sub->footer(kExitCodesHelp);
    sub->add_option("--config", options->config_path,
                    "Configuration file (for server.data_dir; default: $CODA_CONFIG, then "
                    "/etc/coda/coda.yaml, then the built-in defaults)");
    sub->add_option("--data-dir", options->data_dir, "The data directory (overrides the config)");
  };
  CLI::App* list_cmd =
      tasks->add_subcommand("list", "List tasks of every user, newest first.");
  common(list_cmd);
  list_cmd->add_option("--owner", options->owner, "Only this owner's tasks (identity subject)");
  list_cmd->add_option("--status", options->status, "Only tasks in this state");
  list_cmd->add_option("--limit", options->limit, "At most this many")->check(CLI::Range(1, 100000));
  list_cmd->add_flag("--json", options->json, "Print JSON instead of text");
  list_cmd->callback([options] { run([&] { return list(*options); }); });

  CLI::App* show_cmd = tasks->add_subcommand("show", "Show one task with every field, as JSON.");
  common(show_cmd);
  show_cmd->add_option("task_id", options->task_id, "The task id")->required();
  show_cmd->callback([options] { run([&] { return show(*options); }); });

  CLI::App* logs_cmd = tasks->add_subcommand(
      "logs", "Print a task's stored output and events (head and tail past the size cap).");
  common(logs_cmd);
  logs_cmd->add_option("task_id", options->task_id, "The task id")->required();
  logs_cmd->add_option("--after", options->after, "Only events after this sequence number");
  logs_cmd->add_flag("--json", options->json, "One JSON object per event");
  logs_cmd->callback([options] { run([&] { return logs(*options); }); });

  CLI::App* cancel_cmd = tasks->add_subcommand(
      "cancel", "Cancel a task: a queued one at once; a running one is stopped by its host.");
  common(cancel_cmd);
  cancel_cmd->add_option("task_id", options->task_id, "The task id")->required();
  cancel_cmd->callback([options] { run([&] { return cancel(*options); }); });

  CLI::App* delete_cmd = tasks->add_subcommand(
      "delete",
      "Delete a finished task and its events now, as retention would, with its workspace unless "
      "another task of its session uses it (frees the owner's storage budget).");
  common(delete_cmd);
  delete_cmd->add_option("task_id", options->task_id, "The task id")->required();
  delete_cmd->callback([options] { run([&] { return delete_task(*options); }); });

  CLI::App* check_cmd =
      tasks->add_subcommand("check", "Check the task store's integrity (exit 1 when damaged).");
  common(check_cmd);
  check_cmd->callback([options] { run([&] { return check(*options); }); });
}

}  // namespace coda::app
