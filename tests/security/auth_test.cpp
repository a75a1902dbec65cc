// The attack suite, part 1: authentication per mode against the real `coda` binary.
//   none             loopback only (a non-loopback listen is refused); spoofed headers change nothing
//   bearer           no credentials / wrong token → 401; spoofed X-Forwarded-Email ignored
//   databricks-apps  no forwarded identity → 401; the forwarded email is the caller
//   oauth            no credentials → 401 + resource_metadata; expired / wrong-audience → 401;
//                    missing scope → 403 insufficient_scope; RFC 9728 metadata served publicly
//   every mode       foreign Origin → 403; bursts past the rate limit → 429 with Retry-After
#include <gtest/gtest.h>

#include <Poco/JSON/Parser.h>

#include "core/auth/secrets.hpp"
#include "tests/security/security_support.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/auth/jwt_fixture.hpp"

namespace coda::test::security {
namespace {

using namespace std::chrono_literals;

constexpr const char* kAliceToken = "alice-token-7d1f0c4e9a2b48d6b1e3";
constexpr const char* kBobToken = "bob-token-4f8e2a9c1d7b43e5a0c6";

std::string bearer_auth(const std::string& extra = "") {
  return "  mode: bearer\n"
         "  tokens:\n"
         "    - {env: CODA_TEST_ALICE_TOKEN, subject: alice, email: alice@example.com}\n"
         "    - {sha256: " + auth::sha256_hex(kBobToken) + ", subject: bob}\n" + extra;
}

CodaServer::Options bearer_options(const std::string& extra = "") {
  return server_options(host_config(bearer_auth(extra)), {{"CODA_TEST_ALICE_TOKEN", kAliceToken}});
}

TEST(SecurityNone, NonLoopbackListenIsRefused) {
  TempDir dir;
  std::string config = dir.write("coda.yaml", host_config("  mode: none\n"));
  auto result = run_coda({"serve", "--config", config, "--listen", "0.0.0.0:0", "--data-dir",
                          dir.path() + "/data"},
                         {}, 30s);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE((result.output + result.error).find("auth.mode none"), std::string::npos)
      << result.output << result.error;
}

TEST(SecurityNone, LoopbackCallerIsLetInAndForeignOriginIsRefused) {
  CodaServer server(server_options(host_config("  mode: none\n")));
  EXPECT_EQ(list_tools_status(server, {}), 200);
  EXPECT_EQ(list_tools_status(server, {{"X-Forwarded-Email", "mallory@example.com"}}), 200);
  EXPECT_EQ(list_tools_status(server, {{"Origin", "https://evil.example"}}), 403);
  EXPECT_EQ(list_tools_status(server, {{"Origin", "http://127.0.0.1:" +
                                                       std::to_string(server.port())}}),
            200);
}

TEST(SecurityBearer, MissingAndWrongTokensAre401) {
  CodaServer server(bearer_options());
  auto missing = mcp_post(server.mcp_url(), R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
  EXPECT_EQ(missing.status, 401);
  EXPECT_NE(missing.header("www-authenticate").find("Bearer"), std::string::npos);
  auto wrong = mcp_post(server.mcp_url(), R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})",
                        bearer("alice-token-but-not-quite-right"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body.find("alice-token"), std::string::npos) << "the token was echoed";
  EXPECT_EQ(list_tools_status(server, {{"Authorization", std::string("Basic ") + kAliceToken}}),
            401);
  EXPECT_EQ(list_tools_status(server, bearer(auth::sha256_hex(kBobToken))), 401)
      << "the stored digest must not work as a token";
  EXPECT_EQ(list_tools_status(server, bearer(kAliceToken)), 200);
  EXPECT_EQ(list_tools_status(server, bearer(kBobToken)), 200);
  EXPECT_EQ(server.output().find("token-but-not-quite"), std::string::npos)
      << "a token reached the log";
  EXPECT_EQ(http_request("GET", server.url() + "/healthz").status, 200);
}

TEST(SecurityBearer, SpoofedForwardedIdentityIsIgnored) {
  CodaServer server(bearer_options());
  EXPECT_EQ(list_tools_status(server, {{"X-Forwarded-Email", "alice@example.com"},
                                       {"X-Forwarded-User", "alice"}}),
            401);
  // Bob, claiming to be Alice through the proxy headers, still sees only his own (empty) inbox.
  auto alice_run = call_tool(server, "coda_run", R"({"prompt":"fake:ok alice's task"})",
                             bearer(kAliceToken));
  ASSERT_EQ(alice_run.http_status, 200);
  ASSERT_FALSE(alice_run.is_error) << alice_run.text;
  auto spoofed_inbox = call_tool(server, "coda_inbox", "{}",
                                 bearer(kBobToken) + Headers{{"X-Forwarded-Email", "alice@example.com"},
                                                             {"X-Forwarded-User", "alice"}});
  ASSERT_FALSE(spoofed_inbox.is_error) << spoofed_inbox.text;
  EXPECT_EQ(spoofed_inbox.structured->getArray("tasks")->size(), 0u);
}

TEST(SecurityBearer, ForeignOriginIs403EvenWithAValidToken) {
  CodaServer server(bearer_options());
  EXPECT_EQ(list_tools_status(server, bearer(kAliceToken) + Headers{{"Origin", "https://evil.example"}}),
            403);
  EXPECT_EQ(list_tools_status(server, bearer(kAliceToken) + Headers{{"Origin", "null"}}), 403);
}

TEST(SecurityBearer, CorsPreflightNeedsNoTokenAndConfiguredOriginsGetCors) {
  // server.allowed_origins: the listener admits it, and the transport answers it with CORS.
  CodaServer server(server_options(
      "server:\n  allowed_origins: [\"https://workspace.example\"]\n" + host_config(bearer_auth()),
      {{"CODA_TEST_ALICE_TOKEN", kAliceToken}}));
  auto preflight = [&](const std::string& origin) {
    return http_request("OPTIONS", server.mcp_url(), "",
                        {{"Origin", origin},
                         {"Access-Control-Request-Method", "POST"},
                         {"Access-Control-Request-Headers", "authorization, content-type"}});
  };
  // Browsers never send credentials on a preflight: it must not be refused for lacking them.
  auto allowed = preflight("https://workspace.example");
  EXPECT_EQ(allowed.status, 204) << allowed.body;
  EXPECT_EQ(allowed.header("access-control-allow-origin"), "https://workspace.example");
  EXPECT_EQ(preflight("https://evil.example").status, 403);
  // The real request from that origin still needs the token.
  Headers from_workspace{{"Origin", "https://workspace.example"}};
  EXPECT_EQ(list_tools_status(server, from_workspace), 401);
  EXPECT_EQ(list_tools_status(server, bearer(kAliceToken) + from_workspace), 200);
  // A plain OPTIONS (no preflight headers) is authenticated like anything else.
  EXPECT_EQ(http_request("OPTIONS", server.mcp_url()).status, 401);
}

TEST(SecurityBearer, BurstPastTheRateLimitIs429WithRetryAfter) {
  CodaServer server(bearer_options("  rate_per_s: 0.2\n  burst: 5\n"));
  int ok = 0;
  HttpResponse limited;
  for (int i = 0; i < 12; ++i) {
    auto response = mcp_post(server.mcp_url(), R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})",
                             bearer(kAliceToken));
    if (response.status == 200) {
      ++ok;
    } else {
      limited = response;
    }
  }
  EXPECT_GE(ok, 5);
  EXPECT_LE(ok, 7);  // the burst, plus at most what refills while the loop runs
  EXPECT_EQ(limited.status, 429);
  EXPECT_GE(std::stoi(limited.header("retry-after").empty() ? "0" : limited.header("retry-after")),
            1);
  // The limit is per identity: Bob is not affected by Alice's burst.
  EXPECT_EQ(list_tools_status(server, bearer(kBobToken)), 200);
}

