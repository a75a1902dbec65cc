#pragma once

// A bound on how deeply untrusted JSON may nest, shared by the host and every plugin: one limit in
// one place, checked before any parser builds a tree. Header-only; thread-safe (pure functions).
#include <cstddef>
#include <string_view>

namespace coda::sdk {

// The deepest nesting of arrays and objects accepted in JSON from outside the host (JSON-RPC over
// every transport, agent output events, tool arguments). MCP messages need fewer than 10 levels;
// parsers recurse per level, so a 100 000-deep `[[[[...` must never reach one.
inline constexpr std::size_t kMaxJsonDepth = 64;

// True when `text` opens more than `max_depth` arrays/objects inside one another. A linear scan
// that skips string contents (escapes included) and allocates nothing, so it is safe on any input;
// it does not validate the JSON otherwise (the parser that follows does). Run it first to give the
// sender a clear reason: Poco's parser stops at its own depth with a message that names none.
inline bool json_nesting_exceeds(std::string_view text,
                                 std::size_t max_depth = kMaxJsonDepth) noexcept {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, whatever it is
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

}  // namespace coda::sdk
