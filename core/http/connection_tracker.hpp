#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

#include <Poco/Net/StreamSocket.h>

namespace coda::http {

// Bounds how long a connection may hold a listener worker without doing useful work, and drains
// connections at shutdown. Poco's per-read timeouts alone let a client that sends one byte at a time
// hold a worker forever; this tracker gives every phase of a connection a deadline and shuts the
// socket down when it passes (the worker's blocked read then returns and the connection ends).
//
// Phases (set by the connection's own thread):
//   kIdle       waiting for or reading a request's headers: idle_timeout + request_timeout
//   kBody       the handler is reading the body: request_timeout
//   kHandling   a handler is running (it may stream for long: SSE): no deadline
//   kFinishing  the handler returned; Poco is completing the response: then back to idle
//   kUpgraded   a WebSocket: it has its own ping/idle handling: no deadline
//
// Thread-safe.
class ConnectionTracker {
 public:
  enum class Phase { kIdle, kBody, kHandling, kFinishing, kUpgraded };

  ConnectionTracker(std::chrono::milliseconds idle_timeout, std::chrono::milliseconds request_timeout);
  ~ConnectionTracker();
  ConnectionTracker(const ConnectionTracker&) = delete;
  ConnectionTracker& operator=(const ConnectionTracker&) = delete;

  // Registers the connection served by the calling thread (the thread is remembered: see current()).
  void open(const Poco::Net::StreamSocket& socket);
  // Unregisters the calling thread's connection; must be called before its socket is closed.
  void close();
  // Sets the calling thread's connection phase. No-op when the thread serves no connection.
  void set_phase(Phase phase);

  // Starts draining: from now on idle connections are shut down at once and the others as soon as
  // they finish their request. Waits until no connection is left or `grace` passed, then shuts down
  // every remaining socket. Returns the number of connections that had to be cut.
  std::size_t drain(std::chrono::milliseconds grace);
  bool draining() const;

  std::size_t count() const;

 private:
  struct Connection {
    Poco::Net::StreamSocket socket;
    Phase phase = Phase::kIdle;
    std::chrono::steady_clock::time_point since;
    bool cut = false;  // shut down already
  };
  void watch();
  bool expired(const Connection& c, std::chrono::steady_clock::time_point now) const;
  void shutdown_socket(Connection& c);

  const std::chrono::milliseconds idle_timeout_;
  const std::chrono::milliseconds request_timeout_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::thread::id, Connection> connections_;
  bool draining_ = false;
  bool stopping_ = false;
  std::thread watcher_;
};

}  // namespace coda::http
