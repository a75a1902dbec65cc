#include "mcp_http_transport.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <strings.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <coda/plugin.hpp>

#include "http_rules.hpp"

namespace coda::mcp_http {
namespace {

using sdk::str;
using sdk::view;

constexpr std::chrono::seconds kWakeInterval{1};
const char kSupportedVersions[][11] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};
const char kDefaultVersion[] = "2025-03-26";

bool supported_version(std::string_view v) {
  for (const auto* known : kSupportedVersions) {
    if (v == known) return true;
  }
  return false;
}

// What the engine sends for one dispatched message, handed from the sending thread to the request's
// thread. The ctx of the sink: it keeps itself alive until the final send.
struct Exchange {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::string> notes;
  std::optional<std::string> final;
  bool abandoned = false;  // the request's thread stopped reading: drop notifications
  coda_reply_sink_t sink{};
  std::shared_ptr<Exchange> self;

  static void send(void* ctx, coda_str_t json, uint32_t flags) {
    auto* ex = static_cast<Exchange*>(ctx);
    std::shared_ptr<Exchange> keep;
    {
      std::lock_guard lock(ex->mutex);
      if (flags == CODA_SEND_FINAL) {
        ex->final = sdk::copy(json);
        keep = std::move(ex->self);
      } else if (!ex->abandoned) {
        ex->notes.push_back(sdk::copy(json));
      }
    }
    ex->changed.notify_all();
  }
};

// A connection's push sink for a session's GET stream.
struct Stream {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::string> notes;
  coda_reply_sink_t sink{};

  static void send(void* ctx, coda_str_t json, uint32_t /*flags*/) {
    auto* stream = static_cast<Stream*>(ctx);
    {
      std::lock_guard lock(stream->mutex);
      stream->notes.push_back(sdk::copy(json));
    }
    stream->changed.notify_all();
  }
};

}  // namespace

// One HTTP request being answered: header lookup, the CORS decision, and the writes.
class McpHttpTransport::Request {
 public:
  Request(const coda_host_t* host, const coda_http_request_t* req, coda_http_response_t* resp)
      : host_(host), req_(req), resp_(resp) {
    origin_ = header("origin");
    // The host's listener has refused every Origin its policy does not allow; it tells us which of
    // the rest are configured cross-origin callers (a host older than ABI 1.1 tells nothing: no CORS).
    cors_ = !origin_.empty() && CODA_HAS(req, coda_http_request_t, cross_origin) &&
            req->cross_origin != 0;
  }

  const coda_http_request_t& req() const { return *req_; }
  std::string method() const { return sdk::copy(req_->method); }

  // The value of the first header with this (case-insensitive) name, "" when absent.
  std::string header(const char* name) const {
    for (size_t i = 0; i < req_->header_count; ++i) {
      const auto& h = req_->headers[i];
      if (h.name.len == std::strlen(name) && strncasecmp(h.name.ptr, name, h.name.len) == 0) {
        return sdk::copy(h.value);
      }
    }
    return "";
  }
  bool has_header(const char* name) const {
    for (size_t i = 0; i < req_->header_count; ++i) {
      const auto& h = req_->headers[i];
      if (h.name.len == std::strlen(name) && strncasecmp(h.name.ptr, name, h.name.len) == 0) {
        return true;
      }
    }
    return false;
  }

  void status(int code) { host_->http_status(resp_, code); }
  void set(std::string_view name, std::string_view value) {
    host_->http_header(resp_, str(name), str(value));
  }
  // Starts the response: the CORS headers when the origin is a configured one (echoed, also for a
  // configured "*": no credentials are ever allowed, so echoing admits nothing more).
  void cors_headers() {
    if (!cors_) return;
    set("Access-Control-Allow-Origin", origin_);
    set("Vary", "Origin");
    set("Access-Control-Expose-Headers", "Mcp-Session-Id, MCP-Protocol-Version");
  }
  bool write(std::string_view bytes) {
    return host_->http_write(resp_, str(bytes)) == CODA_OK &&
           host_->http_flush(resp_) == CODA_OK;
  }
  bool write_unflushed(std::string_view bytes) {
    return host_->http_write(resp_, str(bytes)) == CODA_OK;
  }
  bool cors() const { return cors_; }

 private:
  const coda_host_t* host_;
  const coda_http_request_t* req_;
  coda_http_response_t* resp_;
  std::string origin_;
  bool cors_ = false;
};

