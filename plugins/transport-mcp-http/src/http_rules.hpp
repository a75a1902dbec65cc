#pragma once

#include <string>
#include <string_view>

#include <coda/plugin.hpp>

// The HTTP-level rules of the Streamable HTTP transport, as pure functions (unit-tested without a
// host): content negotiation, header parsing, SSE framing. Host and Origin are the host listener's
// (core/http/origin_policy.hpp).
namespace coda::mcp_http {

// What an Accept header allows. An absent or empty header allows everything.
struct Accepts {
  bool json = false;  // application/json
  bool sse = false;   // text/event-stream
};
Accepts parse_accept(std::string_view accept);

// True when Content-Type names application/json (parameters such as charset allowed).
bool is_json_content_type(std::string_view content_type);

// One server-sent event carrying `data` (split on newlines into several data: lines).
std::string sse_event(std::string_view data);

// A JSON string literal of text (one home: the SDK).
using sdk::json_quote;

// A JSON-RPC error without id, as the body of an HTTP error response.
std::string http_error_body(int code, std::string_view message);

}  // namespace coda::mcp_http
