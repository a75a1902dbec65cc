#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/util/listen_address.hpp"

namespace coda::auth {
class Authenticator;
}

namespace coda::metrics {
class TextWriter;
}

namespace coda::http {

class Router;
class ConnectionTracker;

// The listener could not be set up (address in use, bad TLS files). what() names the address.
class ListenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What /readyz answers: 503 while starting, 200 once every plugin started, 503 while shutting down.
enum class Readiness { kStarting, kReady, kDraining };

// The host's single HTTP listener (Poco TCPServer + HTTPServerConnection, a bounded worker pool,
// keep-alive). For every request, in order: header limits (431), the X-Request-Id (passed through when
// well-formed, else generated; echoed on the response), the built-in /healthz and /readyz,
// authentication (except public paths), the body (413 past the limit; read within the request
// timeout), then the longest-prefix route of the Router (404 when none). A slow client cannot hold a
// worker: see ConnectionTracker. With server.metrics "public", /metrics skips authentication. Every
// request is counted (RequestMetrics) and, with server.access_log, logged on logger coda.access; lines
// logged while a request is handled carry its request id (log::RequestScope).
//
// Thread-safe. The Router and the Authenticator must outlive the server.
class HttpServer {
 public:
  // Binds and listens at once (so the port is known) but accepts nothing until start(). Throws
  // ListenError with the address and the reason.
  HttpServer(const config::ServerConfig& config, Router& router, auth::Authenticator* authenticator);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Starts accepting connections.
  void start();
  // Uids that only agents use (agents.policy.run_as): a local connection from one of them is an
  // agent's, like one from a descendant of this process. Call before start().
  void set_agent_uids(std::vector<uid_t> uids);
  // The bound address (with the real port when 0 was asked for) and the URL clients use.
  const util::ListenAddress& address() const { return address_; }
  std::string url() const;

  // The listener's metrics: requests by method, route and status, latencies, open connections.
  void write_metrics(metrics::TextWriter& out) const;

  void set_readiness(Readiness readiness) { readiness_.store(readiness); }
  Readiness readiness() const { return readiness_.load(); }

  // Stops accepting, closes idle connections, lets in-flight requests finish for up to `grace`, then
  // cuts what is left and joins the workers. Idempotent.
  void stop(std::chrono::milliseconds grace);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  util::ListenAddress address_;
  bool tls_ = false;
  std::atomic<Readiness> readiness_{Readiness::kStarting};
};

}  // namespace coda::http
