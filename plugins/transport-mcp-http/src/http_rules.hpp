#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <coda/plugin.hpp>

// The HTTP-level rules of the Streamable HTTP transport, as pure functions (unit-tested without a
// host): content negotiation, Origin and Host validation, header parsing.
namespace coda::mcp_http {

// What an Accept header allows. An absent or empty header allows everything.
struct Accepts {
  bool json = false;  // application/json
  bool sse = false;   // text/event-stream
};
Accepts parse_accept(std::string_view accept);

// True when Content-Type names application/json (parameters such as charset allowed).
bool is_json_content_type(std::string_view content_type);

// The host name of a Host header value ("example.com:8000" -> "example.com", "[::1]:80" -> "::1"),
// lower-cased.
std::string host_of_host_header(std::string_view host);
// "scheme://host[:port]" of an Origin header, lower-cased and without a trailing slash; "" for
// "null" or anything unparsable.
std::string normalize_origin(std::string_view origin);
// The host part of a normalized origin ("http://[::1]:3000" -> "::1").
std::string host_of_origin(std::string_view normalized_origin);

// localhost, *.localhost, 127.0.0.0/8, ::1.
bool is_loopback_host(std::string_view host);
// The remote address (as "ip" or "ip:port", IPv6 possibly bracketed) is a loopback address.
bool is_loopback_address(std::string_view address);

// Origin allowlist: loopback origins always pass; `allowed` holds normalized origins, or "*" for any.
struct OriginPolicy {
  std::vector<std::string> allowed_origins;  // normalized
  std::vector<std::string> allowed_hosts;    // lower-cased host names (Host header check)
  // The Origin header value passes (an absent header passes: non-browser clients send none).
  bool origin_allowed(std::string_view origin_header) const;
  // The Origin is one of the configured origins (CORS headers are sent only for these).
  bool cors_origin(std::string_view origin_header) const;
  // The Host header passes: a loopback name, a configured host, or the host of a configured origin.
  // Checked only for requests that arrive from a loopback address (DNS rebinding targets local
  // servers); `remote_is_loopback` says whether this one did.
  bool host_allowed(std::string_view host_header, bool remote_is_loopback) const;
};

// One server-sent event carrying `data` (split on newlines into several data: lines).
std::string sse_event(std::string_view data);

// A JSON string literal of text (one home: the SDK).
using sdk::json_quote;

// A JSON-RPC error without id, as the body of an HTTP error response.
std::string http_error_body(int code, std::string_view message);

}  // namespace coda::mcp_http
