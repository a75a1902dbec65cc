// The dev.coda.agent.cli component: a ProcessBackend around a Preset.
#include "cli_backend.hpp"

namespace coda::agents::cli {

CliBackend::CliBackend(const coda_host_t* host, std::string_view config_json)
    : ProcessBackend(host), config_(parse_config(config_json)), preset_(make_preset(config_.preset)) {}

std::string CliBackend::binary() const { return config_.binary; }

std::string CliBackend::install_hint() const {
  return config_.install_hint.empty() ? preset_->install_hint() : config_.install_hint;
}

Command CliBackend::command(const TaskInfo& task) const {
  // yolo only when the task asked, the admin's policy allows it, and this backend does not opt out.
  const bool yolo = task.yolo() && config_.allow_yolo;
  Command cmd = preset_->command(config_, task, yolo);
  for (const auto& [name, value] : config_.env) cmd.env.push_back(name + "=" + value);
  if (!task.task_dir.empty()) cmd.writable.push_back(task.task_dir);
  return cmd;
}

std::unique_ptr<OutputParser> CliBackend::parser(const TaskInfo&) const {
  return preset_->parser(config_);
}

}  // namespace coda::agents::cli