McpHttpTransport::McpHttpTransport(const coda_host_t* host, HttpConfig config)
    : host_(host), config_(std::move(config)), sessions_(std::chrono::seconds(config_.session_ttl_s)) {
  route_.struct_size = sizeof(route_);
  route_.ctx = this;
  route_.handle = [](void* ctx, const coda_http_request_t* req, coda_http_response_t* resp) {
    auto* self = static_cast<McpHttpTransport*>(ctx);
    sdk::barrier_void(self->host_, [&] { self->handle(req, resp); });
  };
}

McpHttpTransport::~McpHttpTransport() {
  if (mounted_) stop();
}

coda_status_t McpHttpTransport::start() {
  if (host_->http_mount == nullptr) {
    host_->set_error(host_, str("the host offers no HTTP listener"));
    return CODA_E_UNSUPPORTED;
  }
  stopping_ = false;
  coda_status_t status = host_->http_mount(host_, str(config_.path), &route_);
  if (status != CODA_OK) {
    std::string why = sdk::copy(host_->last_error(host_));
    host_->set_error(host_, str("mounting " + config_.path + " failed: " + why));
    return status;
  }
  mounted_ = true;
  sdk::log(host_, CODA_LOG_INFO, "MCP Streamable HTTP endpoint at " + config_.path);
  return CODA_OK;
}

coda_status_t McpHttpTransport::stop() {
  stopping_ = true;  // waiting handles notice within kWakeInterval
  if (mounted_) {
    host_->http_unmount(host_, str(config_.path));
    mounted_ = false;
  }
  return CODA_OK;
}

void McpHttpTransport::reply_error(Request& r, int status, int code, const std::string& message) {
  r.status(status);
  r.cors_headers();
  r.set("Content-Type", "application/json");
  r.write_unflushed(http_error_body(code, message));
}

std::string McpHttpTransport::origin_json(const Request& r, const std::string& session_id,
                                          const std::string& version) const {
  std::string out = R"({"transport":"http")";
  std::string_view identity = view(r.req().identity_json);
  if (!identity.empty()) {
    out += R"(,"identity":)";
    out += identity;
  }
  if (!session_id.empty()) out += R"(,"session_id":)" + json_quote(session_id);
  out += R"(,"protocol_version":)" + json_quote(version);
  std::string_view request_id = view(r.req().request_id);
  if (!request_id.empty()) out += R"(,"request_id":)" + json_quote(request_id);
  if (CODA_HAS(&r.req(), coda_http_request_t, base_url) && r.req().base_url.len > 0) {
    out += R"(,"base_url":)" + json_quote(view(r.req().base_url));
  }
  out += '}';
  return out;
}

void McpHttpTransport::handle(const coda_http_request_t* req, coda_http_response_t* resp) {
  Request r(host_, req, resp);
  std::string_view path = view(req->path);
  if (path != config_.path && path != config_.path + "/") {
    reply_error(r, 404, -32000, "Not Found: the MCP endpoint is " + config_.path);
    return;
  }
  std::string method = r.method();
  if (method == "OPTIONS") {
    r.status(204);
    r.cors_headers();
    if (r.cors()) {
      r.set("Access-Control-Allow-Methods", config_.sessions ? "GET, POST, DELETE, OPTIONS"
                                                             : "POST, OPTIONS");
      r.set("Access-Control-Allow-Headers",
            "Content-Type, Accept, Authorization, Mcp-Session-Id, MCP-Protocol-Version, "
            "Last-Event-ID");
      r.set("Access-Control-Max-Age", "600");
    }
    r.set("Allow", config_.sessions ? "GET, POST, DELETE, OPTIONS" : "POST, OPTIONS");
    return;
  }
  if (method == "POST") return handle_post(r);
  if (method == "GET" && config_.sessions) return handle_get(r);
  if (method == "DELETE" && config_.sessions) return handle_delete(r);
  r.set("Allow", config_.sessions ? "GET, POST, DELETE, OPTIONS" : "POST, OPTIONS");
  reply_error(r, 405, -32000,
              "Method Not Allowed: " + method +
                  (config_.sessions ? "" : " (this server is stateless: POST only)"));
}

