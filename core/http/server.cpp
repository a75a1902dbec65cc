#include "core/http/server.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <ctime>
#include <istream>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include "core/auth/authenticator.hpp"
#include "core/http/connection_tracker.hpp"
#include "core/http/exchange.hpp"
#include "core/http/origin_policy.hpp"
#include "core/http/request_metrics.hpp"
#include "core/http/router.hpp"
#include "core/log/logging.hpp"
#include "core/metrics/text_writer.hpp"
#include "core/process/agent_peer.hpp"
#include "core/util/listen_address.hpp"
#include "core/util/random.hpp"

namespace coda::http {

using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

namespace {

// What the listener learns about one request for its metrics and access log line.
struct RequestRecord {
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::string request_id;
  std::string path;     // without the query: a query may carry secrets
  std::string route;    // the label: mounted prefix, built-in path, or "" (looked up at the end)
  std::string subject;  // the authenticated caller; "" before or without authentication
  bool accounted = false;
};

}  // namespace

struct HttpServer::Impl {
  HttpServer& owner;
  config::HttpLimits limits;
  Router& router;
  auth::Authenticator* authenticator;
  ConnectionTracker tracker;
  process::AgentPeerDetector agent_peers;
  OriginPolicy origin_policy;  // Host and Origin, decided once per request for every route
  Poco::ThreadPool pool;
  Poco::Net::ServerSocket socket;
  Poco::Net::HTTPServerParams::Ptr params;
  std::unique_ptr<Poco::Net::TCPServer> tcp;
  RequestMetrics metrics;
  bool metrics_public = false;  // server.metrics: public (no authentication on /metrics)
  bool access_log = true;
  bool started = false;
  bool stopped = false;

  Impl(HttpServer& o, const config::ServerConfig& c, Router& r, auth::Authenticator* a)
      : owner(o),
        limits(c.limits),
        router(r),
        authenticator(a),
        tracker(std::chrono::seconds(c.limits.idle_timeout_s),
                std::chrono::seconds(c.limits.request_timeout_s)),
        origin_policy(util::is_loopback_host(util::parse_listen_address(c.listen).host),
                      c.allowed_hosts, c.allowed_origins),
        pool("coda-http", 2, std::max(2, c.limits.threads), 60),
        metrics_public(c.metrics == "public"),
        access_log(c.access_log) {}

  void serve(HTTPServerRequest& request, HTTPServerResponse& response, RequestRecord& record);
  // Once per request, when its status is final: closes the connection after it while draining, and
  // counts it and writes its access log line (account). A route's buffered response is concluded
  // just before it is written, so a client that has its answer also finds it counted.
  void conclude(const HTTPServerRequest& request, HTTPServerResponse& response,
                RequestRecord& record);
  void account(const HTTPServerRequest& request, const HTTPServerResponse& response,
               RequestRecord& record);
  WebSocketSession::Limits ws_limits() const {
    WebSocketSession::Limits out;
    out.max_message_bytes = limits.max_body_bytes;
    out.idle_timeout_s = limits.idle_timeout_s;
    out.send_timeout_s = limits.request_timeout_s;
    return out;
  }
};

namespace {

// X-Request-Id as sent when it is short and plain, so it can go into logs as is.
bool acceptable_request_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '+' ||
           c == '=';
  });
}

