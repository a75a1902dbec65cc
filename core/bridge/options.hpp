#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/bridge/http_endpoint.hpp"

namespace coda::bridge {

// A bridge that cannot start; what() is one line telling the user what to pass.
class UsageError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

inline constexpr double kDefaultTimeoutSeconds = 120;

// Everything `coda bridge` needs, resolved and validated.
struct Options {
  Url url;
  std::vector<std::string> token_command;  // argv; empty: no Authorization header
  Headers headers;                         // extra headers sent with every request
  std::chrono::milliseconds timeout{static_cast<long>(kDefaultTimeoutSeconds * 1000)};
};

// The command-line values as given (empty when not given).
struct RawOptions {
  std::string url;
  std::string token_command;
  std::vector<std::string> headers;  // "Name: value"
  double timeout_s = kDefaultTimeoutSeconds;
};

// Reads a variable of the environment (nullopt when unset).
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_environment();

// Resolves the options: the URL from --url or CODA_MCP_URL; the token command from --token-command,
// else `databricks auth token -p $DATABRICKS_PROFILE` when DATABRICKS_PROFILE is set, else none; the
// headers split at their first ':'. Throws UsageError (no URL, a bad URL, a bad header, a bad
// command line, a timeout that is not positive).
Options resolve_options(const RawOptions& raw, const EnvLookup& env);

}  // namespace coda::bridge
