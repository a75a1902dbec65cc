// /metrics end to end: the real `coda serve` with the MCP HTTP transport, the fixture agent and the
// HTTP fixture plugin; real traffic (health checks, a 404, a throwing route, MCP requests, a task
// run by the fixture agent); two scrapes parsed by a strict Prometheus text-format (0.0.4) parser;
// the values must have moved by exactly what the traffic did. Also who may read /metrics
// (server.metrics) in bearer mode.
#include <Poco/JSON/Parser.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/security/security_support.hpp"
#include "tests/support/coda_server.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/temp_dir.hpp"

namespace coda::test {
namespace {

using security::bearer;
using security::call_tool;

// ---- A strict parser of the Prometheus text exposition format 0.0.4 ----

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::map<std::string, std::string> types;  // family -> counter | gauge | histogram | ...
  std::vector<Sample> samples;

  // Every sample of `name` whose labels include `match`.
  std::vector<Sample> find(const std::string& name,
                           const std::map<std::string, std::string>& match = {}) const {
    std::vector<Sample> out;
    for (const auto& s : samples) {
      if (s.name != name) continue;
      bool ok = true;
      for (const auto& [k, v] : match) {
        auto it = s.labels.find(k);
        ok = ok && it != s.labels.end() && it->second == v;
      }
      if (ok) out.push_back(s);
    }
    return out;
  }
  // The value of the one sample that matches; 0 when none (a series that was never touched).
  double value(const std::string& name,
               const std::map<std::string, std::string>& match = {}) const {
    auto found = find(name, match);
    EXPECT_LE(found.size(), 1u) << name << " matches several series";
    return found.empty() ? 0 : found.front().value;
  }
};

const std::regex kMetricName("[a-zA-Z_:][a-zA-Z0-9_:]*");
const std::regex kLabelName("[a-zA-Z_][a-zA-Z0-9_]*");

double parse_value(const std::string& text) {
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  if (text == "NaN") return NAN;
  std::size_t used = 0;
  double v = std::stod(text, &used);
  if (used != text.size()) throw std::runtime_error("bad value '" + text + "'");
  return v;
}

// The family a sample name belongs to, given the declared types (histogram suffixes).
std::string family_of(const std::string& name, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      std::string base = name.substr(0, name.size() - s.size());
      auto it = types.find(base);
      if (it != types.end() && (it->second == "histogram" || it->second == "summary")) return base;
    }
  }
  return name;
}

