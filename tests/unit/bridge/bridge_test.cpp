#include "core/bridge/bridge.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <sstream>
#include <thread>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/ServerSocket.h>

#include "tests/support/temp_dir.hpp"
#include "tests/unit/bridge/fake_mcp_server.hpp"

namespace coda::bridge {
namespace {

using Poco::JSON::Object;
using test::FakeMcpServer;
using test::SeenRequest;

Object::Ptr parse(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Object::Ptr>();
}

std::string method_of(const SeenRequest& req) {
  if (req.body.empty()) return "";
  return parse(req.body)->optValue<std::string>("method", "");
}

std::string id_json_of(const SeenRequest& req) {
  auto obj = parse(req.body);
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(obj->get("id"), out);
  return out.str();
}

std::string result_for(const SeenRequest& req, const std::string& result_json) {
  return R"({"jsonrpc":"2.0","id":)" + id_json_of(req) + R"(,"result":)" + result_json + "}";
}

// A bridge whose output lines and log lines are collected.
struct Harness {
  std::mutex mutex;
  std::vector<std::string> lines;
  std::vector<std::string> logs;
  Options options;

  explicit Harness(const std::string& url, std::vector<std::string> token_command = {}) {
    options.url = Url::parse(url);
    options.token_command = std::move(token_command);
    options.timeout = std::chrono::seconds(10);
  }
  LineWriter writer() {
    return [this](const std::string& l) {
      std::lock_guard lock(mutex);
      lines.push_back(l);
    };
  }
  LogWriter logger() {
    return [this](const std::string& l) {
      std::lock_guard lock(mutex);
      logs.push_back(l);
    };
  }
  std::unique_ptr<Bridge> make() { return std::make_unique<Bridge>(options, writer(), logger()); }
  std::string all_logs() {
    std::string out;
    for (const auto& l : logs) out += l + "\n";
    return out;
  }
};

const std::string kInitialize =
    R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})";
const std::string kInitialized = R"({"jsonrpc":"2.0","method":"notifications/initialized"})";
const std::string kToolsList = R"({"jsonrpc":"2.0","id":"list-1","method":"tools/list"})";

// A token command that prints tok-1, tok-2, ... (one more on every run).
std::vector<std::string> counting_token_command(const test::TempDir& dir) {
  std::string script = dir.write("token.sh",
                                 "n=$(cat \"$0.count\" 2>/dev/null || echo 0)\n"
                                 "n=$((n+1))\necho $n > \"$0.count\"\n"
                                 "echo '{\"access_token\":\"tok-'$n'\",\"expiry\":\"2999-01-01T00:00:00Z\"}'\n");
  return {"sh", script};
}

void expect_bridge_error(const std::string& line, const std::string& id_json,
                         const std::string& reason, const std::string& words) {
  auto reply = parse(line);
  std::ostringstream id;
  Poco::JSON::Stringifier::stringify(reply->get("id"), id);
  EXPECT_EQ(id.str(), id_json) << line;
  auto error = reply->getObject("error");
  ASSERT_TRUE(error) << line;
  EXPECT_EQ(error->getValue<int>("code"), -32000) << line;
  EXPECT_NE(error->getValue<std::string>("message").find(words), std::string::npos) << line;
  EXPECT_EQ(error->getObject("data")->getValue<std::string>("reason"), reason) << line;
}

TEST(Bridge, ForwardsJsonAndKeepsTheSessionAndVersion) {
  FakeMcpServer server([](const SeenRequest& req, Poco::Net::HTTPServerResponse& resp) {
    std::string method = method_of(req);
    if (method == "initialize") {
      resp.set("Mcp-Session-Id", "s-1");
      FakeMcpServer::reply_json(resp, result_for(req, R"({"protocolVersion":"2025-06-18"})"));
    } else if (method == "notifications/initialized") {
      FakeMcpServer::reply_status(resp, 202);
    } else if (req.header("mcp-session-id") == "s-1" &&
               req.header("mcp-protocol-version") == "2025-06-18") {
      FakeMcpServer::reply_json(resp, result_for(req, R"({"tools":[]})"));
    } else {
      FakeMcpServer::reply_status(resp, 400, "missing session");
    }
  });
  Harness h(server.url());
  h.options.headers = {{"X-Extra", "yes"}};
  auto bridge = h.make();
  bridge->handle(kInitialize);
  bridge->handle(kInitialized);
  bridge->handle(kToolsList);
  ASSERT_EQ(h.lines.size(), 2u) << h.all_logs();
  EXPECT_EQ(parse(h.lines[0])->getValue<int>("id"), 0);
  EXPECT_EQ(h.lines[1], R"({"jsonrpc":"2.0","id":"list-1","result":{"tools":[]}})");
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].header("mcp-session-id"), "");
  EXPECT_EQ(seen[0].header("x-extra"), "yes");
  EXPECT_NE(seen[0].header("accept").find("text/event-stream"), std::string::npos);
  EXPECT_EQ(seen[1].header("mcp-session-id"), "s-1");
  EXPECT_EQ(seen[0].header("authorization"), "");  // no token command, no header
}

