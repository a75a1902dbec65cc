// Structured logs through the real binary: `coda serve` with server.log_format json writes one JSON
// object per line; every request gets an id (the caller's X-Request-Id when it is well-formed, else
// a generated one), echoed as X-Request-Id and carried by every line logged while the request is
// handled; one access line per request with method, path (never the query), status, duration and
// the caller's subject — never a token.
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/security/security_support.hpp"
#include "tests/support/coda_server.hpp"
#include "tests/support/http_client.hpp"

namespace coda::test {
namespace {

using namespace std::chrono_literals;
using security::bearer;
using security::operator+;

// Every line of the server's output parsed as JSON; the one plain line allowed is the
// "coda listening on" contract line on stdout. A line that is neither fails the test.
std::vector<Poco::JSON::Object::Ptr> json_lines(const CodaServer& server) {
  std::vector<Poco::JSON::Object::Ptr> out;
  std::istringstream lines(server.output());
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.rfind("coda listening on ", 0) == 0) continue;
    try {
      out.push_back(Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>());
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not a JSON object: " << line;
    }
  }
  return out;
}

std::string field(const Poco::JSON::Object::Ptr& line, const std::string& name) {
  return line->has(name) ? line->get(name).toString() : "";
}

// The lines logged for request `id`, waiting (bounded) until its access line is there: the access
// line is written after the response went out.
std::vector<Poco::JSON::Object::Ptr> lines_of(const CodaServer& server, const std::string& id) {
  std::vector<Poco::JSON::Object::Ptr> mine;
  for (auto end = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < end;
       std::this_thread::sleep_for(20ms)) {
    mine.clear();
    bool access = false;
    for (const auto& line : json_lines(server)) {
      if (field(line, "request_id") != id) continue;
      mine.push_back(line);
      access = access || field(line, "logger") == "coda.access";
    }
    if (access) break;
  }
  return mine;
}

Poco::JSON::Object::Ptr access_line(const std::vector<Poco::JSON::Object::Ptr>& lines) {
  for (const auto& line : lines) {
    if (field(line, "logger") == "coda.access") return line;
  }
  ADD_FAILURE() << "no access line";
  return new Poco::JSON::Object;
}

std::string json_config(const std::string& extra = "") {
  return "server: {log_format: json, log_level: info}\n"
         "plugins:\n  search_paths: [" +
         std::string(CODA_FIXTURE_PLUGIN_DIR) +
         "]\n  load:\n    - {name: http-fixture, required: true}\n"
         "transports:\n  fixture: {component: dev.coda.test.http-fixture, prefix: /fixture}\n" +
         extra;
}

