#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/agent_component.hpp"

// The agent-cli component (dev.coda.agent.cli): one of the built-in presets (claude, codex, gemini,
// opencode, aider) or a custom command described in YAML. A preset knows its CLI's flags (smart/yolo,
// model, resume, how the prompt is passed) and how to read its output (final event -> outcome,
// summary, usage, session; intermediate events -> progress).
namespace coda::agents::cli {

// What the admin configured for one backend instance.
struct CliConfig {
  std::string preset;                       // "" for a custom command
  std::string binary;                       // argv[0]; default: the preset's name
  std::string model;                        // default model; a task's own model wins
  std::vector<std::string> args;            // extra arguments
  std::map<std::string, std::string> env;   // extra environment (the host's policy still applies)
  bool allow_yolo = true;                   // false: never pass a yolo flag, whatever the policy
  int max_turns = 0;                        // claude: --max-turns (0: the CLI's default)
  std::string smart_mode;                   // claude --permission-mode / gemini --approval-mode
  std::string install_hint;
  // Custom form.
  std::vector<std::string> command;         // argv template with {placeholders}
  std::string output = "text";              // text | jsonl
  std::string stdin_source = "none";        // none | prompt_file
  std::vector<std::string> yolo_args, smart_args, resume_args, model_args;
  JsonObject final_event;                   // {type, success:{path: value}, summary, error, usage, session}
  std::string session_field;                // a path read from any event, e.g. "session_id"
  std::string progress_field;               // a path whose text becomes the progress message
};

// Parses and validates the component config (throws AgentError naming the key).
CliConfig parse_config(std::string_view config_json);

// A preset or the custom form: builds the command and the parser for a task.
class Preset {
 public:
  virtual ~Preset() = default;
  virtual Command command(const CliConfig& config, const TaskInfo& task, bool yolo) const = 0;
  virtual std::unique_ptr<OutputParser> parser(const CliConfig& config) const = 0;
  virtual std::string install_hint() const = 0;
};

// The preset called `name`, or the custom form for "" (throws AgentError for an unknown name).
std::unique_ptr<Preset> make_preset(const std::string& name);

// Replaces {prompt_file} {workspace} {task_dir} {task_id} {model} {resume_session} in arg (the prompt
// itself is never substituted: parse_config refuses {prompt}). task.resume_session was checked by
// copy_task.
std::string expand(const std::string& arg, const TaskInfo& task, const std::string& model);

}  // namespace coda::agents::cli
