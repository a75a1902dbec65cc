#include <cstdlib>

#include <gtest/gtest.h>

#include "core/auth/authenticator.hpp"
#include "core/auth/secrets.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/auth/test_requests.hpp"

namespace coda::auth {
namespace {

using test::header_of;
using test::request_with;

constexpr const char* kAliceToken = "alice-0123456789abcdef0123456789";
constexpr const char* kBobToken = "bob-fedcba9876543210fedcba987654";

config::BearerToken token_entry(const std::string& subject) {
  config::BearerToken entry;
  entry.subject = subject;
  return entry;
}

config::AuthConfig two_users() {
  config::AuthConfig auth;
  auth.mode = "bearer";
  auto alice = token_entry("alice");
  alice.sha256 = sha256_hex(kAliceToken);
  alice.email = "alice@example.com";
  auto bob = token_entry("bob");
  bob.sha256 = sha256_hex(kBobToken);
  auth.tokens = {alice, bob};
  return auth;
}

AuthResult call(Authenticator& a, const std::string& authorization) {
  return a.authenticate(request_with({{"authorization", authorization}}));
}

TEST(BearerMode, EachTokenMapsToItsIdentity) {
  auto a = Authenticator::create(two_users(), config::ServerConfig{});
  EXPECT_EQ(a->mode(), "bearer");
  EXPECT_FALSE(a->requires_loopback());
  auto alice = call(*a, std::string("Bearer ") + kAliceToken);
  ASSERT_TRUE(alice.ok());
  EXPECT_EQ(alice.identity->subject, "alice");
  EXPECT_EQ(alice.identity->email, "alice@example.com");
  EXPECT_TRUE(alice.identity->authenticated);
  EXPECT_FALSE(alice.identity->admin);
  auto bob = call(*a, std::string("bearer   ") + kBobToken + " ");
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(bob.identity->subject, "bob");
}

TEST(BearerMode, MissingWrongOrOtherSchemeIsRefusedWith401) {
  auto a = Authenticator::create(two_users(), config::ServerConfig{});
  auto missing = a->authenticate(request_with());
  EXPECT_FALSE(missing.ok());
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(header_of(missing, "WWW-Authenticate"), "Bearer");
  auto wrong = call(*a, "Bearer not-the-token-of-anyone-at-all");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_NE(header_of(wrong, "WWW-Authenticate").find("invalid_token"), std::string::npos);
  EXPECT_EQ(wrong.message.find("not-the-token"), std::string::npos) << "the token leaked";
  EXPECT_FALSE(call(*a, std::string("Basic ") + kAliceToken).ok());
  EXPECT_FALSE(call(*a, std::string("Bearer") + kAliceToken).ok());
  EXPECT_FALSE(call(*a, "Bearer ").ok());
  EXPECT_FALSE(call(*a, std::string("Bearer ") + kAliceToken + "x").ok());
  EXPECT_FALSE(call(*a, std::string("Bearer ") + sha256_hex(kAliceToken)).ok())
      << "the stored digest must not work as a token";
}

TEST(BearerMode, IgnoresForwardedIdentityHeaders) {
  auto a = Authenticator::create(two_users(), config::ServerConfig{});
  auto spoofed = a->authenticate(request_with({{"x-forwarded-email", "bob@example.com"},
                                               {"x-forwarded-user", "bob"}}));
  EXPECT_EQ(spoofed.status, 401);
  auto alice = a->authenticate(request_with({{"authorization", std::string("Bearer ") + kAliceToken},
                                             {"x-forwarded-email", "bob@example.com"}}));
  ASSERT_TRUE(alice.ok());
  EXPECT_EQ(alice.identity->subject, "alice");
  EXPECT_EQ(alice.identity->email, "alice@example.com");
}

TEST(BearerMode, TokenFromEnvironmentAndFile) {
  coda::test::TempDir dir;
  std::string file = dir.write("token", std::string(kBobToken) + "\n");
  ::setenv("CODA_TEST_ALICE_TOKEN", kAliceToken, 1);
  config::AuthConfig auth;
  auth.mode = "bearer";
  auto alice = token_entry("alice");
  alice.env = "CODA_TEST_ALICE_TOKEN";
  auto bob = token_entry("bob");
  bob.file = file;
  auth.tokens = {alice, bob};
  auto a = Authenticator::create(auth, config::ServerConfig{});
  ::unsetenv("CODA_TEST_ALICE_TOKEN");
  EXPECT_EQ(call(*a, std::string("Bearer ") + kAliceToken).identity->subject, "alice");
  EXPECT_EQ(call(*a, std::string("Bearer ") + kBobToken).identity->subject, "bob");
}

TEST(BearerMode, AdminsFromConfigByEmailOrSubject) {
  auto auth = two_users();
  auth.admins = {"ALICE@example.com"};
  auto a = Authenticator::create(auth, config::ServerConfig{});
  EXPECT_TRUE(call(*a, std::string("Bearer ") + kAliceToken).identity->admin);
  EXPECT_FALSE(call(*a, std::string("Bearer ") + kBobToken).identity->admin);
  auth.admins = {"bob"};
  a = Authenticator::create(auth, config::ServerConfig{});
  EXPECT_TRUE(call(*a, std::string("Bearer ") + kBobToken).identity->admin);
}

void expect_config_error(const config::AuthConfig& auth, const std::string& key_path,
                         const std::string& needle) {
  try {
    Authenticator::create(auth, config::ServerConfig{});
    ADD_FAILURE() << "expected a ConfigError for " << key_path;
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(e.key_path(), key_path);
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(BearerMode, UnusableEntriesAreConfigErrors) {
  config::AuthConfig auth;
  auth.mode = "bearer";
  expect_config_error(auth, "auth.tokens", "at least one");

  auto entry = token_entry("carol");
  auth.tokens = {entry};
  expect_config_error(auth, "auth.tokens[0]", "exactly one of");

  auth.tokens[0].sha256 = "abc";
  expect_config_error(auth, "auth.tokens[0].sha256", "64 hex digits");

  auth.tokens[0].sha256.clear();
  auth.tokens[0].env = "CODA_TEST_SURELY_UNSET_VARIABLE";
  ::unsetenv("CODA_TEST_SURELY_UNSET_VARIABLE");
  expect_config_error(auth, "auth.tokens[0].env", "CODA_TEST_SURELY_UNSET_VARIABLE");

  auth.tokens[0].env.clear();
  auth.tokens[0].file = "/nonexistent/coda/token";
  expect_config_error(auth, "auth.tokens[0].file", "cannot read");

  coda::test::TempDir dir;
  auth.tokens[0].file = dir.write("short", "abc\n");
  expect_config_error(auth, "auth.tokens[0]", "shorter than 16");

  auth.tokens = two_users().tokens;
  auth.tokens[1].sha256 = auth.tokens[0].sha256;
  expect_config_error(auth, "auth.tokens[1]", "twice");

  auth.tokens = two_users().tokens;
  auth.tokens[0].subject.clear();
  auth.tokens[0].email.clear();
  expect_config_error(auth, "auth.tokens[0]", "subject or an email");
}

}  // namespace
}  // namespace coda::auth
