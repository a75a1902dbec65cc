#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/auth/authenticator.hpp"

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

// `text` with credentials replaced by "[redacted]": the value after "Bearer " or "Basic ", the values
// of token-like keys (token=, access_token=, "token":...), and anything shaped like a JWT
// (three base64url segments starting with "eyJ"). For log lines and error messages.
std::string redact_secrets(std::string_view text);

}  // namespace coda::auth
