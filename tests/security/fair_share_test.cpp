// The attack suite: fair shares on the real `coda` binary (bearer mode). One user filling the task
// queue is refused by tasks.max_queued_per_owner while another user can still submit.
#include <gtest/gtest.h>

#include "core/auth/secrets.hpp"
#include "tests/security/security_support.hpp"

namespace coda::test::security {
namespace {

constexpr const char* kAliceToken = "alice-token-fair-0f9e8d7c6b5a";
constexpr const char* kBobToken = "bob-token-fair-1a2b3c4d5e6f7a";

std::string fair_config() {
  std::string auth = "  mode: bearer\n  tokens:\n";
  for (auto [token, who] : {std::pair{kAliceToken, "alice"}, std::pair{kBobToken, "bob"}}) {
    auth += "    - {sha256: " + auth::sha256_hex(token) + ", subject: " + who + ", email: " + who +
            "@example.com}\n";
  }
  // One task runs at a time and hangs, so every later task stays queued.
  return host_config(auth) +
         "tasks:\n  max_concurrent: 1\n  max_per_owner: 1\n  max_queued: 100\n"
         "  max_queued_per_owner: 3\n";
}

TEST(SecurityFairShare, OneOwnerFillingTheQueueDoesNotLockOutAnother) {
  CodaServer server(server_options(fair_config()));
  ToolOutcome refused;
  int accepted = 0;
  for (int i = 0; i < 20; ++i) {
    auto run = call_tool(server, "coda_run", R"({"prompt":"fake:hang flood"})", bearer(kAliceToken));
    ASSERT_EQ(run.http_status, 200);
    if (run.is_error) {
      refused = run;
      break;
    }
    ++accepted;
  }
  // At most the running one plus max_queued_per_owner queued ones got in.
  ASSERT_TRUE(refused.is_error) << "alice was never refused after " << accepted << " tasks";
  EXPECT_LE(accepted, 4);
  EXPECT_GE(accepted, 3);
  EXPECT_NE(refused.text.find("max_queued_per_owner"), std::string::npos) << refused.text;
  // The queue as a whole is far from full: bob still gets in.
  auto bob = call_tool(server, "coda_run", R"({"prompt":"fake:ok bob"})", bearer(kBobToken));
  ASSERT_EQ(bob.http_status, 200);
  EXPECT_FALSE(bob.is_error) << bob.text;
}

}  // namespace
}  // namespace coda::test::security
