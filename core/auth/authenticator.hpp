#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/auth/identity.hpp"
#include "core/config/config.hpp"

// Authentication of HTTP requests. The listener calls authenticate() for every request before it is
// routed; the identity it returns is attached to the request (coda_http_request_t.identity_json) and
// from there to every MCP message. Identity never comes from a tool argument.
namespace coda::auth {

// What the authenticator sees of a request. Header names are lower-cased.
struct RequestView {
  std::string method;
  std::string path;
  std::string remote_addr;
  std::multimap<std::string, std::string> headers;
  std::optional<std::string> header(const std::string& lower_name) const;
};

// The outcome: either an identity, or a refusal to send as is.
struct AuthResult {
  std::optional<Identity> identity;
  int status = 401;  // 401 unauthenticated, 403 forbidden/insufficient scope, 429 rate limited
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. WWW-Authenticate, Retry-After
  std::string message;  // safe to show: never contains a token
  bool ok() const { return identity.has_value(); }
  static AuthResult allow(Identity identity);
  static AuthResult deny(int status, std::string message);
};

// A response the authenticator itself serves on a public path (the OAuth protected-resource metadata),
// sent as is without authentication.
struct PublicResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Thread-safe.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual AuthResult authenticate(const RequestView& request) = 0;
  // Paths served without authentication (health, OAuth metadata).
  virtual bool is_public_path(const std::string& path) const = 0;
  // The mode's name ("none", "bearer", ...).
  virtual std::string mode() const = 0;

  // True when this mode trusts every caller (mode none): the host must then refuse to listen on
  // anything but a loopback address.
  virtual bool requires_loopback() const { return false; }
  // For a public path this authenticator answers itself (RFC 9728 metadata in mode oauth): the
  // response to send. nullopt: route the request as usual (e.g. /healthz). Never throws.
  virtual std::optional<PublicResponse> serve_public(const RequestView& request) const {
    (void)request;
    return std::nullopt;
  }

  // The authenticator for the configured mode. Throws config::ConfigError for an unusable config.
  static std::unique_ptr<Authenticator> create(const config::AuthConfig& auth,
                                               const config::ServerConfig& server);
};

}  // namespace coda::auth
