#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "core/http/websocket_session.hpp"

namespace coda::http {

// What the listener established about a request before routing it.
struct RequestInfo {
  std::string method;
  std::string path;   // without the query
  std::string query;  // after '?', without it
  bool has_query = false;
  std::string remote_addr;
  std::string request_id;     // X-Request-Id as sent, or generated
  std::string base_url;       // scheme://host[:port] as the client addressed the host (links)
  std::string identity_json;  // the authenticated caller (auth::Identity JSON)
  bool cross_origin = false;  // Origin is one of server.allowed_origins (OriginVerdict): send CORS
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent
  std::string body;           // complete, bounded by the body limit
};

// One request and its response, handed to a RouteHandler. Not thread-safe: used by the handler's
// thread only (a WebSocket session's send() is the exception, see WebSocketSession).
//
// The response is buffered until the handler flushes or the buffer passes kStreamThreshold; then the
// status and headers are sent and the body continues chunked (SSE streams flush after each event).
// A response that was never flushed is sent with Content-Length when the handler returns.
class Exchange {
 public:
  static constexpr std::size_t kStreamThreshold = 64u << 10;

  Exchange(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
           RequestInfo info, WebSocketSession::Limits ws_limits);
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  const RequestInfo& request() const { return info_; }
  // The first value of a header, compared case-insensitively; "" when absent.
  std::string header(std::string_view name) const;

  // Sets the status (default 200). Ignored once the headers were sent; returns false then.
  bool set_status(int status);
  // Adds a response header. Content-Length and Transfer-Encoding are the host's and are ignored;
  // "Connection: close" closes the connection after the response. False once headers were sent.
  bool add_header(std::string_view name, std::string_view value);
  // Appends body bytes. False once the client is gone.
  bool write(std::string_view bytes);
  // Sends the status and headers (if not yet) and everything written so far. False once the client is
  // gone.
  bool flush();
  bool headers_sent() const { return streaming_ || completed_ || response_.sent(); }

  // True when the request asks for a WebSocket upgrade.
  bool is_websocket_upgrade() const;
  // Completes the WebSocket handshake and runs the reader loop with `listener` on this thread until
  // the socket closes. Throws std::logic_error when the request is no upgrade or a response was
  // already started; Poco::Exception when the handshake fails.
  void run_websocket(WebSocketListener& listener);
  bool upgraded() const { return upgraded_; }

  // Completes the response after the handler returned (called by the listener).
  void finish();
  // Answers with `status` and a JSON body {"error": message} if nothing was sent yet.
  void send_error(int status, std::string_view message);

 private:
  bool start_streaming();
  // Sends status, headers and the whole buffered body with Content-Length.
  void send_complete();

  Poco::Net::HTTPServerRequest& request_;
  Poco::Net::HTTPServerResponse& response_;
  RequestInfo info_;
  WebSocketSession::Limits ws_limits_;
  std::string buffer_;
  std::ostream* stream_ = nullptr;
  bool streaming_ = false;
  bool completed_ = false;  // send_complete() wrote the response (Poco's sent() does not know)
  bool failed_ = false;
  bool upgraded_ = false;
};

// Sends `status` with a JSON body {"error": message} (and the X-Request-Id header when given) on a
// response that has not been sent.
void send_json_error(Poco::Net::HTTPServerResponse& response, int status, std::string_view message);

}  // namespace coda::http
