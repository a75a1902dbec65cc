#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace coda::mcp_http {

// The Mcp-Session-Id sessions of one transport instance. Thread-safe.
class SessionTable {
 public:
  using Clock = std::chrono::steady_clock;
  explicit SessionTable(std::chrono::seconds ttl) : ttl_(ttl) {}

  // A new session id (128 random bits, hex).
  std::string create();
  // True when the session exists and has not expired; refreshes its idle timer. Expired sessions are
  // removed.
  bool touch(const std::string& id);
  // Removes the session; false when unknown (or expired).
  bool remove(const std::string& id);
  // Marks the session's GET stream as open; false when one is already open or the session is gone.
  bool open_stream(const std::string& id);
  void close_stream(const std::string& id);
  std::size_t size();

 private:
  struct Session {
    Clock::time_point last_used;
    bool stream_open = false;
  };
  void sweep(Clock::time_point now);  // mutex_ held

  std::mutex mutex_;
  std::chrono::seconds ttl_;
  std::map<std::string, Session> sessions_;
};

}  // namespace coda::mcp_http
