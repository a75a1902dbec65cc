#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <boost/asio/thread_pool.hpp>

#include "core/auth/identity.hpp"
#include "core/tasks/task.hpp"

// Waits on tasks that hold no thread while they wait: coda_get_result's wait_s and the live views'
// long polls. One watcher thread keeps every watch's deadline and ticks and re-checks the watches of
// a task when it changes; the callbacks run on a small pool of their own, so a transport that is
// slow to take a reply delays nobody else's wait.
namespace coda::tasks {

struct Watch {
  std::chrono::milliseconds timeout{0};
  // Ends the wait early (checked whenever the task changes and at every tick). May be empty.
  std::function<bool()> stop_waiting;
  // Runs after each tick that did not end the wait. May be empty.
  std::function<void(const Task&)> on_tick;
  std::chrono::milliseconds tick = std::chrono::seconds(5);
  // Runs exactly once: the task as it is when the wait ends (final, timed out, stop_waiting, ended),
  // nullopt when the waiter may not see it (any more).
  std::function<void(std::optional<Task>)> done;
};

using WatchId = std::uint64_t;

// Thread-safe.
class TaskWatches {
 public:
  // How a watch reads its task: nullopt when `who` may not see it.
  using Find = std::function<std::optional<Task>(const auth::Identity&, const std::string&)>;

  explicit TaskWatches(Find find);
  // stop(), then joins the watcher and the callback pool.
  ~TaskWatches();
  TaskWatches(const TaskWatches&) = delete;
  TaskWatches& operator=(const TaskWatches&) = delete;

  // Starts a wait; it is checked at once (a task already final ends it on the pool right away).
  WatchId add(auth::Identity who, std::string task_id, Watch watch);
  // Ends a wait now (its done() runs with the task as it is). Unknown or ended ids are ignored.
  void end(WatchId id);
  // The task changed (state, progress, output): its watches are checked.
  void changed(const std::string& task_id);
  // Ends every wait; later add()s end at once.
  void stop();
  // Waits in progress (for tests and metrics).
  std::size_t size() const;

 private:
  struct Entry {
    auth::Identity who;
    std::string task_id;
    Watch watch;
    std::chrono::steady_clock::time_point deadline;
    std::chrono::steady_clock::time_point next_tick;
    bool busy = false;      // a check of it runs on the pool
    bool recheck = false;   // changed (or ended) while busy: check again when it returns
    bool ended = false;     // end() or stop(): the next check finishes it
  };
  enum class Check { kChange, kTick };

  void loop();
  // Schedules a check of `id` on the pool (mutex_ held).
  void schedule(WatchId id, Entry& entry, Check why);
  void run_check(WatchId id, Check why);

  Find find_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<WatchId, std::shared_ptr<Entry>> entries_;
  std::multimap<std::string, WatchId> by_task_;
  std::set<std::string> changed_;  // tasks changed since the watcher last looked
  WatchId next_id_ = 1;
  bool stopping_ = false;
  boost::asio::thread_pool callbacks_{2};
  std::thread watcher_;
};

}  // namespace coda::tasks
