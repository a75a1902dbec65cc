#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace Poco::Net {
class HTTPClientSession;
}

namespace coda::bridge {

// Why a request to the remote endpoint failed, for the JSON-RPC error's data.reason.
enum class FailureKind { kDns, kRefused, kTimeout, kTls, kConnection, kHttp, kToken, kProtocol };
const char* failure_reason(FailureKind kind);  // "dns", "refused", "timeout", ...

// A request that got no usable HTTP answer. what() says what failed in words a user can act on
// (never a token).
class ForwardError : public std::runtime_error {
 public:
  ForwardError(FailureKind kind, const std::string& message, int http_status = 0)
      : std::runtime_error(message), kind_(kind), http_status_(http_status) {}
  FailureKind kind() const { return kind_; }
  int http_status() const { return http_status_; }

 private:
  FailureKind kind_;
  int http_status_;
};

// An http:// or https:// URL, split. Throws std::invalid_argument naming what is wrong.
struct Url {
  std::string text;    // as given
  std::string scheme;  // "http" | "https"
  std::string host;
  unsigned short port = 0;
  std::string target;  // path and query, at least "/"
  static Url parse(const std::string& text);
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// The answer to one POST. For a text/event-stream response the body is empty: its events went to
// the callback instead.
struct HttpReply {
  int status = 0;
  std::string reason;
  std::string content_type;
  std::string session_id;  // Mcp-Session-Id, when sent
  std::string location;    // Location, for redirects
  std::string body;
  bool event_stream = false;
};

// The remote Streamable HTTP endpoint: POSTs over kept-alive connections (HTTP or HTTPS with the
// system's CA certificates). Thread-safe: each request takes its own connection from a small pool.
class HttpEndpoint {
 public:
  // Receives each SSE event's data; returns true to stop reading the stream (the response arrived).
  using EventFn = std::function<bool(const std::string& data)>;

  HttpEndpoint(Url url, std::chrono::milliseconds timeout);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // POSTs `body` as application/json with `headers` (Accept is added). The timeout bounds the
  // connect and every wait for data. Throws ForwardError when no HTTP answer arrives; any HTTP
  // status is returned, not thrown.
  HttpReply post(const std::string& body, const Headers& headers, const EventFn& on_event);
  // A DELETE of the endpoint (ending a session); returns the status. Throws ForwardError.
  int send_delete(const Headers& headers);

  const Url& url() const { return url_; }

 private:
  std::unique_ptr<Poco::Net::HTTPClientSession> acquire(bool* reused);
  void release(std::unique_ptr<Poco::Net::HTTPClientSession> session);
  ForwardError translate(const std::exception& e) const;

  Url url_;
  std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Poco::Net::HTTPClientSession>> idle_;
};

}  // namespace coda::bridge
