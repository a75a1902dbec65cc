// The attack suite, the rest of the authentication audit, against the real `coda` binary:
//   duplicate identity headers  two X-Forwarded-Email / X-Forwarded-User / Authorization headers
//                               are refused with 400, never "first wins" or "last wins"
//   brute force over new conns  wrong tokens, each on a fresh connection (a new source port), still
//                               run into the refused-auth rate limit (keyed by IP, not ip:port)
//   unverified email as admin   an OAuth token whose `email` names an admin without
//                               `email_verified: true` gets no admin rights
#include <gtest/gtest.h>

#include <chrono>

#include "core/auth/secrets.hpp"
#include "tests/security/security_support.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/auth/jwt_fixture.hpp"

namespace coda::test::security {
namespace {

constexpr const char* kAliceToken = "alice-token-0b7c95e3d2a14f68";
constexpr const char* kBobToken = "bob-token-6e2d18a4c9f04b73";

std::string bearer_auth(const std::string& extra = "") {
  return "  mode: bearer\n"
         "  tokens:\n"
         "    - {sha256: " +
         auth::sha256_hex(kAliceToken) +
         ", subject: alice}\n"
         "    - {sha256: " +
         auth::sha256_hex(kBobToken) + ", subject: bob, admin: true}\n" + extra;
}

TEST(SecurityDuplicateHeaders, TwoForwardedIdentitiesAreRefusedInDatabricksAppsMode) {
  CodaServer server(
      server_options(host_config("  mode: databricks-apps\n  admins: [boss@example.com]\n")));
  Headers victim = {{"X-Forwarded-Email", "boss@example.com"}};
  auto run = call_tool(server, "coda_run", R"({"prompt":"fake:ok the boss's task"})", victim);
  ASSERT_EQ(run.http_status, 200);
  ASSERT_FALSE(run.is_error) << run.text;
  // The attacker's own header plus a second one naming the victim: whichever a component took, one
  // of them would be wrong. The host takes neither.
  for (const Headers& forged : {Headers{{"X-Forwarded-Email", "mallory@example.com"},
                                        {"X-Forwarded-Email", "boss@example.com"}},
                                Headers{{"X-Forwarded-Email", "boss@example.com"},
                                        {"X-Forwarded-Email", "mallory@example.com"}},
                                Headers{{"X-Forwarded-Email", "mallory@example.com"},
                                        {"X-Forwarded-User", "1@1"},
                                        {"X-Forwarded-User", "2@2"}}}) {
    auto response = mcp_post(server.mcp_url(),
                             R"({"jsonrpc":"2.0","id":1,"method":"tools/call",)"
                             R"("params":{"name":"coda_inbox","arguments":{"all_users":true}}})",
                             forged);
    EXPECT_EQ(response.status, 400) << response.body;
    EXPECT_NE(response.body.find("more than once"), std::string::npos) << response.body;
    EXPECT_EQ(response.body.find("the boss's task"), std::string::npos)
        << "the victim's inbox leaked";
  }
  EXPECT_EQ(list_tools_status(server, victim), 200) << "the host stopped serving";
}

TEST(SecurityDuplicateHeaders, TwoAuthorizationHeadersAreRefusedInBearerMode) {
  CodaServer server(server_options(host_config(bearer_auth())));
  for (const Headers& two :
       {bearer(kAliceToken) + bearer(kBobToken), bearer(kBobToken) + bearer(kAliceToken),
        bearer("not-a-token-at-all-really") + bearer(kBobToken)}) {
    auto response =
        mcp_post(server.mcp_url(), R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})", two);
    EXPECT_EQ(response.status, 400) << response.body;
    EXPECT_NE(response.body.find("Authorization header is sent more than once"), std::string::npos)
        << response.body;
    EXPECT_EQ(response.body.find("token"), std::string::npos) << "a token was echoed";
  }
  EXPECT_EQ(list_tools_status(server, bearer(kAliceToken)), 200);
}

// With the shipped defaults (no rate_per_s, so accepted requests are unlimited): refused requests
// have a limiter of their own, 1 per second in bursts of 20.
TEST(SecurityRateLimit, WrongTokensOverNewConnectionsRunIntoTheLimit) {
  CodaServer server(server_options(host_config(bearer_auth(""))));
  int refused = 0;
  HttpResponse limited;
  const auto started = std::chrono::steady_clock::now();
  // http_request opens a new connection per call, and the host closes it after each refusal: every
  // guess comes from a new source port.
  for (int i = 0; i < 60 && limited.status != 429; ++i) {
    auto response = mcp_post(server.mcp_url(), R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})",
                             bearer("guess-number-" + std::to_string(i) + "-of-many"));
    if (response.status == 401) {
      ++refused;
    } else {
      limited = response;
    }
  }
  const double elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(limited.status, 429) << "60 wrong guesses from one address were all answered 401";
  EXPECT_GE(refused, 20);
  // The burst, plus what refilled while the loop ran (1 per second).
  EXPECT_LE(refused, 20 + static_cast<int>(elapsed_s) + 1);
  EXPECT_FALSE(limited.header("retry-after").empty());
  // A caller with a valid token is limited per identity, not by the attacker's address bucket.
  EXPECT_EQ(list_tools_status(server, bearer(kAliceToken)), 200);
}

