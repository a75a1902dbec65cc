#include "presets.hpp"

#include "support/text_parser.hpp"

namespace coda::agents::cli {
namespace {

constexpr std::size_t kAnswerBytes = 64 * 1024;
constexpr std::size_t kMaxErrors = 20;

void add_error(std::vector<std::string>& errors, std::string error) {
  if (errors.size() < kMaxErrors && !error.empty()) errors.push_back(std::move(error));
}

std::string model_of(const CliConfig& config, const TaskInfo& task) {
  return task.model.empty() ? config.model : task.model;
}

void append(std::vector<std::string>& argv, const std::vector<std::string>& more) {
  argv.insert(argv.end(), more.begin(), more.end());
}

// Shared by the JSON-line presets: session id, final event, answer, usage and errors.
class JsonParserBase : public OutputParser {
 public:
  explicit JsonParserBase(std::string cli) : cli_(std::move(cli)) {}
  bool jsonl() const override { return true; }
  bool has_final() const override { return final_; }

 protected:
  // Completed when the final event said so, failed otherwise (also without a final event: the exit
  // code alone never makes a run a success for these CLIs).
  Outcome outcome(int exit_code, int term_signal) {
    Outcome out;
    if (exit_code >= 0) out.exit_code = exit_code;
    out.agent_session = session_;
    out.usage = usage_;
    out.errors = errors_;
    out.summary = trim(answer_.str());
    if (!final_) {
      out.status = "failed";
      out.errors.insert(out.errors.begin(), no_final_event(cli_, exit_code, term_signal));
    } else {
      out.status = success_ ? "completed" : "failed";
      if (success_ && exit_code != 0) {
        out.feedback = cli_ + " reported success, then exited with code " + std::to_string(exit_code);
      }
    }
    if (out.summary.empty() && !out.errors.empty()) out.summary = out.errors.back();
    return out;
  }

