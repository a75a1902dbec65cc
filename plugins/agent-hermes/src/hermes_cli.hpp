#pragma once

#include "hermes_config.hpp"

// Hermes through its CLI: `hermes -z` (oneshot) or `hermes chat -Q --format stream-json`.
namespace coda::agents::hermes {

class HermesCli final : public ProcessBackend {
 public:
  HermesCli(const coda_host_t* host, const HermesConfig& config)
      : ProcessBackend(host), config_(config) {}

 protected:
  std::string binary() const override { return config_.binary; }
  std::string install_hint() const override;
  // Throws AgentError for a oneshot task that is not allowed to run yolo (one-shot runs bypass
  // approvals), so that the router falls back to the next backend.
  Command command(const TaskInfo& task) const override;
  std::unique_ptr<OutputParser> parser(const TaskInfo& task) const override;

 private:
  const HermesConfig& config_;
};

// The usage file `hermes -z --usage-file` writes, in the task's private directory.
std::string usage_file_of(const TaskInfo& task);

}  // namespace coda::agents::hermes
