#include "tests/support/coda_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/http_client.hpp"

extern char** environ;

namespace coda::test {
namespace {

std::vector<std::string> build_env(const std::map<std::string, std::string>& extra,
                                   const std::vector<std::string>& unset) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& name : unset) env.erase(name);
  for (const auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

// fork + exec of CODA_BINARY with stdout/stderr to the given files; stdin from /dev/null.
pid_t launch(const std::vector<std::string>& args, const std::vector<std::string>& env,
             const std::string& out_path, const std::string& err_path) {
  std::vector<std::string> argv_store = {CODA_BINARY};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_store = env;
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int err = err_path == out_path ? out : open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

// The "http://HOST:PORT" of the first "listening on http://HOST:PORT" line, or "" (no std::regex: GCC 12
// reports a false maybe-uninitialized inside it under -fsanitize).
std::string listening_url(const std::string& output) {
  const std::string marker = "listening on ";
  for (auto at = output.find(marker); at != std::string::npos; at = output.find(marker, at + 1)) {
    auto begin = at + marker.size();
    if (output.compare(begin, 7, "http://") != 0 && output.compare(begin, 8, "https://") != 0) continue;
    auto scheme_end = output.find("://", begin) + 3;
    auto end = output.find_first_of(" \t\r\n/", scheme_end);
    if (end == std::string::npos) continue;  // the line is not complete yet
    return output.substr(begin, end - begin);
  }
  return "";
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

CodaServer::CodaServer(Options options) : options_(std::move(options)) { start(); }

CodaServer::~CodaServer() {
  if (pid_ > 0) stop();
  if (!log_path_.empty()) {
    if (auto report = sanitizer_report(output()); !report.empty()) {
      ADD_FAILURE() << "coda (" << CODA_BINARY << ") reported:\n" << report;
    }
  }
}

void CodaServer::start() {
  temp_ = std::make_unique<TempDir>();
  data_dir_ = options_.data_dir.empty() ? temp_->path() + "/data" : options_.data_dir;
  log_path_ = temp_->path() + "/coda.log";
  std::vector<std::string> args = options_.args;
  if (!options_.config_yaml.empty()) {
    args.push_back("--config");
    args.push_back(temp_->write("coda.yaml", options_.config_yaml));
  }
  args.push_back("--data-dir");
  args.push_back(data_dir_);
  pid_ = launch(args, build_env(options_.env, options_.unset_env), log_path_, log_path_);

  auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string out = output();
    if (auto url = listening_url(out); !url.empty()) {
      url_ = url;
      break;
    }
    if (!running()) {
      throw std::runtime_error("coda exited with " + std::to_string(exit_code_) +
                               " before listening:\n" + out);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (url_.empty()) throw std::runtime_error("coda did not print its URL in time:\n" + output());
  if (!options_.wait_ready) return;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      if (http_request("GET", url_ + "/readyz", "", {}, 5).status == 200) return;
    } catch (const std::exception&) {
      // not accepting yet
    }
    if (!running()) throw std::runtime_error("coda exited before ready:\n" + output());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("coda did not become ready in time:\n" + output());
}

int CodaServer::port() const {
  auto colon = url_.rfind(':');
  return colon == std::string::npos ? 0 : std::atoi(url_.c_str() + colon + 1);
}

std::string CodaServer::output() const { return read_file(log_path_); }

bool CodaServer::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = decode_status(status);
    pid_ = -1;
    return false;
  }
  return true;
}

int CodaServer::wait_exit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_code_;
}

int CodaServer::stop(std::chrono::milliseconds timeout) {
  if (!running()) return exit_code_;
  ::kill(pid_, SIGTERM);
  int code = wait_exit(timeout);
  if (code == -1 && pid_ > 0) {
    kill9();
    return -1;
  }
  return code;
}

void CodaServer::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_code_ = decode_status(status);
  pid_ = -1;
}

std::string sanitizer_report(const std::string& output) {
  // "==PID==ERROR: AddressSanitizer: ...", "==PID==ERROR: LeakSanitizer: ...",
  // "WARNING: ThreadSanitizer: ...", "FILE:LINE:COL: runtime error: ..." (UBSan).
  std::size_t first = std::string::npos;
  for (const char* marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer",
                             "ERROR: ThreadSanitizer", ": runtime error: "}) {
    first = std::min(first, output.find(marker));
  }
  if (first == std::string::npos) return "";
  auto line = output.rfind('\n', first);
  return output.substr(line == std::string::npos ? 0 : line + 1);
}

RunResult run_coda(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                   std::chrono::seconds timeout) {
  TempDir temp;
  std::string out_path = temp.path() + "/out";
  std::string err_path = temp.path() + "/err";
  pid_t pid = launch(args, build_env(env, {}), out_path, err_path);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  RunResult result;
  int status = 0;
  while (true) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      result.exit_code = decode_status(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      result.exit_code = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  result.output = read_file(out_path);
  result.error = read_file(err_path);
  if (auto report = sanitizer_report(result.error); !report.empty()) {
    ADD_FAILURE() << "coda (" << CODA_BINARY << ") reported:\n" << report;
  }
  return result;
}

}  // namespace coda::test
