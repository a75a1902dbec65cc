#include "session_table.hpp"

#include <cstdio>
#include <random>

namespace coda::mcp_http {

std::string SessionTable::create() {
  static thread_local std::random_device device;
  std::string id;
  for (int i = 0; i < 4; ++i) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(device()));
    id += buf;
  }
  std::lock_guard lock(mutex_);
  auto now = Clock::now();
  sweep(now);
  sessions_[id] = Session{now, false};
  return id;
}

bool SessionTable::touch(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  auto now = Clock::now();
  if (!it->second.stream_open && now - it->second.last_used > ttl_) {
    sessions_.erase(it);
    return false;
  }
  it->second.last_used = now;
  return true;
}

bool SessionTable::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  return sessions_.erase(id) > 0;
}

bool SessionTable::open_stream(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.stream_open) return false;
  it->second.stream_open = true;
  return true;
}

void SessionTable::close_stream(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  it->second.stream_open = false;
  it->second.last_used = Clock::now();
}

std::size_t SessionTable::size() {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

void SessionTable::sweep(Clock::time_point now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    bool expired = !it->second.stream_open && now - it->second.last_used > ttl_;
    it = expired ? sessions_.erase(it) : std::next(it);
  }
}

}  // namespace coda::mcp_http
