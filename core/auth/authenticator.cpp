#include "core/auth/authenticator.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/auth/identity_headers.hpp"
#include "core/auth/modes.hpp"
#include "core/auth/rate_limiter.hpp"

namespace coda::auth {

std::optional<std::string> RequestView::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

AuthResult AuthResult::allow(Identity identity) {
  AuthResult result;
  result.identity = std::move(identity);
  result.status = 200;
  return result;
}

AuthResult AuthResult::deny(int status, std::string message) {
  AuthResult result;
  result.status = status;
  result.message = std::move(message);
  return result;
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The policy every mode shares, around the mode's own authenticator: the health endpoints are
// public, configured admins get the admin flag, and each identity (and, for refused requests, each
// remote address, in a limiter of its own) is rate limited. Thread-safe: the inner authenticator
// and the limiter are.
class PolicyAuthenticator final : public Authenticator {
 public:
  PolicyAuthenticator(std::unique_ptr<Authenticator> inner, const config::AuthConfig& auth)
      : inner_(std::move(inner)),
        limiter_(auth.rate_per_s, auth.burst),
        refused_(auth.refused_rate_per_s, auth.refused_burst) {
    for (const auto& admin : auth.admins) admins_.insert(lower(admin));
  }

  AuthResult authenticate(const RequestView& request) override {
    AuthResult result = identify(request);
    // Refused requests count against the caller's IP address, not ip:port (the listener closes the
    // connection after a refusal, so a port-keyed bucket would be new for every guess), in a
    // limiter of their own that is on by default: guessing a credential stays slow whatever
    // rate_per_s is.
    RateLimiter& limiter = result.ok() ? limiter_ : refused_;
    std::string key = result.ok() ? "id:" + result.identity->subject
                                  : "addr:" + client_address_key(request.remote_addr);
    if (int retry_after = limiter.try_acquire(key); retry_after > 0) {
      AuthResult limited = AuthResult::deny(
          429, "Too many requests: retry after " + std::to_string(retry_after) + " s.");
      limited.headers.emplace_back("Retry-After", std::to_string(retry_after));
      return limited;
    }
    if (result.ok()) {
      Identity& id = *result.identity;
      if (admins_.count(lower(id.subject)) ||
          (!id.email.empty() && admins_.count(lower(id.email)))) {
        id.admin = true;
      }
    }
    return result;
  }

  bool is_public_path(const std::string& path) const override {
    return path == "/healthz" || path == "/readyz" || inner_->is_public_path(path);
  }
  std::string mode() const override { return inner_->mode(); }
  bool requires_loopback() const override { return inner_->requires_loopback(); }
  std::optional<PublicResponse> serve_public(const RequestView& request) const override {
    return inner_->serve_public(request);
  }

 private:
  // The mode's verdict on the request. Repeated identity headers are refused before any mode reads
  // them: a mode never picks one of two identities.
  AuthResult identify(const RequestView& request) {
    if (auto repeated = repeated_identity_header(request)) {
      return AuthResult::deny(
          400, "The " + *repeated + " header is sent more than once: send it exactly once.");
    }
    try {
      return inner_->authenticate(request);
    } catch (const std::exception&) {
      // A mode must not throw; if one does, the request is refused, never let in. No detail: it
      // could quote a credential.
      return AuthResult::deny(401, "Authentication failed.");
    }
  }

  std::unique_ptr<Authenticator> inner_;
  std::set<std::string> admins_;  // lower-cased subjects and emails
  RateLimiter limiter_;           // accepted requests, per identity (auth.rate_per_s)
  RateLimiter refused_;           // refused requests, per client address (auth.refused_rate_per_s)
};

}  // namespace

std::unique_ptr<Authenticator> Authenticator::create(const config::AuthConfig& auth,
                                                     const config::ServerConfig& server) {
  std::unique_ptr<Authenticator> inner;
  if (auth.mode == "none") {
    inner = make_none_authenticator();
  } else if (auth.mode == "bearer") {
    inner = make_bearer_authenticator(auth);
  } else if (auth.mode == "databricks-apps") {
    inner = make_databricks_apps_authenticator(auth.require_access_token);
  } else if (auth.mode == "oauth") {
    inner = make_oauth_authenticator(auth, server);
  } else {
    throw config::ConfigError(
        auth.where, "auth.mode",
        "unknown mode '" + auth.mode + "': expected none, bearer, databricks-apps or oauth");
  }
  return std::make_unique<PolicyAuthenticator>(std::move(inner), auth);
}

}  // namespace coda::auth
