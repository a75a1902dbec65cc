#include "core/mcp/log_level.hpp"

#include <array>

namespace coda::mcp {
namespace {

constexpr std::array<std::string_view, 8> kNames = {"debug",    "info",  "notice", "warning",
                                                     "error",    "critical", "alert", "emergency"};

}  // namespace

std::string_view log_level_name(LogLevel level) {
  auto index = static_cast<std::size_t>(level);
  return index < kNames.size() ? kNames[index] : "info";
}

std::optional<LogLevel> parse_log_level(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<LogLevel>(i);
  }
  return std::nullopt;
}

}  // namespace coda::mcp
