#pragma once

#include <memory>

#include "hermes_cli.hpp"
#include "hermes_config.hpp"
#include "hermes_gateway.hpp"

namespace coda::agents::hermes {

// The dev.coda.agent.hermes component: the Hermes CLI (oneshot, stream-json) or its gateway API,
// chosen by `mode`. Thread-safe.
class HermesBackend final : public Backend {
 public:
  HermesBackend(const coda_host_t* host, std::string_view config_json);
  ~HermesBackend() override;
  std::optional<std::string> probe() override;
  void start(const TaskInfo& task, const coda_task_events_t& events) override;
  void cancel(uint64_t handle) override;

 private:
  HermesConfig config_;
  std::unique_ptr<HermesCli> cli_;
  std::unique_ptr<GatewayClient> gateway_;
};

}  // namespace coda::agents::hermes