// "scheme://host[:port]" as the client addressed this host, for links the host hands out (viewer_url).
// A proxy's X-Forwarded-Proto/-Host win over the listener's scheme and the Host header; anything that
// is not a plain host name or address is dropped for the listener's own URL. The value only shapes
// links returned to the same caller, so a forged header misleads nobody else.
std::string base_url_of(const HTTPServerRequest& request, const std::string& listener_url,
                        bool tls) {
  auto first = [](std::string value) {
    value = value.substr(0, value.find(','));
    auto b = value.find_first_not_of(" \t");
    auto e = value.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : value.substr(b, e - b + 1);
  };
  std::string scheme = first(request.get("X-Forwarded-Proto", ""));
  if (scheme != "http" && scheme != "https") scheme = tls ? "https" : "http";
  std::string host = first(request.get("X-Forwarded-Host", ""));
  if (host.empty()) host = first(request.get("Host", ""));
  bool plain = !host.empty() && host.size() <= 255 &&
               std::all_of(host.begin(), host.end(), [](unsigned char c) {
                 return std::isalnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
               });
  return plain ? scheme + "://" + host : listener_url;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// Whether the request being read on this connection thread reached a handler, which then answers it.
// Anything that escapes Poco's connection loop while this is false failed on the way in (a
// Content-Length that is no number, a slow client's timeout) and has had no answer yet.
thread_local bool t_request_in_handler = false;

// Who made the connection this thread serves, classified once when it was accepted.
thread_local const process::PeerVerdict* t_connection_peer = nullptr;

void send_status_json(HTTPServerResponse& response, int status, const std::string& body) {
  response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  response.setContentType("application/json");
  response.set("Cache-Control", "no-store");
  response.setContentLength(static_cast<std::streamsize>(body.size()));
  response.sendBuffer(body.data(), body.size());
}

class RequestHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit RequestHandler(HttpServer::Impl& impl) : impl_(impl) {}
  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
    struct Done {
      ~Done() { t_request_in_handler = false; }
    } done;
    impl_.tracker.set_phase(ConnectionTracker::Phase::kBody);
    RequestRecord record;
    std::string id = request.get("X-Request-Id", "");
    record.request_id = acceptable_request_id(id) ? id : util::unique_hex128();
    response.set("X-Request-Id", record.request_id);
    log::RequestScope scope(record.request_id);  // every line logged while handling it
    try {
      impl_.serve(request, response, record);
    } catch (const Poco::Exception& e) {
      log::get("http").debug("request failed: " + e.displayText());
      response.setKeepAlive(false);
    } catch (const std::exception& e) {
      log::get("http").error(std::string("request failed: ") + e.what());
      response.setKeepAlive(false);
      try {
        send_json_error(response, 500, "internal error");
      } catch (const Poco::Exception&) {
      }
    }
    impl_.conclude(request, response, record);
    impl_.tracker.set_phase(ConnectionTracker::Phase::kFinishing);
  }

 private:
  HttpServer::Impl& impl_;
};

class HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit HandlerFactory(HttpServer::Impl& impl) : impl_(impl) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest& request) override {
    t_request_in_handler = true;
    // Refuse an oversized body before Poco sends "100 Continue" for it.
    if (request.hasContentLength() &&
        request.getContentLength64() > static_cast<Poco::Int64>(impl_.limits.max_body_bytes)) {
      request.response().setStatusAndReason(Poco::Net::HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE);
    }
    return new RequestHandler(impl_);
  }

 private:
  HttpServer::Impl& impl_;
};

// The HTTP session of one connection. It waits for the next request with one poll(2): Poco's
// Socket::poll creates, fills and closes an epoll set for every wait, four system calls per request.
class ConnectionSession : public Poco::Net::HTTPServerSession {
 public:
  ConnectionSession(const Poco::Net::StreamSocket& socket,
                    const Poco::Net::HTTPServerParams::Ptr& params)
      : HTTPServerSession(socket, params), keep_alive_timeout_(params->getKeepAliveTimeout()) {}

  // Whether a request is there to be read: the first within the request timeout, the next ones
  // (keep-alive, unlimited in number) within the idle timeout.
  bool next_request() {
    if (first_) {
      first_ = false;
      return hasMoreRequests();  // Poco's, once: it also starts the keep-alive request count
    }
    return getKeepAlive() && canKeepAlive() && (buffered() > 0 || readable(keep_alive_timeout_));
  }

 private:
  bool readable(const Poco::Timespan& timeout) {
    // A TLS session may hold decrypted bytes that its descriptor no longer shows.
    if (socket().secure()) return socket().poll(timeout, Poco::Net::Socket::SELECT_READ);
    pollfd p{socket().impl()->sockfd(), POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::microseconds(timeout.totalMicroseconds());
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      int n = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
      if (n >= 0) return n > 0;  // readable, or closed or failed: the read says which
      if (errno != EINTR) return false;
    }
  }

