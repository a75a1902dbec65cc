#include <gtest/gtest.h>

#include "core/auth/authenticator.hpp"
#include "tests/unit/auth/test_requests.hpp"

namespace coda::auth {
namespace {

using test::request_with;

std::unique_ptr<Authenticator> databricks(std::vector<std::string> admins = {}) {
  config::AuthConfig auth;
  auth.mode = "databricks-apps";
  auth.admins = std::move(admins);
  return Authenticator::create(auth, config::ServerConfig{});
}

TEST(DatabricksAppsMode, IdentityFromForwardedHeaders) {
  auto a = databricks();
  EXPECT_EQ(a->mode(), "databricks-apps");
  auto result = a->authenticate(request_with({{"x-forwarded-email", "Alice@Example.com"},
                                              {"x-forwarded-user", "1234@5678"},
                                              {"x-forwarded-preferred-username", "alice"}}));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.identity->subject, "alice@example.com");
  EXPECT_EQ(result.identity->email, "alice@example.com");
  EXPECT_EQ(result.identity->display_name, "alice");
  EXPECT_TRUE(result.identity->authenticated);
}

TEST(DatabricksAppsMode, UserHeaderAloneIsEnough) {
  auto result = databricks()->authenticate(request_with({{"x-forwarded-user", "1234@5678"}}));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.identity->subject, "1234@5678");
  EXPECT_EQ(result.identity->email, "");
}

// With user authorization on, the proxy sends X-Forwarded-Access-Token with every request; an
// admin who requires it refuses requests that only carry the identity headers.
TEST(DatabricksAppsMode, RequiredAccessTokenMustBePresent) {
  config::AuthConfig auth;
  auth.mode = "databricks-apps";
  auth.require_access_token = true;
  auto a = Authenticator::create(auth, config::ServerConfig{});
  auto without = a->authenticate(request_with({{"x-forwarded-email", "alice@example.com"}}));
  EXPECT_FALSE(without.ok());
  EXPECT_EQ(without.status, 401);
  EXPECT_NE(without.message.find("X-Forwarded-Access-Token"), std::string::npos);
  auto with = a->authenticate(request_with(
      {{"x-forwarded-email", "alice@example.com"}, {"x-forwarded-access-token", "dapi-opaque"}}));
  ASSERT_TRUE(with.ok());
  EXPECT_EQ(with.identity->subject, "alice@example.com");
  // Not required (the default): the identity headers suffice, as before.
  EXPECT_TRUE(databricks()->authenticate(request_with({{"x-forwarded-email", "a@b.c"}})).ok());
}

TEST(DatabricksAppsMode, WithoutProxyHeadersIsRefused) {
  auto a = databricks();
  auto none = a->authenticate(request_with({{"authorization", "Bearer some-token-value"}}));
  EXPECT_FALSE(none.ok());
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.message.find("some-token-value"), std::string::npos);
  EXPECT_FALSE(a->authenticate(request_with({{"x-forwarded-email", "   "}})).ok());
  EXPECT_FALSE(a->authenticate(request_with({{"x-forwarded-email", "a@b.c\r\nx: y"}})).ok());
  EXPECT_FALSE(a->authenticate(request_with({{"x-forwarded-email", "\"quoted\"@b.c"}})).ok());
  EXPECT_FALSE(a->authenticate(request_with({{"x-forwarded-email", std::string(1000, 'a')}})).ok());
}

TEST(DatabricksAppsMode, AdminsMatchTheForwardedEmail) {
  auto a = databricks({"boss@example.com"});
  EXPECT_TRUE(a->authenticate(request_with({{"x-forwarded-email", "boss@example.com"}}))
                  .identity->admin);
  EXPECT_FALSE(a->authenticate(request_with({{"x-forwarded-email", "intern@example.com"}}))
                   .identity->admin);
}

TEST(DatabricksAppsMode, RepeatedIdentityHeadersAreRefusedNotPickedFrom) {
  auto a = databricks({"boss@example.com"});
  for (const char* name : {"x-forwarded-email", "x-forwarded-user",
                           "x-forwarded-preferred-username", "authorization"}) {
    auto request = request_with({{"x-forwarded-email", "intern@example.com"}});
    request.headers.emplace(name, "boss@example.com");
    request.headers.emplace(name, "boss@example.com");
    auto result = a->authenticate(request);
    EXPECT_FALSE(result.ok()) << name;
    EXPECT_EQ(result.status, 400) << name;
    EXPECT_NE(result.message.find("more than once"), std::string::npos) << result.message;
  }
}

}  // namespace
}  // namespace coda::auth
