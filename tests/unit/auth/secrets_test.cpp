#include <gtest/gtest.h>

#include "core/auth/secrets.hpp"
#include "tests/unit/auth/test_requests.hpp"

namespace coda::auth {
namespace {

TEST(Secrets, Sha256HexOfKnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Secrets, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(Secrets, BearerTokenParsing) {
  using test::request_with;
  EXPECT_EQ(bearer_token(request_with({{"authorization", "Bearer abc"}})).value_or("-"), "abc");
  EXPECT_EQ(bearer_token(request_with({{"authorization", " BEARER\tabc "}})).value_or("-"), "abc");
  EXPECT_FALSE(bearer_token(request_with({{"authorization", "Basic abc"}})));
  EXPECT_FALSE(bearer_token(request_with({{"authorization", "Bearerabc"}})));
  EXPECT_FALSE(bearer_token(request_with({{"authorization", "Bearer   "}})));
  EXPECT_FALSE(bearer_token(request_with()));
}

TEST(Secrets, RedactsCredentialsInText) {
  EXPECT_EQ(redact_secrets("Authorization: Bearer s3cr3t-value.x"),
            "Authorization: Bearer [redacted]");
  EXPECT_EQ(redact_secrets("url?access_token=abc123&x=1"), "url?access_token=[redacted]&x=1");
  EXPECT_EQ(redact_secrets(R"({"token":"abc","n":1})"), R"({"token":"[redacted]","n":1})");
  EXPECT_EQ(redact_secrets("got eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln here"),
            "got [redacted] here");
  EXPECT_EQ(redact_secrets("nothing secret, eyJ alone"), "nothing secret, eyJ alone");
  EXPECT_EQ(redact_secrets(""), "");
}

}  // namespace
}  // namespace coda::auth