  Poco::Timespan keep_alive_timeout_;
  bool first_ = true;
};

// "Date" for responses, formatted once a second per thread.
const std::string& http_date_now() {
  thread_local std::time_t second = 0;
  thread_local std::string text;
  std::time_t now = std::time(nullptr);
  if (now != second) {
    second = now;
    text = Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(now),
                                           Poco::DateTimeFormat::HTTP_FORMAT);
  }
  return text;
}

// One connection: reads requests and hands each to the handler factory until the client or the
// keep-alive ends it (what Poco's HTTPServerConnection does, with ConnectionSession's cheaper wait),
// and answers what could not be read.
class TrackedConnection : public Poco::Net::TCPServerConnection {
 public:
  TrackedConnection(const Poco::Net::StreamSocket& socket, Poco::Net::HTTPServerParams::Ptr params,
                    Poco::Net::HTTPRequestHandlerFactory::Ptr factory, ConnectionTracker& tracker,
                    const process::AgentPeerDetector& agent_peers)
      : TCPServerConnection(socket),
        params_(std::move(params)),
        factory_(std::move(factory)),
        tracker_(tracker),
        agent_peers_(agent_peers) {}

  void run() override {
    tracker_.open(socket());
    struct Close {
      ConnectionTracker& t;
      ~Close() {
        t.close();
        t_connection_peer = nullptr;
      }
    } close{tracker_};
    t_request_in_handler = false;
    // Before any byte of it is read: a connection an agent made is never anyone's.
    const process::PeerVerdict peer = agent_peers_.classify(socket().impl()->sockfd());
    t_connection_peer = &peer;
    // Poco answers a malformed request line or header itself (400), but other failures while
    // reading a request (a Content-Length that is no number, a slow client's timeout) end the
    // connection silently, and its session has closed the socket by the time the exception gets
    // here. A duplicate of the descriptor keeps the connection open to answer those (plain HTTP;
    // a TLS connection cannot be written to behind its session's back).
    struct Fd {
      int fd;
      ~Fd() {
        if (fd >= 0) ::close(fd);
      }
    } spare{socket().secure() ? -1 : ::dup(socket().impl()->sockfd())};
    try {
      serve_requests();
    } catch (const Poco::Exception& e) {
      if (!t_request_in_handler && spare.fd >= 0) answer_unreadable_request(spare.fd, e);
    }
  }

