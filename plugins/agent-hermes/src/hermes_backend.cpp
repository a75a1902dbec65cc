#include "hermes_backend.hpp"

#include <cstdlib>

namespace coda::agents::hermes {

HermesConfig parse_config(std::string_view config_json) {
  ConfigReader reader("dev.coda.agent.hermes", config_json);
  HermesConfig config;
  config.mode = reader.string("mode", config.mode);
  config.binary = reader.string("binary", config.binary);
  config.model = reader.string("model");
  config.provider = reader.string("provider");
  config.toolsets = reader.strings("toolsets");
  config.skills = reader.strings("skills");
  config.args = reader.strings("args");
  config.env = reader.string_map("env");
  config.max_turns = reader.integer("max_turns", 0);
  config.allow_yolo = reader.boolean("allow_yolo", true);
  config.hermes_home = reader.string("hermes_home");
  config.url = reader.string("url", config.url);
  config.api_key = reader.string("api_key");
  config.api_key_env = reader.string("api_key_env");
  config.instructions = reader.string("instructions");
  config.connect_timeout_s = reader.integer("connect_timeout_s", config.connect_timeout_s);
  reader.finish();
  if (config.mode != "oneshot" && config.mode != "stream-json" && config.mode != "gateway") {
    throw AgentError("dev.coda.agent.hermes: `mode` must be oneshot, stream-json or gateway, not '" +
                     config.mode + "'");
  }
  if (!config.provider.empty() && config.model.empty()) {
    throw AgentError("dev.coda.agent.hermes: `provider` needs `model` too (hermes requires both)");
  }
  if (config.mode == "gateway" && config.url.rfind("http://", 0) != 0 &&
      config.url.rfind("https://", 0) != 0) {
    throw AgentError("dev.coda.agent.hermes: `url` must start with http:// or https://");
  }
  return config;
}

std::string hermes_home_for(const HermesConfig& config, const TaskInfo& task) {
  if (config.hermes_home.empty()) return {};
  // Injective and path-safe: [a-z0-9.@-] stay, every other byte (also `_` and upper case) becomes
  // `_xx` hex, so two owners never share a home; a leading `.` is escaped too, so the result is
  // never `.`, `..` or hidden, and it never holds `/`.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string owner;
  const std::string name = task.owner.empty() ? std::string("local") : task.owner;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    const bool safe = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '@' || c == '-' ||
                      (c == '.' && i > 0);
    if (safe) {
      owner.push_back(static_cast<char>(c));
    } else {
      owner += {'_', kHex[c >> 4], kHex[c & 0xf]};
    }
  }
  std::string out = config.hermes_home;
  for (auto pos = out.find("{owner}"); pos != std::string::npos; pos = out.find("{owner}", pos)) {
    out.replace(pos, 7, owner);
    pos += owner.size();
  }
  return out;
}

HermesBackend::HermesBackend(const coda_host_t* host, std::string_view config_json)
    : Backend(host), config_(parse_config(config_json)) {
  if (config_.mode == "gateway") {
    gateway_ = std::make_unique<GatewayClient>(host, config_);
  } else {
    cli_ = std::make_unique<HermesCli>(host, config_);
  }
}

HermesBackend::~HermesBackend() = default;

std::optional<std::string> HermesBackend::probe() {
  return gateway_ ? gateway_->probe() : cli_->probe();
}

void HermesBackend::start(const TaskInfo& task, const coda_task_events_t& events) {
  if (gateway_) {
    gateway_->start(task, events);
  } else {
    cli_->start(task, events);
  }
}

void HermesBackend::cancel(uint64_t handle) {
  if (gateway_) {
    gateway_->cancel(handle);
  } else {
    cli_->cancel(handle);
  }
}

}  // namespace coda::agents::hermes
