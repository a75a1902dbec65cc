#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace coda::mcp_http {

enum class ResponseMode { kAuto, kJson, kSse };

// The component's configuration (its YAML subtree as JSON). Host and Origin are not among it: the
// host's listener checks both for every route (server.allowed_hosts, server.allowed_origins) and
// says in coda_http_request_t.cross_origin which callers get CORS headers.
//   path: /mcp                 where the endpoint is mounted
//   response_mode: auto        auto | json | sse (auto: SSE only when notifications arrive first)
//   sessions: false            issue Mcp-Session-Id on initialize and require it afterwards
//   session_ttl_s: 3600        an idle session expires after this
//   max_body_bytes: 4194304    a larger POST body is answered 413
//   keepalive_s: 15            a running call's response carries bytes at least this often
struct HttpConfig {
  std::string path = "/mcp";
  ResponseMode response_mode = ResponseMode::kAuto;
  bool sessions = false;
  int session_ttl_s = 3600;
  std::size_t max_body_bytes = 4u << 20;
  int keepalive_s = 15;

  // Parses the JSON config. Throws std::invalid_argument naming the key for unknown keys, wrong
  // types and bad values.
  static HttpConfig parse(std::string_view json);
};

}  // namespace coda::mcp_http
