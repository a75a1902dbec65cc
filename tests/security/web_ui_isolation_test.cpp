// The attack suite: two users through the web UI. Each gets a WebSocket ticket with their own bearer
// token and speaks MCP over /ws. Alice lists, reads, waits on and cancels Bob's running task; every
// answer must be byte-identical to the one for a task id that does not exist, and Bob's task must
// still be running afterwards. A ticket is bound to the identity that asked for it: Alice's ticket
// cannot be redeemed twice, and a connection opened without one is refused. (In bearer mode the
// upgrade itself must also pass the listener's authentication: the client sends its token.)
#include <gtest/gtest.h>

#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/URI.h>

#include "core/auth/secrets.hpp"
#include "tests/security/security_support.hpp"

namespace coda::test::security {
namespace {

constexpr const char* kAliceToken = "alice-webui-token-0f9e8d7c6b5a";
constexpr const char* kBobToken = "bob-webui-token-1a2b3c4d5e6f7a";

// One MCP client over the web UI's WebSocket, authenticated by a ticket.
class WsClient {
 public:
  // `token`: the upgrade passes the listener's authentication as the same user (a proxy in front
  // forwards the browser's session the same way); the ticket then names the identity.
  WsClient(const CodaServer& server, const std::string& ticket, const char* token)
      : uri_(server.url()) {
    session_ = std::make_unique<Poco::Net::HTTPClientSession>(uri_.getHost(), uri_.getPort());
    Poco::Net::HTTPRequest request("GET", "/ws?ticket=" + ticket, Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Authorization", std::string("Bearer ") + token);
    Poco::Net::HTTPResponse response;
    ws_ = std::make_unique<Poco::Net::WebSocket>(*session_, request, response);
    ws_->setReceiveTimeout(Poco::Timespan(20, 0));
    EXPECT_NE(call("initialize",
                   R"({"protocolVersion":"2025-11-25","capabilities":{},)"
                   R"("clientInfo":{"name":"attack","version":"1"}})")
                  .find("\"result\""),
              std::string::npos);
    send(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  }

  // The response to one request (notifications before it are skipped), as received.
  std::string call(const std::string& method, const std::string& params) {
    const int id = next_id_++;
    send(R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + method +
         R"(","params":)" + params + "}");
    const std::string marker = "\"id\":" + std::to_string(id);
    for (int frames = 0; frames < 1000; ++frames) {
      Poco::Buffer<char> buffer(0);
      int flags = 0;
      const int n = ws_->receiveFrame(buffer, flags);
      if (n <= 0) break;
      std::string text(buffer.begin(), buffer.size());
      if (text.find(marker) != std::string::npos && text.find("\"method\"") == std::string::npos) {
        return text;
      }
    }
    ADD_FAILURE() << "no response to " << method;
    return "";
  }
  std::string tool(const std::string& name, const std::string& arguments) {
    return call("tools/call", R"({"name":")" + name + R"(","arguments":)" + arguments + "}");
  }

 private:
  void send(const std::string& text) {
    ws_->sendFrame(text.data(), static_cast<int>(text.size()), Poco::Net::WebSocket::FRAME_TEXT);
  }
  Poco::URI uri_;
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
  std::unique_ptr<Poco::Net::WebSocket> ws_;
  int next_id_ = 1;
};

std::string ticket_for(const CodaServer& server, const char* token) {
  auto response = http_request("POST", server.url() + "/ui/api/ticket", "", bearer(token));
  EXPECT_EQ(response.status, 200) << response.body;
  auto doc = Poco::JSON::Parser().parse(response.body).extract<Poco::JSON::Object::Ptr>();
  return doc->getValue<std::string>("ticket");
}

// The result of a response with every occurrence of `id` replaced, so answers about different task
// ids (and to different JSON-RPC ids) compare.
std::string blank(std::string text, const std::string& id) {
  text.erase(0, text.find("\"result\""));
  for (auto pos = text.find(id); pos != std::string::npos; pos = text.find(id, pos)) {
    text.replace(pos, id.size(), "<id>");
  }
  return text;
}

class WebUiIsolation : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string auth = "  mode: bearer\n  tokens:\n";
    for (auto [token, who] : {std::pair{kAliceToken, "alice"}, std::pair{kBobToken, "bob"}}) {
      auth += "    - {sha256: " + auth::sha256_hex(token) + ", subject: " + who +
              ", email: " + who + "@example.com}\n";
    }
    std::string config = host_config(auth);
    config.replace(config.find("load: [transport-mcp-http, agent-cli]"), 37,
                   "load: [transport-mcp-http, transport-web-ui, agent-cli]");
    config.replace(config.find("transports:\n"), 12,
                   "transports:\n  web-ui: {component: dev.coda.transport.web-ui}\n");
    server_ = std::make_unique<CodaServer>(server_options(config));
    auto run = call_tool(*server_, "coda_run", R"({"prompt":"fake:hang bob's private plan"})",
                         bearer(kBobToken));
    ASSERT_FALSE(run.is_error) << run.text;
    bob_task_ = run.structured->getValue<std::string>("task_id");
  }
  std::unique_ptr<CodaServer> server_;
  std::string bob_task_;
};

TEST_F(WebUiIsolation, AnotherUsersTaskLooksExactlyLikeAnUnknownOneOverTheWebSocket) {
  WsClient alice(*server_, ticket_for(*server_, kAliceToken), kAliceToken);
  const std::string unknown = "task_00000000000000000000000000000000";

  const std::string inbox = alice.tool("coda_inbox", "{}");
  EXPECT_EQ(inbox.find(bob_task_), std::string::npos) << inbox;
  EXPECT_EQ(inbox.find("private plan"), std::string::npos) << inbox;

  for (std::string tool : {"coda_get_result", "coda_cancel"}) {
    for (std::string extra : {"", R"(,"wait_s":1)", R"(,"events_after":0)"}) {
      if (tool == "coda_cancel" && !extra.empty()) continue;
      const std::string theirs =
          alice.tool(tool, R"({"task_id":")" + bob_task_ + "\"" + extra + "}");
      const std::string none = alice.tool(tool, R"({"task_id":")" + unknown + "\"" + extra + "}");
      EXPECT_EQ(blank(theirs, bob_task_), blank(none, unknown)) << tool << extra;
      EXPECT_EQ(theirs.find("private plan"), std::string::npos) << theirs;
    }
  }

  // Bob's task is untouched, and Bob sees it through his own WebSocket.
  WsClient bob(*server_, ticket_for(*server_, kBobToken), kBobToken);
  const std::string mine = bob.tool("coda_get_result", R"({"task_id":")" + bob_task_ + "\"}");
  EXPECT_NE(mine.find("running"), std::string::npos) << mine;
  EXPECT_NE(bob.tool("coda_inbox", "{}").find(bob_task_), std::string::npos);
}

TEST_F(WebUiIsolation, ATicketIsSpentOnceAndNeededAtAll) {
  const std::string ticket = ticket_for(*server_, kAliceToken);
  { WsClient first(*server_, ticket, kAliceToken); }
  for (const std::string& query : {"?ticket=" + ticket, std::string("?ticket="), std::string()}) {
    Poco::URI uri(server_->url());
    Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
    Poco::Net::HTTPRequest request("GET", "/ws" + query, Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Authorization", std::string("Bearer ") + kAliceToken);
    Poco::Net::HTTPResponse response;
    EXPECT_THROW(Poco::Net::WebSocket(session, request, response), Poco::Net::WebSocketException)
        << query;
    EXPECT_EQ(response.getStatus(), Poco::Net::HTTPResponse::HTTP_UNAUTHORIZED) << query;
  }
  // Without credentials there is no ticket either.
  EXPECT_EQ(http_request("POST", server_->url() + "/ui/api/ticket").status, 401);
}

}  // namespace
}  // namespace coda::test::security
