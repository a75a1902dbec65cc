#pragma once

#include <coda/plugin.h>

#include <atomic>
#include <functional>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "task_info.hpp"

// One agent CLI process running one task, through the host's process service (host->process_spawn):
// its output is split into lines and handed to the CLI's OutputParser, streamed to the task as events,
// and its end becomes exactly one finished() report. Memory stays bounded whatever the CLI prints:
// lines longer than kMaxLineBytes are passed on as text in pieces, and parsers keep only bounded state.
namespace coda::agents {

inline constexpr std::size_t kMaxLineBytes = 1u << 20;

// Reports what a parser learnt from an event. Thread: the run's output thread.
class RunSink {
 public:
  virtual ~RunSink() = default;
  // A short progress message (rate-limited by the run).
  virtual void progress(std::string_view message) = 0;
  // True when a progress message would be shown now: parsers skip decoding intermediate events
  // otherwise, which keeps an output flood cheap.
  virtual bool progress_due() const = 0;
};

// Interprets one CLI's output. Called from one thread at a time (the process's I/O thread).
class OutputParser {
 public:
  virtual ~OutputParser() = default;
  // True: stdout is JSON lines (each is offered to on_line); false: plain text (on_text).
  virtual bool jsonl() const = 0;
  // A complete stdout line whose top-level "type" is `type` (peeked without parsing). Return true to
  // have it forwarded to the task as a structured event.
  virtual bool on_line(std::string_view line, const std::string& type, RunSink& sink) = 0;
  // A stdout chunk in text mode.
  virtual void on_text(std::string_view chunk, RunSink& sink) { (void)chunk; (void)sink; }
  // True once the CLI's final event was seen (the exit code no longer decides the outcome).
  virtual bool has_final() const = 0;
  // The outcome once the process ended: exit_code is -1 when a signal (term_signal) killed it.
  virtual Outcome finish(int exit_code, int term_signal) = 0;
};

// The command an agent backend runs.
struct Command {
  std::vector<std::string> argv;
  std::vector<std::string> env;       // "NAME=value" extras (the host's policy still applies)
  std::string stdin_path;             // "" : /dev/null
  std::vector<std::string> writable;  // besides the workspace, when sandboxed (the task_dir)
};

class ProcessRun : public std::enable_shared_from_this<ProcessRun> {
 public:
  ProcessRun(const coda_host_t* host, TaskInfo task, const coda_task_events_t& events,
             std::unique_ptr<OutputParser> parser);

  // Spawns the command in the task's workspace. A non-OK status means nothing started (the host's
  // message was passed on with set_error) and finished() will not be called.
  coda_status_t start(const Command& command);
  // Idempotent: terminates the process group; finished() follows with "cancelled" unless the CLI had
  // already reported its final event.
  void cancel();
  // Called once finished() returned, e.g. to drop the run from its backend's table.
  void set_on_done(std::function<void()> on_done) { on_done_ = std::move(on_done); }
  const TaskInfo& task() const { return task_; }

 private:
  class Sink;
  static void on_output(void* ctx, uint64_t proc, int32_t stream, coda_str_t bytes);
  static void on_exit(void* ctx, uint64_t proc, int32_t exit_code, int32_t term_signal);
  void handle_stdout(std::string_view bytes);
  void handle_line(std::string_view line);
  void emit(int32_t kind, std::string_view data);
  void progress(std::string_view message);

  const coda_host_t* host_;
  TaskInfo task_;
  coda_task_events_t events_;
  std::unique_ptr<OutputParser> parser_;
  coda_process_events_t process_events_{};
  std::function<void()> on_done_;
  std::shared_ptr<ProcessRun> keep_alive_;  // set while the process runs

  std::mutex mutex_;
  uint64_t proc_ = 0;
  bool started_ = false;
  std::atomic<bool> cancelled_{false};
  std::string line_;       // an incomplete stdout line
  bool line_overflow_ = false;
  std::chrono::steady_clock::time_point last_progress_{};
};

// The live runs of a backend by task handle. Thread-safe.
class RunTable {
 public:
  void add(uint64_t handle, std::shared_ptr<ProcessRun> run);
  void remove(uint64_t handle);
  std::shared_ptr<ProcessRun> find(uint64_t handle) const;
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::map<uint64_t, std::shared_ptr<ProcessRun>> runs_;
};

}  // namespace coda::agents
