#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace coda::bridge {

// A token command that failed or printed no usable token. what() is safe to show: it names the
// program and its exit status or first error line, never a token.
class TokenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A token as printed by a token command.
struct ParsedToken {
  std::string value;
  std::optional<std::chrono::system_clock::time_point> expiry;  // absent: unknown
};

// Parses a token command's stdout: either a JSON object with "access_token" (and optionally
// "expiry" as RFC 3339 text or epoch seconds, or "expires_in" seconds from `now`) — the form of
// `databricks auth token` — or a bare token on the first non-empty line. Throws TokenError when there
// is no token.
ParsedToken parse_token_output(std::string_view output,
                               std::chrono::system_clock::time_point now =
                                   std::chrono::system_clock::now());

// Parses an RFC 3339 / ISO 8601 timestamp ("2026-01-02T03:04:05.123456789+01:00", "...Z").
// Returns nothing when the text is not one.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

// Bearer tokens from a command (e.g. `databricks auth token -p PROFILE`), run without a shell.
// The token is cached until kExpiryMargin before its expiry (kDefaultLifetime when the output says
// none); invalidate() forces the next token() to run the command again. Thread-safe: concurrent
// callers share one run of the command.
class TokenSource {
 public:
  static constexpr std::chrono::seconds kExpiryMargin{60};
  static constexpr std::chrono::seconds kDefaultLifetime{30 * 60};
  static constexpr std::chrono::seconds kMaxLifetime{24 * 3600};
  static constexpr std::chrono::seconds kCommandTimeout{60};

  // An empty argv means "no token": token() returns an empty token and no header is sent.
  explicit TokenSource(std::vector<std::string> argv);

  // The current token and its generation (a number that changes on every refresh). Runs the command
  // when nothing valid is cached. Throws TokenError when the command fails.
  struct Token {
    std::string value;
    std::uint64_t generation = 0;
  };
  Token token();
  // Drops the cached token if it is still the one of `generation` (so that several requests that
  // failed with the same token cause one refresh, not several).
  void invalidate(std::uint64_t generation);
  bool enabled() const { return !argv_.empty(); }
  // The program name, for messages.
  std::string program() const { return argv_.empty() ? std::string() : argv_.front(); }

 private:
  std::vector<std::string> argv_;
  std::mutex mutex_;
  std::string cached_;
  std::chrono::steady_clock::time_point valid_until_{};
  std::uint64_t generation_ = 0;
};

}  // namespace coda::bridge
