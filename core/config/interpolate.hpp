#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace coda::config {

// Looks up an environment variable; nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (getenv).
EnvLookup process_env();

// A scalar whose ${...} cannot be expanded; what() says why (the caller adds the location).
class InterpolationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Expands ${VAR} and ${VAR:-default} in `text`. ${VAR} of an unset variable is an error naming it;
// ${VAR:-default} uses the default when VAR is unset or empty (as the shell does), and the default
// may itself contain ${...}. `$${` is a literal `${`; any other `$` is kept as is. Variable names
// are [A-Za-z_][A-Za-z0-9_]*. Throws InterpolationError on a bad or unterminated reference.
std::string interpolate(std::string_view text, const EnvLookup& env);

}  // namespace coda::config
