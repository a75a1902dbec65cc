// The `mcp:` section: the MCP engine's server-wide settings.
#include "core/config/sections.hpp"

namespace coda::config {

void parse_mcp_section(Reader& section, McpConfig& mcp) {
  mcp.instructions = section.get_string("instructions", mcp.instructions);
  mcp.page_size = section.get<int>("page_size", mcp.page_size, 1, 10000);
  mcp.tool_threads = section.get<int>("tool_threads", mcp.tool_threads, 1, 256);
}

}  // namespace coda::config