TEST(Logging, EveryLineIsJsonAndRequestsCarryTheCallersId) {
  CodaServer server(config_options(json_config()));
  auto r = http_request("GET", server.url() + "/fixture/echo", "", {{"X-Request-Id", "ops-1.a:b"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-request-id"), "ops-1.a:b");
  auto echoed = Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(echoed->getValue<std::string>("request_id"), "ops-1.a:b") << "the route sees it too";

  auto lines = lines_of(server, "ops-1.a:b");
  auto access = access_line(lines);
  EXPECT_EQ(field(access, "level"), "info");
  EXPECT_EQ(field(access, "method"), "GET");
  EXPECT_EQ(field(access, "path"), "/fixture/echo");
  EXPECT_EQ(field(access, "route"), "/fixture");
  ASSERT_TRUE(access->has("status"));
  EXPECT_TRUE(access->get("status").isInteger());
  EXPECT_EQ(access->getValue<int>("status"), 200);
  ASSERT_TRUE(access->has("duration_ms"));
  EXPECT_TRUE(access->get("duration_ms").isNumeric());
  EXPECT_GE(access->getValue<double>("duration_ms"), 0.0);
  EXPECT_FALSE(field(access, "subject").empty()) << "auth none: the local user";
  EXPECT_NE(field(access, "remote_addr").find("127.0.0.1"), std::string::npos);
  EXPECT_NE(field(access, "time").find('T'), std::string::npos);

  // Lines outside any request have no request id.
  bool startup_line = false;
  for (const auto& line : json_lines(server)) {
    if (field(line, "message").rfind("listening on ", 0) == 0) {
      startup_line = true;
      EXPECT_FALSE(line->has("request_id"));
    }
  }
  EXPECT_TRUE(startup_line);
}

TEST(Logging, LinesLoggedWhileHandlingARequestCarryItsId) {
  CodaServer server(config_options(json_config()));
  auto r =
      http_request("GET", server.url() + "/fixture/throw", "", {{"X-Request-Id", "ops-throw-7"}});
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.header("x-request-id"), "ops-throw-7");
  auto lines = lines_of(server, "ops-throw-7");
  bool error_line = false;
  for (const auto& line : lines) {
    // coda.plugins: "plugin dev.coda.test.http-fixture: route handler threw: ..."
    if (field(line, "level") == "error" &&
        field(line, "message").find("threw") != std::string::npos) {
      error_line = true;
    }
  }
  EXPECT_TRUE(error_line) << "the route's failure, logged on the request's thread:\n"
                          << server.output();
  EXPECT_EQ(access_line(lines)->getValue<int>("status"), 500);
}

TEST(Logging, UnsafeOrMissingIdsAreReplacedAndQueriesStayOut) {
  CodaServer server(config_options(json_config()));
  const std::regex generated("[0-9a-f]{32}");
  const std::string long_id(129, 'a');
  for (const std::string& sent :
       {std::string("bad id with spaces"), std::string("a\"b"), long_id, std::string("")}) {
    security::Headers headers;
    if (!sent.empty()) headers.emplace_back("X-Request-Id", sent);
    auto r =
        http_request("GET", server.url() + "/fixture/echo?token=s3cr3t-query-value", "", headers);
    ASSERT_EQ(r.status, 200);
    std::string id = r.header("x-request-id");
    EXPECT_TRUE(std::regex_match(id, generated)) << "sent '" << sent << "', got '" << id << "'";
    auto access = access_line(lines_of(server, id));
    EXPECT_EQ(field(access, "path"), "/fixture/echo");
  }
  EXPECT_EQ(server.output().find("s3cr3t-query-value"), std::string::npos)
      << "the query string reached the log";
  EXPECT_EQ(server.output().find("bad id with spaces"), std::string::npos);
}

constexpr const char* kAliceToken = "alice-log-token-0123456789abcdef";

TEST(Logging, AccessLinesNameTheSubjectAndNeverTheToken) {
  std::string yaml =
      "plugins:\n  search_paths: [\"" +
      std::string(CODA_PLUGIN_DIR) + "\"]\n" + R"(  load: [transport-mcp-http]
transports:
  mcp-http: {component: dev.coda.transport.mcp-http, path: /mcp}
auth:
  mode: bearer
  tokens:
    - {env: CODA_TEST_ALICE_TOKEN, subject: alice}
)";
  CodaServer::Options options = config_options(yaml);
  options.args.insert(options.args.end(), {"--log-format", "json"});  // the flag, not the config
  options.env = {{"CODA_TEST_ALICE_TOKEN", kAliceToken}};
  CodaServer server(options);
  const std::string list = R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})";
  EXPECT_EQ(mcp_post(server.mcp_url(), list,
                     bearer(kAliceToken) + security::Headers{{"X-Request-Id", "alice-1"}})
                .status,
            200);
  EXPECT_EQ(
      mcp_post(server.mcp_url(), list,
               bearer("wrong-token-value-xyz") + security::Headers{{"X-Request-Id", "anon-1"}})
          .status,
      401);

  auto alice = access_line(lines_of(server, "alice-1"));
  EXPECT_EQ(field(alice, "subject"), "alice");
  EXPECT_EQ(field(alice, "method"), "POST");
  EXPECT_EQ(alice->getValue<int>("status"), 200);

  auto refused = lines_of(server, "anon-1");
  EXPECT_EQ(field(access_line(refused), "subject"), "");
  EXPECT_EQ(access_line(refused)->getValue<int>("status"), 401);
  bool refusal_line = false;
  for (const auto& line : refused) {
    refusal_line = refusal_line || field(line, "message").rfind("refused POST /mcp", 0) == 0;
  }
  EXPECT_TRUE(refusal_line) << "the authentication refusal carries the request id";

  EXPECT_EQ(server.output().find(kAliceToken), std::string::npos);
  EXPECT_EQ(server.output().find("wrong-token-value-xyz"), std::string::npos);
}

TEST(Logging, AccessLogCanBeTurnedOff) {
  CodaServer server(config_options("server: {log_format: json, access_log: false}\n"));
  EXPECT_EQ(
      http_request("GET", server.url() + "/healthz", "", {{"X-Request-Id", "quiet-1"}}).status,
      200);
  // A graceful stop joins the workers: any access line would be written by then.
  EXPECT_EQ(server.stop(), 0);
  bool stopped_line = false;
  for (const auto& line : json_lines(server)) {
    EXPECT_NE(field(line, "logger"), "coda.access");
    stopped_line = stopped_line || field(line, "message") == "stopped";
  }
  EXPECT_TRUE(stopped_line) << server.output();
}

}  // namespace
}  // namespace coda::test