TEST(SecurityDatabricksApps, ForwardedIdentityIsRequiredAndUsed) {
  CodaServer server(server_options(host_config("  mode: databricks-apps\n")));
  EXPECT_EQ(list_tools_status(server, {}), 401);
  EXPECT_EQ(list_tools_status(server, bearer(kAliceToken)), 401);
  Headers alice = {{"X-Forwarded-Email", "alice@example.com"}, {"X-Forwarded-User", "111@1"}};
  Headers bob = {{"X-Forwarded-Email", "bob@example.com"}, {"X-Forwarded-User", "222@1"}};
  EXPECT_EQ(list_tools_status(server, alice), 200);
  auto run = call_tool(server, "coda_run", R"({"prompt":"fake:ok"})", alice);
  ASSERT_FALSE(run.is_error) << run.text;
  auto mine = call_tool(server, "coda_inbox", "{}", alice);
  EXPECT_EQ(mine.structured->getArray("tasks")->size(), 1u);
  auto theirs = call_tool(server, "coda_inbox", "{}", bob);
  EXPECT_EQ(theirs.structured->getArray("tasks")->size(), 0u);
  EXPECT_EQ(list_tools_status(server, alice + Headers{{"Origin", "https://evil.example"}}), 403);
}

class SecurityOAuth : public ::testing::Test {
 protected:
  static const auth::test::TestIssuer& issuer() {
    static const auth::test::TestIssuer instance("int-key");
    return instance;
  }
  void SetUp() override {
    std::string jwks = dir_.write("jwks.json", auth::test::TestIssuer::jwks({&issuer()}));
    server_ = std::make_unique<CodaServer>(server_options(host_config(
        "  mode: oauth\n"
        "  oauth:\n"
        "    issuer: https://issuer.example\n"
        "    audience: coda\n"
        "    jwks_file: " + jwks + "\n"
        "    scopes: [coda.tasks]\n")));
  }
  int status_with(const std::string& token) {
    return list_tools_status(*server_, bearer(token));
  }
  TempDir dir_;
  std::unique_ptr<CodaServer> server_;
};

