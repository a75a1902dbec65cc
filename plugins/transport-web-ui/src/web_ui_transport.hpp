#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <coda/plugin.h>

#include "static_assets.hpp"
#include "ticket_store.hpp"
#include "web_ui_config.hpp"
#include "ws_connection.hpp"

namespace coda::webui {

// The web UI transport (component dev.coda.transport.web-ui). Mounts on the host's listener:
//   "/"                          302 to <path>/ (when redirect_root)
//   <path>/...                   the dashboard's static files (GET/HEAD), with the security headers
//   <path>/api/config            GET: what the page needs to know (paths, poll interval, user, version)
//   <path>/api/ticket            POST: a single-use WebSocket ticket for the authenticated caller
//   <ws_path>?ticket=...         MCP over WebSocket, one JSON-RPC message per text frame
// The page is a plain MCP client of the same engine as /mcp; when the WebSocket cannot connect it
// falls back to POSTing JSON-RPC to <mcp_path>.
// Thread-safety: start() and stop() on the control thread; the routes on any thread.
class WebUiTransport {
 public:
  // Throws std::invalid_argument for an unusable configuration (e.g. assets_dir without index.html).
  WebUiTransport(const coda_host_t* host, WebUiConfig config);
  WebUiTransport(const WebUiTransport&) = delete;
  WebUiTransport& operator=(const WebUiTransport&) = delete;

  // Mounts the routes. Returns CODA_OK, or the host's status after set_error (the UI or WebSocket
  // path is taken). A taken "/" is only logged: the dashboard works without the redirect.
  coda_status_t start();
  // Closes every WebSocket, unmounts, cancels what still runs and waits for it.
  coda_status_t stop();

 private:
  static void handle_root(void* ctx, const coda_http_request_t* req, coda_http_response_t* resp);
  static void handle_ui(void* ctx, const coda_http_request_t* req, coda_http_response_t* resp);
  static void handle_ws(void* ctx, const coda_http_request_t* req, coda_http_response_t* resp);

  void serve_root(const coda_http_request_t* req, coda_http_response_t* resp);
  void serve_ui(const coda_http_request_t* req, coda_http_response_t* resp);
  void serve_ws(const coda_http_request_t* req, coda_http_response_t* resp);
  void serve_config(const coda_http_request_t* req, coda_http_response_t* resp);
  void serve_ticket(const coda_http_request_t* req, coda_http_response_t* resp);
  void serve_asset(const coda_http_request_t* req, coda_http_response_t* resp,
                   std::string_view relative);

  const coda_host_t* host_;
  const WebUiConfig config_;
  StaticAssets assets_;
  TicketStore tickets_;
  CallTracker calls_;
  coda_http_route_t root_route_{};
  coda_http_route_t ui_route_{};
  coda_http_route_t ws_route_{};
  std::vector<std::string> mounted_;

  std::mutex mutex_;  // guards the two members below
  bool stopping_ = false;
  std::set<std::shared_ptr<WsConnection>> connections_;
};

}  // namespace coda::webui
