#include "agent_component.hpp"

namespace coda::agents {

std::optional<std::string> Backend::which(const std::string& name) const {
  if (host_ == nullptr || !CODA_HAS(host_, coda_host_t, which) || host_->which == nullptr) {
    return std::nullopt;
  }
  std::string path;
  if (host_->which(host_, sdk::str(name), &sdk::emit_to_string, &path) != CODA_OK) return std::nullopt;
  return path;
}

ConfigReader::ConfigReader(std::string component, std::string_view config_json)
    : component_(std::move(component)) {
  const std::string text = config_json.empty() ? "{}" : std::string(config_json);
  config_ = parse_object(text);
  if (!config_) throw AgentError(component_ + ": the component's config is not a JSON object");
  // Keys the host's config loader may leave in the subtree.
  for (const char* key : {"component", "enabled", "name"}) read_.insert(key);
}

void ConfigReader::fail(const std::string& key, const std::string& what) const {
  throw AgentError(component_ + ": config key '" + key + "' " + what);
}

std::string ConfigReader::string(const std::string& key, const std::string& fallback) {
  read_.insert(key);
  if (!config_->has(key) || config_->get(key).isEmpty()) return fallback;
  auto value = config_->get(key);
  if (!value.isString()) fail(key, "must be a string");
  return value.convert<std::string>();
}

std::vector<std::string> ConfigReader::strings(const std::string& key) {
  read_.insert(key);
  std::vector<std::string> out;
  if (!config_->has(key) || config_->get(key).isEmpty()) return out;
  auto list = config_->getArray(key);
  if (!list) fail(key, "must be a list of strings");
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto item = list->get(static_cast<unsigned>(i));
    if (!item.isString()) fail(key, "must be a list of strings (item " + std::to_string(i) + ")");
    out.push_back(item.convert<std::string>());
  }
  return out;
}

std::map<std::string, std::string> ConfigReader::string_map(const std::string& key) {
  read_.insert(key);
  std::map<std::string, std::string> out;
  if (!config_->has(key) || config_->get(key).isEmpty()) return out;
  auto object = config_->getObject(key);
  if (!object) fail(key, "must be a mapping of names to strings");
  for (const auto& [name, value] : *object) {
    if (value.isString() || value.isNumeric() || value.isBoolean()) {
      out[name] = value.convert<std::string>();
    } else {
      fail(key + "." + name, "must be a string");
    }
  }
  return out;
}

bool ConfigReader::boolean(const std::string& key, bool fallback) {
  read_.insert(key);
  if (!config_->has(key) || config_->get(key).isEmpty()) return fallback;
  auto value = config_->get(key);
  if (!value.isBoolean()) fail(key, "must be true or false");
  return value.convert<bool>();
}

int ConfigReader::integer(const std::string& key, int fallback) {
  read_.insert(key);
  if (!config_->has(key) || config_->get(key).isEmpty()) return fallback;
  auto value = config_->get(key);
  if (!value.isInteger()) fail(key, "must be an integer");
  return value.convert<int>();
}

JsonObject ConfigReader::object(const std::string& key) {
  read_.insert(key);
  if (!config_->has(key) || config_->get(key).isEmpty()) return nullptr;
  auto object = config_->getObject(key);
  if (!object) fail(key, "must be a mapping");
  return object;
}

void ConfigReader::finish() {
  std::string unknown;
  for (const auto& [key, value] : *config_) {
    if (read_.count(key) == 0) unknown += (unknown.empty() ? "" : ", ") + key;
  }
  if (!unknown.empty()) throw AgentError(component_ + ": unknown config key(s): " + unknown);
}

std::optional<std::string> ProcessBackend::probe() {
  const std::string name = binary();
  if (which(name)) return std::nullopt;
  return "'" + name + "' was not found on the PATH agents get (" + install_hint() + ")";
}

void ProcessBackend::start(const TaskInfo& task, const coda_task_events_t& events) {
  if (task.workspace.empty()) throw AgentError("the task has no workspace");
  const Command cmd = command(task);
  auto run = std::make_shared<ProcessRun>(host(), task, events, parser(task));
  const uint64_t handle = task.handle;
  runs_.add(handle, run);
  run->set_on_done([this, handle] { runs_.remove(handle); });
  const coda_status_t status = run->start(cmd);
  if (status != CODA_OK) {
    runs_.remove(handle);
    std::string message = status == CODA_E_UNSUPPORTED ? "the host has no process service" : "";
    if (message.empty() && host()->last_error != nullptr) message = sdk::copy(host()->last_error(host()));
    throw AgentError(message.empty() ? "the agent process did not start" : message);
  }
}

void ProcessBackend::cancel(uint64_t handle) {
  if (auto run = runs_.find(handle)) run->cancel();
}

}  // namespace coda::agents
