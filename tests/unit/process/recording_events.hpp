#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>

#include "core/process/process_service.hpp"

namespace coda::process::test {

// ProcessEvents that keeps everything it is told (output up to a cap, byte counts always) and lets a
// test wait for the exit.
class RecordingEvents : public ProcessEvents {
 public:
  explicit RecordingEvents(std::size_t keep_bytes = 1 << 20) : keep_bytes_(keep_bytes) {}

  void on_output(uint64_t, int stream, std::string_view bytes) override {
    std::lock_guard lock(mutex_);
    auto& target = stream == 1 ? out_ : err_;
    (stream == 1 ? out_bytes_ : err_bytes_) += bytes.size();
    if (target.size() < keep_bytes_) target.append(bytes.substr(0, keep_bytes_ - target.size()));
    if (exited_) late_output_ = true;
  }
  void on_exit(uint64_t, int exit_code, int term_signal) override {
    std::lock_guard lock(mutex_);
    exit_calls_++;
    exited_ = true;
    exit_code_ = exit_code;
    term_signal_ = term_signal;
    cv_.notify_all();
  }

  // True when on_exit came within `timeout`.
  bool wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [this] { return exited_; });
  }
  std::string out() const { std::lock_guard lock(mutex_); return out_; }
  std::string err() const { std::lock_guard lock(mutex_); return err_; }
  std::size_t out_bytes() const { std::lock_guard lock(mutex_); return out_bytes_; }
  int exit_code() const { std::lock_guard lock(mutex_); return exit_code_; }
  int term_signal() const { std::lock_guard lock(mutex_); return term_signal_; }
  int exit_calls() const { std::lock_guard lock(mutex_); return exit_calls_; }
  bool late_output() const { std::lock_guard lock(mutex_); return late_output_; }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::size_t keep_bytes_;
  std::string out_, err_;
  std::size_t out_bytes_ = 0, err_bytes_ = 0;
  bool exited_ = false;
  bool late_output_ = false;
  int exit_calls_ = 0;
  int exit_code_ = -2;
  int term_signal_ = -2;
};

// An observer that remembers what it was told.
class RecordingObserver : public ProcessObserver {
 public:
  void spawned(const ProcessInfo& info) override {
    std::lock_guard lock(mutex_);
    spawned_.push_back(info);
  }
  void exited(const ProcessInfo& info) override {
    std::lock_guard lock(mutex_);
    exited_.push_back(info);
    cv_.notify_all();
  }
  ProcessInfo spawned_info(uint64_t id) const {
    std::lock_guard lock(mutex_);
    for (const auto& info : spawned_) if (info.id == id) return info;
    return {};
  }
  // Every spawned() so far, in order.
  std::vector<ProcessInfo> all_spawned() const {
    std::lock_guard lock(mutex_);
    return spawned_;
  }
  bool wait_exited(uint64_t id, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] {
      for (const auto& info : exited_) if (info.id == id) return true;
      return false;
    });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<ProcessInfo> spawned_, exited_;
};

}  // namespace coda::process::test
