// Start-up benchmark: how long `coda serve` on its embedded defaults (every bundled plugin) takes from
// exec to answering /readyz with 200, and its resident memory once idle.
// usage: startup_bench CODA_BINARY [RUNS]   Not a pass/fail test: it prints the figures and the bars.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error(std::string("no free port: ") + std::strerror(errno));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// True once GET /readyz on the port answers 200.
bool ready(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const char request[] = "GET /readyz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    char reply[64] = {};
    if (::send(fd, request, sizeof request - 1, MSG_NOSIGNAL) > 0 &&
        ::recv(fd, reply, sizeof reply - 1, 0) > 12) {
      ok = std::string(reply).compare(8, 4, " 200") == 0;  // "HTTP/1.x 200"
    }
  }
  ::close(fd);
  return ok;
}

// A field of /proc/PID/status in KiB ("VmRSS", "RssAnon", "RssFile").
long status_kib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return -1;
}

struct Run {
  double ready_ms;
  long rss, anon, file;
};

Run run_once(const std::string& coda, const std::string& data_dir) {
  int port = free_port();
  std::string listen = "127.0.0.1:" + std::to_string(port);
  std::vector<std::string> args = {coda, "serve", "--listen", listen, "--data-dir", data_dir,
                                   "--log-level", "error"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&files, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  auto started = Clock::now();
  if (posix_spawn(&pid, coda.c_str(), &files, nullptr, argv.data(), environ) != 0) {
    throw std::runtime_error("cannot start " + coda);
  }
  posix_spawn_file_actions_destroy(&files);
  while (!ready(port)) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      throw std::runtime_error("coda exited before it was ready");
    }
    if (Clock::now() - started > std::chrono::seconds(20)) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      throw std::runtime_error("coda was not ready within 20 s");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  Run run{};
  run.ready_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  std::this_thread::sleep_for(std::chrono::seconds(1));  // idle
  run.rss = status_kib(pid, "VmRSS");
  run.anon = status_kib(pid, "RssAnon");
  run.file = status_kib(pid, "RssFile");
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: startup_bench CODA_BINARY [RUNS]\n";
    return 2;
  }
  const std::string coda = argv[1];
  const int runs = argc > 2 ? std::atoi(argv[2]) : 10;
  if (runs < 1) {
    std::cerr << "startup_bench: RUNS must be a number >= 1, not '" << argv[2] << "'\n";
    return 2;
  }
  std::string dir_template =
      (std::filesystem::temp_directory_path() / "coda-bench-startup-XXXXXX").string();
  if (::mkdtemp(dir_template.data()) == nullptr) {
    std::perror("startup_bench: mkdtemp");
    return 2;
  }
  std::vector<Run> all;
  for (int i = 0; i < runs; ++i) {
    // A fresh data dir each time: the first start creates the database, like a new install.
    try {
      all.push_back(run_once(coda, dir_template + "/data" + std::to_string(i)));
    } catch (const std::exception& e) {
      std::cerr << "startup_bench: " << e.what() << "\n";
      std::error_code ignored;
      std::filesystem::remove_all(dir_template, ignored);
      return 2;
    }
    std::printf("run %2d: ready in %6.1f ms, idle RSS %6ld KiB (private %ld, shared libraries %ld)\n",
                i + 1, all.back().ready_ms, all.back().rss, all.back().anon, all.back().file);
  }
  std::sort(all.begin(), all.end(), [](const Run& a, const Run& b) { return a.ready_ms < b.ready_ms; });
  const Run& median = all[all.size() / 2];
  long rss = 0;
  for (const auto& r : all) rss = std::max(rss, r.rss);
  std::printf("start to ready: median %.1f ms, worst %.1f ms (bar <= 100 ms)\n", median.ready_ms,
              all.back().ready_ms);
  std::printf("idle RSS: %.1f MiB at most (bar <= 15 MB); private %.1f MiB, shared library pages %.1f MiB\n",
              rss / 1024.0, median.anon / 1024.0, median.file / 1024.0);
  std::error_code error;
  std::filesystem::remove_all(dir_template, error);
  return error ? 1 : 0;
}
