#include "hermes_cli.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "support/text_parser.hpp"

namespace coda::agents::hermes {
namespace {

constexpr std::size_t kAnswerBytes = 64 * 1024;
constexpr std::size_t kUsageFileBytes = 1 << 20;

// Reads at most `max_bytes` of `root`/`relative` without following a symlink at any component
// below `root` (the workspace is the agent's: it may have linked the usage file or the task dir to
// a foreign file). "" when missing, a link, not a regular file or hard-linked elsewhere.
std::string read_below_no_follow(const std::string& root, const std::string& relative,
                                 std::size_t max_bytes) {
  int dir = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  std::size_t start = 0;
  while (dir >= 0) {
    const auto slash = relative.find('/', start);
    const std::string part =
        relative.substr(start, slash == std::string::npos ? slash : slash - start);
    if (part.empty() || part == "." || part == "..") break;
    const int flags = slash == std::string::npos ? O_RDONLY | O_NONBLOCK : O_RDONLY | O_DIRECTORY;
    const int next = ::openat(dir, part.c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
    ::close(dir);
    dir = next;
    if (slash != std::string::npos) {
      start = slash + 1;
      continue;
    }
    std::string text;
    struct stat st {};
    if (dir >= 0 && ::fstat(dir, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1) {
      text.resize(max_bytes);
      std::size_t got = 0;
      for (ssize_t n;
           got < max_bytes && (n = ::read(dir, text.data() + got, max_bytes - got)) > 0;) {
        got += static_cast<std::size_t>(n);
      }
      text.resize(got);
    }
    if (dir >= 0) ::close(dir);
    return text;
  }
  if (dir >= 0) ::close(dir);
  return "";
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

// `hermes -z`: the answer is stdout; the exit code and the usage file tell the rest.
class OneshotParser final : public TextParser {
 public:
  OneshotParser(std::string workspace, std::string usage_file)
      : TextParser("hermes", kAnswerBytes),
        workspace_(std::move(workspace)),
        usage_file_(std::move(usage_file)) {}

  Outcome finish(int exit_code, int term_signal) override {
    Outcome out = TextParser::finish(exit_code, term_signal);
    out.errors.clear();
    switch (exit_code) {
      case 0:
        out.status = out.summary.empty() ? "failed" : "completed";
        if (out.summary.empty()) out.errors.push_back("hermes exited 0 without an answer");
        break;
      case 2:
        out.status = "failed";
        out.errors.push_back("hermes: partial result: the turn did not finish (exit 2, e.g. the "
                             "iteration budget ran out); the summary is what it produced so far");
        break;
      case 130:
        out.status = "cancelled";
        out.errors.push_back("hermes was interrupted (exit 130)");
        break;
      default:
        out.status = "failed";
        out.errors.push_back(exit_text(exit_code, term_signal));
    }
    read_usage(out);
    return out;
  }

 private:
  void read_usage(Outcome& out) const {
    // The file is in the agent's workspace (the task dir is workspace/.coda/tasks/<id>): never read
    // through a link it planted, in the task dir or above it. A task dir elsewhere is the host's.
    const std::string prefix = workspace_ + "/";
    const bool below = !workspace_.empty() && usage_file_.rfind(prefix, 0) == 0;
    const auto slash = usage_file_.rfind('/');
    if (!below && (slash == std::string::npos || slash == 0)) return;
    std::string text =
        below ? read_below_no_follow(workspace_, usage_file_.substr(prefix.size()), kUsageFileBytes)
              : read_below_no_follow(usage_file_.substr(0, slash), usage_file_.substr(slash + 1),
                                     kUsageFileBytes);
    if (text.empty()) return;
    auto usage = parse_object(text);
    if (!usage) {
      out.errors.push_back("hermes: the usage file is not a JSON object");
      return;
    }
    out.usage = make_usage(get_number(usage, "input_tokens"), get_number(usage, "output_tokens"),
                           get_number(usage, "estimated_cost_usd"), usage);
    if (auto session = get_string(usage, "session_id")) out.agent_session = *session;
    if (auto failure = get_string(usage, "failure"); failure && !failure->empty()) {
      out.errors.push_back("hermes: " + *failure);
    }
  }
  std::string workspace_, usage_file_;
};

// `hermes chat --format stream-json`: the `result` event decides, not the exit code.
class StreamParser final : public OutputParser {
 public:
  bool jsonl() const override { return true; }
  bool has_final() const override { return final_; }
  bool on_line(std::string_view line, const std::string& type, RunSink& sink) override {
    if (type == "text") {
      // Deltas: the answer is taken from the result event; here they only feed the progress.
      if (sink.progress_due()) {
        auto event = parse_object(line);
        recent_.append(get_string(event, "text").value_or(""));
        sink.progress(recent_.str());
      }
      return true;
    }
    auto event = parse_object(line);
    if (type == "system") {
      session_ = get_string(event, "session_id").value_or(session_);
      sink.progress("hermes started (" + get_string(event, "model").value_or("model") + ")");
    } else if (type == "tool_use") {
      recent_.clear();
      sink.progress("tool: " + get_string(event, "name").value_or("?"));
    } else if (type == "tool_result") {
      if (get_bool(event, "is_error").value_or(false)) {
        sink.progress("tool failed: " + get_string(event, "name").value_or("?"));
      }
    } else if (type == "result") {
      final_ = true;
      session_ = get_string(event, "session_id").value_or(session_);
      const auto code = get_number(event, "exit_code").value_or(1);
      error_ = get_string(event, "error").value_or("");
      success_ = code == 0 && error_.empty();
      answer_ = get_string(event, "text").value_or("");
      if (answer_.size() > kAnswerBytes) answer_.resize(kAnswerBytes);
      usage_ = make_usage(get_number(event, "tokens.input"), get_number(event, "tokens.output"),
                          get_number(event, "cost_usd"), get_object(event, "tokens"));
      if (auto ms = get_number(event, "duration_ms")) usage_->set("duration_ms", static_cast<int64_t>(*ms));
    }
    return true;
  }
  Outcome finish(int exit_code, int term_signal) override {
    Outcome out;
    if (exit_code >= 0) out.exit_code = exit_code;
    out.agent_session = session_;
    out.usage = usage_;
    out.summary = trim(answer_);
    if (!final_) {
      out.status = "failed";
      out.errors.push_back(no_final_event("hermes", exit_code, term_signal));
    } else {
      out.status = success_ ? "completed" : "failed";
      if (!error_.empty()) out.errors.push_back("hermes: " + error_);
      if (success_ && exit_code != 0) {
        out.feedback = "hermes reported success, then exited with code " + std::to_string(exit_code);
      }
    }
    if (out.summary.empty() && !out.errors.empty()) out.summary = out.errors.front();
    return out;
  }

 private:
  bool final_ = false, success_ = false;
  std::string session_, answer_, error_;
  JsonObject usage_;
  BoundedText recent_{400, BoundedText::Keep::kTail};
};

}  // namespace

std::string usage_file_of(const TaskInfo& task) {
  return (task.task_dir.empty() ? task.workspace : task.task_dir) + "/hermes-usage.json";
}

std::string HermesCli::install_hint() const {
  return "install Hermes Agent: curl -fsSL https://hermes-agent.nousresearch.com/install.sh | bash, "
         "or set `binary`";
}

Command HermesCli::command(const TaskInfo& task) const {
  const bool yolo = task.yolo() && config_.allow_yolo;
  const std::string model = task.model.empty() ? config_.model : task.model;
  Command cmd;
  auto add_common = [&] {
    if (!model.empty()) cmd.argv.insert(cmd.argv.end(), {"-m", model});
    if (!config_.provider.empty()) cmd.argv.insert(cmd.argv.end(), {"--provider", config_.provider});
    if (!config_.toolsets.empty()) cmd.argv.insert(cmd.argv.end(), {"-t", join(config_.toolsets)});
    if (!config_.skills.empty()) cmd.argv.insert(cmd.argv.end(), {"-s", join(config_.skills)});
    if (!task.resume_session.empty()) cmd.argv.insert(cmd.argv.end(), {"--resume", task.resume_session});
  };
  if (config_.mode == "oneshot") {
    if (!yolo) {
      throw AgentError("hermes oneshot mode always bypasses approvals, so it runs only tasks with "
                       "permissions \"yolo\" where agents.policy.yolo_allowed is set; use mode "
                       "stream-json for \"smart\" tasks");
    }
    cmd.argv = {config_.binary, "-z", task.prompt};
    add_common();
    cmd.argv.insert(cmd.argv.end(), {"--usage-file", usage_file_of(task)});
  } else {
    if (task.prompt_file.empty()) throw AgentError("hermes stream-json mode needs the task's prompt file");
    cmd.argv = {config_.binary, "chat", "-Q", "--query-file", task.prompt_file, "--format", "stream-json"};
    add_common();
    if (yolo) cmd.argv.push_back("--yolo");
    if (config_.max_turns > 0) {
      cmd.argv.insert(cmd.argv.end(), {"--max-turns", std::to_string(config_.max_turns)});
    }
  }
  cmd.argv.insert(cmd.argv.end(), config_.args.begin(), config_.args.end());
  for (const auto& [name, value] : config_.env) cmd.env.push_back(name + "=" + value);
  if (auto home = hermes_home_for(config_, task); !home.empty()) {
    std::error_code ignored;  // a missing home is Hermes' own error to report
    std::filesystem::create_directories(home, ignored);
    cmd.env.push_back("HERMES_HOME=" + home);
    cmd.writable.push_back(home);
  }
  if (!task.task_dir.empty()) cmd.writable.push_back(task.task_dir);
  return cmd;
}

std::unique_ptr<OutputParser> HermesCli::parser(const TaskInfo& task) const {
  if (config_.mode == "oneshot")
    return std::make_unique<OneshotParser>(task.workspace, usage_file_of(task));
  return std::make_unique<StreamParser>();
}

}  // namespace coda::agents::hermes
