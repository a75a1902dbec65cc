// `coda serve` end to end: the URL line, health, readiness, graceful shutdown, start-up refusals and
// the command line's exit codes.
#include <gtest/gtest.h>
#include <chrono>
#include <thread>
#include <signal.h>

#include <sys/wait.h>

#include <cstdlib>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include "tests/support/coda_server.hpp"
#include "tests/support/http_client.hpp"

namespace coda::test {
namespace {

// A configuration with no plugins: the listener and the built-in endpoints only.
const char* kBareConfig = "plugins:\n  load: []\n";

TEST(Serve, PrintsItsUrlAndAnswersHealthAndReadiness) {
  CodaServer server(config_options(kBareConfig));
  EXPECT_GT(server.port(), 0);
  EXPECT_NE(server.output().find("coda listening on http://127.0.0.1:"), std::string::npos);
  auto health = http_request("GET", server.url() + "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_NE(health.body.find("ok"), std::string::npos);
  auto ready = http_request("GET", server.url() + "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_NE(ready.body.find("ready"), std::string::npos);
}

TEST(Serve, SigtermExitsZeroPromptly) {
  CodaServer server(config_options(kBareConfig));
  ASSERT_EQ(::kill(server.pid(), SIGTERM), 0);
  EXPECT_EQ(server.wait_exit(std::chrono::seconds(2)), 0) << server.output();
}

TEST(Serve, SigintExitsZero) {
  CodaServer server(config_options(kBareConfig));
  ASSERT_EQ(::kill(server.pid(), SIGINT), 0);
  EXPECT_EQ(server.wait_exit(std::chrono::seconds(5)), 0) << server.output();
}

TEST(Serve, RequestIdIsPassedThroughOrGenerated) {
  CodaServer server(config_options(kBareConfig));
  auto given = http_request("GET", server.url() + "/healthz", "", {{"X-Request-Id", "abc-123"}});
  EXPECT_EQ(given.header("x-request-id"), "abc-123");
  auto generated = http_request("GET", server.url() + "/healthz");
  EXPECT_EQ(generated.header("x-request-id").size(), 32u);
  auto bad = http_request("GET", server.url() + "/healthz", "", {{"X-Request-Id", "a b\"c"}});
  EXPECT_NE(bad.header("x-request-id"), "a b\"c");
}

TEST(Serve, UnknownPathIs404WithJson) {
  CodaServer server(config_options(kBareConfig));
  auto r = http_request("GET", server.url() + "/nothing-here");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("\"error\""), std::string::npos);
  EXPECT_EQ(http_request("GET", server.url() + "/healthz").status, 200);  // still serving
}

TEST(Serve, NonLoopbackWithoutAuthIsRefused) {
  TempDir dir;
  auto config = dir.write("coda.yaml", kBareConfig);
  auto r = run_coda({"serve", "--listen", "0.0.0.0:0", "--config", config, "--data-dir",
                dir.path() + "/data"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.error.find("refusing to listen on 0.0.0.0:0"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("auth.mode"), std::string::npos) << r.error;
  EXPECT_EQ(r.output.find("listening on"), std::string::npos);
}

// Several users and nothing that isolates their agents: refused, unless the admin opts out; the log
// names the mechanism in use either way.
TEST(Serve, SeveralUsersWithoutAgentIsolationAreRefusedUnlessOptedOut) {
  TempDir dir;
  const std::string base = std::string(kBareConfig) +
                           "auth:\n  mode: bearer\n  tokens:\n"
                           "    - {sha256: " + std::string(64, 'a') + ", subject: alice}\n"
                           "agents:\n  policy:\n    landlock: off\n";
  auto refused = run_coda({"serve", "--listen", "127.0.0.1:0", "--config",
                           dir.write("refused.yaml", base), "--data-dir", dir.path() + "/d1"});
  EXPECT_EQ(refused.exit_code, 2) << refused.error;
  EXPECT_NE(refused.error.find("lets several users run agents"), std::string::npos)
      << refused.error;
  EXPECT_NE(refused.error.find("agents.policy.allow_unisolated"), std::string::npos)
      << refused.error;
  EXPECT_EQ(refused.output.find("listening on"), std::string::npos);

  CodaServer::Options options;
  options.config_yaml = base + "    allow_unisolated: true\n";
  CodaServer opted_out(options);
  EXPECT_NE(opted_out.output().find("agent isolation: none (agents.policy.allow_unisolated"),
            std::string::npos)
      << opted_out.output();
}

TEST(Serve, PortInUseFailsWithTheAddress) {
  Poco::Net::ServerSocket taken(Poco::Net::SocketAddress("127.0.0.1", 0));
  std::string listen = "127.0.0.1:" + std::to_string(taken.address().port());
  TempDir dir;
  auto config = dir.write("coda.yaml", kBareConfig);
  auto r = run_coda({"serve", "--listen", listen, "--config", config, "--data-dir",
                     dir.path() + "/data"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.error.find("cannot listen on " + listen), std::string::npos) << r.error;
}

TEST(Serve, BadListenAddressIsAUsageError) {
  TempDir dir;
  auto config = dir.write("coda.yaml", kBareConfig);
  auto r = run_coda({"serve", "--listen", "127.0.0.1:99999", "--config", config, "--data-dir",
                     dir.path() + "/data"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.error.find("99999"), std::string::npos) << r.error;
}

TEST(Serve, BadLogLevelIsAUsageError) {
  TempDir dir;
  auto config = dir.write("coda.yaml", kBareConfig);
  auto r = run_coda({"serve", "--listen", "127.0.0.1:0", "--log-level", "loud", "--config", config,
                     "--data-dir", dir.path() + "/data"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.error.find("loud"), std::string::npos) << r.error;
}

TEST(Serve, JsonLogsAreOneObjectPerLine) {
  CodaServer server(config_options("server:\n  log_format: json\nplugins:\n  load: []\n"));
  server.stop();
  std::string out = server.output();
  std::size_t json_lines = 0;
  std::size_t pos = 0;
  while (pos < out.size()) {
    std::size_t end = out.find('\n', pos);
    std::string line = out.substr(pos, end - pos);
    if (line.rfind("{\"time\":", 0) == 0) {
      ++json_lines;
      EXPECT_EQ(line.back(), '}') << line;
    }
    pos = end == std::string::npos ? out.size() : end + 1;
  }
  EXPECT_GE(json_lines, 2u) << out;
}

TEST(Serve, ServesHttpsWithTheConfiguredCertificate) {
  TempDir dir;
  std::string cert = dir.path() + "/cert.pem";
  std::string key = dir.path() + "/key.pem";
  std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout " +
                        key + " -out " + cert + " >/dev/null 2>&1";
  int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "openssl failed";
  auto options = config_options("server:\n  tls:\n    enabled: true\n    cert_file: " + cert +
                                "\n    key_file: " + key + "\nplugins:\n  load: []\n");
  options.wait_ready = false;  // the helper polls /readyz over plain HTTP; this test does it over TLS
  CodaServer server(options);
  ASSERT_EQ(server.url().rfind("https://127.0.0.1:", 0), 0u) << server.url();
  Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "",
                                                           Poco::Net::Context::VERIFY_NONE);
  Poco::URI uri(server.url());
  Poco::Net::HTTPResponse response;
  std::string body;
  for (int attempt = 0; attempt < 200; ++attempt) {
    Poco::Net::HTTPSClientSession session(uri.getHost(), uri.getPort(), context);
    Poco::Net::HTTPRequest request("GET", "/readyz", Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(request);
    body.clear();
    Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
    if (response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(response.getStatus(), 200);
  EXPECT_NE(body.find("ready"), std::string::npos);
  // Several requests on one kept-alive TLS connection, through both ways a response is sent (whole
  // buffered bodies such as /metrics, and Poco's for the built-in endpoints).
  Poco::Net::HTTPSClientSession session(uri.getHost(), uri.getPort(), context);
  session.setKeepAlive(true);
  for (const char* path : {"/metrics", "/healthz", "/metrics", "/readyz"}) {
    Poco::Net::HTTPRequest request("GET", path, Poco::Net::HTTPMessage::HTTP_1_1);
    request.setKeepAlive(true);
    session.sendRequest(request);
    body.clear();
    Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
    EXPECT_EQ(response.getStatus(), 200) << path;
    EXPECT_TRUE(response.getKeepAlive()) << path;
    if (std::string(path) == "/metrics") {
      EXPECT_NE(body.find("coda_build_info"), std::string::npos) << body;
      EXPECT_EQ(static_cast<std::streamsize>(body.size()), response.getContentLength64());
    }
  }
}

TEST(Serve, UnusableTlsFilesFailStartupNamingThem) {
  TempDir dir;
  auto config = dir.write("coda.yaml",
                          "server:\n  tls:\n    enabled: true\n    cert_file: /nonexistent/c.pem\n"
                          "    key_file: /nonexistent/k.pem\nplugins:\n  load: []\n");
  auto r = run_coda({"serve", "--listen", "127.0.0.1:0", "--config", config, "--data-dir",
                     dir.path() + "/data"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.error.find("/nonexistent/c.pem"), std::string::npos) << r.error;
}

TEST(Cli, VersionAndHelpAtEveryLevel) {
  auto version = run_coda({"version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.output.find("coda "), std::string::npos);
  EXPECT_NE(version.output.find("plugin ABI 1."), std::string::npos);
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"--help"}, {"serve", "--help"}, {"plugins", "--help"}, {"plugins", "list", "--help"},
           {"version", "--help"}}) {
    auto r = run_coda(args);
    EXPECT_EQ(r.exit_code, 0) << args[0];
    EXPECT_NE(r.output.find("Exit codes"), std::string::npos) << args[0] << ": " << r.output;
  }
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run_coda({}).exit_code, 2);
  EXPECT_EQ(run_coda({"no-such-command"}).exit_code, 2);
  EXPECT_EQ(run_coda({"serve", "--no-such-flag"}).exit_code, 2);
  auto missing = run_coda({"serve", "--config", "/nonexistent/coda.yaml"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.error.find("/nonexistent/coda.yaml"), std::string::npos) << missing.error;
}

}  // namespace
}  // namespace coda::test
