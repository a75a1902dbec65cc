#include "core/tasks/task_service.hpp"

#include "core/tasks/task_tools.hpp"

namespace coda::tasks {

TaskService::TaskService(const config::TasksConfig& tasks, const config::AgentsConfig& agents,
                         const std::string& data_dir, process::ProcessService& processes)
    : engine_(std::make_shared<TaskEngine>(tasks, agents, data_dir, &processes)) {}

TaskService::~TaskService() { stop(); }

void TaskService::add_backend(std::shared_ptr<AgentBackend> backend) {
  engine_->add_backend(std::move(backend));
}

std::vector<std::shared_ptr<mcp::Tool>> TaskService::tools(const ViewerLinks& links) {
  return make_task_tools(engine_, links);
}

void TaskService::register_tools(mcp::Engine& engine, const ViewerLinks& links) {
  for (auto& tool : tools(links)) engine.add_tool(tool);
  engine.set_default_instructions(default_instructions());
}

const std::string& TaskService::default_instructions() { return task_tools_instructions(); }

void TaskService::start() { engine_->start(); }

void TaskService::stop() { engine_->stop(); }

TaskEngine& TaskService::engine() { return *engine_; }

}  // namespace coda::tasks
