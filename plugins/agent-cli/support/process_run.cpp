#include "process_run.hpp"

#include <coda/plugin.hpp>

namespace coda::agents {
namespace {

constexpr auto kProgressInterval = std::chrono::milliseconds(500);
constexpr std::size_t kMaxProgressBytes = 200;

std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (out.size() >= kMaxProgressBytes) break;
    out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  }
  const auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  return out.substr(first, out.find_last_not_of(' ') - first + 1);
}

}  // namespace

class ProcessRun::Sink final : public RunSink {
 public:
  explicit Sink(ProcessRun& run) : run_(run) {}
  void progress(std::string_view message) override { run_.progress(message); }
  bool progress_due() const override {
    return std::chrono::steady_clock::now() - run_.last_progress_ >= kProgressInterval;
  }

 private:
  ProcessRun& run_;
};

ProcessRun::ProcessRun(const coda_host_t* host, TaskInfo task, const coda_task_events_t& events,
                       std::unique_ptr<OutputParser> parser)
    : host_(host), task_(std::move(task)), events_(events), parser_(std::move(parser)) {
  process_events_ = sdk::make<coda_process_events_t>();
  process_events_.ctx = this;
  process_events_.on_output = &ProcessRun::on_output;
  process_events_.on_exit = &ProcessRun::on_exit;
}

coda_status_t ProcessRun::start(const Command& command) {
  if (host_ == nullptr || !CODA_HAS(host_, coda_host_t, which) || host_->process_spawn == nullptr) {
    return CODA_E_UNSUPPORTED;
  }
  std::vector<coda_str_t> argv, env, writable;
  for (const auto& arg : command.argv) argv.push_back(sdk::str(arg));
  for (const auto& entry : command.env) env.push_back(sdk::str(entry));
  for (const auto& path : command.writable) writable.push_back(sdk::str(path));
  auto spec = sdk::make<coda_spawn_t>();
  spec.argv = argv.data();
  spec.argc = argv.size();
  spec.env = env.data();
  spec.envc = env.size();
  spec.cwd = sdk::str(task_.workspace);
  spec.stdin_path = command.stdin_path.empty() ? coda_str_t{nullptr, 0} : sdk::str(command.stdin_path);
  spec.task = task_.handle;
  spec.writable = writable.data();
  spec.writable_count = writable.size();
  // Alive until on_exit: the host calls back into this object.
  keep_alive_ = shared_from_this();
  std::lock_guard lock(mutex_);
  uint64_t proc = 0;
  const coda_status_t status = host_->process_spawn(host_, &spec, &process_events_, &proc);
  if (status != CODA_OK) {
    keep_alive_.reset();  // host->last_error() tells the caller why
    return status;
  }
  proc_ = proc;
  started_ = true;
  // A cancel() that came while the process was being spawned.
  if (cancelled_ && host_->process_terminate != nullptr) host_->process_terminate(host_, proc_);
  return CODA_OK;
}

void ProcessRun::cancel() {
  cancelled_ = true;
  uint64_t proc;
  {
    std::lock_guard lock(mutex_);
    if (!started_) return;
    proc = proc_;
  }
  if (host_->process_terminate != nullptr) host_->process_terminate(host_, proc);
}

void ProcessRun::emit(int32_t kind, std::string_view data) {
  if (events_.event != nullptr) events_.event(events_.ctx, task_.handle, kind, sdk::str(data));
}

void ProcessRun::progress(std::string_view message) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_progress_ < kProgressInterval) return;
  auto line = one_line(message);
  if (line.empty()) return;
  last_progress_ = now;
  emit(CODA_TASK_PROGRESS, line);
}

void ProcessRun::handle_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return;
  Sink sink(*this);
  const std::string type = line.front() == '{' ? peek_type(line) : std::string();
  if (!type.empty() && parser_->on_line(line, type, sink)) {
    emit(CODA_TASK_EVENT_JSON, line);
  } else if (type.empty()) {
    emit(CODA_TASK_TEXT, std::string(line) + "\n");
  }
}

