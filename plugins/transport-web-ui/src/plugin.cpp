// The plugin entry: one transport component, dev.coda.transport.web-ui.
#include <memory>
#include <string_view>

#include <coda/plugin.h>
#include <coda/plugin.hpp>

#include "web_ui_config.hpp"
#include "web_ui_transport.hpp"

#ifndef CODA_WEBUI_VERSION
#define CODA_WEBUI_VERSION "0.0.0"
#endif

namespace {

using coda::webui::WebUiConfig;
using coda::webui::WebUiTransport;

std::unique_ptr<WebUiTransport> create(const coda_host_t* host, std::string_view config_json) {
  return std::make_unique<WebUiTransport>(host, WebUiConfig::parse(config_json));
}

}  // namespace

extern "C" CODA_EXPORT const coda_plugin_t* coda_plugin_entry_v1(void) {
  return coda::sdk::single_component_plugin<WebUiTransport>(
      {"dev.coda.transport-web-ui", "The CoDA web dashboard and MCP over WebSocket",
       "dev.coda.transport.web-ui",
       "Web dashboard with MCP over WebSocket (/ws) and HTTP polling fallback", CODA_WEBUI_VERSION},
      CODA_KIND_TRANSPORT, coda::sdk::transport_vtbl<WebUiTransport, create>());
}
