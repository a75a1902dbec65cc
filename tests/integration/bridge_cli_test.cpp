// `coda bridge` as a user runs it: the real binary with pipes, in front of a fake MCP endpoint.
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/ServerSocket.h>

#include "tests/integration/stdio_pipe_child.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/bridge/fake_mcp_server.hpp"

namespace coda::test {
namespace {

using Poco::JSON::Object;

Object::Ptr parse(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Object::Ptr>();
}

std::string id_json_of(const SeenRequest& req) {
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(parse(req.body)->get("id"), out);
  return out.str();
}

const std::vector<std::string> kNoBridgeEnv = {"CODA_MCP_URL", "DATABRICKS_PROFILE"};

TEST(BridgeCli, WithoutAUrlExitsWithAOneLineExplanation) {
  PipeChild bridge({"bridge"}, {}, kNoBridgeEnv);
  bridge.close_stdin();
  EXPECT_EQ(bridge.wait_exit(std::chrono::seconds(20)), 2);
  std::string err = bridge.stderr_text();
  EXPECT_NE(err.find("--url"), std::string::npos) << err;
  EXPECT_NE(err.find("CODA_MCP_URL"), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), err.size() - 1) << "expected exactly one line: " << err;
  EXPECT_TRUE(bridge.read_line(std::chrono::seconds(5)).empty());  // nothing on stdout
}

TEST(BridgeCli, RejectsABadUrlAndABadHeader) {
  PipeChild bad_url({"bridge", "--url", "ftp://example.com/mcp"}, {}, kNoBridgeEnv);
  bad_url.close_stdin();
  EXPECT_EQ(bad_url.wait_exit(std::chrono::seconds(20)), 2);
  EXPECT_NE(bad_url.stderr_text().find("http:// or https://"), std::string::npos);
  PipeChild bad_header({"bridge", "--url", "http://127.0.0.1:1/mcp", "--header", "secret-value"}, {},
                       kNoBridgeEnv);
  bad_header.close_stdin();
  EXPECT_EQ(bad_header.wait_exit(std::chrono::seconds(20)), 2);
  EXPECT_EQ(bad_header.stderr_text().find("secret-value"), std::string::npos);
}

TEST(BridgeCli, ForwardsWithARefreshedTokenAndEndsTheSessionAtEndOfInput) {
  TempDir dir;
  std::string script = dir.write("token.sh",
                                 "n=$(cat \"$0.count\" 2>/dev/null || echo 0)\n"
                                 "n=$((n+1))\necho $n > \"$0.count\"\n"
                                 "echo '{\"access_token\":\"tok-'$n'\",\"expiry\":\"2999-01-01T00:00:00Z\"}'\n");
  FakeMcpServer server([](const SeenRequest& req, Poco::Net::HTTPServerResponse& resp) {
    if (req.header("authorization") != "Bearer tok-2" || req.header("x-team") != "data") {
      FakeMcpServer::reply_status(resp, 401);
      return;
    }
    if (req.method == "DELETE") {
      FakeMcpServer::reply_status(resp, 204);
      return;
    }
    std::string method = parse(req.body)->optValue<std::string>("method", "");
    if (method == "initialize") {
      resp.set("Mcp-Session-Id", "cli-1");
      FakeMcpServer::reply_json(resp, R"({"jsonrpc":"2.0","id":)" + id_json_of(req) +
                                          R"(,"result":{"protocolVersion":"2025-11-25"}})");
    } else if (method.rfind("notifications/", 0) == 0) {
      FakeMcpServer::reply_status(resp, 202);
    } else {
      FakeMcpServer::reply_sse(
          resp, {R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}})",
                 R"({"jsonrpc":"2.0","id":)" + id_json_of(req) + R"(,"result":{"tools":[]}})"});
    }
  });
  PipeChild bridge({"bridge", "--url", server.url(), "--token-command", "sh " + script, "--header",
                    "X-Team: data", "--timeout", "30"},
                   {}, kNoBridgeEnv);
  bridge.send_line(
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"it","version":"1"}}})");
  std::string init = bridge.read_line();
  ASSERT_FALSE(init.empty()) << bridge.stderr_text();
  EXPECT_EQ(parse(init)->getObject("result")->getValue<std::string>("protocolVersion"), "2025-11-25");
  bridge.send_line(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  bridge.send_line(R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})");
  EXPECT_EQ(parse(bridge.read_line())->getValue<std::string>("method"), "notifications/progress");
  EXPECT_EQ(bridge.read_line(), R"({"jsonrpc":"2.0","id":2,"result":{"tools":[]}})");
  bridge.close_stdin();
  EXPECT_EQ(bridge.wait_exit(std::chrono::seconds(20)), 0);
  auto seen = server.requests();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().method, "DELETE");
  EXPECT_EQ(seen.back().header("mcp-session-id"), "cli-1");
  std::string err = bridge.stderr_text();
  EXPECT_EQ(err.find("tok-"), std::string::npos) << "a token reached the log: " << err;
}

TEST(BridgeCli, AnswersARequestWithAnErrorLineWhenTheServerIsDown) {
  Poco::Net::ServerSocket closed(Poco::Net::SocketAddress("127.0.0.1", 0));
  std::string url = "http://127.0.0.1:" + std::to_string(closed.address().port()) + "/mcp";
  closed.close();
  PipeChild bridge({"bridge"}, {{"CODA_MCP_URL", url}}, {"DATABRICKS_PROFILE"});
  bridge.send_line(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  bridge.send_line(R"({"jsonrpc":"2.0","id":"x","method":"ping"})");
  std::string line = bridge.read_line();
  ASSERT_FALSE(line.empty()) << bridge.stderr_text();
  auto error = parse(line)->getObject("error");
  ASSERT_TRUE(error) << line;
  EXPECT_EQ(parse(line)->getValue<std::string>("id"), "x");  // the notification got no line
  EXPECT_EQ(error->getValue<int>("code"), -32000);
  EXPECT_NE(error->getValue<std::string>("message").find("refused"), std::string::npos) << line;
  bridge.close_stdin();
  EXPECT_EQ(bridge.wait_exit(std::chrono::seconds(20)), 0);
}

}  // namespace
}  // namespace coda::test
