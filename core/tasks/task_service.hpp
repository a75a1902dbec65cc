#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/auth/identity.hpp"
#include "core/config/config.hpp"
#include "core/mcp/engine.hpp"
#include "core/mcp/tool.hpp"
#include "core/process/process_service.hpp"
#include "core/tasks/agent_backend.hpp"
#include "core/tasks/task_engine.hpp"
#include "core/tasks/task_tools.hpp"

// The task engine as the runtime sees it: validation and ownership, the store, the scheduler, the
// agent router, prompt envelopes, workspaces, and the coda_* MCP tools on top.
//
// Runtime use:
//   TaskService tasks(config.tasks, config.agents, data_dir, processes);
//   tasks.add_backend(...);                       // each agent instance (core/plugins/agent_component)
//   tasks.register_tools(mcp_engine);             // coda_* tools + default instructions
//   tasks.start();                                // recovery, then scheduling
//   ...
//   tasks.stop();                                 // before agent components are destroyed
namespace coda::tasks {

// Thread-safe: every member may be called from any thread, except that the constructor, add_backend,
// start and stop are for the runtime's control thread.
class TaskService {
 public:
  // Opens (creating) the store at data_dir/tasks.db and the workspace root data_dir/workspaces.
  // Registers itself as the process service's observer so agent process groups are recorded for crash
  // recovery. Throws StoreError or std::runtime_error when the data dir or store cannot be used, and
  // config::ConfigError-like std::runtime_error for an unreadable envelope template.
  TaskService(const config::TasksConfig& tasks, const config::AgentsConfig& agents,
              const std::string& data_dir, process::ProcessService& processes);
  ~TaskService();
  TaskService(const TaskService&) = delete;
  TaskService& operator=(const TaskService&) = delete;

  // Adds a backend before start(). Its name() is what agents.order, agents.selectable and coda_run's
  // `agent` refer to. Without `agent`, the backends named in agents.order are tried in that order
  // (all backends, in added order, when agents.order is empty).
  void add_backend(std::shared_ptr<AgentBackend> backend);

  // The MCP tools coda_run, coda_inbox, coda_get_result and coda_cancel, bound to this service
  // (they keep the engine alive while the MCP engine holds them). `links`: coda_run's viewer_url.
  std::vector<std::shared_ptr<mcp::Tool>> tools(const ViewerLinks& links = {});
  // Adds tools(links) to `engine` and makes default_instructions() its default server instructions.
  void register_tools(mcp::Engine& engine, const ViewerLinks& links = {});
  // The default server instructions for MCP clients (how to use the tools above).
  static const std::string& default_instructions();

  // Recovery (queued tasks stay queued; running tasks of this host become interrupted or are
  // requeued per tasks.on_restart; surviving recorded agent process groups are killed), then starts
  // the scheduler thread. Idempotent.
  void start();
  // Stops scheduling, cancels running tasks (their state becomes interrupted, so a restart accounts
  // for them), waits up to the kill grace for the agents to finish, and joins threads. Idempotent.
  void stop();

  // The operations behind the tools (submit, find, wait, inbox, cancel), for tests and the CLI.
  TaskEngine& engine();

 private:
  std::shared_ptr<TaskEngine> engine_;
};

}  // namespace coda::tasks
