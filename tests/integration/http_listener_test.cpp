// The host's HTTP listener through a real plugin route (tests/fixtures/plugins/http-fixture): request
// fields and identity, buffered and streamed responses, limits, a throwing handler, WebSockets, slow
// clients and graceful draining.
#include <gtest/gtest.h>
#include <signal.h>

#include <future>
#include <thread>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/JSON/Parser.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include "tests/support/coda_server.hpp"
#include "tests/support/http_client.hpp"

namespace coda::test {
namespace {

std::string fixture_config(const std::string& limits = "") {
  std::string yaml = "plugins:\n  search_paths: [" + std::string(CODA_FIXTURE_PLUGIN_DIR) +
                     "]\n  load:\n    - {name: http-fixture, required: true}\n"
                     "transports:\n  fixture:\n    component: dev.coda.test.http-fixture\n"
                     "    prefix: /fixture\n";
  if (!limits.empty()) yaml += "server:\n  limits:\n" + limits;
  return yaml;
}

class HttpListener : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new CodaServer(config_options(fixture_config())); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::string url(const std::string& path) { return server_->url() + path; }
  static CodaServer* server_;
};
CodaServer* HttpListener::server_ = nullptr;

TEST_F(HttpListener, RouteSeesMethodPathQueryBodyHeadersAndIdentity) {
  auto r = http_request("POST", url("/fixture/echo?a=1&b=two"), "hello body",
                        {{"X-Request-Id", "req-42"}, {"X-Custom", "v"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("content-length"), std::to_string(r.body.size()));  // buffered, not chunked
  auto json = Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(json->getValue<std::string>("method"), "POST");
  EXPECT_EQ(json->getValue<std::string>("path"), "/fixture/echo");
  EXPECT_EQ(json->getValue<std::string>("query"), "a=1&b=two");
  EXPECT_EQ(json->getValue<std::string>("body"), "hello body");
  EXPECT_EQ(json->getValue<std::string>("request_id"), "req-42");
  EXPECT_NE(json->getValue<std::string>("remote_addr").find("127.0.0.1"), std::string::npos);
  auto identity = json->getObject("identity");
  ASSERT_TRUE(identity);
  EXPECT_FALSE(identity->getValue<std::string>("subject").empty());  // the local user (auth none)
  EXPECT_FALSE(identity->getValue<bool>("authenticated"));
  bool custom = false;
  auto headers = json->getArray("headers");
  for (std::size_t i = 0; i < headers->size(); ++i) {
    auto pair = headers->getArray(static_cast<unsigned>(i));
    if (pair->getElement<std::string>(0) == "X-Custom" && pair->getElement<std::string>(1) == "v") {
      custom = true;
    }
  }
  EXPECT_TRUE(custom) << r.body;
}

TEST_F(HttpListener, NoQueryIsAbsentNotEmpty) {
  auto r = http_request("GET", url("/fixture/echo"));
  auto json = Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
  EXPECT_TRUE(json->isNull("query"));
}

TEST_F(HttpListener, PrefixMatchesWholeSegmentsOnly) {
  EXPECT_EQ(http_request("GET", url("/fixturex/echo")).status, 404);
  EXPECT_EQ(http_request("GET", url("/fixture")).status, 404);  // the fixture's own 404
  EXPECT_EQ(http_request("GET", url("/fixture")).body, "fixture: no such path");
}

TEST_F(HttpListener, StatusAndHeadersFromThePlugin) {
  auto r = http_request("GET", url("/fixture/status?code=418"));
  EXPECT_EQ(r.status, 418);
  EXPECT_EQ(r.header("x-fixture"), "yes");
  EXPECT_EQ(r.body, "status");
}

TEST_F(HttpListener, FlushedResponsesStreamChunked) {
  Poco::URI uri(server_->url());
  Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
  Poco::Net::HTTPRequest request("GET", "/fixture/stream?n=3", Poco::Net::HTTPMessage::HTTP_1_1);
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  EXPECT_EQ(response.getStatus(), 200);
  EXPECT_TRUE(response.getChunkedTransferEncoding());
  EXPECT_EQ(response.getContentType(), "text/event-stream");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "data: 0");  // arrives before the handler finished
  std::string rest;
  Poco::StreamCopier::copyToString(in, rest);
  EXPECT_EQ(rest, "\ndata: 1\n\ndata: 2\n\n");
}

TEST_F(HttpListener, LargeResponsesStreamCompletely) {
  auto r = http_request("GET", url("/fixture/big?kb=300"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), 300u * 1024u);
  EXPECT_EQ(r.header("transfer-encoding"), "chunked");
}

TEST_F(HttpListener, ThrowingHandlerIs500AndTheHostKeepsServing) {
  auto r = http_request("GET", url("/fixture/throw"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(http_request("GET", url("/healthz")).status, 200);
  EXPECT_EQ(http_request("GET", url("/fixture/echo")).status, 200);
  EXPECT_NE(server_->output().find("fixture handler exploded"), std::string::npos);
}

TEST_F(HttpListener, KeepAliveServesSeveralRequestsOnOneConnection) {
  Poco::URI uri(server_->url());
  Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
  session.setKeepAlive(true);
  for (int i = 0; i < 3; ++i) {
    Poco::Net::HTTPRequest request("GET", "/fixture/echo", Poco::Net::HTTPMessage::HTTP_1_1);
    request.setKeepAlive(true);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::string body;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
    EXPECT_EQ(response.getStatus(), 200);
    EXPECT_TRUE(response.getKeepAlive());
  }
}

TEST_F(HttpListener, PipelinedRequestsAreAnsweredInOrderAndHeadGetsNoBody) {
  Poco::URI uri(server_->url());
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress(uri.getHost(), uri.getPort()));
  socket.setReceiveTimeout(Poco::Timespan(10, 0));
  // Four requests in one write: the listener finds the next ones already buffered.
  const std::string requests =
      "POST /fixture/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 9\r\n\r\nfirst-one"
      "HEAD /fixture/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
      "POST /fixture/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\n"
      "Connection: close\r\n\r\nlast";
  socket.sendBytes(requests.data(), static_cast<int>(requests.size()));
  std::string replies;
  char buffer[8192];
  for (int n; (n = socket.receiveBytes(buffer, sizeof buffer)) > 0;) replies.append(buffer, n);
  std::vector<std::size_t> starts;
  for (auto at = replies.find("HTTP/1.1 "); at != std::string::npos;
       at = replies.find("HTTP/1.1 ", at + 1)) {
    starts.push_back(at);
  }
  ASSERT_EQ(starts.size(), 4u) << replies;
  for (auto at : starts) EXPECT_EQ(replies.compare(at, 12, "HTTP/1.1 200"), 0) << replies.substr(at, 40);
  auto first = replies.substr(starts[0], starts[1] - starts[0]);
  auto head = replies.substr(starts[1], starts[2] - starts[1]);
  auto last = replies.substr(starts[3]);
  EXPECT_NE(first.find("first-one"), std::string::npos) << first;
  // HEAD: the GET's headers, Content-Length included, and nothing after them.
  EXPECT_NE(head.find("Content-Length: "), std::string::npos) << head;
  EXPECT_EQ(head.find("\r\n\r\n"), head.size() - 4) << head;
  EXPECT_NE(replies.substr(starts[2], starts[3] - starts[2]).find("ok"), std::string::npos);
  EXPECT_NE(last.find("\"last\""), std::string::npos) << last;
  EXPECT_NE(last.find("Connection: Close"), std::string::npos) << last;
}

TEST_F(HttpListener, WebSocketEchoesAndClosesWithThePluginsCode) {
  Poco::URI uri(server_->url());
  Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
  Poco::Net::HTTPRequest request("GET", "/fixture/ws", Poco::Net::HTTPMessage::HTTP_1_1);
  Poco::Net::HTTPResponse response;
  Poco::Net::WebSocket ws(session, request, response);
  ws.setReceiveTimeout(Poco::Timespan(10, 0));
  for (const std::string& text : {std::string("hello"), std::string(100000, 'y')}) {
    ws.sendFrame(text.data(), static_cast<int>(text.size()), Poco::Net::WebSocket::FRAME_TEXT);
    Poco::Buffer<char> buffer(0);
    int flags = 0;
    ws.receiveFrame(buffer, flags);
    std::string received(buffer.begin(), buffer.size());
    EXPECT_TRUE(received == text) << "got " << received.size() << " bytes";
  }
  std::string close = "close";
  ws.sendFrame(close.data(), static_cast<int>(close.size()), Poco::Net::WebSocket::FRAME_TEXT);
  Poco::Buffer<char> buffer(0);
  int flags = 0;
  ws.receiveFrame(buffer, flags);
  EXPECT_EQ(flags & Poco::Net::WebSocket::FRAME_OP_BITMASK, Poco::Net::WebSocket::FRAME_OP_CLOSE);
  ASSERT_GE(buffer.size(), 2u);
  int code = (static_cast<unsigned char>(buffer[0]) << 8) | static_cast<unsigned char>(buffer[1]);
  EXPECT_EQ(code, 4000);
}

TEST_F(HttpListener, PlainRequestToAWebSocketRouteIsRefusedByThePlugin) {
  auto r = http_request("GET", url("/fixture/ws"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("no WebSocket upgrade"), std::string::npos) << r.body;
}

TEST(HttpLimits, OversizedBodyIs413AndHeadersOverLimitAre431) {
  CodaServer server(config_options(fixture_config("    max_body_bytes: 1024\n    max_headers: 10\n")));
  auto ok = http_request("POST", server.url() + "/fixture/echo", std::string(1024, 'a'));
  EXPECT_EQ(ok.status, 200);
  auto big = http_request("POST", server.url() + "/fixture/echo", std::string(1025, 'a'));
  EXPECT_EQ(big.status, 413);
  EXPECT_NE(big.body.find("1024"), std::string::npos) << big.body;
  std::vector<std::pair<std::string, std::string>> many;
  for (int i = 0; i < 12; ++i) many.emplace_back("X-H" + std::to_string(i), "v");
  EXPECT_EQ(http_request("GET", server.url() + "/fixture/echo", "", many).status, 431);
  EXPECT_EQ(http_request("GET", server.url() + "/healthz").status, 200);
}

TEST(HttpLimits, ASlowClientCannotHoldAWorker) {
  CodaServer server(config_options(fixture_config("    idle_timeout_s: 1\n    request_timeout_s: 1\n")));
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", server.port()));
  std::string partial = "GET /healthz HTTP/1.1\r\nHost: x\r\n";  // never finished
  socket.sendBytes(partial.data(), static_cast<int>(partial.size()));
  socket.setReceiveTimeout(Poco::Timespan(30, 0));
  char buffer[256];
  int n = -1;
  try {
    n = socket.receiveBytes(buffer, sizeof buffer);  // returns when the host cuts the connection
  } catch (const Poco::Exception&) {
    n = 0;  // reset by the host: also cut
  }
  EXPECT_GE(n, 0);
  EXPECT_EQ(http_request("GET", server.url() + "/healthz").status, 200);
}

TEST(HttpShutdown, InFlightRequestsFinishAndReadinessFlips) {
  CodaServer server(config_options(fixture_config()));
  auto slow = std::async(std::launch::async, [&] {
    return http_request("GET", server.url() + "/fixture/slow?ms=4000");
  });
  // The request is in the handler by then, even on a loaded machine under TSan (the drain grace is
  // 5 s, so the 4 s request still finishes).
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_EQ(::kill(server.pid(), SIGTERM), 0);
  auto response = slow.get();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "slow done");
  EXPECT_EQ(server.wait_exit(std::chrono::seconds(10)), 0) << server.output();
}

}  // namespace
}  // namespace coda::test
