#pragma once

#include <map>
#include <string>
#include <vector>

#include "support/agent_component.hpp"

// Configuration of the Hermes backend (dev.coda.agent.hermes), shared by its three modes.
namespace coda::agents::hermes {

struct HermesConfig {
  std::string mode = "stream-json";  // oneshot | stream-json | gateway
  std::string binary = "hermes";
  std::string model, provider;
  std::vector<std::string> toolsets, skills, args;
  std::map<std::string, std::string> env;
  int max_turns = 0;
  bool allow_yolo = true;
  // HERMES_HOME for the agent; "{owner}" becomes the task owner (one config/data dir per tenant).
  std::string hermes_home;
  // gateway mode
  std::string url = "http://127.0.0.1:8642";
  std::string api_key;      // or:
  std::string api_key_env;  // the name of a variable in the host's environment
  std::string instructions;
  int connect_timeout_s = 10;
};

HermesConfig parse_config(std::string_view config_json);

// The value for HERMES_HOME for a task, or "" when not configured.
std::string hermes_home_for(const HermesConfig& config, const TaskInfo& task);

}  // namespace coda::agents::hermes
