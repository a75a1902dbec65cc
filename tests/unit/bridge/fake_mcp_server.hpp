#pragma once

// A scriptable Streamable HTTP endpoint on 127.0.0.1:<free port> for the bridge's tests: every
// request is recorded, and a test-supplied handler decides the answer. Header-only so that the unit
// and the integration tests share it.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

namespace coda::test {

// One request as the fake server saw it. Header names are lower-cased.
struct SeenRequest {
  std::string method;
  std::map<std::string, std::string> headers;
  std::string body;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// Thread-safe. The handler runs on the server's worker threads.
class FakeMcpServer {
 public:
  using Handler = std::function<void(const SeenRequest&, Poco::Net::HTTPServerResponse&)>;

  explicit FakeMcpServer(Handler handler) : handler_(std::move(handler)) {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    port_ = socket.address().port();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(16);
    params->setKeepAlive(true);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(this), socket, params);
    server_->start();
  }
  ~FakeMcpServer() { server_->stopAll(true); }
  FakeMcpServer(const FakeMcpServer&) = delete;
  FakeMcpServer& operator=(const FakeMcpServer&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/mcp"; }
  unsigned short port() const { return port_; }
  std::vector<SeenRequest> requests() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }

  // Helpers for handlers.
  static void reply_json(Poco::Net::HTTPServerResponse& resp, const std::string& body,
                         int status = 200) {
    resp.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    resp.setContentType("application/json");
    resp.setContentLength(static_cast<std::streamsize>(body.size()));
    resp.send() << body;
  }
  static void reply_status(Poco::Net::HTTPServerResponse& resp, int status,
                           const std::string& body = "") {
    resp.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    resp.setContentType("text/plain");
    resp.setContentLength(static_cast<std::streamsize>(body.size()));
    resp.send() << body;
  }
  // An SSE response carrying each message as one event.
  static void reply_sse(Poco::Net::HTTPServerResponse& resp, const std::vector<std::string>& events) {
    resp.setStatus(Poco::Net::HTTPResponse::HTTP_OK);
    resp.setContentType("text/event-stream");
    resp.setChunkedTransferEncoding(true);
    std::ostream& out = resp.send();
    out << ": a comment line\n\n";
    for (const auto& e : events) {
      out << "event: message\n";
      std::istringstream lines(e);
      for (std::string line; std::getline(lines, line);) out << "data: " << line << "\n";
      out << "\n" << std::flush;
    }
  }

 private:
  class Handle : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handle(FakeMcpServer* owner) : owner_(owner) {}
    void handleRequest(Poco::Net::HTTPServerRequest& req,
                       Poco::Net::HTTPServerResponse& resp) override {
      SeenRequest seen;
      seen.method = req.getMethod();
      for (const auto& [name, value] : req) {
        std::string lower;
        for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        seen.headers[lower] = value;
      }
      Poco::StreamCopier::copyToString(req.stream(), seen.body);
      {
        std::lock_guard lock(owner_->mutex_);
        owner_->seen_.push_back(seen);
      }
      owner_->handler_(seen, resp);
    }

   private:
    FakeMcpServer* owner_;
  };
  class Factory : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(FakeMcpServer* owner) : owner_(owner) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
      return new Handle(owner_);
    }

   private:
    FakeMcpServer* owner_;
  };

  Handler handler_;
  unsigned short port_ = 0;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  mutable std::mutex mutex_;
  std::vector<SeenRequest> seen_;
};

}  // namespace coda::test