void McpHttpTransport::handle_post(Request& r) {
  Accepts accepts = parse_accept(r.header("accept"));
  if (!accepts.json && !accepts.sse) {
    reply_error(r, 406, -32000,
                "Not Acceptable: the client must accept application/json or text/event-stream");
    return;
  }
  if (!is_json_content_type(r.header("content-type"))) {
    reply_error(r, 415, -32000, "Unsupported Media Type: Content-Type must be application/json");
    return;
  }
  std::string version = r.header("mcp-protocol-version");
  if (!r.has_header("mcp-protocol-version")) {
    version = kDefaultVersion;
  } else if (!supported_version(version)) {
    reply_error(r, 400, -32000,
                "Bad Request: unsupported MCP-Protocol-Version '" + version +
                    "' (supported: 2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05)");
    return;
  }
  std::string_view body = view(r.req().body);
  if (body.size() > config_.max_body_bytes) {
    reply_error(r, 413, -32000, "Payload Too Large: the body exceeds " +
                                    std::to_string(config_.max_body_bytes) + " bytes");
    return;
  }

  std::string session_id;
  bool new_session = false;
  if (config_.sessions) {
    session_id = r.header("mcp-session-id");
    if (session_id.empty()) {
      // Only an initialize request may come without a session.
      bool initialize = false;
      try {
        Poco::JSON::Parser parser;
        auto msg = parser.parse(std::string(body)).extract<Poco::JSON::Object::Ptr>();
        initialize = msg->optValue<std::string>("method", "") == "initialize";
      } catch (const std::exception&) {
        // Not an initialize request; the engine reports malformed JSON below if it is the issue.
      }
      if (!initialize) {
        reply_error(r, 400, -32000, "Bad Request: Mcp-Session-Id header is required");
        return;
      }
      session_id = sessions_.create();
      new_session = true;
    } else if (!sessions_.touch(session_id)) {
      reply_error(r, 404, -32001, "Session not found: it expired or was deleted; initialize again");
      return;
    }
  }

  auto exchange = std::make_shared<Exchange>();
  exchange->self = exchange;
  exchange->sink.struct_size = sizeof(coda_reply_sink_t);
  exchange->sink.ctx = exchange.get();
  exchange->sink.send = &Exchange::send;
  uint64_t call = 0;
  coda_status_t status =
      host_->dispatch(host_, str(origin_json(r, session_id, version)), str(body), &exchange->sink, &call);
  if (status != CODA_OK) {
    exchange->self.reset();
    if (new_session) sessions_.remove(session_id);
    std::string why = sdk::copy(host_->last_error(host_));
    reply_error(r, 503, -32603, "The MCP engine refused the message: " + why);
    return;
  }

  const bool may_sse = accepts.sse && config_.response_mode != ResponseMode::kJson;
  bool sse = accepts.sse && (config_.response_mode == ResponseMode::kSse || !accepts.json);
  bool started = false;       // the SSE stream's headers are out
  bool json_started = false;  // a long JSON answer's headers are out (kept alive with whitespace)
  bool client_gone = false;
  auto last_write = std::chrono::steady_clock::now();
  auto start_sse = [&] {
    r.status(200);
    r.cors_headers();
    r.set("Content-Type", "text/event-stream");
    r.set("Cache-Control", "no-cache");
    if (new_session) r.set("Mcp-Session-Id", session_id);
    started = true;
  };
  // Writes (and flushes) what the client must get now; notes that the client went away.
  auto send_now = [&](const std::string& bytes) {
    client_gone = !r.write(bytes);
    last_write = std::chrono::steady_clock::now();
  };

  std::unique_lock lock(exchange->mutex);
  // Everything but tools/call is answered inside dispatch(). A call still running: with
  // response_mode sse the stream starts now, so the client (and any proxy) sees the headers at once.
  if (sse && !exchange->final.has_value() && exchange->notes.empty()) {
    lock.unlock();
    start_sse();
    send_now(": call running\n\n");
    lock.lock();
  }
  while (true) {
    exchange->changed.wait_for(lock, kWakeInterval, [&] {
      return !exchange->notes.empty() || exchange->final.has_value();
    });
    if (!exchange->notes.empty()) {
      std::deque<std::string> notes;
      notes.swap(exchange->notes);
      if (may_sse && !json_started && !client_gone) {
        lock.unlock();
        if (!sse) sse = true;  // auto: the first notification before the response switches to SSE
        if (!started) start_sse();
        std::string events;
        for (const auto& note : notes) events += sse_event(note);
        send_now(events);
        lock.lock();
      }
      continue;
    }
    if (exchange->final.has_value()) break;
    if (!stopping_.load() && !client_gone &&
        std::chrono::steady_clock::now() - last_write >= std::chrono::seconds(config_.keepalive_s)) {
      // Nothing to say for a while: a proxy that cuts silent requests must see bytes. An SSE
      // stream gets a comment; a JSON answer whitespace before its body (JSON allows it).
      lock.unlock();
      if (!started && !json_started) {
        if (may_sse) {
          sse = true;
          start_sse();
        } else {
          r.status(200);
          r.cors_headers();
          r.set("Content-Type", "application/json");
          if (new_session) r.set("Mcp-Session-Id", session_id);
          json_started = true;
        }
      }
      send_now(started ? ": keep-alive\n\n" : "\n");
      lock.lock();
      continue;
    }
    if (stopping_.load() || client_gone) {
      // Shutting down, or nobody reads any more: stop waiting; the sink outlives us.
      exchange->abandoned = true;
      lock.unlock();
      if (!started && !json_started) {
        reply_error(r, 503, -32603, "Service Unavailable: the server is stopping");
      }
      return;
    }
  }
  std::string reply = std::move(*exchange->final);
  exchange->abandoned = true;
  lock.unlock();

  if (reply.empty()) {
    if (started) return;  // (only when notifications came without a response)
    r.status(202);
    r.cors_headers();
    if (new_session) r.set("Mcp-Session-Id", session_id);
    return;
  }
  if (started) {
    r.write(sse_event(reply));
    return;
  }
  if (json_started) {
    r.write(reply);
    return;
  }
  // An error without an id: the message itself was unreadable (parse error, invalid request).
  bool unreadable = reply.rfind(R"({"jsonrpc":"2.0","error":)", 0) == 0;
  if (unreadable && new_session) sessions_.remove(session_id);
  if (sse && !unreadable) {
    start_sse();
    r.write(sse_event(reply));
    return;
  }
  r.status(unreadable ? 400 : 200);
  r.cors_headers();
  r.set("Content-Type", "application/json");
  if (new_session && !unreadable) r.set("Mcp-Session-Id", session_id);
  r.write_unflushed(reply);
}