// Parses `text`, failing the test (ADD_FAILURE with the line) on anything the format does not
// allow: bad names, bad escapes, a TYPE after samples of its family or twice, a family split in
// two, a duplicate series, a sample without a TYPE, histogram buckets that are not cumulative or
// whose +Inf bucket differs from _count, a missing final newline.
Exposition parse_exposition(const std::string& text) {
  Exposition out;
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n') << "the body must end with a newline";
  std::set<std::string> finished_families;  // families whose block has ended
  std::string current_family;
  std::set<std::string> series_seen;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  auto fail = [&](const std::string& why) {
    ADD_FAILURE() << "line " << number << ": " << why << ": " << line;
  };
  auto enter_family = [&](const std::string& family) {
    if (family == current_family) return;
    if (finished_families.count(family)) fail("family " + family + " appears in two blocks");
    if (!current_family.empty()) finished_families.insert(current_family);
    current_family = family;
  };
  while (std::getline(lines, line)) {
    ++number;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, keyword, name;
      words >> hash >> keyword >> name;
      if (keyword != "HELP" && keyword != "TYPE") continue;  // a plain comment
      if (!std::regex_match(name, kMetricName)) fail("bad metric name");
      enter_family(name);
      if (keyword == "TYPE") {
        std::string type;
        words >> type;
        static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                     "untyped"};
        if (!kTypes.count(type)) fail("unknown type");
        if (out.types.count(name)) fail("second TYPE for " + name);
        for (const auto& s : out.samples) {
          if (family_of(s.name, out.types) == name) fail("TYPE after samples of " + name);
        }
        out.types[name] = type;
      }
      continue;
    }
    Sample sample;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    sample.name = line.substr(0, i);
    if (!std::regex_match(sample.name, kMetricName)) fail("bad sample name");
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::size_t eq = line.find('=', i);
        if (eq == std::string::npos) {
          fail("label without '='");
          break;
        }
        std::string label = line.substr(i, eq - i);
        if (!std::regex_match(label, kLabelName)) fail("bad label name '" + label + "'");
        i = eq + 1;
        if (i >= line.size() || line[i] != '"') {
          fail("unquoted label value");
          break;
        }
        ++i;
        std::string value;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\') {
            ++i;
            if (i >= line.size()) break;
            if (line[i] == 'n') {
              value += '\n';
            } else if (line[i] == '\\' || line[i] == '"') {
              value += line[i];
            } else {
              fail("bad escape in a label value");
            }
          } else {
            value += line[i];
          }
          ++i;
        }
        if (i >= line.size()) {
          fail("unterminated label value");
          break;
        }
        ++i;  // closing quote
        if (sample.labels.count(label)) fail("label repeated");
        sample.labels[label] = value;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size() || line[i] != '}') fail("unterminated label set");
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      fail("no space before the value");
      continue;
    }
    std::istringstream rest(line.substr(i + 1));
    std::string value_text, timestamp, extra;
    rest >> value_text >> timestamp >> extra;
    if (!extra.empty()) fail("trailing text");
    try {
      sample.value = parse_value(value_text);
    } catch (const std::exception& e) {
      fail(e.what());
    }
    std::string family = family_of(sample.name, out.types);
    if (!out.types.count(family)) fail("sample without a TYPE line for " + family);
    enter_family(family);
    std::string key = sample.name;
    for (const auto& [k, v] : sample.labels) key += "|" + k + "=" + v;
    if (!series_seen.insert(key).second) fail("duplicate series");
    out.samples.push_back(sample);
  }
  // Histograms: cumulative buckets ending in +Inf equal to _count.
  for (const auto& [family, type] : out.types) {
    if (type != "histogram") continue;
    std::map<std::string, std::vector<std::pair<double, double>>> buckets;  // series -> (le, n)
    for (const auto& s : out.find(family + "_bucket")) {
      auto labels = s.labels;
      if (!labels.count("le")) ADD_FAILURE() << family << "_bucket without le";
      double le = parse_value(labels["le"]);
      labels.erase("le");
      std::string key;
      for (const auto& [k, v] : labels) key += k + "=" + v + "|";
      buckets[key].emplace_back(le, s.value);
    }
    for (const auto& s : out.find(family + "_count")) {
      std::string key;
      for (const auto& [k, v] : s.labels) key += k + "=" + v + "|";
      auto& series = buckets[key];
      if (series.empty()) {
        ADD_FAILURE() << family << " has a _count without buckets";
        continue;
      }
      for (std::size_t b = 1; b < series.size(); ++b) {
        EXPECT_LT(series[b - 1].first, series[b].first) << family << ": le not increasing";
        EXPECT_LE(series[b - 1].second, series[b].second) << family << ": not cumulative";
      }
      EXPECT_TRUE(std::isinf(series.back().first)) << family << ": the last bucket is not +Inf";
      EXPECT_EQ(series.back().second, s.value) << family << ": +Inf bucket != _count";
    }
  }
  return out;
}

// ---- The host under test ----

std::string metrics_config(const std::string& tasks_extra = "") {
  return R"(server: {log_level: info}
plugins:
  search_paths: [")" +
         std::string(CODA_PLUGIN_DIR) + R"(", ")" + std::string(CODA_FIXTURE_PLUGIN_DIR) + R"("]
  load:
    - {name: transport-mcp-http, required: true}
    - {name: agent-fixture, required: true}
    - {name: http-fixture, required: true}
    - {name: no-such-plugin}
transports:
  mcp-http: {component: dev.coda.transport.mcp-http, path: /mcp}
  fixture: {component: dev.coda.test.http-fixture, prefix: /fixture}
tasks:
  max_wait_s: 30
  max_queued: 40
)" + tasks_extra +
         R"(agents:
  order: [fixture]
  policy: {kill_grace_s: 1}
  backends:
    fixture: {component: dev.coda.test.agent-fixture}
)";
}

