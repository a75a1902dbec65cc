// The attack suite: DNS rebinding and foreign web pages. A page on attacker.example makes its name
// resolve to 127.0.0.1; the browser then sends the page's requests to this host with
// `Host: attacker.example:PORT` and (for fetches) `Origin: http://attacker.example:PORT`, and treats
// the answers as the page's own. A page that cannot rebind still sends requests from its foreign
// Origin. Each is tried on every kind of route — the web UI's ticket endpoint and WebSocket upgrade,
// /mcp, /metrics and a third-party plugin's route (tests/fixtures/plugins/http-fixture) — on the
// shipped configs (config/coda.yaml, config/examples/databricks-apps.yaml with the proxy's identity
// headers), and must be refused with 403 by the listener's one Host/Origin policy. The same requests
// with a loopback Host or a configured host/origin must be let in, so the refusal is about Host and
// Origin, nothing else.
#include <gtest/gtest.h>

#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>

#include <sstream>

#include "tests/security/security_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace coda::test::security {
namespace {

// A shipped config file with the http-fixture plugin (a third-party route at /fixture) added.
std::string shipped_with_fixture(const std::string& name, const std::string& extra_server = "") {
  std::string text = read_file(std::string(CODA_SOURCE_DIR) + "/" + name);
  EXPECT_FALSE(text.empty()) << name;
  const std::string search = "  search_paths: [\"" CODA_PLUGIN_DIR "\", \"" CODA_FIXTURE_PLUGIN_DIR "\"]\n";
  if (auto at = text.find("  search_paths: []\n"); at != std::string::npos) {
    text.replace(at, 19, search);
  } else {
    text.insert(text.find("\nplugins:\n") + 10, search);
  }
  text.insert(text.find("\n  load:\n", text.find("\nplugins:\n")) + 9,
              "    - {name: http-fixture, required: true}\n");
  text.insert(text.find("\ntransports:\n") + 13,
              "  fixture: {component: dev.coda.test.http-fixture, prefix: /fixture}\n");
  // Each "  key: value" line of extra_server replaces that key's line of the server section, or is
  // added to it.
  std::istringstream lines(extra_server);
  for (std::string line; std::getline(lines, line);) {
    const std::string key = "\n" + line.substr(0, line.find(':') + 1) + " ";
    const auto at = text.find(key, text.find("\nserver:\n"));
    if (at != std::string::npos && at < text.find("\n\n", text.find("\nserver:\n") + 1)) {
      text.replace(at + 1, text.find('\n', at + 1) - at - 1, line);
    } else {
      text.insert(text.find("\nserver:\n") + 9, line + "\n");
    }
  }
  return text;
}

// One request the way a browser would send it: to 127.0.0.1:port, with `host` in the Host header
// and `origin` (when not empty) in Origin, plus the caller's credentials.
struct Attempt {
  std::string host;
  std::string origin;
};

class DnsRebinding : public ::testing::Test {
 protected:
  // Starts coda on `listen` ("127.0.0.1" or "0.0.0.0") with `config_yaml`; `caller`: the headers
  // every request carries (the Databricks proxy's identity headers, or none).
  void start(const std::string& config_yaml, const std::string& listen, Headers caller) {
    caller_ = std::move(caller);
    config_path_ = dir_.write("coda.yaml", config_yaml);
    CodaServer::Options options = server_options(config_yaml);
    options.args = {"serve", "--listen", listen + ":0"};
    server_ = std::make_unique<CodaServer>(options);
    port_ = std::to_string(server_->port());
    base_ = "http://127.0.0.1:" + port_;
  }

  Headers headers_of(const Attempt& a) const {
    Headers h = caller_;
    h.emplace_back("Host", a.host);
    if (!a.origin.empty()) h.emplace_back("Origin", a.origin);
    return h;
  }

  HttpResponse ticket(const Attempt& a) {
    return http_request("POST", base_ + "/ui/api/ticket", "", headers_of(a));
  }
  HttpResponse mcp(const Attempt& a) {
    return mcp_post(base_ + "/mcp", R"({"jsonrpc":"2.0","id":1,"method":"ping"})", headers_of(a));
  }
  HttpResponse fixture(const Attempt& a) {
    return http_request("GET", base_ + "/fixture/echo", "", headers_of(a));
  }
  HttpResponse metrics(const Attempt& a) {
    return http_request("GET", base_ + "/metrics", "", headers_of(a));
  }
  // The status of a WebSocket upgrade of /ws with a fresh, valid ticket (101 when it opened).
  int websocket(const Attempt& a) {
    auto issued = ticket(legit_);
    EXPECT_EQ(issued.status, 200) << issued.body;
    if (issued.status != 200) return 0;
    const std::string t = Poco::JSON::Parser()
                              .parse(issued.body)
                              .extract<Poco::JSON::Object::Ptr>()
                              ->getValue<std::string>("ticket");
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(server_->port()));
    session.setTimeout(Poco::Timespan(20, 0));
    Poco::Net::HTTPRequest request("GET", "/ws?ticket=" + t, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [name, value] : headers_of(a)) request.set(name, value);
    Poco::Net::HTTPResponse response;
    try {
      Poco::Net::WebSocket ws(session, request, response);
      ws.shutdown();
    } catch (const Poco::Net::WebSocketException&) {
      // Refused: the response holds the status.
    }
    return static_cast<int>(response.getStatus());
  }

