#include "core/bridge/http_endpoint.hpp"

#include <istream>
#include <limits>
#include <sstream>

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/URI.h>

#include "core/bridge/sse_parser.hpp"

namespace coda::bridge {
namespace {

constexpr std::size_t kMaxIdleConnections = 8;
constexpr std::size_t kMaxBodyBytes = 64u << 20;

Poco::Net::Context::Ptr tls_context() {
  static Poco::Net::Context::Ptr context = new Poco::Net::Context(
      Poco::Net::Context::TLS_CLIENT_USE, "", "", "", Poco::Net::Context::VERIFY_RELAXED, 9,
      /*loadDefaultCAs=*/true, "ALL:!ADH:!LOW:!EXP:!MD5:@STRENGTH");
  return context;
}

bool is_stale_connection_error(const std::exception& e) {
  return dynamic_cast<const Poco::Net::NoMessageException*>(&e) != nullptr ||
         dynamic_cast<const Poco::Net::ConnectionResetException*>(&e) != nullptr ||
         dynamic_cast<const Poco::Net::ConnectionAbortedException*>(&e) != nullptr;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

const char* failure_reason(FailureKind kind) {
  switch (kind) {
    case FailureKind::kDns: return "dns";
    case FailureKind::kRefused: return "refused";
    case FailureKind::kTimeout: return "timeout";
    case FailureKind::kTls: return "tls";
    case FailureKind::kConnection: return "connection";
    case FailureKind::kHttp: return "http";
    case FailureKind::kToken: return "token";
    case FailureKind::kProtocol: return "protocol";
  }
  return "unknown";
}

Url Url::parse(const std::string& text) {
  Poco::URI uri;
  try {
    uri = Poco::URI(text);
  } catch (const Poco::Exception& e) {
    throw std::invalid_argument("'" + text + "' is not a URL: " + e.message());
  }
  Url url;
  url.text = text;
  url.scheme = lower(uri.getScheme());
  if (url.scheme != "http" && url.scheme != "https") {
    throw std::invalid_argument("'" + text + "' is not an http:// or https:// URL");
  }
  url.host = uri.getHost();
  if (url.host.empty()) throw std::invalid_argument("'" + text + "' has no host");
  url.port = uri.getPort();
  url.target = uri.getPathAndQuery();
  if (url.target.empty()) url.target = "/";
  return url;
}

HttpEndpoint::HttpEndpoint(Url url, std::chrono::milliseconds timeout)
    : url_(std::move(url)), timeout_(timeout) {}

HttpEndpoint::~HttpEndpoint() = default;

std::unique_ptr<Poco::Net::HTTPClientSession> HttpEndpoint::acquire(bool* reused) {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto session = std::move(idle_.back());
      idle_.pop_back();
      *reused = true;
      return session;
    }
  }
  *reused = false;
  std::unique_ptr<Poco::Net::HTTPClientSession> session;
  if (url_.scheme == "https") {
    session = std::make_unique<Poco::Net::HTTPSClientSession>(url_.host, url_.port, tls_context());
  } else {
    session = std::make_unique<Poco::Net::HTTPClientSession>(url_.host, url_.port);
  }
  Poco::Timespan timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout_).count());
  session->setTimeout(timeout, timeout, timeout);
  session->setKeepAlive(true);
  session->setKeepAliveTimeout(Poco::Timespan(5, 0));
  return session;
}

void HttpEndpoint::release(std::unique_ptr<Poco::Net::HTTPClientSession> session) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(session));
}

