// The Streamable HTTP transport end to end: the real `coda` binary with transport-mcp-http and the
// conformance fixture tools, raw HTTP requests pinning every status code and the id echo.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "tests/support/coda_server.hpp"
#include "tests/support/http_client.hpp"

namespace coda::test {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

std::string config(const std::string& transport_settings = "",
                   const std::string& server_settings = "") {
  return std::string("server:\n  listen: 127.0.0.1:0\n  log_level: warning\n") + server_settings +
         "plugins:\n  search_paths: [\"" CODA_PLUGIN_DIR "\", \"" CODA_FIXTURE_PLUGIN_DIR "\"]\n"
         "  load:\n    - {name: transport-mcp-http, required: true}\n"
         "    - {name: conformance-tools, required: true}\n"
         "transports:\n  mcp-http:\n    component: dev.coda.transport.mcp-http\n" +
         transport_settings +
         "tools:\n  conformance:\n    component: dev.coda.test.conformance-tools\n";
}

CodaServer::Options options(const std::string& transport_settings = "",
                            const std::string& server_settings = "") {
  CodaServer::Options o;
  o.config_yaml = config(transport_settings, server_settings);
  return o;
}

Poco::JSON::Object::Ptr object(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
}

// The data: payloads of an SSE body, in order.
std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while ((pos = body.find("data: ", pos)) != std::string::npos) {
    auto end = body.find('\n', pos);
    out.push_back(body.substr(pos + 6, end - pos - 6));
    pos = end;
  }
  return out;
}

const char kProgressCall[] =
    R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"test_tool_with_progress",)"
    R"("arguments":{},"_meta":{"progressToken":"p1"}}})";

class McpHttp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new CodaServer(options()); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static HttpResponse post(const std::string& body, const Headers& extra = {}) {
    return mcp_post(server_->mcp_url(), body, extra);
  }
  static CodaServer* server_;
};
CodaServer* McpHttp::server_ = nullptr;

TEST_F(McpHttp, EchoesIdsOfEveryType) {
  for (const std::string id : {"7", R"("s")", "0"}) {
    auto r = post(R"({"jsonrpc":"2.0","id":)" + id + R"(,"method":"ping"})");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_EQ(r.body, R"({"jsonrpc":"2.0","id":)" + id + R"(,"result":{}})");
  }
}

TEST_F(McpHttp, UnknownMethodIsMinus32601WithTheId) {
  auto r = post(R"({"jsonrpc":"2.0","id":"m1","method":"no/such"})");
  EXPECT_EQ(r.status, 200);
  auto reply = object(r.body);
  EXPECT_EQ(reply->getValue<std::string>("id"), "m1");
  EXPECT_EQ(reply->getObject("error")->getValue<int>("code"), -32601);
}

TEST_F(McpHttp, NotificationIs202WithoutBody) {
  auto r = post(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body, "");
}

TEST_F(McpHttp, BadJsonIs400WithParseError) {
  auto r = post("{\"jsonrpc\":");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(object(r.body)->getObject("error")->getValue<int>("code"), -32700);
}

TEST_F(McpHttp, StatelessGetAndDeleteAre405) {
  EXPECT_EQ(http_request("GET", server_->mcp_url(), "", {{"Accept", "text/event-stream"}}).status, 405);
  EXPECT_EQ(http_request("DELETE", server_->mcp_url()).status, 405);
}

TEST_F(McpHttp, OriginAndHostAreValidated) {
  const std::string ping = R"({"jsonrpc":"2.0","id":1,"method":"ping"})";
  EXPECT_EQ(post(ping, {{"Origin", "https://evil.example.com"}}).status, 403);
  EXPECT_EQ(post(ping, {{"Origin", "null"}}).status, 403);
  EXPECT_EQ(post(ping, {{"Origin", "http://localhost:3000"}}).status, 200);
  EXPECT_EQ(post(ping, {{"Origin", "http://127.0.0.1"}}).status, 200);
  EXPECT_EQ(post(ping, {{"Host", "evil.example.com"}}).status, 403);
  EXPECT_EQ(post(ping, {{"Host", "localhost:" + std::to_string(server_->port())}}).status, 200);
  // Loopback addresses are 127.0.0.0/8 written as four decimal parts, nothing that merely looks so.
  for (const char* host : {"127.0.0.1", "127.1.2.3:8080", "127.255.255.255", "[::1]:9"}) {
    EXPECT_EQ(post(ping, {{"Host", host}}).status, 200) << host;
  }
  for (const char* host : {"128.0.0.1", "127.0.0.256", "127.0.0", "127.0.0.1.evil.example.com",
                           "1127.0.0.1", "127.0.0.1x", "127..0.1", "127.0.0.0001", "+127.0.0.1"}) {
    EXPECT_EQ(post(ping, {{"Host", host}}).status, 403) << host;
  }
}

