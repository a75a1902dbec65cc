#include "core/http/connection_tracker.hpp"

#include <Poco/Exception.h>

namespace coda::http {
namespace {
// How long a finished response gets to be flushed by Poco before a draining listener cuts it.
constexpr std::chrono::milliseconds kFinishGrace{200};
constexpr std::chrono::milliseconds kWatchInterval{100};
}  // namespace

ConnectionTracker::ConnectionTracker(std::chrono::milliseconds idle_timeout,
                                     std::chrono::milliseconds request_timeout)
    : idle_timeout_(idle_timeout), request_timeout_(request_timeout) {
  watcher_ = std::thread([this] { watch(); });
}

ConnectionTracker::~ConnectionTracker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  watcher_.join();
}

void ConnectionTracker::open(const Poco::Net::StreamSocket& socket) {
  std::lock_guard lock(mutex_);
  connections_[std::this_thread::get_id()] =
      Connection{socket, Phase::kIdle, std::chrono::steady_clock::now()};
  if (draining_) shutdown_socket(connections_[std::this_thread::get_id()]);
}

void ConnectionTracker::close() {
  {
    std::lock_guard lock(mutex_);
    connections_.erase(std::this_thread::get_id());
  }
  changed_.notify_all();
}

void ConnectionTracker::set_phase(Phase phase) {
  std::lock_guard lock(mutex_);
  auto it = connections_.find(std::this_thread::get_id());
  if (it == connections_.end()) return;
  it->second.phase = phase;
  if (draining_ && phase == Phase::kIdle) shutdown_socket(it->second);
  it->second.since = std::chrono::steady_clock::now();
}

bool ConnectionTracker::draining() const {
  std::lock_guard lock(mutex_);
  return draining_;
}

std::size_t ConnectionTracker::count() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

bool ConnectionTracker::expired(const Connection& c,
                                std::chrono::steady_clock::time_point now) const {
  auto age = now - c.since;
  switch (c.phase) {
    case Phase::kIdle:
      return draining_ || age > idle_timeout_ + request_timeout_;
    case Phase::kBody:
      return age > request_timeout_;
    case Phase::kFinishing:
      return draining_ ? age > kFinishGrace : age > idle_timeout_ + request_timeout_;
    case Phase::kHandling:
    case Phase::kUpgraded:
      return false;
  }
  return false;
}

void ConnectionTracker::shutdown_socket(Connection& c) {
  if (c.cut) return;
  c.cut = true;
  try {
    c.socket.shutdown();
  } catch (const Poco::Exception&) {
    // already closed by the peer
  }
}

void ConnectionTracker::watch() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    changed_.wait_for(lock, kWatchInterval);
    auto now = std::chrono::steady_clock::now();
    for (auto& [thread, c] : connections_) {
      if (!c.cut && expired(c, now)) shutdown_socket(c);
    }
  }
}

std::size_t ConnectionTracker::drain(std::chrono::milliseconds grace) {
  std::unique_lock lock(mutex_);
  draining_ = true;
  changed_.notify_all();
  bool empty = changed_.wait_for(lock, grace, [&] { return connections_.empty(); });
  if (empty) return 0;
  std::size_t cut = connections_.size();
  for (auto& [thread, c] : connections_) shutdown_socket(c);
  return cut;
}

}  // namespace coda::http
