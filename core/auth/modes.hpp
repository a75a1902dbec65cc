#pragma once

#include <memory>

#include "core/auth/authenticator.hpp"
#include "core/config/config.hpp"

// The authenticators of the individual modes, before the shared policy (admins, rate limit) that
// Authenticator::create wraps around each. Internal to core/auth: everyone else calls create().
namespace coda::auth {

// Mode none: every request is Identity::local_user(); requires_loopback() is true.
std::unique_ptr<Authenticator> make_none_authenticator();

// Mode bearer: static tokens (SHA-256 digests, or read from an environment variable or a file).
// Throws config::ConfigError for an unusable token entry.
std::unique_ptr<Authenticator> make_bearer_authenticator(const config::AuthConfig& auth);

// Mode databricks-apps: identity from the X-Forwarded-* headers set by the Databricks Apps proxy.
std::unique_ptr<Authenticator> make_databricks_apps_authenticator(bool require_access_token);

// Mode oauth: JWT bearer tokens checked against a JWKS, issuer, audience and scopes.
// Throws config::ConfigError for an unusable auth.oauth section or JWKS file.
std::unique_ptr<Authenticator> make_oauth_authenticator(const config::AuthConfig& auth,
                                                        const config::ServerConfig& server);

}  // namespace coda::auth