  // Every route refuses `a` with the policy's 403 (its reason names the server.allowed_* key, so a
  // 403 for another cause does not count).
  void expect_refused_everywhere(const Attempt& a) {
    SCOPED_TRACE("Host: " + a.host + (a.origin.empty() ? "" : ", Origin: " + a.origin));
    for (auto& [route, response] :
         std::vector<std::pair<std::string, HttpResponse>>{{"POST /ui/api/ticket", ticket(a)},
                                                           {"POST /mcp", mcp(a)},
                                                           {"GET /fixture/echo", fixture(a)},
                                                           {"GET /metrics", metrics(a)}}) {
      EXPECT_EQ(response.status, 403) << route << " let the attack in: " << response.body;
      EXPECT_NE(response.body.find("server.allowed_"), std::string::npos)
          << route << " was refused for another reason: " << response.body;
      EXPECT_EQ(response.body.find("\"ticket\""), std::string::npos) << route;
    }
    EXPECT_EQ(websocket(a), 403) << "the /ws upgrade let the attack in";
  }

  // The legitimate requests: the page's own origin on a name the policy admits.
  void expect_accepted(const Attempt& a, bool metrics_readable) {
    SCOPED_TRACE("Host: " + a.host + (a.origin.empty() ? "" : ", Origin: " + a.origin));
    auto t = ticket(a);
    EXPECT_EQ(t.status, 200) << t.body;
    EXPECT_NE(t.body.find("\"ticket\""), std::string::npos) << t.body;
    auto m = mcp(a);
    EXPECT_EQ(m.status, 200) << m.body;
    auto f = fixture(a);
    EXPECT_EQ(f.status, 200) << f.body;
    if (metrics_readable) {
      EXPECT_EQ(metrics(a).status, 200);
    }
    EXPECT_EQ(websocket(a), 101);
  }

  // The three attacks against this listener, from attacker.example at its port.
  std::vector<Attempt> attacks() const {
    const std::string foreign = "attacker.example:" + port_;
    return {{foreign, "http://" + foreign},  // rebinding: the page's own name and origin
            {foreign, ""},                   // rebinding without Origin (a form post, a GET)
            {"127.0.0.1:" + port_, "http://" + foreign}};  // a foreign page, no rebinding
  }

  TempDir dir_;
  std::string config_path_;
  std::unique_ptr<CodaServer> server_;
  std::string port_;
  std::string base_;
  Headers caller_;
  Attempt legit_;
};

TEST_F(DnsRebinding, ShippedDefaultConfigRefusesRebindingOnEveryRoute) {
  start(shipped_with_fixture("config/coda.yaml"), "127.0.0.1", {});
  legit_ = {"127.0.0.1:" + port_, "http://127.0.0.1:" + port_};
  for (const auto& attack : attacks()) expect_refused_everywhere(attack);
  expect_accepted(legit_, true);
  expect_accepted({"localhost:" + port_, "http://localhost:" + port_}, true);
  expect_accepted({"[::1]:" + port_, ""}, true);
  // Refusals are logged at info with the reason, and counted like any request.
  EXPECT_NE(server_->output().find("Host 'attacker.example:" + port_ + "' is not allowed"),
            std::string::npos)
      << server_->output();
  auto counted = metrics(legit_);
  EXPECT_NE(counted.body.find("status=\"403\""), std::string::npos) << counted.body;
  // The health probes carry no Host rule: they answer anyone, and hold nothing.
  EXPECT_EQ(http_request("GET", base_ + "/healthz", "", {{"Host", "attacker.example"}}).status, 200);
}

TEST_F(DnsRebinding, ConfiguredHostsAndOriginsAreLetIn) {
  start(shipped_with_fixture("config/coda.yaml",
                             "  allowed_hosts: [coda.internal]\n"
                             "  allowed_origins: [\"https://app.example.com\"]\n"),
        "127.0.0.1", {});
  legit_ = {"127.0.0.1:" + port_, ""};
  for (const auto& attack : attacks()) expect_refused_everywhere(attack);
  expect_accepted({"coda.internal:" + port_, "http://coda.internal:" + port_}, true);
  expect_accepted({"127.0.0.1:" + port_, "https://app.example.com"}, true);
  // The configured origin is a cross-origin caller: /mcp answers it with CORS, others get none.
  EXPECT_EQ(mcp({"127.0.0.1:" + port_, "https://app.example.com"}).header("access-control-allow-origin"),
            "https://app.example.com");
  EXPECT_EQ(mcp({"127.0.0.1:" + port_, "http://localhost:3000"}).header("access-control-allow-origin"),
            "");
  // A configured origin does not make its name a valid Host.
  expect_refused_everywhere({"app.example.com:" + port_, "https://app.example.com"});
}

