#pragma once

#include <memory>
#include <string>

#include "presets.hpp"
#include "support/agent_component.hpp"

namespace coda::agents::cli {

// One configured agent-cli backend instance. Thread-safe (the config is immutable after create).
class CliBackend final : public ProcessBackend {
 public:
  CliBackend(const coda_host_t* host, std::string_view config_json);

 protected:
  std::string binary() const override;
  std::string install_hint() const override;
  Command command(const TaskInfo& task) const override;
  std::unique_ptr<OutputParser> parser(const TaskInfo& task) const override;

 private:
  CliConfig config_;
  std::unique_ptr<Preset> preset_;
};

}  // namespace coda::agents::cli