ForwardError HttpEndpoint::translate(const std::exception& e) const {
  const std::string where = url_.host + ":" + std::to_string(url_.port);
  const auto* poco = dynamic_cast<const Poco::Exception*>(&e);
  std::string detail = poco != nullptr ? poco->displayText() : e.what();
  if (dynamic_cast<const Poco::Net::HostNotFoundException*>(&e) != nullptr ||
      dynamic_cast<const Poco::Net::NoAddressFoundException*>(&e) != nullptr ||
      dynamic_cast<const Poco::Net::DNSException*>(&e) != nullptr) {
    return ForwardError(FailureKind::kDns, "DNS lookup of '" + url_.host + "' failed (" + detail + ")");
  }
  if (dynamic_cast<const Poco::Net::ConnectionRefusedException*>(&e) != nullptr) {
    return ForwardError(FailureKind::kRefused,
                        "connection to " + where + " refused (is the server running?)");
  }
  if (dynamic_cast<const Poco::TimeoutException*>(&e) != nullptr) {
    return ForwardError(FailureKind::kTimeout,
                        "timed out after " + std::to_string(timeout_.count() / 1000.0).substr(0, 5) +
                            " s waiting for " + where);
  }
  if (dynamic_cast<const Poco::Net::SSLException*>(&e) != nullptr) {
    return ForwardError(FailureKind::kTls, "TLS with " + where + " failed: " + detail);
  }
  return ForwardError(FailureKind::kConnection, "connection to " + where + " failed: " + detail);
}

HttpReply HttpEndpoint::post(const std::string& body, const Headers& headers,
                             const EventFn& on_event) {
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    try {
      session = acquire(&reused);
      Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, url_.target,
                                     Poco::Net::HTTPMessage::HTTP_1_1);
      request.setContentType("application/json");
      request.set("Accept", "application/json, text/event-stream");
      for (const auto& [name, value] : headers) request.set(name, value);
      request.setContentLength(static_cast<std::streamsize>(body.size()));
      request.setKeepAlive(true);
      session->sendRequest(request) << body;

      Poco::Net::HTTPResponse response;
      std::istream& in = session->receiveResponse(response);
      in.exceptions(std::ios::badbit);  // a timeout or reset while reading surfaces as itself
      HttpReply reply;
      reply.status = static_cast<int>(response.getStatus());
      reply.reason = response.getReason();
      reply.content_type = lower(response.getContentType());
      reply.session_id = response.get("Mcp-Session-Id", "");
      reply.location = response.get("Location", "");
      reply.event_stream = reply.content_type.rfind("text/event-stream", 0) == 0;
      if (reply.event_stream && reply.status / 100 == 2) {
        bool stop = false;
        SseParser parser([&](const std::string&, const std::string& data) {
          if (!stop) stop = on_event(data);
        });
        std::string line;
        while (!stop && std::getline(in, line)) parser.feed_line(line);
        parser.finish();
        // The stream may still be open (the response arrived): the connection is not reused.
        return reply;
      }
      char buffer[8192];
      while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        if (reply.body.size() + static_cast<std::size_t>(in.gcount()) > kMaxBodyBytes) {
          throw ForwardError(FailureKind::kProtocol, "the response body exceeds 64 MiB");
        }
        reply.body.append(buffer, static_cast<std::size_t>(in.gcount()));
      }
      // After an error status the server may not have read our body (an auth refusal before
      // routing): the connection is not reused, or the leftover bytes would spoil the next request.
      if (response.getKeepAlive() && reply.status / 100 == 2) release(std::move(session));
      return reply;
    } catch (const ForwardError&) {
      throw;
    } catch (const std::exception& e) {
      // A kept-alive connection the server closed meanwhile: try once more on a fresh one.
      if (reused && attempt == 0 && is_stale_connection_error(e)) continue;
      throw translate(e);
    }
  }
}

int HttpEndpoint::send_delete(const Headers& headers) {
  bool reused = false;
  try {
    auto session = acquire(&reused);
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_DELETE, url_.target,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [name, value] : headers) request.set(name, value);
    session->sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session->receiveResponse(response);
    in.ignore(std::numeric_limits<std::streamsize>::max());
    return static_cast<int>(response.getStatus());
  } catch (const std::exception& e) {
    throw translate(e);
  }
}

}  // namespace coda::bridge
