#include "core/bridge/token_source.hpp"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"

namespace coda::bridge {
namespace {

using std::chrono::system_clock;

TEST(ParseTokenOutput, ReadsTheDatabricksJsonForm) {
  auto token = parse_token_output(
      R"({"access_token":"abc.def","token_type":"Bearer","expiry":"2030-01-02T03:04:05.123456789+01:00"})");
  EXPECT_EQ(token.value, "abc.def");
  ASSERT_TRUE(token.expiry.has_value());
  EXPECT_EQ(*token.expiry, *parse_rfc3339("2030-01-02T02:04:05.123456Z"));
}

TEST(ParseTokenOutput, ReadsExpiresInAndEpochSeconds) {
  auto now = system_clock::time_point(std::chrono::seconds(1000));
  EXPECT_EQ(*parse_token_output(R"({"access_token":"t","expires_in":3600})", now).expiry,
            now + std::chrono::seconds(3600));
  EXPECT_EQ(*parse_token_output(R"({"access_token":"t","expiry":1234})", now).expiry,
            system_clock::time_point(std::chrono::seconds(1234)));
  EXPECT_FALSE(parse_token_output(R"({"access_token":"t"})").expiry.has_value());
}

TEST(ParseTokenOutput, ReadsABareTokenOnTheFirstLine) {
  auto token = parse_token_output("\n  dapi123  \nmore\n");
  EXPECT_EQ(token.value, "dapi123");
  EXPECT_FALSE(token.expiry.has_value());
}

TEST(ParseTokenOutput, RejectsOutputWithoutAToken) {
  EXPECT_THROW(parse_token_output(""), TokenError);
  EXPECT_THROW(parse_token_output("{\"token\":\"x\"}"), TokenError);
  EXPECT_THROW(parse_token_output("{not json"), TokenError);
  EXPECT_THROW(parse_token_output("Error: profile not found"), TokenError);
}

TEST(ParseRfc3339, AcceptsZonesAndRejectsOtherText) {
  auto utc = parse_rfc3339("2026-11-27T10:00:00Z");
  ASSERT_TRUE(utc.has_value());
  EXPECT_EQ(parse_rfc3339("2026-11-27T12:30:00+02:30"), utc);
  EXPECT_EQ(parse_rfc3339("2026-11-27T05:00:00-05:00"), utc);
  EXPECT_FALSE(parse_rfc3339("2026-11-27").has_value());
  EXPECT_FALSE(parse_rfc3339("tomorrow").has_value());
  EXPECT_FALSE(parse_rfc3339("2026-13-27T10:00:00Z").has_value());
}

// A token command that prints tok-1, tok-2, ... (one more on every run) with the given expiry.
std::vector<std::string> counting_command(const test::TempDir& dir, const std::string& expiry) {
  std::string script = dir.write("token.sh",
                                 "n=$(cat \"$0.count\" 2>/dev/null || echo 0)\n"
                                 "n=$((n+1))\necho $n > \"$0.count\"\n"
                                 "echo '{\"access_token\":\"tok-'$n'\",\"expiry\":\"" +
                                     expiry + "\"}'\n");
  return {"sh", script};
}

TEST(TokenSource, CachesTheTokenUntilInvalidated) {
  test::TempDir dir;
  TokenSource source(counting_command(dir, "2999-01-01T00:00:00Z"));
  auto first = source.token();
  EXPECT_EQ(first.value, "tok-1");
  EXPECT_EQ(source.token().value, "tok-1");
  source.invalidate(first.generation);
  auto second = source.token();
  EXPECT_EQ(second.value, "tok-2");
  source.invalidate(first.generation);  // stale: another request already refreshed
  EXPECT_EQ(source.token().value, "tok-2");
}

TEST(TokenSource, RunsTheCommandAgainWhenTheTokenIsAboutToExpire) {
  test::TempDir dir;
  TokenSource source(counting_command(dir, "2000-01-01T00:00:00Z"));
  EXPECT_EQ(source.token().value, "tok-1");
  EXPECT_EQ(source.token().value, "tok-2");
}

TEST(TokenSource, ReportsAFailingCommandWithoutItsOutput) {
  test::TempDir dir;
  std::string script = dir.write("fail.sh",
                                 "echo '{\"access_token\":\"secret-token\"}'\n"
                                 "echo 'Error: profile DEV not found' >&2\nexit 3\n");
  TokenSource source({"sh", script});
  try {
    source.token();
    FAIL() << "expected a TokenError";
  } catch (const TokenError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("exited with status 3"), std::string::npos) << what;
    EXPECT_NE(what.find("profile DEV not found"), std::string::npos) << what;
    EXPECT_EQ(what.find("secret-token"), std::string::npos) << what;
  }
}

TEST(TokenSource, ReportsAMissingProgram) {
  TokenSource source({"coda-no-such-program-xyz", "token"});
  try {
    source.token();
    FAIL() << "expected a TokenError";
  } catch (const TokenError& e) {
    EXPECT_NE(std::string(e.what()).find("not found on the PATH"), std::string::npos) << e.what();
  }
}

TEST(TokenSource, WithoutACommandThereIsNoToken) {
  TokenSource source({});
  EXPECT_FALSE(source.enabled());
  EXPECT_EQ(source.token().value, "");
}

}  // namespace
}  // namespace coda::bridge