  std::string cli_;
  bool final_ = false;
  bool success_ = false;
  std::string session_;
  JsonObject usage_;
  std::vector<std::string> errors_;
  BoundedText answer_{kAnswerBytes, BoundedText::Keep::kTail};
};

// ---- Claude Code -------------------------------------------------------------------------------
class ClaudeParser final : public JsonParserBase {
 public:
  ClaudeParser() : JsonParserBase("claude") {}
  bool on_line(std::string_view line, const std::string& type, RunSink& sink) override {
    if (type == "assistant") {
      if (!sink.progress_due()) return true;
      auto event = parse_object(line);
      if (auto content = get_array(event, "message.content")) {
        for (std::size_t i = 0; i < content->size(); ++i) {
          auto block = content->getObject(static_cast<unsigned>(i));
          if (!block) continue;
          const auto kind = get_string(block, "type").value_or("");
          if (kind == "text") sink.progress(get_string(block, "text").value_or(""));
          if (kind == "tool_use") sink.progress("tool: " + get_string(block, "name").value_or("?"));
        }
      }
      return true;
    }
    if (type == "system" || type == "result") {
      auto event = parse_object(line);
      if (auto session = get_string(event, "session_id")) session_ = *session;
      if (type == "system") {
        sink.progress("claude started (" + get_string(event, "model").value_or("model") + ")");
        return true;
      }
      final_ = true;
      const auto subtype = get_string(event, "subtype").value_or("");
      const bool is_error = get_bool(event, "is_error").value_or(true);
      success_ = subtype == "success" && !is_error;
      answer_.clear();
      answer_.append(get_string(event, "result").value_or(""));
      if (!success_) add_error(errors_, "claude: " + subtype + (is_error ? " (is_error)" : ""));
      usage_ = make_usage(get_number(event, "usage.input_tokens"),
                          get_number(event, "usage.output_tokens"),
                          get_number(event, "total_cost_usd"), get_object(event, "usage"));
      if (auto turns = get_number(event, "num_turns")) usage_->set("turns", static_cast<int>(*turns));
      return true;
    }
    return true;  // user (tool results) and anything newer: forwarded as events
  }
  Outcome finish(int exit_code, int term_signal) override { return outcome(exit_code, term_signal); }
};

class ClaudePreset final : public Preset {
 public:
  Command command(const CliConfig& config, const TaskInfo& task, bool yolo) const override {
    Command cmd;
    cmd.argv = {config.binary, "-p", "--output-format", "stream-json", "--verbose", "--permission-mode",
                yolo ? "bypassPermissions" : (config.smart_mode.empty() ? "acceptEdits" : config.smart_mode)};
    if (const auto model = model_of(config, task); !model.empty()) append(cmd.argv, {"--model", model});
    if (!task.resume_session.empty()) append(cmd.argv, {"--resume", task.resume_session});
    if (config.max_turns > 0) append(cmd.argv, {"--max-turns", std::to_string(config.max_turns)});
    append(cmd.argv, config.args);
    cmd.stdin_path = task.prompt_file;  // the prompt arrives on stdin: no argv length limit
    return cmd;
  }
  std::unique_ptr<OutputParser> parser(const CliConfig&) const override {
    return std::make_unique<ClaudeParser>();
  }
  std::string install_hint() const override {
    return "install Claude Code: npm install -g @anthropic-ai/claude-code";
  }
};

// ---- OpenAI Codex ------------------------------------------------------------------------------
class CodexParser final : public JsonParserBase {
 public:
  CodexParser() : JsonParserBase("codex") {}
  bool on_line(std::string_view line, const std::string& type, RunSink& sink) override {
    if (type == "item.started" || type == "item.updated") {
      if (!sink.progress_due()) return true;
      progress_of(parse_object(line), sink);
      return true;
    }
    auto event = parse_object(line);
    if (type == "thread.started") {
      session_ = get_string(event, "thread_id").value_or("");
    } else if (type == "item.completed") {
      if (get_string(event, "item.type").value_or("") == "agent_message") {
        answer_.clear();
        answer_.append(get_string(event, "item.text").value_or(""));
      }
      progress_of(event, sink);
    } else if (type == "turn.completed") {
      final_ = true;
      success_ = !failed_;
      usage_ = make_usage(get_number(event, "usage.input_tokens"),
                          get_number(event, "usage.output_tokens"), std::nullopt,
                          get_object(event, "usage"));
    } else if (type == "turn.failed") {
      final_ = true;
      failed_ = true;
      success_ = false;
      add_error(errors_, get_string(event, "error.message").value_or("codex: turn failed"));
    } else if (type == "error") {
      add_error(errors_, get_string(event, "message").value_or("codex: error"));
    }
    return true;
  }
  Outcome finish(int exit_code, int term_signal) override { return outcome(exit_code, term_signal); }

