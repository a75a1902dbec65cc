// The plugin entry: one transport component, dev.coda.transport.mcp-http.
#include <memory>
#include <string_view>

#include <coda/plugin.h>
#include <coda/plugin.hpp>

#include "mcp_http_transport.hpp"

#ifndef CODA_MCP_HTTP_VERSION
#define CODA_MCP_HTTP_VERSION "0.0.0"
#endif

namespace {

using coda::mcp_http::HttpConfig;
using coda::mcp_http::McpHttpTransport;

std::unique_ptr<McpHttpTransport> create(const coda_host_t* host, std::string_view config_json) {
  return std::make_unique<McpHttpTransport>(host, HttpConfig::parse(config_json));
}

}  // namespace

extern "C" CODA_EXPORT const coda_plugin_t* coda_plugin_entry_v1(void) {
  return coda::sdk::single_component_plugin<McpHttpTransport>(
      {"dev.coda.transport-mcp-http", "MCP Streamable HTTP transport", "dev.coda.transport.mcp-http",
       "MCP Streamable HTTP (JSON or SSE replies, optional sessions)", CODA_MCP_HTTP_VERSION},
      CODA_KIND_TRANSPORT, coda::sdk::transport_vtbl<McpHttpTransport, create>());
}