 private:
  void serve_requests() {
    ConnectionSession session(socket(), params_);
    while (session.next_request()) {
      try {
        Poco::Net::HTTPServerResponseImpl response(session);
        Poco::Net::HTTPServerRequestImpl request(response, session, params_);
        response.set("Date", http_date_now());
        response.setVersion(request.getVersion());
        response.setKeepAlive(params_->getKeepAlive() && request.getKeepAlive() &&
                              session.canKeepAlive());
        std::unique_ptr<Poco::Net::HTTPRequestHandler> handler(
            factory_->createRequestHandler(request));
        if (request.getExpectContinue() &&
            response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK) {
          response.sendContinue();
        }
        handler->handleRequest(request, response);
        session.setKeepAlive(params_->getKeepAlive() && response.getKeepAlive() &&
                             session.canKeepAlive());
      } catch (const Poco::Net::NoMessageException&) {
        break;  // the client closed the connection between requests
      } catch (const Poco::Net::MessageException&) {
        // A malformed request line or header: 400, then close.
        Poco::Net::HTTPServerResponseImpl response(session);
        response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
        response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_BAD_REQUEST);
        response.setKeepAlive(false);
        response.send();
        session.setKeepAlive(false);
      }
    }
  }

  void answer_unreadable_request(int fd, const Poco::Exception& e) {
    const bool timeout = dynamic_cast<const Poco::TimeoutException*>(&e) != nullptr;
    const std::string body = timeout ? "{\"error\":\"request not received in time\"}\n"
                                     : "{\"error\":\"malformed HTTP request\"}\n";
    const std::string head = std::string("HTTP/1.1 ") +
                             (timeout ? "408 Request Timeout" : "400 Bad Request") +
                             "\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"
                             "Content-Length: " + std::to_string(body.size()) +
                             "\r\nConnection: close\r\n\r\n";
    log::get("http").debug("unreadable request: " + e.displayText());
    const std::string out = head + body;
    if (::send(fd, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) return;
    // A lingering close: stop sending, then read (and drop) what the client still sends for a
    // moment, so that closing with unread data does not reset the connection under the answer.
    ::shutdown(fd, SHUT_WR);
    timeval wait{0, 200000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    char sink[16384];
    for (std::size_t total = 0; total < (1u << 20);) {
      ssize_t n = ::recv(fd, sink, sizeof sink, 0);
      if (n <= 0) break;
      total += static_cast<std::size_t>(n);
    }
  }

  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr factory_;
  ConnectionTracker& tracker_;
  const process::AgentPeerDetector& agent_peers_;
};

class ConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
 public:
  ConnectionFactory(Poco::Net::HTTPServerParams::Ptr params,
                    Poco::Net::HTTPRequestHandlerFactory::Ptr factory, ConnectionTracker& tracker,
                    const process::AgentPeerDetector& agent_peers)
      : params_(std::move(params)),
        factory_(std::move(factory)),
        tracker_(tracker),
        agent_peers_(agent_peers) {}
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    return new TrackedConnection(socket, params_, factory_, tracker_, agent_peers_);
  }

 private:
  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr factory_;
  ConnectionTracker& tracker_;
  const process::AgentPeerDetector& agent_peers_;
};

}  // namespace

void HttpServer::Impl::conclude(const HTTPServerRequest& request, HTTPServerResponse& response,
                                RequestRecord& record) {
  if (record.accounted) return;
  record.accounted = true;
  if (tracker.draining()) response.setKeepAlive(false);
  try {
    account(request, response, record);
  } catch (const std::exception& e) {
    log::get("http").error(std::string("accounting the request failed: ") + e.what());
  }
}

void HttpServer::Impl::account(const HTTPServerRequest& request,
                               const HTTPServerResponse& response, RequestRecord& record) {
  if (record.route.empty() && !record.path.empty()) {
    // Refused before routing (authentication, limits) or no route: the prefix it was meant for.
    RouteMatch match = router.find(record.path);
    record.route = match ? match.prefix() : "none";
  }
  if (record.route.empty()) record.route = "none";
  auto elapsed = std::chrono::steady_clock::now() - record.started;
  int status = static_cast<int>(response.getStatus());
  metrics.record(request.getMethod(), record.route, status, elapsed);
  auto& logger = log::get("access");
  if (access_log && logger.information()) {
    double ms = std::chrono::duration<double, std::milli>(elapsed).count();
    char took[32];
    std::snprintf(took, sizeof took, "%.3f", ms);
    log::Fields fields;
    fields.add("method", request.getMethod())
        .add("path", record.path)
        .add("status", status)
        .add("duration_ms", ms)
        .add("route", record.route)
        .add("subject", record.subject)
        .add("remote_addr", request.clientAddress().toString());
    log::write(logger, Poco::Message::PRIO_INFORMATION,
               request.getMethod() + " " + record.path + " " + std::to_string(status) + " " + took +
                   " ms",
               fields);
  }
}