 private:
  static void progress_of(const JsonObject& event, RunSink& sink) {
    const auto kind = get_string(event, "item.type").value_or("");
    if (kind == "command_execution") {
      sink.progress("running: " + get_string(event, "item.command").value_or(""));
    } else if (kind == "agent_message" || kind == "reasoning") {
      sink.progress(get_string(event, "item.text").value_or(""));
    } else if (kind == "file_change") {
      sink.progress("editing files");
    }
  }
  bool failed_ = false;
};

class CodexPreset final : public Preset {
 public:
  Command command(const CliConfig& config, const TaskInfo& task, bool yolo) const override {
    Command cmd;
    cmd.argv = {config.binary, "exec", "--json", "-C", task.workspace, "--skip-git-repo-check"};
    if (yolo) {
      cmd.argv.push_back("--dangerously-bypass-approvals-and-sandbox");
    } else {
      append(cmd.argv, {"-s", config.smart_mode.empty() ? "workspace-write" : config.smart_mode});
    }
    if (const auto model = model_of(config, task); !model.empty()) append(cmd.argv, {"-m", model});
    append(cmd.argv, config.args);
    if (!task.resume_session.empty()) append(cmd.argv, {"resume", task.resume_session});
    cmd.argv.push_back("-");  // the prompt arrives on stdin
    cmd.stdin_path = task.prompt_file;
    return cmd;
  }
  std::unique_ptr<OutputParser> parser(const CliConfig&) const override {
    return std::make_unique<CodexParser>();
  }
  std::string install_hint() const override {
    return "install the Codex CLI: npm install -g @openai/codex";
  }
};

// ---- Gemini CLI --------------------------------------------------------------------------------
class GeminiParser final : public JsonParserBase {
 public:
  GeminiParser() : JsonParserBase("gemini") {}
  bool on_line(std::string_view line, const std::string& type, RunSink& sink) override {
    if (type == "tool_result") return true;  // forwarded; nothing to learn from it
    auto event = parse_object(line);
    if (type == "init") {
      session_ = get_string(event, "session_id").value_or("");
      sink.progress("gemini started (" + get_string(event, "model").value_or("model") + ")");
    } else if (type == "message") {
      if (get_string(event, "role").value_or("") != "assistant") return true;
      if (!get_bool(event, "delta").value_or(false)) answer_.clear();
      const auto content = get_string(event, "content").value_or("");
      answer_.append(content);
      sink.progress(answer_.str());
    } else if (type == "tool_use") {
      sink.progress("tool: " + get_string(event, "tool_name").value_or("?"));
    } else if (type == "error") {
      add_error(errors_, "gemini: " + get_string(event, "message").value_or("error"));
    } else if (type == "result") {
      final_ = true;
      success_ = get_string(event, "status").value_or("") == "success";
      if (!success_) {
        add_error(errors_, "gemini: " + get_string(event, "error.message").value_or("the turn failed"));
      }
      usage_ = make_usage(get_number(event, "stats.input_tokens"),
                          get_number(event, "stats.output_tokens"), std::nullopt,
                          get_object(event, "stats"));
    }
    return true;
  }
  Outcome finish(int exit_code, int term_signal) override {
    Outcome out = outcome(exit_code, term_signal);
    if (exit_code == 42) add_error(out.errors, "gemini: input error (exit 42)");
    if (exit_code == 53) add_error(out.errors, "gemini: turn limit reached (exit 53)");
    return out;
  }
};

class GeminiPreset final : public Preset {
 public:
  Command command(const CliConfig& config, const TaskInfo& task, bool yolo) const override {
    Command cmd;
    // No -p: the Gemini CLI reads a piped stdin as the prompt and runs non-interactively, so the
    // prompt never shows in /proc/<pid>/cmdline and has no argv length limit (E2BIG).
    cmd.argv = {config.binary, "--output-format", "stream-json", "--approval-mode",
                yolo ? "yolo" : (config.smart_mode.empty() ? "auto_edit" : config.smart_mode)};
    if (const auto model = model_of(config, task); !model.empty()) append(cmd.argv, {"-m", model});
    if (!task.resume_session.empty()) append(cmd.argv, {"--resume", task.resume_session});
    append(cmd.argv, config.args);
    cmd.stdin_path = task.prompt_file;
    return cmd;
  }
  std::unique_ptr<OutputParser> parser(const CliConfig&) const override {
    return std::make_unique<GeminiParser>();
  }
  std::string install_hint() const override {
    return "install the Gemini CLI: npm install -g @google/gemini-cli";
  }
};

// ---- OpenCode ----------------------------------------------------------------------------------
class OpenCodeParser final : public JsonParserBase {
 public:
  OpenCodeParser() : JsonParserBase("opencode") {}
  bool on_line(std::string_view line, const std::string& type, RunSink& sink) override {
    if (type == "text" && !sink.progress_due() && seen_text_) {
      // Flood path: the answer is the text of the last step, kept bounded.
      auto event = parse_object(line);
      answer_.append(get_string(event, "part.text").value_or(""));
      return true;
    }
    auto event = parse_object(line);
    if (auto session = get_string(event, "sessionID"); session && session_.empty()) session_ = *session;
    if (type == "step_start") {
      answer_.clear();
    } else if (type == "text") {
      seen_text_ = true;
      const auto text = get_string(event, "part.text").value_or("");
      answer_.append(text);
      sink.progress(text);
    } else if (type == "tool_use") {
      const auto tool = get_string(event, "part.tool").value_or("?");
      sink.progress("tool: " + tool);
      if (get_string(event, "part.state.status").value_or("") == "error") {
        add_error(errors_, "opencode: tool " + tool + ": " +
                               get_string(event, "part.state.error").value_or("error"));
      }
    } else if (type == "step_finish") {
      input_ += get_number(event, "part.tokens.input").value_or(0);
      output_ += get_number(event, "part.tokens.output").value_or(0);
      cost_ += get_number(event, "part.cost").value_or(0);
      usage_ = make_usage(input_, output_, cost_, get_object(event, "part.tokens"));
      if (get_string(event, "part.reason").value_or("") == "stop") {
        final_ = true;
        success_ = !error_;
      }
    } else if (type == "error") {
      final_ = true;
      error_ = true;
      success_ = false;
      auto message = get_string(event, "error.data.message");
      if (!message) message = get_string(event, "error.name");
      add_error(errors_, "opencode: " + message.value_or("session error"));
    }
    return true;
  }
  Outcome finish(int exit_code, int term_signal) override { return outcome(exit_code, term_signal); }

