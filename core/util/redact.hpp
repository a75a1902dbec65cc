#pragma once

#include <string>
#include <string_view>

// Redaction of credentials, so that a token never reaches a log line or an error message. The logger
// applies it to every line (core/log). Thread-safe (a pure function).
namespace coda::util {

// `text` with credentials replaced by "[redacted]": the value after "Bearer " or "Basic ", the values
// of token-like keys (token=, access_token=, "token":..., secret=, password=), and anything shaped
// like a JWT (three base64url segments starting with "eyJ").
std::string redact_secrets(std::string_view text);

}  // namespace coda::util