void HttpServer::Impl::serve(HTTPServerRequest& request, HTTPServerResponse& response,
                             RequestRecord& record) {
  auto& logger = log::get("http");
  if (request.getVersion() != Poco::Net::HTTPMessage::HTTP_1_0 &&
      request.getVersion() != Poco::Net::HTTPMessage::HTTP_1_1) {
    response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
    response.setKeepAlive(false);
    send_json_error(response, 505, "HTTP version not supported: send HTTP/1.1");
    return;
  }
  RequestInfo info;
  info.method = request.getMethod();
  info.remote_addr = request.clientAddress().toString();
  info.request_id = record.request_id;
  info.base_url = base_url_of(request, owner.url(), owner.tls_);

  if (response.getStatus() == Poco::Net::HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE) {
    response.setKeepAlive(false);  // the body is not read
    send_json_error(response, 413,
                    "request body larger than " + std::to_string(limits.max_body_bytes) + " bytes");
    return;
  }

  // Header limits (Poco itself refuses more than 100 fields and values over 8 KiB with 400).
  int count = 0;
  for (const auto& [name, value] : request) {
    ++count;
    if (name.size() + value.size() > limits.max_header_bytes) {
      response.setKeepAlive(false);
      send_json_error(response, 431, "header '" + name.substr(0, 64) + "' is larger than " +
                                         std::to_string(limits.max_header_bytes) + " bytes");
      return;
    }
    info.headers.emplace_back(name, value);
  }
  if (count > limits.max_headers) {
    response.setKeepAlive(false);
    send_json_error(response, 431,
                    "more than " + std::to_string(limits.max_headers) + " header fields");
    return;
  }

  std::string target = request.getURI();
  if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0) {
    target = Poco::URI(target).getPathAndQuery();
  }
  if (target.empty() || target.front() != '/') {
    send_json_error(response, 400, "the request target must be a path");
    return;
  }
  auto hash = target.find('#');
  if (hash != std::string::npos) target.resize(hash);
  auto question = target.find('?');
  info.path = target.substr(0, question);
  if (question != std::string::npos) {
    info.has_query = true;
    info.query = target.substr(question + 1);
  }
  record.path = info.path;

  // Built-in health endpoints: never authenticated, never routed to a plugin.
  if (info.path == "/healthz" || info.path == "/readyz") record.route = info.path;
  if (info.path == "/healthz") {
    send_status_json(response, 200, "{\"status\":\"ok\"}\n");
    return;
  }
  if (info.path == "/readyz") {
    Readiness r = owner.readiness();
    if (r == Readiness::kReady) {
      send_status_json(response, 200, "{\"status\":\"ready\"}\n");
    } else {
      send_status_json(response, 503,
                       r == Readiness::kStarting ? "{\"status\":\"starting\"}\n"
                                                 : "{\"status\":\"shutting down\"}\n");
    }
    return;
  }

  if (t_connection_peer != nullptr && t_connection_peer->kind == process::PeerKind::kAgent) {
    // Whatever it sends — forged proxy headers, a user's token — an agent is nobody here.
    response.setKeepAlive(false);
    send_json_error(response, 403,
                    "connections from agent processes are not accepted: an agent cannot act as a "
                    "user of this host");
    logger.warning("refused " + info.method + " " + info.path + " from " + info.remote_addr +
                   ": " + t_connection_peer->reason);
    return;
  }

  // Host and Origin, before anything trusts the request (DNS rebinding, foreign pages).
  const OriginVerdict origin = origin_policy.check(origin_request_of(info.headers));
  if (!origin.allowed) {
    response.setKeepAlive(false);  // the body stays unread
    send_json_error(response, 403, origin.reason);
    logger.information("refused " + info.method + " " + info.path + " from " + info.remote_addr +
                       ": 403 " + origin.reason);
    return;
  }
  info.cross_origin = origin.cross_origin;

  if (authenticator == nullptr) {
    auto local = auth::Identity::local_user();
    record.subject = local.subject;
    info.identity_json = local.to_json_text();
  } else if (metrics_public && info.path == "/metrics") {
    info.identity_json = auth::Identity{}.to_json_text();  // server.metrics: public
  } else {
    auth::RequestView view;
    view.method = info.method;
    view.path = info.path;
    view.remote_addr = info.remote_addr;
    for (const auto& [name, value] : info.headers) view.headers.emplace(lower(name), value);
    if (authenticator->is_public_path(info.path)) {
      if (auto pub = authenticator->serve_public(view)) {
        response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(pub->status));
        response.setContentType(pub->content_type);
        for (const auto& [name, value] : pub->headers) response.add(name, value);
        response.setContentLength(static_cast<std::streamsize>(pub->body.size()));
        response.sendBuffer(pub->body.data(), pub->body.size());
        return;
      }
      info.identity_json = auth::Identity{}.to_json_text();
    } else if (info.method == "OPTIONS" && request.has("Origin") &&
               request.has("Access-Control-Request-Method")) {
      // A CORS preflight never carries credentials (Fetch spec): it reaches the route as an anonymous
      // caller, and the route answers it from its Origin allowlist alone.
      info.identity_json = auth::Identity{}.to_json_text();
    } else {
      auth::AuthResult result = authenticator->authenticate(view);
      if (!result.ok()) {
        // The body stays unread: close the connection so it is not taken for the next request.
        response.setKeepAlive(false);
        for (const auto& [name, value] : result.headers) response.add(name, value);
        send_json_error(response, result.status, result.message);
        logger.information("refused " + info.method + " " + info.path + " from " +
                           info.remote_addr + ": " + std::to_string(result.status) + " " +
                           result.message);
        return;
      }
      record.subject = result.identity->subject;
      info.identity_json = result.identity->to_json_text();
    }
  }

  // The body, bounded in size (and in time by the connection tracker). A request with neither
  // Content-Length nor chunked encoding has no body (RFC 9112 6.3); Poco would read such a body (of an
  // OPTIONS preflight, say) until the client closes the connection.
  std::istream& in = request.stream();
  std::size_t limit = limits.max_body_bytes;
  char chunk[16384];
  const bool has_body = request.hasContentLength() || request.getChunkedTransferEncoding();
  while (has_body && in) {
    in.read(chunk, sizeof chunk);
    info.body.append(chunk, static_cast<std::size_t>(in.gcount()));
    if (info.body.size() > limit) {
      response.setKeepAlive(false);
      send_json_error(response, 413, "request body larger than " + std::to_string(limit) + " bytes");
      return;
    }
  }
  if (request.hasContentLength() && !request.getChunkedTransferEncoding() &&
      static_cast<Poco::Int64>(info.body.size()) < request.getContentLength64()) {
    // The client closed its side before sending what Content-Length promised.
    response.setKeepAlive(false);
    send_json_error(response, 400,
                    "request body ended after " + std::to_string(info.body.size()) + " of " +
                        std::to_string(request.getContentLength64()) + " bytes (Content-Length)");
    return;
  }
  tracker.set_phase(ConnectionTracker::Phase::kHandling);

  RouteMatch route = router.find(info.path);
  if (!route) {
    record.route = "none";
    send_json_error(response, 404, "no route for " + info.path);
    return;
  }
  record.route = route.prefix();
  std::string method = info.method;
  std::string path = info.path;
  Exchange exchange(request, response, std::move(info), ws_limits());
  try {
    route.handler().handle(exchange);
  } catch (const std::exception& e) {
    logger.error("route " + route.prefix() + " failed on " + method + " " + path + ": " + e.what());
    exchange.send_error(500, "internal error");
  } catch (...) {
    logger.error("route " + route.prefix() + " failed on " + method + " " + path +
                 ": unknown exception");
    exchange.send_error(500, "internal error");
  }
  if (!exchange.headers_sent()) conclude(request, response, record);
  exchange.finish();
}