 private:
  bool seen_text_ = false;
  bool error_ = false;
  double input_ = 0, output_ = 0, cost_ = 0;
};

class OpenCodePreset final : public Preset {
 public:
  Command command(const CliConfig& config, const TaskInfo& task, bool yolo) const override {
    Command cmd;
    cmd.argv = {config.binary, "run", "--format", "json", "--dir", task.workspace};
    if (yolo) cmd.argv.push_back("--auto");  // without it every permission request is rejected
    if (const auto model = model_of(config, task); !model.empty()) append(cmd.argv, {"-m", model});
    if (!task.resume_session.empty()) append(cmd.argv, {"--session", task.resume_session});
    append(cmd.argv, config.args);
    // No message argument: `opencode run` then reads the prompt from the piped stdin, which keeps
    // it out of /proc/<pid>/cmdline and free of the argv length limit.
    cmd.stdin_path = task.prompt_file;
    return cmd;
  }
  std::unique_ptr<OutputParser> parser(const CliConfig&) const override {
    return std::make_unique<OpenCodeParser>();
  }
  std::string install_hint() const override {
    return "install OpenCode: npm install -g opencode-ai";
  }
};

// ---- Aider -------------------------------------------------------------------------------------
class AiderPreset final : public Preset {
 public:
  Command command(const CliConfig& config, const TaskInfo& task, bool yolo) const override {
    Command cmd;
    // --yes-always is needed to run unattended at all; smart mode keeps Aider from running the
    // shell commands it suggests.
    cmd.argv = {config.binary, "--message-file", task.prompt_file, "--yes-always", "--no-stream",
                "--no-pretty"};
    if (!yolo) cmd.argv.push_back("--no-suggest-shell-commands");
    if (const auto model = model_of(config, task); !model.empty()) append(cmd.argv, {"--model", model});
    append(cmd.argv, config.args);
    return cmd;
  }
  std::unique_ptr<OutputParser> parser(const CliConfig&) const override {
    return std::make_unique<TextParser>("aider");
  }
  std::string install_hint() const override {
    return "install Aider: pipx install aider-chat";
  }
};

// ---- custom ------------------------------------------------------------------------------------
// A JSON-line CLI described in YAML: `final` names the final event and how to read it.
class CustomJsonParser final : public JsonParserBase {
 public:
  explicit CustomJsonParser(const CliConfig& config)
      : JsonParserBase(config.binary), config_(config) {
    final_type_ = get_string(config.final_event, "type").value_or("result");
  }
  bool on_line(std::string_view line, const std::string& type, RunSink& sink) override {
    const bool is_final = type == final_type_;
    if (!is_final && !sink.progress_due() && !config_.session_field.empty() && !session_.empty()) {
      return true;
    }
    auto event = parse_object(line);
    if (!config_.session_field.empty()) {
      if (auto session = get_string(event, config_.session_field)) session_ = *session;
    }
    if (!config_.progress_field.empty()) {
      if (auto text = get_string(event, config_.progress_field)) sink.progress(*text);
    }
    if (!is_final) return true;
    final_ = true;
    success_ = true;
    if (auto success = get_object(config_.final_event, "success")) {
      for (const auto& [path, expected] : *success) {
        auto actual = member(event, path);
        if (!actual || actual->toString() != expected.toString()) success_ = false;
      }
    }
    const auto field = [&](const char* key) { return get_string(config_.final_event, key).value_or(""); };
    if (!field("summary").empty()) {
      answer_.clear();
      answer_.append(get_string(event, field("summary")).value_or(""));
    }
    if (!field("session").empty()) {
      if (auto session = get_string(event, field("session"))) session_ = *session;
    }
    if (!field("usage").empty()) {
      auto raw = get_object(event, field("usage"));
      usage_ = make_usage(get_number(raw, "input_tokens"), get_number(raw, "output_tokens"),
                          get_number(raw, "cost_usd"), raw);
    }
    if (!success_) {
      add_error(errors_, config_.binary + ": " +
                             (field("error").empty() ? std::string("the final event reports a failure")
                                                     : get_string(event, field("error")).value_or("failed")));
    }
    return true;
  }
  Outcome finish(int exit_code, int term_signal) override { return outcome(exit_code, term_signal); }

