#include "core/app/shutdown_signal.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <ctime>

namespace coda::app {
namespace {

sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

ShutdownSignal::ShutdownSignal() {
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t set = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  watcher_ = std::thread([this] { watch(); });
}

ShutdownSignal::~ShutdownSignal() {
  stop_ = true;
  watcher_.join();
}

void ShutdownSignal::watch() {
  sigset_t set = shutdown_signals();
  timespec tick{0, 200 * 1000 * 1000};
  while (!stop_) {
    int sig = sigtimedwait(&set, nullptr, &tick);
    if (sig < 0) continue;  // timeout or EINTR: check stop_
    std::unique_lock lock(mutex_);
    if (triggered_) {
      static const char kMessage[] = "coda: second signal: exiting without a clean shutdown\n";
      ssize_t ignored = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
      (void)ignored;
      ::_exit(1);
    }
    triggered_ = true;
    reason_ = sig == SIGINT ? "SIGINT" : "SIGTERM";
    cv_.notify_all();
  }
}

std::string ShutdownSignal::wait() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return triggered_; });
  return reason_;
}

void ShutdownSignal::trigger(const std::string& reason) {
  std::lock_guard lock(mutex_);
  if (triggered_) return;
  triggered_ = true;
  reason_ = reason;
  cv_.notify_all();
}

}  // namespace coda::app