TEST_F(McpHttp, ProtocolVersionHeader) {
  const std::string ping = R"({"jsonrpc":"2.0","id":1,"method":"ping"})";
  for (const char* version : {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}) {
    auto r = http_request("POST", server_->mcp_url(), ping,
                          {{"Content-Type", "application/json"},
                           {"Accept", "application/json, text/event-stream"},
                           {"MCP-Protocol-Version", version}});
    EXPECT_EQ(r.status, 200) << version;
  }
  auto absent = http_request("POST", server_->mcp_url(), ping,
                             {{"Content-Type", "application/json"}, {"Accept", "application/json"}});
  EXPECT_EQ(absent.status, 200);
  auto unsupported = http_request("POST", server_->mcp_url(), ping,
                                  {{"Content-Type", "application/json"},
                                   {"Accept", "application/json"},
                                   {"MCP-Protocol-Version", "2099-01-01"}});
  EXPECT_EQ(unsupported.status, 400);
  EXPECT_NE(unsupported.body.find("2099-01-01"), std::string::npos);
}

TEST_F(McpHttp, AcceptAndContentTypeAreChecked) {
  const std::string ping = R"({"jsonrpc":"2.0","id":1,"method":"ping"})";
  auto html = http_request("POST", server_->mcp_url(), ping,
                           {{"Content-Type", "application/json"}, {"Accept", "text/html"}});
  EXPECT_EQ(html.status, 406);
  auto text = http_request("POST", server_->mcp_url(), ping,
                           {{"Content-Type", "text/plain"}, {"Accept", "application/json"}});
  EXPECT_EQ(text.status, 415);
  auto charset = http_request("POST", server_->mcp_url(), ping,
                              {{"Content-Type", "application/json; charset=utf-8"},
                               {"Accept", "application/json"}});
  EXPECT_EQ(charset.status, 200);
}

TEST_F(McpHttp, ProgressArrivesAsSseBeforeTheResult) {
  auto r = post(kProgressCall);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/event-stream");
  auto events = sse_data(r.body);
  ASSERT_EQ(events.size(), 4u) << r.body;
  double last = -1;
  for (int i = 0; i < 3; ++i) {
    auto note = object(events[i]);
    EXPECT_EQ(note->getValue<std::string>("method"), "notifications/progress");
    EXPECT_EQ(note->getObject("params")->getValue<std::string>("progressToken"), "p1");
    double progress = note->getObject("params")->getValue<double>("progress");
    EXPECT_GT(progress, last);
    last = progress;
  }
  EXPECT_EQ(object(events[3])->getValue<int>("id"), 5);
}

TEST_F(McpHttp, JsonOnlyClientGetsJsonWithoutNotifications) {
  auto json_only = http_request("POST", server_->mcp_url(), kProgressCall,
                                {{"Content-Type", "application/json"},
                                 {"Accept", "application/json"},
                                 {"MCP-Protocol-Version", "2025-11-25"}});
  ASSERT_EQ(json_only.status, 200);
  EXPECT_EQ(json_only.header("content-type"), "application/json");
  EXPECT_EQ(object(json_only.body)->getValue<int>("id"), 5);
}

TEST_F(McpHttp, LoggingToolStreamsLogMessages) {
  auto r = post(R"({"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"test_tool_with_logging","arguments":{}}})");
  ASSERT_EQ(r.status, 200);
  auto events = sse_data(r.body);
  ASSERT_EQ(events.size(), 4u) << r.body;
  EXPECT_EQ(object(events[0])->getObject("params")->getValue<std::string>("data"),
            "Tool execution started");
  EXPECT_EQ(object(events[0])->getObject("params")->getValue<std::string>("level"), "info");
}

TEST_F(McpHttp, InitializeAndToolsList) {
  auto init = object(post(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
      "protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})")
                         .body);
  EXPECT_EQ(init->getObject("result")->getValue<std::string>("protocolVersion"), "2025-06-18");
  auto list = object(post(R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})").body);
  auto tools = list->getObject("result")->getArray("tools");
  ASSERT_GE(tools->size(), 9u);
  bool found = false;
  for (std::size_t i = 0; i < tools->size(); ++i) {
    found = found || tools->getObject(static_cast<unsigned>(i))->getValue<std::string>("name") ==
                         "test_simple_text";
  }
  EXPECT_TRUE(found);
}

TEST_F(McpHttp, BatchesOnlyWithVersion20250326) {
  const std::string batch =
      R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}])";
  auto old = http_request("POST", server_->mcp_url(), batch,
                          {{"Content-Type", "application/json"},
                           {"Accept", "application/json, text/event-stream"},
                           {"MCP-Protocol-Version", "2025-03-26"}});
  EXPECT_EQ(old.status, 200);
  Poco::JSON::Parser parser;
  EXPECT_EQ(parser.parse(old.body).extract<Poco::JSON::Array::Ptr>()->size(), 2u);
  auto current = post(batch);
  EXPECT_EQ(current.status, 400);
  EXPECT_EQ(object(current.body)->getObject("error")->getValue<int>("code"), -32600);
}

