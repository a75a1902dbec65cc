#include "web_ui_transport.hpp"

#include <coda/plugin.hpp>

#include "http_helpers.hpp"

#ifndef CODA_WEBUI_VERSION
#define CODA_WEBUI_VERSION "0.0.0"
#endif

namespace coda::webui {
namespace {

constexpr std::size_t kMaxOutstandingTickets = 4096;

bool is_read(std::string_view method) { return method == "GET" || method == "HEAD"; }

}  // namespace

WebUiTransport::WebUiTransport(const coda_host_t* host, WebUiConfig config)
    : host_(host),
      config_(std::move(config)),
      assets_(config_.assets_dir),
      tickets_(std::chrono::seconds(config_.ticket_ttl_s), kMaxOutstandingTickets) {
  for (coda_http_route_t* route : {&root_route_, &ui_route_, &ws_route_}) {
    *route = sdk::make<coda_http_route_t>();
    route->ctx = this;
  }
  root_route_.handle = &WebUiTransport::handle_root;
  ui_route_.handle = &WebUiTransport::handle_ui;
  ws_route_.handle = &WebUiTransport::handle_ws;
}

coda_status_t WebUiTransport::start() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  for (const auto& [path, route] : {std::pair{config_.ui_path, &ui_route_},
                                   std::pair{config_.ws_path, &ws_route_}}) {
    const coda_status_t status = host_->http_mount(host_, sdk::str(path), route);
    if (status != CODA_OK) {
      const std::string why = sdk::copy(host_->last_error(host_));
      stop();
      host_->set_error(host_, sdk::str("web-ui: cannot mount " + path + ": " + why));
      return status;
    }
    mounted_.push_back(path);
  }
  if (config_.redirect_root) {
    if (host_->http_mount(host_, sdk::str("/"), &root_route_) == CODA_OK) {
      mounted_.push_back("/");
    } else {
      sdk::log(host_, CODA_LOG_WARN,
               "web-ui: \"/\" is taken (" + sdk::copy(host_->last_error(host_)) +
                   "); the dashboard is at " + config_.ui_path + "/ without a redirect");
    }
  }
  sdk::log(host_, CODA_LOG_INFO,
           "web-ui: dashboard at " + config_.ui_path + "/, MCP over WebSocket at " +
               config_.ws_path + (config_.assets_dir.empty() ? "" : ", assets from " +
                                                                        config_.assets_dir));
  return CODA_OK;
}

coda_status_t WebUiTransport::stop() {
  std::set<std::shared_ptr<WsConnection>> open;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    open = connections_;
  }
  for (const auto& connection : open) connection->close(1001);
  for (auto it = mounted_.rbegin(); it != mounted_.rend(); ++it) {
    host_->http_unmount(host_, sdk::str(*it));  // waits for running handlers (the sockets above)
  }
  mounted_.clear();
  calls_.wait_idle();  // closed sockets cancelled their calls; their final replies are on the way
  return CODA_OK;
}

void WebUiTransport::handle_root(void* ctx, const coda_http_request_t* req,
                                 coda_http_response_t* resp) {
  auto* self = static_cast<WebUiTransport*>(ctx);
  sdk::barrier_void(self->host_, [&] { self->serve_root(req, resp); });
}

void WebUiTransport::handle_ui(void* ctx, const coda_http_request_t* req,
                               coda_http_response_t* resp) {
  auto* self = static_cast<WebUiTransport*>(ctx);
  sdk::barrier_void(self->host_, [&] { self->serve_ui(req, resp); });
}

void WebUiTransport::handle_ws(void* ctx, const coda_http_request_t* req,
                               coda_http_response_t* resp) {
  auto* self = static_cast<WebUiTransport*>(ctx);
  sdk::barrier_void(self->host_, [&] { self->serve_ws(req, resp); });
}

void WebUiTransport::serve_root(const coda_http_request_t* req, coda_http_response_t* resp) {
  RequestView request(req);
  ResponseWriter out(host_, resp);
  out.security_headers(config_.frame_ancestors);
  // "/" is the longest-prefix fallback for every unmounted path: only "/" itself redirects.
  if (request.path() != "/") {
    out.send(404, "text/plain; charset=utf-8", "not found\n");
    return;
  }
  if (!is_read(request.method())) {
    out.header("Allow", "GET, HEAD");
    out.send(405, "text/plain; charset=utf-8", "method not allowed\n");
    return;
  }
  out.header("Location", config_.ui_path + "/");
  out.send(302, "text/plain; charset=utf-8", "");
}

void WebUiTransport::serve_ui(const coda_http_request_t* req, coda_http_response_t* resp) {
  RequestView request(req);
  ResponseWriter out(host_, resp);
  out.security_headers(config_.frame_ancestors);
  std::string_view rest = request.path().substr(config_.ui_path.size());
  if (rest.empty()) {
    std::string location = config_.ui_path + "/";
    if (req->query.len > 0) location += "?" + sdk::copy(req->query);
    out.header("Location", location);
    out.send(is_read(request.method()) ? 301 : 308, "text/plain; charset=utf-8", "");
    return;
  }
  rest.remove_prefix(1);  // the '/'
  if (rest == "api/ticket") return serve_ticket(req, resp);
  if (rest == "api/config") return serve_config(req, resp);
  if (rest.rfind("api/", 0) == 0 || rest == "api") {
    out.send_json_error(404, "no such web UI API: " + std::string(request.path()));
    return;
  }
  serve_asset(req, resp, rest);
}

