#include "core/tasks/envelope.hpp"

#include <array>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>

namespace coda::tasks {
namespace {

constexpr std::array<std::string_view, 12> kPlaceholders = {
    "task_id",     "session_id",       "user",           "permissions",
    "workspace",   "result_file",      "previous_session_id", "prior_session",
    "previous_summary", "context",     "prompt",         "safety"};

bool known(std::string_view name) {
  for (auto p : kPlaceholders) {
    if (p == name) return true;
  }
  return false;
}

// Calls on_text for literal text and on_name for each {{name}}; throws on a malformed template.
template <typename Text, typename Name>
void scan(const std::string& text, Text&& on_text, Name&& on_name) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t open = text.find("{{", pos);
    if (open == std::string::npos) {
      on_text(std::string_view(text).substr(pos));
      return;
    }
    on_text(std::string_view(text).substr(pos, open - pos));
    std::size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) {
      throw std::invalid_argument("envelope template: '{{' at offset " + std::to_string(open) +
                                  " has no closing '}}'");
    }
    std::string name = text.substr(open + 2, close - open - 2);
    while (!name.empty() && name.front() == ' ') name.erase(0, 1);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    on_name(name);
    pos = close + 2;
  }
}

}  // namespace

const std::string& Envelope::safety_rules() {
  static const std::string kSafety =
      "SAFETY (these rules override the task):\n"
      "- Never DROP, DELETE or TRUNCATE tables, schemas, catalogs or volumes.\n"
      "- Never delete files outside the workspace.\n"
      "- Never run destructive `databricks ... delete` commands.\n"
      "- Never change permissions (GRANT, REVOKE, ownership) unless the task explicitly asks for it.\n"
      "- Prefer CREATE OR REPLACE and MERGE to destructive rewrites.\n"
      "- Take no destructive action on any asset that existed before this session without explicit\n"
      "  confirmation in the task.\n"
      "- If a step would need any of the above, do not do it: stop and write the result file with\n"
      "  status \"needs_approval\" and your plan in \"feedback\".\n"
      "- If you lack information you need, stop and write status \"info_needed\" with your question\n"
      "  in \"feedback\".";
  return kSafety;
}

const std::string& Envelope::builtin_template() {
  static const std::string kTemplate =
      "---CODA-TASK---\n"
      "Task ID: {{task_id}}\n"
      "Session ID: {{session_id}}\n"
      "User: {{user}}\n"
      "Permissions: {{permissions}}\n"
      "Workspace: {{workspace}}\n"
      "\n"
      "PRIOR SESSION: {{prior_session}}\n"
      "\n"
      "CONTEXT (JSON, e.g. Unity Catalog catalog/schema/table names):\n"
      "{{context}}\n"
      "\n"
      "TASK:\n"
      "{{prompt}}\n"
      "\n"
      "INSTRUCTIONS:\n"
      "- Work inside the workspace directory above; it is your current directory.\n"
      "- Report progress as you go with short lines that start with \"PROGRESS: \".\n"
      "- When you are done, write one JSON file to {{result_file}} with:\n"
      "  {\"status\": \"completed\" | \"failed\" | \"needs_approval\" | \"info_needed\",\n"
      "   \"summary\": \"what you did\", \"files_changed\": [\"path\", ...],\n"
      "   \"artifacts\": [\"table, notebook, job or URL you created\", ...],\n"
      "   \"errors\": [\"message\", ...], \"feedback\": \"question or plan for the user\"}\n"
      "\n"
      "{{safety}}\n"
      "---END-CODA-TASK---\n";
  return kTemplate;
}

Envelope::Envelope() : text_(builtin_template()) {}

Envelope::Envelope(std::string template_text) : text_(std::move(template_text)) {
  scan(
      text_, [](std::string_view) {},
      [](const std::string& name) {
        if (!known(name)) {
          throw std::invalid_argument("envelope template: unknown placeholder {{" + name +
                                      "}} (known: task_id, session_id, user, permissions, "
                                      "workspace, result_file, previous_session_id, "
                                      "prior_session, previous_summary, context, prompt, safety)");
        }
      });
}

Envelope Envelope::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("tasks.envelope_template: cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return Envelope(text.str());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
}

std::string Envelope::render(const std::map<std::string, std::string>& fields) const {
  std::string out;
  out.reserve(text_.size() + 1024);
  scan(
      text_, [&](std::string_view literal) { out.append(literal); },
      [&](const std::string& name) {
        if (name == "safety") {
          out.append(safety_rules());
          return;
        }
        auto it = fields.find(name);
        if (it != fields.end()) out.append(it->second);
      });
  return out;
}

}  // namespace coda::tasks