HttpServer::HttpServer(const config::ServerConfig& config, Router& router,
                       auth::Authenticator* authenticator) {
  try {
    address_ = util::parse_listen_address(config.listen);
  } catch (const std::invalid_argument& e) {
    throw ListenError(e.what());
  }
  try {
    impl_ = std::make_unique<Impl>(*this, config, router, authenticator);
  } catch (const std::invalid_argument& e) {
    throw ListenError(e.what());  // an allowed host or origin the policy cannot use
  }
  if (config.tls.enabled) {
    // TLS 1.2 or newer with the admin's certificate chain and key (PEM files).
    try {
      Poco::Net::initializeSSL();
      Poco::Net::Context::Ptr context = new Poco::Net::Context(
          Poco::Net::Context::TLS_SERVER_USE, config.tls.key_file, config.tls.cert_file, "",
          Poco::Net::Context::VERIFY_NONE);
      context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
      impl_->socket = Poco::Net::SecureServerSocket(context);
      tls_ = true;
    } catch (const Poco::Exception& e) {
      throw ListenError("server.tls: cannot use cert_file '" + config.tls.cert_file +
                        "' and key_file '" + config.tls.key_file + "': " + e.displayText());
    }
  }
  try {
    Poco::Net::SocketAddress where(address_.host, address_.port);
    // SO_REUSEADDR (restart while old connections linger) but not SO_REUSEPORT, which Poco's
    // two-argument bind also sets: with it a second host would silently share the port.
    impl_->socket.bind(where, true, false);
    impl_->socket.listen(std::max(64, config.limits.max_queued_connections));
    address_.port = impl_->socket.address().port();
  } catch (const Poco::Exception& e) {
    throw ListenError("cannot listen on " + address_.to_string() + ": " + e.displayText());
  }
  auto& params = impl_->params;
  params = new Poco::Net::HTTPServerParams;
  params->setKeepAlive(true);
  params->setKeepAliveTimeout(Poco::Timespan(config.limits.idle_timeout_s, 0));
  params->setTimeout(Poco::Timespan(config.limits.request_timeout_s, 0));
  params->setMaxKeepAliveRequests(0);
  params->setMaxThreads(std::max(2, config.limits.threads));
  params->setMaxQueued(config.limits.max_queued_connections);
  params->setThreadIdleTime(Poco::Timespan(60, 0));
  Poco::Net::HTTPRequestHandlerFactory::Ptr handlers = new HandlerFactory(*impl_);
  impl_->tcp = std::make_unique<Poco::Net::TCPServer>(
      new ConnectionFactory(params, handlers, impl_->tracker, impl_->agent_peers), impl_->pool,
      impl_->socket, params);
}

