#include "core/tasks/task_watches.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>

namespace coda::tasks {

using Clock = std::chrono::steady_clock;

TaskWatches::TaskWatches(Find find) : find_(std::move(find)) {
  watcher_ = std::thread([this] { loop(); });
}

TaskWatches::~TaskWatches() {
  stop();
  {
    std::lock_guard lock(mutex_);
    wake_.notify_all();
  }
  if (watcher_.joinable()) watcher_.join();
  callbacks_.join();
}

WatchId TaskWatches::add(auth::Identity who, std::string task_id, Watch watch) {
  auto entry = std::make_shared<Entry>();
  auto now = Clock::now();
  entry->deadline = now + watch.timeout;
  entry->next_tick = now + std::max(watch.tick, std::chrono::milliseconds(10));
  entry->who = std::move(who);
  entry->task_id = std::move(task_id);
  entry->watch = std::move(watch);
  std::lock_guard lock(mutex_);
  WatchId id = next_id_++;
  entry->ended = stopping_;
  entries_.emplace(id, entry);
  by_task_.emplace(entry->task_id, id);
  schedule(id, *entry, Check::kChange);  // the first look: the task may be final already
  wake_.notify_all();
  return id;
}

void TaskWatches::end(WatchId id) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second->ended) return;
  it->second->ended = true;
  if (it->second->busy) {
    it->second->recheck = true;
  } else {
    schedule(id, *it->second, Check::kChange);
  }
}

void TaskWatches::changed(const std::string& task_id) {
  std::lock_guard lock(mutex_);
  if (by_task_.count(task_id) == 0) return;
  changed_.insert(task_id);
  wake_.notify_all();
}

void TaskWatches::stop() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  for (auto& [id, entry] : entries_) {
    if (entry->ended) continue;
    entry->ended = true;
    if (entry->busy) {
      entry->recheck = true;
    } else {
      schedule(id, *entry, Check::kChange);
    }
  }
  wake_.notify_all();
}

std::size_t TaskWatches::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void TaskWatches::schedule(WatchId id, Entry& entry, Check why) {
  entry.busy = true;
  boost::asio::post(callbacks_, [this, id, why] { run_check(id, why); });
}

void TaskWatches::loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    for (const auto& task_id : changed_) {
      auto [begin, end] = by_task_.equal_range(task_id);
      for (auto it = begin; it != end; ++it) {
        auto& entry = *entries_.at(it->second);
        if (entry.busy) {
          entry.recheck = true;
        } else {
          schedule(it->second, entry, Check::kChange);
        }
      }
    }
    changed_.clear();
    auto now = Clock::now();
    auto next = Clock::time_point::max();
    for (auto& [id, entry] : entries_) {
      if (entry->busy) continue;  // its check reschedules it (and wakes us) when it returns
      if (now >= entry->deadline || now >= entry->next_tick) {
        while (entry->next_tick <= now) entry->next_tick += entry->watch.tick;
        schedule(id, *entry, Check::kTick);
        continue;
      }
      next = std::min({next, entry->deadline, entry->next_tick});
    }
    if (stopping_ && entries_.empty()) return;
    auto ready = [this] { return !changed_.empty() || (stopping_ && entries_.empty()); };
    if (next == Clock::time_point::max()) {
      // Nothing due: a change, an add (which notifies) or a check returning wakes us.
      wake_.wait(lock);
    } else {
      wake_.wait_until(lock, next, ready);
    }
  }
}

void TaskWatches::run_check(WatchId id, Check why) {
  std::shared_ptr<Entry> entry;
  bool ended;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    entry = it->second;
    ended = entry->ended;
  }
  std::optional<Task> task;
  bool finish = ended;
  try {
    task = find_(entry->who, entry->task_id);
    finish = finish || !task || is_final(task->state) || Clock::now() >= entry->deadline ||
             (entry->watch.stop_waiting && entry->watch.stop_waiting());
    if (!finish && why == Check::kTick && entry->watch.on_tick) entry->watch.on_tick(*task);
  } catch (...) {
    finish = true;  // the store failed: the waiter gets what there is (done() reads it again)
  }
  {
    std::lock_guard lock(mutex_);
    if (finish) {
      entries_.erase(id);
      auto [begin, end] = by_task_.equal_range(entry->task_id);
      for (auto it = begin; it != end; ++it) {
        if (it->second == id) {
          by_task_.erase(it);
          break;
        }
      }
    } else {
      entry->busy = false;
      if (entry->recheck) {
        entry->recheck = false;
        schedule(id, *entry, Check::kChange);
      }
    }
    wake_.notify_all();
  }
  if (finish && entry->watch.done) {
    try {
      entry->watch.done(std::move(task));
    } catch (...) {
      // done() answers its caller; a failure there is its own to report.
    }
  }
}

}  // namespace coda::tasks