void McpHttpTransport::handle_get(Request& r) {
  if (!parse_accept(r.header("accept")).sse || r.header("accept").empty()) {
    reply_error(r, 406, -32000, "Not Acceptable: a GET stream needs Accept: text/event-stream");
    return;
  }
  std::string session_id = r.header("mcp-session-id");
  if (session_id.empty()) {
    reply_error(r, 400, -32000, "Bad Request: Mcp-Session-Id header is required");
    return;
  }
  if (!sessions_.touch(session_id)) {
    reply_error(r, 404, -32001, "Session not found: it expired or was deleted; initialize again");
    return;
  }
  if (!sessions_.open_stream(session_id)) {
    reply_error(r, 409, -32000, "Conflict: this session already has a GET stream open");
    return;
  }
  Stream stream;
  stream.sink.struct_size = sizeof(coda_reply_sink_t);
  stream.sink.ctx = &stream;
  stream.sink.send = &Stream::send;
  uint64_t conn = 0;
  std::string version = r.has_header("mcp-protocol-version") ? r.header("mcp-protocol-version")
                                                              : std::string(kDefaultVersion);
  if (host_->open_connection(host_, str(origin_json(r, session_id, version)), &stream.sink, &conn) !=
      CODA_OK) {
    sessions_.close_stream(session_id);
    reply_error(r, 503, -32603, "Service Unavailable: " + sdk::copy(host_->last_error(host_)));
    return;
  }
  r.status(200);
  r.cors_headers();
  r.set("Content-Type", "text/event-stream");
  r.set("Cache-Control", "no-cache");
  bool alive = r.write(": stream open\n\n");
  auto last_write = std::chrono::steady_clock::now();
  while (alive && !stopping_.load() && sessions_.touch(session_id)) {
    std::deque<std::string> notes;
    {
      std::unique_lock lock(stream.mutex);
      stream.changed.wait_for(lock, kWakeInterval, [&] { return !stream.notes.empty(); });
      notes.swap(stream.notes);
    }
    std::string events;
    for (const auto& note : notes) events += sse_event(note);
    auto now = std::chrono::steady_clock::now();
    if (events.empty() && now - last_write >= std::chrono::seconds(config_.keepalive_s)) {
      events = ": keep-alive\n\n";
    }
    if (!events.empty()) {
      alive = r.write(events);
      last_write = now;
    }
  }
  host_->close_connection(host_, conn);
  sessions_.close_stream(session_id);
}

void McpHttpTransport::handle_delete(Request& r) {
  std::string session_id = r.header("mcp-session-id");
  if (session_id.empty()) {
    reply_error(r, 400, -32000, "Bad Request: Mcp-Session-Id header is required");
    return;
  }
  if (!sessions_.remove(session_id)) {
    reply_error(r, 404, -32001, "Session not found: it expired or was already deleted");
    return;
  }
  r.status(200);
  r.cors_headers();
}

}  // namespace coda::mcp_http
