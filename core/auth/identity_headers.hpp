#pragma once

#include <optional>
#include <string>

#include "core/auth/authenticator.hpp"

// The request headers that carry a credential or an identity (Authorization and the Databricks Apps
// proxy's X-Forwarded-*). Each must come at most once: with two values, "first wins" in one
// component and "last wins" in another (a proxy that appends its header after the client's) would
// let a caller choose who they are. Thread-safe (pure functions).
namespace coda::auth {

// The name (as spelled in the HTTP spec, e.g. "X-Forwarded-Email") of the first identity header
// that `request` carries more than once; nullopt when each comes at most once.
std::optional<std::string> repeated_identity_header(const RequestView& request);

}  // namespace coda::auth