TEST(Bridge, NotificationsGetNoReplyEvenWhenForwardingFails) {
  Poco::Net::ServerSocket closed(Poco::Net::SocketAddress("127.0.0.1", 0));
  std::string url = "http://127.0.0.1:" + std::to_string(closed.address().port()) + "/mcp";
  closed.close();
  Harness h(url);
  auto bridge = h.make();
  bridge->handle(kInitialized);
  bridge->handle(R"({"jsonrpc":"2.0","id":5,"result":{}})");  // a response to a server request
  EXPECT_TRUE(h.lines.empty());
  EXPECT_FALSE(h.logs.empty());  // but the failure is logged
}

TEST(Bridge, RefreshesARejectedTokenOnceAndRetries) {
  test::TempDir dir;
  FakeMcpServer server([](const SeenRequest& req, Poco::Net::HTTPServerResponse& resp) {
    if (req.header("authorization") != "Bearer tok-2") {
      resp.set("WWW-Authenticate", "Bearer");
      FakeMcpServer::reply_status(resp, 401, "bad token");
      return;
    }
    FakeMcpServer::reply_json(resp, result_for(req, "{}"));
  });
  Harness h(server.url(), counting_token_command(dir));
  auto bridge = h.make();
  bridge->handle(R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
  ASSERT_EQ(h.lines.size(), 1u) << h.all_logs();
  EXPECT_EQ(h.lines[0], R"({"jsonrpc":"2.0","id":1,"result":{}})");
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].header("authorization"), "Bearer tok-1");
  EXPECT_EQ(h.all_logs().find("tok-"), std::string::npos) << "a token was logged: " << h.all_logs();
  // The refreshed token is cached: the next request runs no command and succeeds at once.
  bridge->handle(R"({"jsonrpc":"2.0","id":2,"method":"ping"})");
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.requests().back().header("authorization"), "Bearer tok-2");
}

TEST(Bridge, TreatsARedirectToALoginPageAsARejectedToken) {
  test::TempDir dir;
  FakeMcpServer server([](const SeenRequest& req, Poco::Net::HTTPServerResponse& resp) {
    if (req.header("authorization") == "Bearer tok-1") {
      resp.set("Location", "https://login.example/oidc/authorize?x=1");
      FakeMcpServer::reply_status(resp, 302);
      return;
    }
    FakeMcpServer::reply_json(resp, result_for(req, "{}"));
  });
  Harness h(server.url(), counting_token_command(dir));
  h.make()->handle(R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
  ASSERT_EQ(h.lines.size(), 1u);
  EXPECT_EQ(h.lines[0], R"({"jsonrpc":"2.0","id":1,"result":{}})");
}

TEST(Bridge, ATokenRejectedTwiceBecomesAnErrorLine) {
  test::TempDir dir;
  FakeMcpServer server([](const SeenRequest&, Poco::Net::HTTPServerResponse& resp) {
    resp.set("Location", "https://login.example/authorize");
    FakeMcpServer::reply_status(resp, 302);
  });
  Harness h(server.url(), counting_token_command(dir));
  h.make()->handle(R"({"jsonrpc":"2.0","id":"a","method":"ping"})");
  ASSERT_EQ(h.lines.size(), 1u);
  expect_bridge_error(h.lines[0], "\"a\"", "http", "HTTP 302");
  EXPECT_NE(h.lines[0].find("login.example"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 2u);  // one retry, not a loop
}

TEST(Bridge, AFailingTokenCommandIsReported) {
  test::TempDir dir;
  FakeMcpServer server([](const SeenRequest& req, Poco::Net::HTTPServerResponse& resp) {
    FakeMcpServer::reply_json(resp, result_for(req, "{}"));
  });
  std::string script = dir.write("t.sh", "echo 'Error: cannot configure default credentials' >&2\nexit 1\n");
  Harness h(server.url(), {"sh", script});
  h.make()->handle(R"({"jsonrpc":"2.0","id":3,"method":"ping"})");
  ASSERT_EQ(h.lines.size(), 1u);
  expect_bridge_error(h.lines[0], "3", "token", "cannot configure default credentials");
  EXPECT_TRUE(server.requests().empty());
}

TEST(Bridge, ForwardsSseNotificationsAsLinesBeforeTheResponse) {
  FakeMcpServer server([](const SeenRequest& req, Poco::Net::HTTPServerResponse& resp) {
    FakeMcpServer::reply_sse(
        resp, {R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"p","progress":1}})",
               // A message spread over data lines must still become one line.
               "{\"jsonrpc\":\"2.0\",\n\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"x\"}}",
               result_for(req, R"({"content":[{"type":"text","text":"done"}]})")});
  });
  Harness h(server.url());
  h.make()->handle(
      R"({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"t","_meta":{"progressToken":"p"}}})");
  ASSERT_EQ(h.lines.size(), 3u) << h.all_logs();
  EXPECT_EQ(parse(h.lines[0])->getValue<std::string>("method"), "notifications/progress");
  EXPECT_EQ(h.lines[1].find('\n'), std::string::npos);
  EXPECT_EQ(parse(h.lines[1])->getValue<std::string>("method"), "notifications/message");
  EXPECT_EQ(parse(h.lines[2])->getValue<int>("id"), 9);
}