class SecurityOAuthAdmins : public ::testing::Test {
 protected:
  static const auth::test::TestIssuer& issuer() {
    static const auth::test::TestIssuer instance("audit-key");
    return instance;
  }
  void SetUp() override {
    std::string jwks = dir_.write("jwks.json", auth::test::TestIssuer::jwks({&issuer()}));
    server_ = std::make_unique<CodaServer>(
        server_options(host_config("  mode: oauth\n"
                                   "  admins: [admin@example.com]\n"
                                   "  oauth:\n"
                                   "    issuer: https://issuer.example\n"
                                   "    audience: coda\n"
                                   "    jwks_file: " +
                                   jwks + "\n")));
  }
  Headers token_for(const std::string& subject, const std::string& email,
                    std::optional<bool> email_verified) {
    auth::test::TestIssuer::Claims claims;
    claims.subject = subject;
    claims.email = email;
    claims.email_verified = email_verified;
    return bearer(issuer().sign(claims));
  }
  TempDir dir_;
  std::unique_ptr<CodaServer> server_;
};

TEST_F(SecurityOAuthAdmins, AnUnverifiedAdminEmailGetsNoAdminRights) {
  auto run = call_tool(*server_, "coda_run", R"({"prompt":"fake:ok alice's secret task"})",
                       token_for("alice", "alice@example.com", true));
  ASSERT_EQ(run.http_status, 200);
  ASSERT_FALSE(run.is_error) << run.text;
  std::string task_id = run.structured->getValue<std::string>("task_id");

  // Mallory signs up at the issuer with the admin's address, which the issuer never verified.
  for (std::optional<bool> claim : {std::optional<bool>{}, std::optional<bool>{false}}) {
    Headers mallory = token_for("mallory", "admin@example.com", claim);
    auto all = call_tool(*server_, "coda_inbox", R"({"all_users":true})", mallory);
    EXPECT_EQ(all.http_status, 200);
    EXPECT_TRUE(all.is_error) << "an unverified email was taken for the admin: " << all.text;
    auto foreign =
        call_tool(*server_, "coda_get_result", R"({"task_id":")" + task_id + R"("})", mallory);
    EXPECT_TRUE(foreign.is_error) << foreign.text;
    EXPECT_EQ(foreign.text.find("secret"), std::string::npos) << foreign.text;
  }

  // The real admin, whose issuer vouches for the address, sees every user's tasks.
  auto admin = call_tool(*server_, "coda_inbox", R"({"all_users":true})",
                         token_for("admin-sub", "admin@example.com", true));
  ASSERT_FALSE(admin.is_error) << admin.text;
  EXPECT_EQ(admin.structured->getArray("tasks")->size(), 1u);
}

}  // namespace
}  // namespace coda::test::security