TEST_F(SecurityOAuth, NoCredentialsIs401WithTheMetadataHeaderAndTheMetadataIsPublic) {
  auto response = mcp_post(server_->mcp_url(), R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
  EXPECT_EQ(response.status, 401);
  std::string challenge = response.header("www-authenticate");
  std::string metadata_url = server_->url() + "/.well-known/oauth-protected-resource/mcp";
  EXPECT_EQ(challenge, "Bearer resource_metadata=\"" + metadata_url + "\"");
  auto metadata = http_request("GET", metadata_url);
  ASSERT_EQ(metadata.status, 200);
  auto doc = Poco::JSON::Parser().parse(metadata.body).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(doc->getValue<std::string>("resource"), server_->mcp_url());
  EXPECT_EQ(doc->getArray("authorization_servers")->getElement<std::string>(0),
            "https://issuer.example");
  EXPECT_EQ(http_request("GET", server_->url() + "/.well-known/oauth-protected-resource").status,
            200);
}

TEST_F(SecurityOAuth, ValidTokenIsLetIn) {
  EXPECT_EQ(status_with(issuer().sign({})), 200);
}

TEST_F(SecurityOAuth, ExpiredWrongAudienceAndWrongTokensAre401) {
  auth::test::TestIssuer::Claims expired;
  expired.expires_in = -10min;
  auth::test::TestIssuer::Claims wrong_audience;
  wrong_audience.audience = {"another-api"};
  auth::test::TestIssuer impostor("int-key");
  for (const std::string& token :
       {issuer().sign(expired), issuer().sign(wrong_audience), impostor.sign({}),
        std::string("not-a-jwt")}) {
    auto response = mcp_post(server_->mcp_url(), R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})",
                             bearer(token));
    EXPECT_EQ(response.status, 401);
    EXPECT_NE(response.header("www-authenticate").find("resource_metadata="), std::string::npos);
    EXPECT_NE(response.header("www-authenticate").find("invalid_token"), std::string::npos);
  }
}

TEST_F(SecurityOAuth, MissingScopeIs403InsufficientScope) {
  auth::test::TestIssuer::Claims narrow;
  narrow.scope = "openid";
  auto response = mcp_post(server_->mcp_url(), R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})",
                           bearer(issuer().sign(narrow)));
  EXPECT_EQ(response.status, 403);
  EXPECT_NE(response.header("www-authenticate").find("error=\"insufficient_scope\""),
            std::string::npos);
}

TEST_F(SecurityOAuth, SpoofedForwardedIdentityIsIgnored) {
  EXPECT_EQ(list_tools_status(*server_, {{"X-Forwarded-Email", "alice@example.com"}}), 401);
}

}  // namespace
}  // namespace coda::test::security