TEST(Bridge, AStreamThatEndsWithoutTheResponseIsAnError) {
  FakeMcpServer server([](const SeenRequest&, Poco::Net::HTTPServerResponse& resp) {
    FakeMcpServer::reply_sse(resp, {R"({"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":1}})"});
  });
  Harness h(server.url());
  h.make()->handle(R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"t"}})");
  ASSERT_EQ(h.lines.size(), 2u);
  expect_bridge_error(h.lines[1], "4", "protocol", "ended before the response");
}

TEST(Bridge, ReinitializesTransparentlyWhenTheSessionIsGone) {
  std::mutex mutex;
  int sessions = 0;
  FakeMcpServer server([&](const SeenRequest& req, Poco::Net::HTTPServerResponse& resp) {
    std::lock_guard lock(mutex);
    std::string method = method_of(req);
    if (method == "initialize") {
      resp.set("Mcp-Session-Id", "s-" + std::to_string(++sessions));
      FakeMcpServer::reply_sse(resp, {result_for(req, R"({"protocolVersion":"2025-06-18"})")});
    } else if (req.header("mcp-session-id") != "s-" + std::to_string(sessions) ||
               sessions == 1) {
      FakeMcpServer::reply_status(resp, 404, "unknown session");  // s-1 "expired"
    } else if (method == "notifications/initialized") {
      FakeMcpServer::reply_status(resp, 202);
    } else {
      FakeMcpServer::reply_json(resp, result_for(req, R"({"tools":[]})"));
    }
  });
  Harness h(server.url());
  auto bridge = h.make();
  bridge->handle(kInitialize);
  bridge->handle(kToolsList);
  ASSERT_EQ(h.lines.size(), 2u) << h.all_logs();
  EXPECT_EQ(parse(h.lines[0])->getValue<int>("id"), 0);  // the client's own initialize answer only
  EXPECT_EQ(h.lines[1], R"({"jsonrpc":"2.0","id":"list-1","result":{"tools":[]}})");
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(method_of(seen[1]), "tools/list");
  EXPECT_EQ(seen[1].header("mcp-session-id"), "s-1");
  EXPECT_EQ(method_of(seen[2]), "initialize");  // the replay, with the client's parameters
  EXPECT_EQ(parse(seen[2].body)->getObject("params")->getObject("clientInfo")->getValue<std::string>("name"), "t");
  EXPECT_EQ(method_of(seen[3]), "notifications/initialized");
  EXPECT_EQ(seen[4].header("mcp-session-id"), "s-2");
}

