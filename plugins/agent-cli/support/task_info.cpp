#include "task_info.hpp"

#include <coda/plugin.hpp>

namespace coda::agents {

TaskInfo copy_task(const coda_task_t& task) {
  TaskInfo info;
  info.handle = task.handle;
  info.task_id = sdk::copy(task.task_id);
  info.session_id = sdk::copy(task.session_id);
  info.prompt = sdk::copy(task.prompt);
  info.prompt_file = sdk::copy(task.prompt_file);
  info.workspace = sdk::copy(task.workspace);
  info.task_dir = sdk::copy(task.task_dir);
  if (auto options = parse_object(sdk::view(task.options_json))) {
    info.permissions = get_string(options, "permissions").value_or("smart");
    info.yolo_allowed = get_bool(options, "yolo_allowed").value_or(false);
    info.resume_session = get_string(options, "resume_session").value_or("");
    if (!info.resume_session.empty() && !is_session_id(info.resume_session)) {
      info.refused_session = std::move(info.resume_session);
      info.resume_session.clear();
    }
    info.model = get_string(options, "model").value_or("");
    info.timeout_s = static_cast<int>(get_number(options, "timeout_s").value_or(0));
    info.owner = get_string(options, "owner.subject").value_or("");
    if (info.owner.empty()) info.owner = get_string(options, "owner.email").value_or("");
  }
  return info;
}

bool is_session_id(std::string_view session) {
  if (session.empty() || session.size() > 128 || session.front() == '-') return false;
  for (const char c : session) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string Outcome::to_json() const {
  JsonObject out = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  out->set("status", status);
  if (!summary.empty()) out->set("summary", summary);
  if (exit_code) out->set("exit_code", *exit_code);
  if (usage) out->set("usage", usage);
  if (!agent_session.empty()) out->set("agent_session", agent_session);
  if (!errors.empty()) {
    JsonArray list = new Poco::JSON::Array;
    for (const auto& error : errors) list->add(error);
    out->set("errors", list);
  }
  if (!feedback.empty()) out->set("feedback", feedback);
  return agents::to_json(out);
}

JsonObject make_usage(std::optional<double> input_tokens, std::optional<double> output_tokens,
                      std::optional<double> cost_usd, const JsonObject& raw) {
  JsonObject usage = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  if (input_tokens) usage->set("input_tokens", static_cast<int64_t>(*input_tokens));
  if (output_tokens) usage->set("output_tokens", static_cast<int64_t>(*output_tokens));
  if (cost_usd) usage->set("cost_usd", *cost_usd);
  if (raw) usage->set("raw", raw);
  return usage;
}

}  // namespace coda::agents
