#include <gtest/gtest.h>

#include "core/auth/authenticator.hpp"
#include "tests/unit/auth/test_requests.hpp"

namespace coda::auth {
namespace {

using test::request_with;

TEST(NoneMode, EveryRequestIsTheLocalUser) {
  config::AuthConfig auth;
  auto authenticator = Authenticator::create(auth, config::ServerConfig{});
  EXPECT_EQ(authenticator->mode(), "none");
  EXPECT_TRUE(authenticator->requires_loopback());
  auto result = authenticator->authenticate(request_with());
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.identity->subject, Identity::local_user().subject);
  EXPECT_FALSE(result.identity->authenticated);
}

TEST(NoneMode, IgnoresForwardedIdentityAndTokens) {
  auto authenticator = Authenticator::create(config::AuthConfig{}, config::ServerConfig{});
  auto result = authenticator->authenticate(request_with(
      {{"x-forwarded-email", "mallory@example.com"}, {"authorization", "Bearer whatever"}}));
  ASSERT_TRUE(result.ok());
  EXPECT_NE(result.identity->email, "mallory@example.com");
  EXPECT_EQ(result.identity->subject, Identity::local_user().subject);
}

TEST(AnyMode, HealthEndpointsArePublicAndOthersAreNot) {
  auto authenticator = Authenticator::create(config::AuthConfig{}, config::ServerConfig{});
  EXPECT_TRUE(authenticator->is_public_path("/healthz"));
  EXPECT_TRUE(authenticator->is_public_path("/readyz"));
  EXPECT_FALSE(authenticator->is_public_path("/mcp"));
  EXPECT_FALSE(authenticator->is_public_path("/healthz/../mcp"));
  EXPECT_FALSE(authenticator->serve_public(request_with({}, "/healthz")).has_value());
}

TEST(AnyMode, UnknownModeIsAConfigError) {
  config::AuthConfig auth;
  auth.mode = "trust-me";
  try {
    Authenticator::create(auth, config::ServerConfig{});
    FAIL() << "expected a ConfigError";
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(e.key_path(), "auth.mode");
    EXPECT_NE(std::string(e.what()).find("trust-me"), std::string::npos);
  }
}

}  // namespace
}  // namespace coda::auth
