#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/auth/authenticator.hpp"
#include "core/util/redact.hpp"

// Handling of credentials: digests, comparison that does not leak timing, and redaction so that a
// token never reaches a log line or an error message. Thread-safe (pure functions).
namespace coda::auth {

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// True when a and b are equal. Takes the same time for every a, b of equal length (the length itself
// is not secret here: callers compare fixed-size digests).
bool constant_time_equal(std::string_view a, std::string_view b);

// The token of an "Authorization: Bearer <token>" header (scheme case-insensitive, surrounding
// whitespace trimmed). nullopt when the header is missing, has another scheme or an empty token.
std::optional<std::string> bearer_token(const RequestView& request);

// Redaction lives with the logger's dependencies (core/util): every log line passes through it.
using util::redact_secrets;

}  // namespace coda::auth