 private:
  const CliConfig& config_;
  std::string final_type_;
};

class CustomPreset final : public Preset {
 public:
  Command command(const CliConfig& config, const TaskInfo& task, bool yolo) const override {
    const std::string model = model_of(config, task);
    std::vector<std::string> options = yolo ? config.yolo_args : config.smart_args;
    if (!model.empty()) append(options, config.model_args);
    if (!task.resume_session.empty()) append(options, config.resume_args);
    append(options, config.args);
    Command cmd;
    bool placed = false;
    for (const auto& arg : config.command) {
      if (arg == "{options}") {
        for (const auto& option : options) cmd.argv.push_back(expand(option, task, model));
        placed = true;
      } else {
        cmd.argv.push_back(expand(arg, task, model));
      }
    }
    if (!placed) {
      for (const auto& option : options) cmd.argv.push_back(expand(option, task, model));
    }
    if (config.stdin_source == "prompt_file") cmd.stdin_path = task.prompt_file;
    return cmd;
  }
  std::unique_ptr<OutputParser> parser(const CliConfig& config) const override {
    if (config.output == "jsonl") return std::make_unique<CustomJsonParser>(config);
    return std::make_unique<TextParser>(config.binary);
  }
  std::string install_hint() const override { return "install it or fix `command` in the config"; }
};

}  // namespace

std::string expand(const std::string& arg, const TaskInfo& task, const std::string& model) {
  const std::pair<const char*, const std::string*> values[] = {
      {"{prompt_file}", &task.prompt_file},
      {"{workspace}", &task.workspace},   {"{task_dir}", &task.task_dir},
      {"{task_id}", &task.task_id},       {"{model}", &model},
      {"{resume_session}", &task.resume_session}};
  std::string out;
  std::size_t pos = 0;
  while (pos < arg.size()) {
    bool replaced = false;
    if (arg[pos] == '{') {
      for (const auto& [name, value] : values) {
        const std::size_t len = std::char_traits<char>::length(name);
        if (arg.compare(pos, len, name) == 0) {
          out += *value;  // substituted once: a prompt containing "{workspace}" stays as it is
          pos += len;
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += arg[pos++];
  }
  return out;
}

CliConfig parse_config(std::string_view config_json) {
  ConfigReader reader("dev.coda.agent.cli", config_json);
  CliConfig config;
  config.preset = reader.string("preset");
  config.binary = reader.string("binary", config.preset);
  config.model = reader.string("model");
  config.args = reader.strings("args");
  config.env = reader.string_map("env");
  config.allow_yolo = reader.boolean("allow_yolo", true);
  config.max_turns = reader.integer("max_turns", 0);
  config.smart_mode = reader.string("smart_mode");
  config.install_hint = reader.string("install_hint");
  config.command = reader.strings("command");
  config.output = reader.string("output", "text");
  config.stdin_source = reader.string("stdin", "none");
  config.yolo_args = reader.strings("yolo_args");
  config.smart_args = reader.strings("smart_args");
  config.resume_args = reader.strings("resume_args");
  config.model_args = reader.strings("model_args");
  config.final_event = reader.object("final");
  config.session_field = reader.string("session_field");
  config.progress_field = reader.string("progress_field");
  reader.finish();
  if (config.preset.empty()) {
    if (config.command.empty()) {
      throw AgentError("dev.coda.agent.cli: set `preset` (claude, codex, gemini, opencode, aider) or "
                       "a custom `command` list");
    }
    if (config.binary.empty()) config.binary = config.command.front();
    if (config.command.front() != config.binary) config.command.front() = config.binary;
  } else if (!config.command.empty()) {
    throw AgentError("dev.coda.agent.cli: `command` is for custom backends; with `preset: " +
                     config.preset + "` use `args` for extra arguments");
  }
  if (config.output != "text" && config.output != "jsonl") {
    throw AgentError("dev.coda.agent.cli: `output` must be text or jsonl, not '" + config.output + "'");
  }
  if (config.stdin_source != "none" && config.stdin_source != "prompt_file") {
    throw AgentError("dev.coda.agent.cli: `stdin` must be none or prompt_file, not '" +
                     config.stdin_source + "'");
  }
  // Prompts never reach argv: /proc/<pid>/cmdline is readable by every local user, and a long prompt
  // would fail with E2BIG. A custom command reads it from a file or stdin instead.
  for (const auto* list : {&config.command, &config.args, &config.yolo_args, &config.smart_args,
                           &config.resume_args, &config.model_args}) {
    for (const auto& arg : *list) {
      if (arg.find("{prompt}") != std::string::npos) {
        throw AgentError("dev.coda.agent.cli: '{prompt}' in an argument would put the prompt in argv "
                         "(visible to every local user in /proc/<pid>/cmdline, E2BIG when long); use "
                         "'{prompt_file}' or `stdin: prompt_file` instead");
      }
    }
  }
  if (config.output == "jsonl" && config.preset.empty() && !config.final_event) {
    throw AgentError("dev.coda.agent.cli: a custom jsonl backend needs `final` (e.g. {type: result, "
                     "success: {status: ok}, summary: text})");
  }
  return config;
}

std::unique_ptr<Preset> make_preset(const std::string& name) {
  if (name.empty()) return std::make_unique<CustomPreset>();
  if (name == "claude") return std::make_unique<ClaudePreset>();
  if (name == "codex") return std::make_unique<CodexPreset>();
  if (name == "gemini") return std::make_unique<GeminiPreset>();
  if (name == "opencode") return std::make_unique<OpenCodePreset>();
  if (name == "aider") return std::make_unique<AiderPreset>();
  throw AgentError("dev.coda.agent.cli: unknown preset '" + name +
                   "' (known: claude, codex, gemini, opencode, aider; or a custom `command`)");
}

}  // namespace coda::agents::cli
