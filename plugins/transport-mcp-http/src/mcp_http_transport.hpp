#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <coda/plugin.h>

#include "http_config.hpp"
#include "session_table.hpp"

namespace coda::mcp_http {

// The Streamable HTTP transport (MCP 2025-11-25, down to 2024-11-05) on the host's listener: POST
// carries one JSON-RPC message (or a 2025-03-26 batch) to the host's engine; the reply comes back as
// application/json, or as text/event-stream when the client accepts it and notifications arrive
// before the response (response_mode auto), always (sse) or never (json). Optional sessions add
// Mcp-Session-Id, GET streams and DELETE. Host and Origin reach it already checked by the host's
// listener; it answers configured cross-origin callers (coda_http_request_t.cross_origin) with CORS.
// Thread-safe: handle() runs on any number of listener threads.
class McpHttpTransport {
 public:
  McpHttpTransport(const coda_host_t* host, HttpConfig config);
  ~McpHttpTransport();

  // Mounts the route at config.path.
  coda_status_t start();
  // Wakes every waiting request and stream, then unmounts (the host waits for running handles).
  coda_status_t stop();

  // The route's handler.
  void handle(const coda_http_request_t* req, coda_http_response_t* resp);

 private:
  class Request;
  void handle_post(Request& r);
  void handle_get(Request& r);
  void handle_delete(Request& r);
  // A JSON error body with an HTTP status (and the CORS headers of the request).
  void reply_error(Request& r, int status, int code, const std::string& message);
  std::string origin_json(const Request& r, const std::string& session_id,
                          const std::string& version) const;

  const coda_host_t* host_;
  HttpConfig config_;
  coda_http_route_t route_{};
  SessionTable sessions_;
  std::atomic<bool> stopping_{false};
  bool mounted_ = false;
};

}  // namespace coda::mcp_http
