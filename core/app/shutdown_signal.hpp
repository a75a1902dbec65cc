#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace coda::app {

// Turns SIGINT and SIGTERM into an orderly shutdown. The constructor blocks both signals in the
// calling thread — construct it before any other thread starts, so that every thread inherits the
// mask — and starts a thread that waits for them. The first signal wakes wait(); a second one while
// shutting down exits the process at once with status 1. Also ignores SIGPIPE (a client that went
// away must not kill the host). One per process; thread-safe.
class ShutdownSignal {
 public:
  ShutdownSignal();
  ~ShutdownSignal();
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

  // Blocks until a signal arrived or trigger() was called; returns the reason ("SIGTERM", ...).
  std::string wait();
  // Requests shutdown without a signal (e.g. the stdio transport saw EOF).
  void trigger(const std::string& reason);

 private:
  void watch();

  std::mutex mutex_;
  std::condition_variable cv_;
  std::string reason_;
  bool triggered_ = false;
  std::atomic<bool> stop_{false};
  std::thread watcher_;
};

}  // namespace coda::app