Exposition scrape(const CodaServer& server, const security::Headers& headers = {}) {
  auto r = http_request("GET", server.url() + "/metrics", "", headers);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  // promtool is not in CI (Debian's prometheus package is a 96 MB server); where an operator has
  // it, its linter must agree with the parser above.
  if (std::system("command -v promtool >/dev/null 2>&1") == 0) {
    TempDir dir;
    std::string file = dir.write("metrics.txt", r.body);
    EXPECT_EQ(std::system(("promtool check metrics < " + file).c_str()), 0) << r.body;
  }
  return parse_exposition(r.body);
}

std::string initialize_version(const CodaServer& server) {
  auto r = mcp_post(server.mcp_url(),
                    R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":)"
                    R"("2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})");
  EXPECT_EQ(r.status, 200) << r.body;
  auto message = security::rpc_message(r);
  return message->getObject("result")->getObject("serverInfo")->getValue<std::string>("version");
}

TEST(ParseExposition, RejectsWhatTheFormatForbids) {
  // The parser must be able to fail: each of these is invalid.
  for (const std::string& bad : {
           std::string("x_total 1\n"),                                     // no TYPE
           std::string("# TYPE x counter\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n"),  // duplicate
           std::string("# TYPE x counter\nx{a=1} 1\n"),                    // unquoted
           std::string("# TYPE x counter\nx 1"),                           // no newline
           std::string("# TYPE x gauge\n# TYPE y gauge\ny 1\nx 2\n"),      // split family
           std::string("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
                       "h_sum 1\nh_count 1\n"),  // not cumulative
       }) {
    ::testing::TestPartResultArray failures;
    {
      ::testing::ScopedFakeTestPartResultReporter reporter(
          ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
      parse_exposition(bad);
    }
    EXPECT_GT(failures.size(), 0) << "accepted: " << bad;
  }
}

TEST(Metrics, ScrapeAfterRealTrafficHasEverySeriesAndTheValuesMoved) {
  CodaServer server(config_options(metrics_config()));

  Exposition before = scrape(server);

  // Traffic: 3 health checks, a 404, a throwing route, MCP requests, one task run to the end.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(http_request("GET", server.url() + "/healthz").status, 200);
  EXPECT_EQ(http_request("GET", server.url() + "/no/such/path").status, 404);
  EXPECT_EQ(http_request("GET", server.url() + "/fixture/throw").status, 500);
  const std::string server_version = initialize_version(server);
  auto run = call_tool(server, "coda_run", R"({"prompt":"count\nFIXTURE: lines 2"})", {});
  ASSERT_FALSE(run.structured.isNull()) << run.text;
  const auto task_id = run.structured->getValue<std::string>("task_id");
  auto done =
      call_tool(server, "coda_get_result", R"({"task_id":")" + task_id + R"(","wait_s":25})", {});
  ASSERT_FALSE(done.structured.isNull()) << done.text;
  ASSERT_EQ(done.structured->getValue<std::string>("status"), "completed") << done.text;
  // initialize + coda_run + coda_get_result
  const double mcp_posts = 3;

  Exposition after = scrape(server);

  // Build info: one version everywhere (CMake project version).
  auto version_out = run_coda({"version"}).output;  // "coda 0.1.0 (plugin ABI 1.1)"
  std::string cli_version = version_out.substr(5, version_out.find(' ', 5) - 5);
  auto build = after.find("coda_build_info");
  ASSERT_EQ(build.size(), 1u);
  EXPECT_EQ(build[0].value, 1);
  EXPECT_EQ(build[0].labels["version"], cli_version);
  EXPECT_EQ(server_version, cli_version) << "MCP serverInfo.version";
  EXPECT_EQ(after.types.at("coda_build_info"), "gauge");
  EXPECT_GT(after.value("coda_start_time_seconds"), 1.7e9);

  // HTTP requests by method, route and status: exactly the traffic above.
  EXPECT_EQ(after.types.at("coda_http_requests_total"), "counter");
  auto delta = [&](const std::map<std::string, std::string>& labels) {
    return after.value("coda_http_requests_total", labels) -
           before.value("coda_http_requests_total", labels);
  };
  EXPECT_EQ(delta({{"method", "GET"}, {"route", "/healthz"}, {"status", "200"}}), 3);
  EXPECT_EQ(delta({{"method", "GET"}, {"route", "none"}, {"status", "404"}}), 1);
  EXPECT_EQ(delta({{"method", "GET"}, {"route", "/fixture"}, {"status", "500"}}), 1);
  EXPECT_EQ(delta({{"method", "POST"}, {"route", "/mcp"}, {"status", "200"}}), mcp_posts);
  // The first scrape itself was counted before the second.
  EXPECT_EQ(after.value("coda_http_requests_total",
                        {{"method", "GET"}, {"route", "/metrics"}, {"status", "200"}}),
            1);

  // Latency histogram per route: one observation per request.
  EXPECT_EQ(after.types.at("coda_http_request_duration_seconds"), "histogram");
  EXPECT_EQ(after.value("coda_http_request_duration_seconds_count", {{"route", "/healthz"}}) -
                before.value("coda_http_request_duration_seconds_count", {{"route", "/healthz"}}),
            3);
  EXPECT_EQ(after.value("coda_http_request_duration_seconds_count", {{"route", "/mcp"}}),
            mcp_posts);
  EXPECT_GT(after.value("coda_http_request_duration_seconds_sum", {{"route", "/mcp"}}), 0);
  EXPECT_GE(after.value("coda_http_open_connections"), 1) << "the scrape's own connection";

  // Tasks: nothing live any more; the run counted by backend and outcome.
  EXPECT_EQ(after.types.at("coda_tasks"), "gauge");
  EXPECT_EQ(after.find("coda_tasks", {{"state", "queued"}}).size(), 1u);
  EXPECT_EQ(after.value("coda_tasks", {{"state", "queued"}}), 0);
  EXPECT_EQ(after.value("coda_tasks", {{"state", "running"}}), 0);
  EXPECT_EQ(after.find("coda_task_queue_depth").size(), 1u);
  EXPECT_EQ(after.value("coda_task_queue_depth"), 0);
  EXPECT_EQ(after.value("coda_task_queue_limit"), 40);
  EXPECT_EQ(after.value("coda_task_running_limit"), 5);
  EXPECT_EQ(after.types.at("coda_agent_runs_total"), "counter");
  EXPECT_EQ(
      before.value("coda_agent_runs_total", {{"backend", "fixture"}, {"outcome", "completed"}}), 0);
  EXPECT_EQ(
      after.value("coda_agent_runs_total", {{"backend", "fixture"}, {"outcome", "completed"}}), 1);

  // Plugins: loaded ones 1, the missing one 0; the components they registered.
  EXPECT_EQ(after.value("coda_plugin_loaded", {{"plugin", "transport-mcp-http"}}), 1);
  EXPECT_EQ(after.value("coda_plugin_loaded", {{"plugin", "agent-fixture"}}), 1);
  EXPECT_EQ(after.find("coda_plugin_loaded", {{"plugin", "no-such-plugin"}}).size(), 1u);
  EXPECT_EQ(after.value("coda_plugin_loaded", {{"plugin", "no-such-plugin"}}), 0);
  EXPECT_EQ(after.value("coda_plugin_component_registered",
                        {{"component", "dev.coda.transport.mcp-http"}, {"kind", "transport"}}),
            1);
  EXPECT_EQ(after.value("coda_plugin_component_registered",
                        {{"component", "dev.coda.test.agent-fixture"}, {"kind", "agent"}}),
            1);
}

TEST(Metrics, McpRequestsAreCountedByMethodAndToolCallsByToolAndOutcome) {
  CodaServer server(config_options(metrics_config()));
  Exposition before = scrape(server);

  initialize_version(server);
  EXPECT_EQ(mcp_post(server.mcp_url(), R"({"jsonrpc":"2.0","method":"notifications/initialized"})")
                .status,
            202);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(mcp_post(server.mcp_url(), R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})").status,
              200);
  }
  auto unknown = mcp_post(server.mcp_url(), R"({"jsonrpc":"2.0","id":3,"method":"resources/list"})");
  EXPECT_EQ(security::rpc_message(unknown)->getObject("error")->getValue<int>("code"), -32601);
  EXPECT_EQ(mcp_post(server.mcp_url(), "{not json").status, 400);
  EXPECT_TRUE(call_tool(server, "coda_run", R"({"prompt":5})", {}).is_error);  // schema refuses
  EXPECT_TRUE(call_tool(server, "coda_get_result", R"({"task_id":"task_nope"})", {}).is_error);
  EXPECT_TRUE(call_tool(server, "no_such_tool", "{}", {}).is_error);            // JSON-RPC error
  EXPECT_FALSE(call_tool(server, "coda_inbox", "{}", {}).is_error);

  Exposition after = scrape(server);
  auto delta = [&](const std::string& name, const std::map<std::string, std::string>& labels) {
    return after.value(name, labels) - before.value(name, labels);
  };
  EXPECT_EQ(after.types.at("coda_mcp_requests_total"), "counter");
  EXPECT_EQ(delta("coda_mcp_requests_total", {{"method", "initialize"}, {"outcome", "ok"}}), 1);
  EXPECT_EQ(delta("coda_mcp_requests_total", {{"method", "tools/list"}, {"outcome", "ok"}}), 2);
  EXPECT_EQ(delta("coda_mcp_requests_total", {{"method", "other"}, {"outcome", "error"}}), 1);
  EXPECT_EQ(delta("coda_mcp_requests_total", {{"method", "invalid"}, {"outcome", "error"}}), 1);
  // Tool results (isError ones included) are "ok" at the JSON-RPC level; an unknown tool is not.
  EXPECT_EQ(delta("coda_mcp_requests_total", {{"method", "tools/call"}, {"outcome", "ok"}}), 3);
  EXPECT_EQ(delta("coda_mcp_requests_total", {{"method", "tools/call"}, {"outcome", "error"}}), 1);
  EXPECT_EQ(after.types.at("coda_mcp_notifications_total"), "counter");
  EXPECT_EQ(delta("coda_mcp_notifications_total", {{"method", "notifications/initialized"}}), 1);

  EXPECT_EQ(after.types.at("coda_mcp_tool_calls_total"), "counter");
  EXPECT_EQ(delta("coda_mcp_tool_calls_total",
                  {{"tool", "coda_run"}, {"outcome", "invalid_arguments"}}),
            1);
  EXPECT_EQ(delta("coda_mcp_tool_calls_total",
                  {{"tool", "coda_get_result"}, {"outcome", "tool_error"}}),
            1);
  EXPECT_EQ(delta("coda_mcp_tool_calls_total", {{"tool", "coda_inbox"}, {"outcome", "ok"}}), 1);
  EXPECT_TRUE(after.find("coda_mcp_tool_calls_total", {{"tool", "no_such_tool"}}).empty());
  EXPECT_EQ(after.types.at("coda_mcp_tool_call_duration_seconds"), "histogram");
  EXPECT_EQ(delta("coda_mcp_tool_call_duration_seconds_count", {{"tool", "coda_inbox"}}), 1);
  EXPECT_EQ(delta("coda_mcp_tool_call_duration_seconds_count", {{"tool", "coda_get_result"}}), 1);
  EXPECT_EQ(delta("coda_mcp_tool_call_duration_seconds_count", {{"tool", "coda_run"}}), 0)
      << "refused arguments never reached the tool";
}