void WebUiTransport::serve_asset(const coda_http_request_t* req, coda_http_response_t* resp,
                                 std::string_view relative) {
  RequestView request(req);
  ResponseWriter out(host_, resp);
  if (!is_read(request.method())) {
    out.header("Allow", "GET, HEAD");
    out.send(405, "text/plain; charset=utf-8", "method not allowed\n");
    return;
  }
  std::optional<Asset> asset = assets_.find(relative);
  if (!asset) {
    out.send(404, "text/plain; charset=utf-8", "not found\n");
    return;
  }
  // The files are not fingerprinted: revalidate each time (a 304 costs one round trip, no body).
  out.header("Cache-Control", "no-cache");
  out.header("ETag", asset->etag);
  const std::optional<std::string_view> match = request.header("If-None-Match");
  if (match && *match == asset->etag) {
    out.send(304, "", "");
    return;
  }
  out.send(200, asset->content_type, request.method() == "HEAD" ? "" : asset->body);
}

void WebUiTransport::serve_config(const coda_http_request_t* req, coda_http_response_t* resp) {
  RequestView request(req);
  ResponseWriter out(host_, resp);
  if (!is_read(request.method())) {
    out.header("Allow", "GET, HEAD");
    out.send_json_error(405, "use GET");
    return;
  }
  std::string body = "{\"version\":" + json_quote(CODA_WEBUI_VERSION) +
                     ",\"mcp_path\":" + json_quote(config_.mcp_path) +
                     ",\"ws_path\":" + json_quote(config_.ws_path) +
                     ",\"ticket_path\":" + json_quote(config_.ui_path + "/api/ticket") +
                     ",\"ui_path\":" + json_quote(config_.ui_path) +
                     ",\"poll_interval_ms\":" + std::to_string(config_.poll_interval_ms) +
                     ",\"user\":" +
                     (request.identity_json().empty() ? std::string("null")
                                                      : std::string(request.identity_json())) +
                     "}";
  out.header("Cache-Control", "no-store");
  out.send(200, "application/json", request.method() == "HEAD" ? "" : body);
}

void WebUiTransport::serve_ticket(const coda_http_request_t* req, coda_http_response_t* resp) {
  RequestView request(req);
  ResponseWriter out(host_, resp);
  if (request.method() != "POST") {
    out.header("Allow", "POST");
    out.send_json_error(405, "use POST to get a WebSocket ticket");
    return;
  }
  const std::string ticket = tickets_.issue(std::string(request.identity_json()));
  out.header("Cache-Control", "no-store");
  out.send(200, "application/json",
           "{\"ticket\":\"" + ticket + "\",\"expires_in_s\":" +
               std::to_string(tickets_.ttl().count()) + ",\"ws_path\":" +
               json_quote(config_.ws_path) + "}");
}

void WebUiTransport::serve_ws(const coda_http_request_t* req, coda_http_response_t* resp) {
  RequestView request(req);
  ResponseWriter out(host_, resp);
  out.security_headers(config_.frame_ancestors);
  if (request.path() != config_.ws_path) {
    out.send_json_error(404, "not found");
    return;
  }
  const std::optional<std::string> ticket = request.query_param("ticket");
  if (!ticket || ticket->empty()) {
    out.send_json_error(401, "a ticket is required: POST " + config_.ui_path +
                                 "/api/ticket, then open " + config_.ws_path + "?ticket=<ticket>");
    return;
  }
  std::optional<std::string> identity = tickets_.redeem(*ticket);
  if (!identity) {
    out.send_json_error(401, "unknown, used or expired ticket: get a new one from POST " +
                                 config_.ui_path + "/api/ticket");
    return;
  }
  WsConnection::Limits limits;
  limits.max_calls = config_.max_calls_per_connection;
  limits.max_message_bytes = config_.max_message_bytes;
  auto connection = std::make_shared<WsConnection>(host_, calls_, std::move(*identity),
                                                   std::string(request.remote_addr()),
                                                   std::string(request.base_url()), limits);
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      out.send_json_error(503, "the host is shutting down");
      return;
    }
    if (connections_.size() >= static_cast<std::size_t>(config_.max_connections)) {
      out.header("Retry-After", "5");
      out.send_json_error(503, "too many open WebSockets; the page falls back to HTTP");
      return;
    }
    connections_.insert(connection);
  }
  const coda_status_t status = connection->run(resp);
  {
    std::lock_guard lock(mutex_);
    connections_.erase(connection);
  }
  if (status == CODA_E_INVALID) {
    out.send_json_error(400, "expected a WebSocket upgrade request");
  }
}

}  // namespace coda::webui
