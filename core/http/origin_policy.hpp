#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The listener's one Host/Origin policy: which Host and Origin headers a request may carry to reach
// any route (/mcp, /ui, /ws, /metrics, every plugin's). It is what stops DNS rebinding (a foreign name
// resolving to this host's loopback address) and cross-site requests from a page the user visits
// riding on the user's local or ambient credentials. Pure functions plus one immutable class, so the
// rules are unit-tested without a listener (tests/unit/http/origin_policy_test.cpp).
namespace coda::http {

// The host of a Host header value (or any "host[:port]" authority), lower-cased, without the port
// and without IPv6 brackets: "Example.com:8000" -> "example.com", "[::1]:80" -> "::1". "" for an empty
// value.
std::string host_of_authority(std::string_view authority);

// An Origin header value as "scheme://host[:port]", lower-cased, without a trailing slash and
// without the scheme's default port (http 80, https 443, so "https://a.example:443" equals
// "https://a.example"). "" for "null" and for anything that is not scheme://authority (a path, a
// missing host, spaces inside).
std::string normalize_origin(std::string_view origin);

// The host part of a normalized origin ("http://[::1]:3000" -> "::1"); "" when there is none.
std::string host_of_origin(std::string_view normalized_origin);

// A name only this machine resolves to itself: localhost and *.localhost (RFC 6761), 127.0.0.0/8
// written as four decimal parts, ::1 (brackets removed). Case-insensitive.
bool is_loopback_name(std::string_view host);

// What the policy decided about one request.
struct OriginVerdict {
  bool allowed = true;
  // Why it was refused: a sentence for the 403 body and the log, naming the header, its value
  // (shortened) and the configuration key that would admit it. Empty when allowed.
  std::string reason;
  // The Origin is one the admin configured in server.allowed_origins (or "*"): a cross-origin caller
  // that routes answer with CORS headers. False without an Origin, and for loopback and same-origin
  // pages, which need no CORS.
  bool cross_origin = false;
};

// The request headers the policy reads, each as sent (the first value; `*_count` how many fields of
// that name came: a duplicate Host or Origin is refused, since two parsers may pick different ones).
struct OriginRequest {
  std::string_view host;
  int host_count = 0;
  std::string_view origin;
  int origin_count = 0;
  std::string_view forwarded_host;  // X-Forwarded-Host, first of a comma list
};

// Collects OriginRequest's fields from headers as the listener read them (names compared
// case-insensitively). The views point into `headers`, which must outlive the result.
OriginRequest origin_request_of(const std::vector<std::pair<std::string, std::string>>& headers);

// The rules (see docs/security.md, "DNS rebinding"):
// - Host: when the listener is bound to a loopback address, or when server.allowed_hosts is not
//   empty, the Host header must name a loopback host (is_loopback_name) or one of allowed_hosts.
//   A listener on another address without allowed_hosts checks no Host: a proxy in front of it (the
//   Databricks Apps proxy) sends a Host of its own choosing.
// - Origin (only when the header is present; non-browser clients send none): allowed when it is one
//   of allowed_origins ("*": any, accepted by the config only with authentication on), a loopback
//   origin while the listener is bound to loopback, or the request's own origin (scheme://Host or
//   scheme://X-Forwarded-Host, under either scheme) once Host passed or was not checked.
//   "null" (sandboxed frames, file: pages) and unparsable values are refused.
// Immutable after construction; check() is safe to call from any number of threads.
class OriginPolicy {
 public:
  // `allowed_hosts`: host names (a port, if any, is ignored), compared case-insensitively.
  // `allowed_origins`: origins as normalize_origin() accepts them, or "*". Entries that do not
  // normalize throw std::invalid_argument (the config loader refuses them first, with file:line).
  OriginPolicy(bool loopback_listener, std::vector<std::string> allowed_hosts,
               std::vector<std::string> allowed_origins);

  OriginVerdict check(const OriginRequest& request) const;

  bool loopback_listener() const { return loopback_listener_; }

 private:
  bool host_allowed(std::string_view host) const;

  bool loopback_listener_;
  std::vector<std::string> allowed_hosts_;    // lower-cased host names
  std::vector<std::string> allowed_origins_;  // normalized
  bool any_origin_ = false;                   // "*" was configured
};

}  // namespace coda::http
