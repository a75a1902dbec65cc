// The attack suite: JSON nested 100 000 levels deep (`[[[[...`), the input that overflows the stack
// of a recursive parser, sent as a JSON-RPC message over HTTP (/mcp), over the web UI's WebSocket
// (/ws) and over stdio (`coda serve --stdio`), bare and inside tool arguments. Each must be refused
// with a JSON-RPC parse error
// (-32700) that names the limit, and the host must keep serving.
#include <Poco/Buffer.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/URI.h>
#include <gtest/gtest.h>

#include "tests/integration/stdio_pipe_child.hpp"
#include "tests/security/security_support.hpp"

namespace coda::test::security {
namespace {

constexpr std::size_t kDepth = 100000;

// The attack payloads: a bare nest, and a well-formed tools/call whose arguments hold the nest.
std::vector<std::string> deep_messages() {
  std::string nest = std::string(kDepth, '[') + std::string(kDepth, ']');
  return {nest, R"({"jsonrpc":"2.0","id":7,"method":"tools/call",)"
                R"("params":{"name":"coda_run","arguments":{"prompt":)" +
                    nest + "}}}"};
}

void expect_depth_refusal(const std::string& reply) {
  Poco::JSON::Object::Ptr message;
  ASSERT_NO_THROW(message = Poco::JSON::Parser().parse(reply).extract<Poco::JSON::Object::Ptr>())
      << reply.substr(0, 300);
  auto error = message->getObject("error");
  ASSERT_FALSE(error.isNull()) << reply.substr(0, 300);
  EXPECT_EQ(error->getValue<int>("code"), -32700);
  EXPECT_NE(error->getValue<std::string>("message").find("deeper than 64 levels"),
            std::string::npos)
      << error->getValue<std::string>("message");
}

std::string web_ui_config() {
  std::string config = host_config("  mode: none\n");
  config.replace(config.find("load: [transport-mcp-http, agent-cli]"), 37,
                 "load: [transport-mcp-http, transport-web-ui, agent-cli]");
  config.replace(config.find("transports:\n"), 12,
                 "transports:\n  web-ui: {component: dev.coda.transport.web-ui}\n");
  return config;
}

TEST(SecurityJsonDepth, DeepJsonOverHttpIsAParseErrorAndTheHostKeepsServing) {
  CodaServer server(server_options(host_config("  mode: none\n")));
  for (const auto& message : deep_messages()) {
    auto response = mcp_post(server.mcp_url(), message);
    EXPECT_EQ(response.status, 400) << response.body.substr(0, 300);
    expect_depth_refusal(response.body);
    EXPECT_TRUE(server.running()) << "the host died";
    EXPECT_EQ(list_tools_status(server, {}), 200) << "the host stopped serving";
  }
}

TEST(SecurityJsonDepth, DeepJsonOverTheWebSocketIsAParseErrorAndTheSocketKeepsServing) {
  CodaServer server(server_options(web_ui_config()));
  auto ticket_response = http_request("POST", server.url() + "/ui/api/ticket", "");
  ASSERT_EQ(ticket_response.status, 200) << ticket_response.body;
  std::string ticket = Poco::JSON::Parser()
                           .parse(ticket_response.body)
                           .extract<Poco::JSON::Object::Ptr>()
                           ->getValue<std::string>("ticket");
  Poco::URI uri(server.url());
  Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
  Poco::Net::HTTPRequest request("GET", "/ws?ticket=" + ticket, Poco::Net::HTTPMessage::HTTP_1_1);
  Poco::Net::HTTPResponse response;
  Poco::Net::WebSocket ws(session, request, response);
  ws.setReceiveTimeout(Poco::Timespan(20, 0));
  auto send = [&](const std::string& text) {
    ws.sendFrame(text.data(), static_cast<int>(text.size()), Poco::Net::WebSocket::FRAME_TEXT);
  };
  // The next frame that is a response (not a notification).
  auto receive_response = [&]() -> std::string {
    for (int frames = 0; frames < 100; ++frames) {
      Poco::Buffer<char> buffer(0);
      int flags = 0;
      const int n = ws.receiveFrame(buffer, flags);
      if (n <= 0) break;
      std::string text(buffer.begin(), buffer.size());
      if (text.find("\"method\"") == std::string::npos) return text;
    }
    ADD_FAILURE() << "the WebSocket closed or sent no response";
    return "";
  };
  for (const auto& message : deep_messages()) {
    send(message);
    expect_depth_refusal(receive_response());
    // The same socket still answers.
    send(R"({"jsonrpc":"2.0","id":99,"method":"ping"})");
    EXPECT_NE(receive_response().find("\"id\":99"), std::string::npos);
  }
  EXPECT_TRUE(server.running()) << "the host died";
  EXPECT_EQ(list_tools_status(server, {}), 200);
  ws.shutdown();
}

TEST(SecurityJsonDepth, DeepJsonOverStdioIsAParseErrorAndTheHostKeepsServing) {
  TempDir data;
  PipeChild coda({"serve", "--stdio", "--data-dir", data.path()});
  // The next line that is a response (not a notification).
  auto next_response = [&]() -> std::string {
    for (int i = 0; i < 50; ++i) {
      std::string line = coda.read_line();
      if (line.empty()) break;
      if (line.find("\"method\"") == std::string::npos) return line;
    }
    ADD_FAILURE() << "no response on stdout; stderr: " << coda.stderr_text();
    return "";
  };
  for (const auto& message : deep_messages()) {
    coda.send_line(message);
    expect_depth_refusal(next_response());
    coda.send_line(R"({"jsonrpc":"2.0","id":99,"method":"ping"})");
    EXPECT_NE(next_response().find("\"id\":99"), std::string::npos) << "the host stopped serving";
  }
}

}  // namespace
}  // namespace coda::test::security
