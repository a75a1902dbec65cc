#include <gtest/gtest.h>

#include <Poco/JSON/Parser.h>

#include "core/auth/authenticator.hpp"
#include "core/config/config.hpp"
#include "tests/support/temp_dir.hpp"

namespace coda::auth {
namespace {

std::string error_of(const std::string& yaml) {
  try {
    config::load_string(yaml, "test.yaml");
  } catch (const config::ConfigError& e) {
    std::string all;
    for (const auto& line : e.lines()) all += line + "\n";
    return all.empty() ? e.what() : all;
  }
  return "";
}

TEST(AuthConfig, OAuthSectionBecomesTypedJsonWithTheJwksFileResolved) {
  coda::test::TempDir dir;
  std::string file = dir.write("coda.yaml", R"(auth:
  mode: oauth
  admins: [root@example.com]
  oauth:
    issuer: https://issuer.example
    audience: [coda, other]
    jwks_file: keys/jwks.json
    scopes: [coda.tasks]
    leeway_s: 5
)");
  auto config = config::load_file(file);
  auto json = Poco::JSON::Parser().parse(config.auth.oauth_json).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(json->getValue<std::string>("issuer"), "https://issuer.example");
  EXPECT_EQ(json->getArray("audience")->size(), 2u);
  EXPECT_EQ(json->getValue<std::string>("jwks_file"), dir.path() + "/keys/jwks.json");
  EXPECT_EQ(json->getValue<int>("leeway_s"), 5);
  EXPECT_EQ(config.auth.where.file, file);
  EXPECT_EQ(config.auth.where.line, 2);
  // The missing JWKS is found when the host starts, with the key path.
  try {
    Authenticator::create(config.auth, config.server);
    FAIL() << "expected a ConfigError";
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(e.key_path(), "auth.oauth.jwks_file");
  }
}

TEST(AuthConfig, OAuthMistakesAreLocated) {
  std::string misspelt = error_of(R"(auth:
  mode: oauth
  oauth:
    issuer: https://issuer.example
    audiense: coda
    jwks_url: http://127.0.0.1:1/jwks
)");
  EXPECT_NE(misspelt.find("test.yaml:5:"), std::string::npos) << misspelt;
  EXPECT_NE(misspelt.find("audiense"), std::string::npos) << misspelt;
  std::string both = error_of(R"(auth:
  mode: oauth
  oauth: {issuer: i, audience: a, jwks_url: u, jwks_file: f}
)");
  EXPECT_NE(both.find("exactly one of jwks_url or jwks_file"), std::string::npos) << both;
  std::string leeway = error_of(R"(auth:
  mode: oauth
  oauth: {issuer: i, audience: a, jwks_url: u, leeway_s: lots}
)");
  EXPECT_NE(leeway.find("auth.oauth.leeway_s"), std::string::npos) << leeway;
}

TEST(AuthConfig, BearerTokensCarryTheirLocation) {
  auto config = config::load_string(R"(auth:
  mode: bearer
  tokens:
    - {sha256: 0000000000000000000000000000000000000000000000000000000000000000, subject: a}
    - {env: CODA_TEST_UNSET_TOKEN_VARIABLE, subject: b}
)", "test.yaml");
  ASSERT_EQ(config.auth.tokens.size(), 2u);
  EXPECT_EQ(config.auth.tokens[1].where.line, 5);
  ::unsetenv("CODA_TEST_UNSET_TOKEN_VARIABLE");
  try {
    Authenticator::create(config.auth, config.server);
    FAIL() << "expected a ConfigError";
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(e.key_path(), "auth.tokens[1].env");
    EXPECT_NE(std::string(e.what()).find("test.yaml:5:"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace coda::auth