HttpServer::~HttpServer() {
  if (impl_) stop(std::chrono::seconds(5));
}

void HttpServer::set_agent_uids(std::vector<uid_t> uids) {
  impl_->agent_peers = process::AgentPeerDetector(std::move(uids));
}

void HttpServer::start() {
  if (impl_->started) return;
  impl_->started = true;
  log::get("http").information(
      "connections from this host's agents (its descendant processes) are refused on every route "
      "but /healthz and /readyz: peer attribution through the kernel's socket table");
  const auto& policy = impl_->origin_policy;
  log::get("http").information(
      std::string("Host/Origin policy on every route but /healthz and /readyz: ") +
      (policy.loopback_listener()
           ? "bound to loopback, so Host must be a loopback name or one of server.allowed_hosts"
           : "Host checked only against server.allowed_hosts, when any are set") +
      "; Origin must be the page's own, one of server.allowed_origins" +
      (policy.loopback_listener() ? " or a loopback origin" : ""));
  impl_->tcp->start();
}

void HttpServer::write_metrics(metrics::TextWriter& out) const {
  impl_->metrics.write(out);
  out.family("coda_http_open_connections", "gauge",
             "Connections the listener holds now (keep-alive, streams and WebSockets included).");
  out.sample("coda_http_open_connections", {},
             static_cast<uint64_t>(impl_->tracker.count()));
}

std::string HttpServer::url() const {
  return util::make_url(tls_ ? "https" : "http", address_.host, address_.port);
}

void HttpServer::stop(std::chrono::milliseconds grace) {
  if (impl_->stopped) return;
  impl_->stopped = true;
  set_readiness(Readiness::kDraining);
  impl_->tcp->stop();
  std::size_t cut = impl_->tracker.drain(grace);
  if (cut > 0) {
    log::get("http").warning(std::to_string(cut) +
                             " connection(s) still busy after the shutdown grace were closed");
  }
  impl_->pool.joinAll();
}

}  // namespace coda::http
