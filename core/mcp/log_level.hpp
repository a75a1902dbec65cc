#pragma once

#include <optional>
#include <string_view>

#include "core/mcp/tool.hpp"

namespace coda::mcp {

// The MCP (RFC 5424) name of a level: "debug", "info", ..., "emergency".
std::string_view log_level_name(LogLevel level);
// The level with that name, or nullopt for any other text.
std::optional<LogLevel> parse_log_level(std::string_view name);

}  // namespace coda::mcp
