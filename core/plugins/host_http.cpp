// The HTTP services of the host table: plugins mount routes on the host's single listener, answer
// requests (status, headers, buffered or streamed body) and run WebSockets.
#include <memory>
#include <string>
#include <vector>

#include "coda/plugin.hpp"
#include "core/http/exchange.hpp"
#include "core/http/router.hpp"
#include "core/log/logging.hpp"
#include "core/plugins/host_context.hpp"

// The opaque ABI handles are the host's objects.
struct coda_http_response_t {
  coda::http::Exchange* exchange;
  coda::plugins::HostContext* context;  // the plugin whose route answers
};
struct coda_ws_t {
  coda::http::WebSocketSession* session;
};

namespace coda::plugins {
namespace {

http::Router* router_of(const coda_host_t* host) {
  if (host == nullptr) return nullptr;
  HostContext* context = context_of(host);
  return context == nullptr || context->services == nullptr ? nullptr : context->services->router;
}

// A plugin's coda_http_route_t as a RouteHandler. The plugin keeps the route struct and ctx valid
// until http_unmount returns, which waits for running requests; copying the members is enough.
class PluginRoute final : public http::RouteHandler {
 public:
  PluginRoute(const coda_http_route_t& route, HostContext* context)
      : ctx_(route.ctx), handle_(route.handle), context_(context) {}

  void handle(http::Exchange& exchange) override {
    const http::RequestInfo& info = exchange.request();
    std::vector<coda_http_header_t> headers;
    headers.reserve(info.headers.size());
    for (const auto& [name, value] : info.headers) headers.push_back({sdk::str(name), sdk::str(value)});
    coda_http_request_t req{};
    req.struct_size = sizeof(coda_http_request_t);
    req.method = sdk::str(info.method);
    req.path = sdk::str(info.path);
    req.query = info.has_query ? sdk::str(info.query) : coda_str_t{nullptr, 0};
    req.remote_addr = sdk::str(info.remote_addr);
    req.identity_json = sdk::str(info.identity_json);
    req.headers = headers.data();
    req.header_count = headers.size();
    req.body = sdk::str(info.body);
    req.request_id = sdk::str(info.request_id);
    req.base_url = sdk::str(info.base_url);
    req.cross_origin = info.cross_origin ? 1u : 0u;
    coda_http_response_t resp{&exchange, context_};
    try {
      handle_(ctx_, &req, &resp);
    } catch (const std::exception& e) {
      log::get("plugins").error("plugin " + context_->plugin_id + ": route handler threw: " + e.what());
      exchange.send_error(500, "internal error");
    } catch (...) {
      log::get("plugins").error("plugin " + context_->plugin_id + ": route handler threw");
      exchange.send_error(500, "internal error");
    }
  }

 private:
  void* ctx_;
  void (*handle_)(void*, const coda_http_request_t*, coda_http_response_t*);
  HostContext* context_;
};

// A plugin's coda_ws_handler_t as a WebSocketListener.
class PluginWebSocket final : public http::WebSocketListener {
 public:
  PluginWebSocket(const coda_ws_handler_t& handler, HostContext* context)
      : handler_(handler), context_(context) {}