TEST_F(DnsRebinding, DatabricksAppsConfigOnLoopbackRefusesRebindingWithTheProxysHeaders) {
  // The shipped Databricks config run on loopback (a local try-out): the proxy's identity headers
  // are present, as a rebinding page can send them; the policy still refuses before authentication.
  start(shipped_with_fixture("config/examples/databricks-apps.yaml"), "127.0.0.1",
        {{"X-Forwarded-Email", "victim@example.com"}, {"X-Forwarded-User", "1@2"}});
  legit_ = {"127.0.0.1:" + port_, "http://127.0.0.1:" + port_};
  for (const auto& attack : attacks()) expect_refused_everywhere(attack);
  expect_accepted(legit_, false);
}

TEST_F(DnsRebinding, DatabricksAppsConfigOnAllInterfacesChecksConfiguredHosts) {
  // Bound to 0.0.0.0 as deployed. The proxy picks the Host it sends, so Host is checked only once
  // server.allowed_hosts names it; a foreign page's Origin is refused either way.
  start(shipped_with_fixture("config/examples/databricks-apps.yaml",
                             "  allowed_hosts: [coda.example]\n"),
        "0.0.0.0", {{"X-Forwarded-Email", "victim@example.com"}, {"X-Forwarded-User", "1@2"}});
  legit_ = {"coda.example:" + port_, ""};
  for (const auto& attack : attacks()) expect_refused_everywhere(attack);
  // Loopback pages are not trusted on a listener that is not on loopback.
  expect_refused_everywhere({"coda.example:" + port_, "http://localhost:3000"});
  expect_accepted({"coda.example:" + port_, "https://coda.example:" + port_}, false);
  // Behind the proxy: its X-Forwarded-Host is the page's origin.
  caller_.emplace_back("X-Forwarded-Host", "app.databricksapps.com");
  expect_accepted({"coda.example:" + port_, "https://app.databricksapps.com"}, false);
}

TEST_F(DnsRebinding, DatabricksAppsConfigWithoutAllowedHostsStillRefusesForeignPages) {
  start(shipped_with_fixture("config/examples/databricks-apps.yaml"), "0.0.0.0",
        {{"X-Forwarded-Email", "victim@example.com"}, {"X-Forwarded-User", "1@2"}});
  legit_ = {"127.0.0.1:" + port_, ""};
  expect_refused_everywhere({"127.0.0.1:" + port_, "http://attacker.example:" + port_});
  expect_refused_everywhere({"127.0.0.1:" + port_, "null"});
  caller_.emplace_back("X-Forwarded-Host", "app.databricksapps.com");
  expect_accepted({"10.0.0.7:" + port_, "https://app.databricksapps.com"}, false);
}

TEST(DnsRebindingConfig, AnyOriginWithoutAuthenticationIsRefusedAtConfigCheck) {
  TempDir dir;
  const std::string path =
      dir.write("coda.yaml", "server:\n  allowed_origins: [\"*\"]\nauth:\n  mode: none\n");
  auto result = run_coda({"config", "check", path});
  EXPECT_NE(result.exit_code, 0);
  const std::string said = result.output + result.error;
  EXPECT_NE(said.find("server.allowed_origins"), std::string::npos) << said;
  EXPECT_NE(said.find("auth.mode none"), std::string::npos) << said;
  // With authentication on, "*" is the admin's choice.
  const std::string with_auth = dir.write(
      "bearer.yaml", "server:\n  allowed_origins: [\"*\"]\nauth:\n  mode: bearer\n  tokens:\n"
                     "    - {sha256: " + std::string(64, 'a') + ", subject: a}\n");
  auto ok = run_coda({"config", "check", with_auth});
  EXPECT_EQ(ok.exit_code, 0) << ok.output << ok.error;
}

TEST(DnsRebindingConfig, PerTransportOriginSettingsAreRefusedNamingTheNewKey) {
  TempDir dir;
  const std::string path = dir.write(
      "coda.yaml", "transports:\n  web-ui:\n    component: dev.coda.transport.web-ui\n"
                   "    allowed_origins: [\"https://a.example\"]\n");
  auto result = run_coda({"config", "check", path});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE((result.output + result.error).find("moved to server.allowed_origins"), std::string::npos)
      << result.output << result.error;
}

}  // namespace
}  // namespace coda::test::security