TEST(Metrics, QueuedTasksShowAsQueueDepth) {
  // One task at a time: the first hangs, the others wait in the queue.
  CodaServer server(config_options(metrics_config("  max_concurrent: 1\n")));
  for (const char* prompt : {"hang\\nFIXTURE: hang", "a", "b"}) {
    auto run = call_tool(server, "coda_run", std::string(R"({"prompt":")") + prompt + "\"}", {});
    ASSERT_FALSE(run.structured.isNull()) << run.text;
  }
  // The scheduler claims the first task asynchronously: wait until it runs.
  Exposition now;
  for (int i = 0; i < 100; ++i) {
    now = scrape(server);
    if (now.value("coda_tasks", {{"state", "running"}}) == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(now.value("coda_tasks", {{"state", "running"}}), 1);
  EXPECT_EQ(now.value("coda_tasks", {{"state", "queued"}}), 2);
  EXPECT_EQ(now.value("coda_task_queue_depth"), 2);
  EXPECT_EQ(now.value("coda_task_running_limit"), 1);
}

// ---- Who may read /metrics ----

constexpr const char* kAliceToken = "alice-admin-token-0123456789abcdef";
constexpr const char* kBobToken = "bob-user-token-0123456789abcdef";

CodaServer::Options bearer_host(const std::string& metrics_mode) {
  std::string yaml = "server: {metrics: " + metrics_mode + "}\n" + R"(plugins:
  search_paths: [")" +
                     std::string(CODA_PLUGIN_DIR) + R"("]
  load: [transport-mcp-http]
transports:
  mcp-http: {component: dev.coda.transport.mcp-http, path: /mcp}
auth:
  mode: bearer
  admins: [alice]
  tokens:
    - {env: CODA_TEST_ALICE_TOKEN, subject: alice}
    - {env: CODA_TEST_BOB_TOKEN, subject: bob}
)";
  CodaServer::Options options = config_options(yaml);
  options.env = {{"CODA_TEST_ALICE_TOKEN", kAliceToken}, {"CODA_TEST_BOB_TOKEN", kBobToken}};
  return options;
}

int metrics_status(const CodaServer& server, const security::Headers& headers = {}) {
  return http_request("GET", server.url() + "/metrics", "", headers).status;
}

TEST(MetricsAccess, AdminByDefault) {
  CodaServer server(bearer_host("admin"));
  EXPECT_EQ(metrics_status(server), 401);
  EXPECT_EQ(metrics_status(server, bearer(kBobToken)), 403);
  EXPECT_EQ(metrics_status(server, bearer(kAliceToken)), 200);
  scrape(server, bearer(kAliceToken));
  EXPECT_EQ(http_request("POST", server.url() + "/metrics", "", bearer(kAliceToken)).status, 405);
}

TEST(MetricsAccess, AuthenticatedLetsEveryUserIn) {
  CodaServer server(bearer_host("authenticated"));
  EXPECT_EQ(metrics_status(server), 401);
  EXPECT_EQ(metrics_status(server, bearer(kBobToken)), 200);
}

TEST(MetricsAccess, PublicSkipsAuthenticationForMetricsOnly) {
  CodaServer server(bearer_host("public"));
  auto exposition = scrape(server);
  EXPECT_EQ(exposition.find("coda_build_info").size(), 1u);
  EXPECT_EQ(security::list_tools_status(server, {}), 401) << "only /metrics is public";
  EXPECT_EQ(http_request("GET", server.url() + "/metrics/x").status, 401);
}

TEST(MetricsAccess, DisabledHasNoRoute) {
  CodaServer server(bearer_host("disabled"));
  EXPECT_EQ(metrics_status(server, bearer(kAliceToken)), 404);
}

}  // namespace
}  // namespace coda::test