TEST_F(McpHttp, NoCspOrFrameHeadersOnTheMcpPath) {
  auto r = post(R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
  EXPECT_EQ(r.header("content-security-policy"), "");
  EXPECT_EQ(r.header("x-frame-options"), "");
}

TEST(McpHttpConfig, OversizedBodyIs413) {
  CodaServer server(options("    max_body_bytes: 1024\n"));
  std::string big = R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":")" +
                    std::string(2000, 'x') + "\"}}";
  EXPECT_EQ(mcp_post(server.mcp_url(), big).status, 413);
  EXPECT_EQ(mcp_post(server.mcp_url(), R"({"jsonrpc":"2.0","id":1,"method":"ping"})").status, 200);
}

TEST(McpHttpConfig, JsonModeNeverStreams) {
  CodaServer server(options("    response_mode: json\n"));
  auto r = mcp_post(server.mcp_url(), kProgressCall);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(object(r.body)->getValue<int>("id"), 5);
}

TEST(McpHttpConfig, SseModeAlwaysStreams) {
  CodaServer server(options("    response_mode: sse\n"));
  auto r = mcp_post(server.mcp_url(), R"({"jsonrpc":"2.0","id":3,"method":"ping"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/event-stream");
  EXPECT_EQ(sse_data(r.body), std::vector<std::string>{R"({"jsonrpc":"2.0","id":3,"result":{}})"});
}

TEST(McpHttpConfig, CorsOnlyForConfiguredOrigins) {
  // The listener's policy decides; the transport answers the configured origin with CORS.
  CodaServer server(options("", "  allowed_origins: [\"https://app.example.com\"]\n"));
  auto preflight = http_request("OPTIONS", server.mcp_url(), "",
                                {{"Origin", "https://app.example.com"},
                                 {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.header("access-control-allow-origin"), "https://app.example.com");
  EXPECT_NE(preflight.header("access-control-allow-headers").find("Mcp-Session-Id"), std::string::npos);
  auto allowed = mcp_post(server.mcp_url(), R"({"jsonrpc":"2.0","id":1,"method":"ping"})",
                          {{"Origin", "https://app.example.com"}});
  EXPECT_EQ(allowed.status, 200);
  EXPECT_EQ(allowed.header("access-control-allow-origin"), "https://app.example.com");
  auto loopback = mcp_post(server.mcp_url(), R"({"jsonrpc":"2.0","id":1,"method":"ping"})",
                           {{"Origin", "http://localhost"}});
  EXPECT_EQ(loopback.status, 200);
  EXPECT_EQ(loopback.header("access-control-allow-origin"), "");
  EXPECT_EQ(mcp_post(server.mcp_url(), R"({"jsonrpc":"2.0","id":1,"method":"ping"})",
                     {{"Origin", "https://other.example.com"}})
                .status,
            403);
}

TEST(McpHttpConfig, BadSettingsStopStartUp) {
  CodaServer::Options o;
  o.config_yaml = config("    response_mode: sometimes\n");
  o.wait_ready = false;
  try {
    CodaServer server(o);
    // Start-up goes on past the listener: the transport's refusal (or the exit it causes) names the
    // bad setting in the log, and /mcp never answers a request.
    bool named = false;
    for (int i = 0; i < 500 && !named; ++i) {
      named = server.output().find("response_mode") != std::string::npos;
      if (!named) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(named) << server.output();
    try {
      EXPECT_NE(mcp_post(server.mcp_url(), R"({"jsonrpc":"2.0","id":1,"method":"ping"})").status,
                200);
    } catch (const std::exception&) {
      // the host already exited: nothing serves /mcp
    }
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("response_mode"), std::string::npos) << e.what();
  }
}

TEST(McpHttpSessions, LifecycleOfASession) {
  CodaServer server(options("    sessions: true\n"));
  const std::string url = server.mcp_url();
  const std::string ping = R"({"jsonrpc":"2.0","id":1,"method":"ping"})";
  EXPECT_EQ(mcp_post(url, ping).status, 400);
  auto init = mcp_post(url, R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
      "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})");
  ASSERT_EQ(init.status, 200);
  std::string session = init.header("mcp-session-id");
  ASSERT_EQ(session.size(), 32u);
  EXPECT_EQ(mcp_post(url, ping, {{"Mcp-Session-Id", session}}).status, 200);
  EXPECT_EQ(mcp_post(url, ping, {{"Mcp-Session-Id", "0123456789abcdef0123456789abcdef"}}).status, 404);
  EXPECT_EQ(http_request("GET", url, "", {{"Accept", "text/event-stream"}}).status, 400);
  EXPECT_EQ(http_request("DELETE", url, "", {{"Mcp-Session-Id", session}}).status, 200);
  EXPECT_EQ(mcp_post(url, ping, {{"Mcp-Session-Id", session}}).status, 404);
  EXPECT_EQ(http_request("DELETE", url, "", {{"Mcp-Session-Id", session}}).status, 404);
}

}  // namespace
}  // namespace coda::test