TEST(Bridge, NamesTheFailureOfEachKind) {
  // Refused: a port that was free a moment ago.
  Poco::Net::ServerSocket closed(Poco::Net::SocketAddress("127.0.0.1", 0));
  std::string refused_url = "http://127.0.0.1:" + std::to_string(closed.address().port()) + "/mcp";
  closed.close();
  {
    Harness h(refused_url);
    h.make()->handle(R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
    ASSERT_EQ(h.lines.size(), 1u);
    expect_bridge_error(h.lines[0], "1", "refused", "refused");
  }
  {
    Harness h("http://coda-bridge-test.invalid/mcp");
    h.make()->handle(R"({"jsonrpc":"2.0","id":2,"method":"ping"})");
    ASSERT_EQ(h.lines.size(), 1u);
    expect_bridge_error(h.lines[0], "2", "dns", "DNS lookup of 'coda-bridge-test.invalid' failed");
  }
  std::mutex mutex;
  std::condition_variable released;
  bool release = false;
  FakeMcpServer slow([&](const SeenRequest& req, Poco::Net::HTTPServerResponse& resp) {
    std::unique_lock lock(mutex);
    released.wait_for(lock, std::chrono::seconds(20), [&] { return release; });
    FakeMcpServer::reply_json(resp, result_for(req, "{}"));
  });
  {
    Harness h(slow.url());
    h.options.timeout = std::chrono::milliseconds(300);
    h.make()->handle(R"({"jsonrpc":"2.0","id":3,"method":"ping"})");
    {
      std::lock_guard lock(mutex);
      release = true;
    }
    released.notify_all();
    ASSERT_EQ(h.lines.size(), 1u);
    expect_bridge_error(h.lines[0], "3", "timeout", "timed out");
  }
  FakeMcpServer broken([](const SeenRequest&, Poco::Net::HTTPServerResponse& resp) {
    FakeMcpServer::reply_status(resp, 503, "upstream\nis down");
  });
  {
    Harness h(broken.url());
    h.make()->handle(R"({"jsonrpc":"2.0","id":4,"method":"ping"})");
    ASSERT_EQ(h.lines.size(), 1u);
    expect_bridge_error(h.lines[0], "4", "http", "HTTP 503");
    EXPECT_NE(h.lines[0].find("upstream is down"), std::string::npos) << h.lines[0];
    EXPECT_EQ(parse(h.lines[0])->getObject("error")->getObject("data")->getValue<int>("status"), 503);
  }
}

TEST(Bridge, PassesOnAJsonRpcErrorTheServerSentWithAnErrorStatus) {
  FakeMcpServer server([](const SeenRequest& req, Poco::Net::HTTPServerResponse& resp) {
    FakeMcpServer::reply_json(
        resp, R"({"jsonrpc":"2.0","id":)" + id_json_of(req) + R"(,"error":{"code":-32600,"message":"no"}})",
        400);
  });
  Harness h(server.url());
  h.make()->handle(R"({"jsonrpc":"2.0","id":7,"method":"bad"})");
  ASSERT_EQ(h.lines.size(), 1u);
  EXPECT_EQ(h.lines[0], R"({"jsonrpc":"2.0","id":7,"error":{"code":-32600,"message":"no"}})");
}

TEST(Bridge, AnswersALineThatIsNotJsonWithAParseError) {
  Harness h("http://127.0.0.1:9/mcp");
  h.make()->handle("this is not json");
  ASSERT_EQ(h.lines.size(), 1u);
  EXPECT_EQ(parse(h.lines[0])->getObject("error")->getValue<int>("code"), -32700);
}

TEST(RunBridge, RunsRequestsConcurrentlyAndEndsTheSessionAtEndOfInput) {
  std::mutex mutex;
  std::condition_variable cv;
  bool ping_answered = false;
  FakeMcpServer server([&](const SeenRequest& req, Poco::Net::HTTPServerResponse& resp) {
    std::string method = method_of(req);
    if (req.method == "DELETE") {
      FakeMcpServer::reply_status(resp, 200);
    } else if (method == "initialize") {
      resp.set("Mcp-Session-Id", "s-9");
      FakeMcpServer::reply_json(resp, result_for(req, R"({"protocolVersion":"2025-11-25"})"));
    } else if (method == "notifications/initialized") {
      FakeMcpServer::reply_status(resp, 202);
    } else if (method == "slow") {
      // Answers only once the client has the answer to the ping sent after it: a bridge that
      // forwards one request at a time would hold the ping back, and this would wait 10 s.
      std::unique_lock lock(mutex);
      cv.wait_for(lock, std::chrono::seconds(10), [&] { return ping_answered; });
      FakeMcpServer::reply_json(resp, result_for(req, R"({"slow":true})"));
    } else {
      FakeMcpServer::reply_json(resp, result_for(req, "{}"));
    }
  });
  Harness h(server.url());
  LineWriter writer = [&](const std::string& line) {
    h.writer()(line);
    if (line.find(R"("id":2)") != std::string::npos) {
      std::lock_guard lock(mutex);
      ping_answered = true;
      cv.notify_all();
    }
  };
  std::istringstream in(kInitialize + "\n" + kInitialized + "\n\n" +
                        R"({"jsonrpc":"2.0","id":1,"method":"slow"})" + "\r\n" +
                        R"({"jsonrpc":"2.0","id":2,"method":"ping"})" + "\n");
  EXPECT_EQ(run_bridge(h.options, in, writer, h.logger()), 0);
  ASSERT_EQ(h.lines.size(), 3u) << h.all_logs();
  EXPECT_EQ(h.lines[1], R"({"jsonrpc":"2.0","id":2,"result":{}})");
  EXPECT_EQ(h.lines[2], R"({"jsonrpc":"2.0","id":1,"result":{"slow":true}})");
  auto seen = server.requests();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().method, "DELETE");
  EXPECT_EQ(seen.back().header("mcp-session-id"), "s-9");
}

}  // namespace
}  // namespace coda::bridge
