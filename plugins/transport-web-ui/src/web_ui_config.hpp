#pragma once

#include <string>
#include <string_view>

namespace coda::webui {

// The web UI transport's settings: its YAML subtree (`transports.<name>` minus `component`/`enabled`)
// as handed to create(). Every key is documented in docs/web-ui.md.
struct WebUiConfig {
  std::string ui_path = "/ui";    // the dashboard and its API (<ui_path>/api/...)
  std::string ws_path = "/ws";    // MCP over WebSocket
  std::string mcp_path = "/mcp";  // the Streamable HTTP endpoint the page falls back to
  bool redirect_root = true;      // "/" answers 302 to <ui_path>/
  std::string assets_dir;         // empty: the assets embedded in the plugin
  int ticket_ttl_s = 30;          // a WebSocket ticket must be redeemed within this
  int max_connections = 256;      // open WebSockets at once; more are refused with 503
  int max_calls_per_connection = 16;  // requests in flight on one WebSocket
  std::size_t max_message_bytes = 1u << 20;  // one text frame; larger closes the socket (1009)
  int poll_interval_ms = 1500;    // how often the page polls when it is in HTTP mode
  std::string frame_ancestors = "'none'";     // CSP frame-ancestors (who may embed the page)

  // Parses the component's config JSON ("{}" gives the defaults). Throws std::invalid_argument with
  // "transport-web-ui: <key>: <what is wrong>" for an unknown key, a wrong type or a bad value.
  static WebUiConfig parse(std::string_view json);
};

}  // namespace coda::webui
