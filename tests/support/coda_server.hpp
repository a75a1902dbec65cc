#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace coda::test {

// The real `coda` binary (CODA_BINARY) as a child process, for integration tests.
//
// `coda serve` prints "coda listening on http://HOST:PORT" once its listener is bound; start() waits
// for that line and then for /readyz to answer 200. Output (stdout and stderr) goes to a log file
// that output() reads. The destructor stops the server (SIGTERM, then SIGKILL after 10 s) and removes
// its temp data dir, so a failing test leaves no process behind. In a sanitizer build (asan, tsan
// presets) the child's reports land in that output: the destructor fails the test when it holds one.
class CodaServer {
 public:
  struct Options {
    std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0"};
    std::string config_yaml;  // when set: written to a file and passed as --config
    std::string data_dir;     // empty: a fresh temp dir (passed as --data-dir)
    std::map<std::string, std::string> env;  // added to (or replacing in) the test's environment
    std::vector<std::string> unset_env;      // removed from the environment
    bool wait_ready = true;
    std::chrono::seconds start_timeout{20};
  };

  explicit CodaServer(Options options);
  CodaServer() : CodaServer(Options{}) {}
  ~CodaServer();
  CodaServer(const CodaServer&) = delete;
  CodaServer& operator=(const CodaServer&) = delete;

  // Starts the process (called by the constructor). Throws with the output when it fails to start.
  void start();
  const std::string& url() const { return url_; }      // "http://127.0.0.1:PORT"
  std::string mcp_url() const { return url_ + "/mcp"; }
  int port() const;
  pid_t pid() const { return pid_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string output() const;  // everything printed so far
  bool running();              // still alive (reaps it if it exited)

  // SIGTERM and wait up to `timeout`; returns the exit code (128+signal when killed by one), or -1
  // when it had to be SIGKILLed.
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // SIGKILL, no clean-up by the server; waits for the exit.
  void kill9();
  // Waits for the process to exit by itself; returns its exit code, or -1 on timeout.
  int wait_exit(std::chrono::milliseconds timeout);

 private:
  Options options_;
  std::unique_ptr<TempDir> temp_;
  std::string data_dir_;
  std::string log_path_;
  std::string url_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// Options for `coda serve --listen 127.0.0.1:0 --config <yaml written to a file>`.
inline CodaServer::Options config_options(std::string yaml) {
  CodaServer::Options options;
  options.config_yaml = std::move(yaml);
  return options;
}

// The first sanitizer report (ASan, LSan, UBSan, TSan) in a child's output, from its first line to the
// end of the output, or "" when there is none.
std::string sanitizer_report(const std::string& output);

// Runs `coda` with args to completion (no server): exit code and combined output. A sanitizer report
// in its output fails the calling test.
struct RunResult {
  int exit_code = -1;
  std::string output;     // stdout
  std::string error;      // stderr
};
RunResult run_coda(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env = {},
                   std::chrono::seconds timeout = std::chrono::seconds(60));

}  // namespace coda::test