void ProcessRun::handle_stdout(std::string_view bytes) {
  if (!parser_->jsonl()) {
    Sink sink(*this);
    parser_->on_text(bytes, sink);
    emit(CODA_TASK_TEXT, bytes);
    return;
  }
  while (!bytes.empty()) {
    const auto newline = bytes.find('\n');
    const auto piece = bytes.substr(0, newline);
    if (line_overflow_) {
      // The rest of an oversized line: passed on as text, never buffered.
      emit(CODA_TASK_TEXT, piece);
    } else if (line_.size() + piece.size() > kMaxLineBytes) {
      emit(CODA_TASK_TEXT, line_);
      emit(CODA_TASK_TEXT, piece);
      line_.clear();
      line_overflow_ = true;
    } else if (line_.empty() && newline != std::string_view::npos) {
      handle_line(piece);  // the common case: a whole line inside the chunk, no copy
    } else {
      line_.append(piece);
      if (newline != std::string_view::npos) {
        handle_line(line_);
        line_.clear();
      }
    }
    if (newline == std::string_view::npos) break;
    if (line_overflow_) emit(CODA_TASK_TEXT, "\n");
    line_overflow_ = false;
    bytes.remove_prefix(newline + 1);
  }
}

void ProcessRun::on_output(void* ctx, uint64_t, int32_t stream, coda_str_t bytes) {
  auto* run = static_cast<ProcessRun*>(ctx);
  try {
    if (stream == CODA_STREAM_STDOUT) {
      run->handle_stdout(sdk::view(bytes));
    } else {
      run->emit(CODA_TASK_TEXT, sdk::view(bytes));
    }
  } catch (const std::exception& e) {
    sdk::log(run->host_, CODA_LOG_ERROR, std::string("agent output: ") + e.what());
  } catch (...) {
  }
}

void ProcessRun::on_exit(void* ctx, uint64_t, int32_t exit_code, int32_t term_signal) {
  auto* run = static_cast<ProcessRun*>(ctx);
  std::shared_ptr<ProcessRun> self = std::move(run->keep_alive_);
  std::string result;
  try {
    if (!run->line_.empty() && !run->line_overflow_) run->handle_line(run->line_);
    run->line_.clear();
    Outcome outcome = run->parser_->finish(exit_code, term_signal);
    if (run->cancelled_ && !run->parser_->has_final()) {
      outcome.status = "cancelled";
      if (outcome.summary.empty()) outcome.summary = "cancelled before the agent finished";
    }
    result = outcome.to_json();
  } catch (const std::exception& e) {
    Outcome failed;
    failed.errors.push_back(std::string("agent plugin: ") + e.what());
    result = failed.to_json();
  } catch (...) {
    result = R"({"status":"failed","errors":["agent plugin: unknown error"]})";
  }
  if (run->events_.finished != nullptr) {
    run->events_.finished(run->events_.ctx, run->task_.handle, sdk::str(result));
  }
  if (run->on_done_) run->on_done_();
}

void RunTable::add(uint64_t handle, std::shared_ptr<ProcessRun> run) {
  std::lock_guard lock(mutex_);
  runs_[handle] = std::move(run);
}

void RunTable::remove(uint64_t handle) {
  std::shared_ptr<ProcessRun> gone;
  std::lock_guard lock(mutex_);
  auto it = runs_.find(handle);
  if (it == runs_.end()) return;
  gone = std::move(it->second);
  runs_.erase(it);
}

std::shared_ptr<ProcessRun> RunTable::find(uint64_t handle) const {
  std::lock_guard lock(mutex_);
  auto it = runs_.find(handle);
  return it == runs_.end() ? nullptr : it->second;
}

std::size_t RunTable::size() const {
  std::lock_guard lock(mutex_);
  return runs_.size();
}

}  // namespace coda::agents