  void on_message(http::WebSocketSession& session, std::string_view text) override {
    if (handler_.on_message == nullptr) return;
    ws_.session = &session;
    try {
      handler_.on_message(handler_.ctx, &ws_, sdk::str(text));
    } catch (...) {
      log::get("plugins").error("plugin " + context_->plugin_id + ": on_message threw; closing");
      session.close(1011, "internal error");
    }
  }
  void on_close(http::WebSocketSession& session) override {
    ws_.session = &session;
    if (handler_.on_close == nullptr) return;
    try {
      handler_.on_close(handler_.ctx, &ws_);
    } catch (...) {
      log::get("plugins").error("plugin " + context_->plugin_id + ": on_close threw");
    }
  }
 private:
  coda_ws_handler_t handler_;
  HostContext* context_;
  coda_ws_t ws_{nullptr};
};

coda_status_t http_mount(const coda_host_t* host, coda_str_t path_prefix,
                         const coda_http_route_t* route) {
  try {
    http::Router* router = router_of(host);
    if (router == nullptr) {
      set_thread_error("http_mount: the HTTP listener is not running");
      return CODA_E_UNSUPPORTED;
    }
    if (!CODA_HAS(route, coda_http_route_t, handle) || route->handle == nullptr) {
      set_thread_error("http_mount: the route is missing or has no handle function");
      return CODA_E_INVALID;
    }
    HostContext* context = context_of(host);
    router->mount(sdk::copy(path_prefix), std::make_shared<PluginRoute>(*route, context), context);
    log::get("http").debug("plugin " + context->plugin_id + " mounted " + sdk::copy(path_prefix));
    return CODA_OK;
  } catch (const std::invalid_argument& e) {
    set_thread_error(std::string("http_mount: ") + e.what());
    return CODA_E_INVALID;
  } catch (const std::exception& e) {
    set_thread_error(std::string("http_mount: ") + e.what());
    return CODA_E_INTERNAL;
  }
}

void http_unmount(const coda_host_t* host, coda_str_t path_prefix) {
  try {
    if (http::Router* router = router_of(host)) router->unmount(sdk::view(path_prefix), context_of(host));
  } catch (...) {
  }
}

http::Exchange* exchange_of(coda_http_response_t* resp) {
  return resp == nullptr ? nullptr : resp->exchange;
}

void http_status(coda_http_response_t* resp, int32_t status) {
  try {
    if (auto* ex = exchange_of(resp)) ex->set_status(status);
  } catch (...) {
  }
}

void http_header(coda_http_response_t* resp, coda_str_t name, coda_str_t value) {
  try {
    if (auto* ex = exchange_of(resp)) ex->add_header(sdk::view(name), sdk::view(value));
  } catch (...) {
  }
}

coda_status_t http_write(coda_http_response_t* resp, coda_str_t bytes) {
  try {
    auto* ex = exchange_of(resp);
    if (ex == nullptr) return CODA_E_INVALID;
    if (ex->write(sdk::view(bytes))) return CODA_OK;
    set_thread_error("http_write: the client is gone");
    return CODA_E_STATE;
  } catch (const std::exception& e) {
    set_thread_error(std::string("http_write: ") + e.what());
    return CODA_E_IO;
  }
}

coda_status_t http_flush(coda_http_response_t* resp) {
  try {
    auto* ex = exchange_of(resp);
    if (ex == nullptr) return CODA_E_INVALID;
    if (ex->flush()) return CODA_OK;
    set_thread_error("http_flush: the client is gone");
    return CODA_E_STATE;
  } catch (const std::exception& e) {
    set_thread_error(std::string("http_flush: ") + e.what());
    return CODA_E_IO;
  }
}

coda_status_t http_upgrade(coda_http_response_t* resp, const coda_ws_handler_t* handler) {
  try {
    auto* ex = exchange_of(resp);
    if (ex == nullptr || !CODA_HAS(handler, coda_ws_handler_t, on_close)) {
      set_thread_error("http_upgrade: missing response or handler");
      return CODA_E_INVALID;
    }
    if (!ex->is_websocket_upgrade()) {
      set_thread_error("http_upgrade: the request is no WebSocket upgrade");
      return CODA_E_INVALID;
    }
    if (ex->headers_sent()) {
      set_thread_error("http_upgrade: a response was already started");
      return CODA_E_STATE;
    }
    PluginWebSocket listener(*handler, resp->context);
    ex->run_websocket(listener);
    return CODA_OK;
  } catch (const Poco::Exception& e) {
    set_thread_error("http_upgrade: handshake failed: " + e.displayText());
    return CODA_E_INVALID;
  } catch (const std::exception& e) {
    set_thread_error(std::string("http_upgrade: ") + e.what());
    return CODA_E_INTERNAL;
  }
}

coda_status_t ws_send(coda_ws_t* ws, coda_str_t text) {
  try {
    if (ws == nullptr || ws->session == nullptr) return CODA_E_INVALID;
    if (ws->session->send(sdk::view(text))) return CODA_OK;
    set_thread_error("ws_send: the socket is closed");
    return CODA_E_STATE;
  } catch (const std::exception& e) {
    set_thread_error(std::string("ws_send: ") + e.what());
    return CODA_E_IO;
  }
}

void ws_close(coda_ws_t* ws, int32_t code) {
  try {
    if (ws != nullptr && ws->session != nullptr) ws->session->close(code);
  } catch (...) {
  }
}

}  // namespace

void fill_http_services(coda_host_t& table) {
  table.http_mount = http_mount;
  table.http_unmount = http_unmount;
  table.http_status = http_status;
  table.http_header = http_header;
  table.http_write = http_write;
  table.http_flush = http_flush;
  table.http_upgrade = http_upgrade;
  table.ws_send = ws_send;
  table.ws_close = ws_close;
}

}  // namespace coda::plugins
