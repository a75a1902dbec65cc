// The plugin entry: one transport component, dev.coda.transport.stdio.
#include <memory>
#include <string_view>

#include <coda/plugin.h>
#include <coda/plugin.hpp>

#include "stdio_transport.hpp"

#ifndef CODA_STDIO_VERSION
#define CODA_STDIO_VERSION "0.0.0"
#endif

namespace {

using coda::stdio::StdioConfig;
using coda::stdio::StdioTransport;

std::unique_ptr<StdioTransport> create(const coda_host_t* host, std::string_view config_json) {
  return std::make_unique<StdioTransport>(host, StdioConfig::parse(config_json));
}

}  // namespace

extern "C" CODA_EXPORT const coda_plugin_t* coda_plugin_entry_v1(void) {
  return coda::sdk::single_component_plugin<StdioTransport>(
      {"dev.coda.transport-stdio", "MCP over stdin/stdout", "dev.coda.transport.stdio",
       "MCP over stdin/stdout (newline-delimited JSON-RPC) for a local client", CODA_STDIO_VERSION},
      CODA_KIND_TRANSPORT, coda::sdk::transport_vtbl<StdioTransport, create>());
}
