#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/tasks/agent_backend.hpp"

namespace coda::tasks::fakes {

// An in-test agent backend: records starts and lets the test finish runs. Thread-safe.
class FakeBackend : public AgentBackend {
 public:
  explicit FakeBackend(std::string name) : name_(std::move(name)), component_("test.fake") {}

  const std::string& name() const override { return name_; }
  const std::string& component() const override { return component_; }
  std::optional<std::string> probe() override {
    std::lock_guard lock(mutex_);
    return unavailable_;
  }
  void start(const AgentRun& run, std::shared_ptr<AgentRunEvents> events) override {
    std::function<void(const AgentRun&, AgentRunEvents&)> on_start;
    {
      std::lock_guard lock(mutex_);
      if (start_error_) throw AgentStartError(*start_error_);
      runs_[run.handle] = Live{run, events};
      on_start = on_start_;
    }
    if (on_start) on_start(run, *events);
    {
      std::lock_guard lock(mutex_);
      started_.push_back(run);
    }
    changed_.notify_all();
  }
  void cancel(uint64_t handle) override {
    std::shared_ptr<AgentRunEvents> events;
    {
      std::lock_guard lock(mutex_);
      cancels_.push_back(handle);
      if (ignore_cancel_) return;
      auto it = runs_.find(handle);
      if (it == runs_.end()) return;
      events = it->second.events;
      runs_.erase(it);
    }
    events->finished(handle, R"({"status":"cancelled"})");
  }

  // Finishes the run of `task_id` with `result_json`; false when it is not running here.
  bool finish(const std::string& task_id, const std::string& result_json) {
    std::shared_ptr<AgentRunEvents> events;
    uint64_t handle = 0;
    {
      std::lock_guard lock(mutex_);
      for (auto it = runs_.begin(); it != runs_.end(); ++it) {
        if (it->second.run.task_id == task_id) {
          handle = it->first;
          events = it->second.events;
          runs_.erase(it);
          break;
        }
      }
    }
    if (!events) return false;
    events->finished(handle, result_json);
    return true;
  }
  // Reports an event for a live run.
  bool emit(const std::string& task_id, int kind, const std::string& data) {
    std::shared_ptr<AgentRunEvents> events;
    uint64_t handle = 0;
    {
      std::lock_guard lock(mutex_);
      for (auto& [h, live] : runs_) {
        if (live.run.task_id == task_id) {
          handle = h;
          events = live.events;
        }
      }
    }
    if (!events) return false;
    events->event(handle, kind, data);
    return true;
  }
  // Waits until `n` runs have started in total.
  bool wait_started(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return started_.size() >= n; });
  }
  std::vector<AgentRun> started() {
    std::lock_guard lock(mutex_);
    return started_;
  }
  std::size_t live() {
    std::lock_guard lock(mutex_);
    return runs_.size();
  }
  std::vector<uint64_t> cancels() {
    std::lock_guard lock(mutex_);
    return cancels_;
  }
  void set_unavailable(std::optional<std::string> why) {
    std::lock_guard lock(mutex_);
    unavailable_ = std::move(why);
  }
  void set_start_error(std::optional<std::string> error) {
    std::lock_guard lock(mutex_);
    start_error_ = std::move(error);
  }
  void set_ignore_cancel(bool ignore) {
    std::lock_guard lock(mutex_);
    ignore_cancel_ = ignore;
  }
  // Runs inside start() (after the run is recorded), e.g. to write files or finish at once.
  void set_on_start(std::function<void(const AgentRun&, AgentRunEvents&)> fn) {
    std::lock_guard lock(mutex_);
    on_start_ = std::move(fn);
  }

 private:
  struct Live {
    AgentRun run;
    std::shared_ptr<AgentRunEvents> events;
  };
  std::string name_, component_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<uint64_t, Live> runs_;
  std::vector<AgentRun> started_;
  std::vector<uint64_t> cancels_;
  std::optional<std::string> unavailable_, start_error_;
  bool ignore_cancel_ = false;
  std::function<void(const AgentRun&, AgentRunEvents&)> on_start_;
};

}  // namespace coda::tasks::fakes
