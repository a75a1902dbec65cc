// The plugin entry: one transport component, dev.coda.transport.mcp-http.
#include <memory>

#include <coda/plugin.h>
#include <coda/plugin.hpp>

#include "mcp_http_transport.hpp"

#ifndef CODA_MCP_HTTP_VERSION
#define CODA_MCP_HTTP_VERSION "0.0.0"
#endif

namespace {

using coda::mcp_http::HttpConfig;
using coda::mcp_http::McpHttpTransport;

struct Instance {
  const coda_host_t* host;
  std::unique_ptr<McpHttpTransport> transport;
};

void* transport_create(const coda_host_t* host, coda_str_t config_json) {
  return coda::sdk::barrier(host, static_cast<void*>(nullptr), [&]() -> void* {
    auto instance = std::make_unique<Instance>();
    instance->host = host;
    instance->transport =
        std::make_unique<McpHttpTransport>(host, HttpConfig::parse(coda::sdk::view(config_json)));
    return instance.release();
  });
}

coda_status_t transport_start(void* self) {
  auto* instance = static_cast<Instance*>(self);
  return coda::sdk::barrier(instance->host, coda_status_t{CODA_E_INTERNAL},
                            [&] { return instance->transport->start(); });
}

coda_status_t transport_stop(void* self) {
  auto* instance = static_cast<Instance*>(self);
  return coda::sdk::barrier(instance->host, coda_status_t{CODA_E_INTERNAL},
                            [&] { return instance->transport->stop(); });
}

void transport_destroy(void* self) {
  auto* instance = static_cast<Instance*>(self);
  coda::sdk::barrier_void(instance->host, [&] { delete instance; });
}

const coda_transport_vtbl_t kTransportVtbl = {sizeof(coda_transport_vtbl_t), transport_create,
                                              transport_start, transport_stop, transport_destroy};

const coda_component_t kComponents[] = {
    {sizeof(coda_component_t), CODA_KIND_TRANSPORT, "dev.coda.transport.mcp-http",
     CODA_MCP_HTTP_VERSION, "MCP Streamable HTTP (JSON or SSE replies, optional sessions)",
     &kTransportVtbl}};

coda_status_t plugin_init(const coda_host_t* host) {
  if (host->abi_major != CODA_ABI_MAJOR) return CODA_E_UNSUPPORTED;
  return CODA_OK;
}

uint32_t plugin_component_count() {
  return static_cast<uint32_t>(sizeof(kComponents) / sizeof(kComponents[0]));
}

const coda_component_t* plugin_component_at(uint32_t index) {
  return index < plugin_component_count() ? &kComponents[index] : nullptr;
}

void plugin_deinit() {}

const coda_plugin_t kPlugin = {sizeof(coda_plugin_t),
                               CODA_ABI_MAJOR,
                               CODA_ABI_MINOR,
                               static_cast<uint32_t>(sizeof(void*)),
                               "dev.coda.transport-mcp-http",
                               CODA_MCP_HTTP_VERSION,
                               "MCP Streamable HTTP transport",
                               plugin_init,
                               plugin_component_count,
                               plugin_component_at,
                               plugin_deinit};

}  // namespace

extern "C" CODA_EXPORT const coda_plugin_t* coda_plugin_entry_v1(void) { return &kPlugin; }
