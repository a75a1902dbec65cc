#include "core/http/origin_policy.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace coda::http {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

OriginVerdict check(const OriginPolicy& policy, const Headers& headers) {
  return policy.check(origin_request_of(headers));
}

TEST(OriginHelpers, HostOfAuthority) {
  EXPECT_EQ(host_of_authority("Example.COM:8000"), "example.com");
  EXPECT_EQ(host_of_authority("[::1]:80"), "::1");
  EXPECT_EQ(host_of_authority("::1"), "::1");
  EXPECT_EQ(host_of_authority(" localhost "), "localhost");
  EXPECT_EQ(host_of_authority(""), "");
}

TEST(OriginHelpers, NormalizeOrigin) {
  EXPECT_EQ(normalize_origin("HTTPS://App.Example.com/"), "https://app.example.com");
  EXPECT_EQ(normalize_origin("https://app.example.com:443"), "https://app.example.com");
  EXPECT_EQ(normalize_origin("http://localhost:80"), "http://localhost");
  EXPECT_EQ(normalize_origin("http://localhost:8000"), "http://localhost:8000");
  EXPECT_EQ(normalize_origin("http://[::1]:3000"), "http://[::1]:3000");
  for (const char* bad : {"null", "", "localhost:8000", "http://", "http://a.example/path",
                          "http://user@a.example", "http://a.example:port", "://a.example",
                          "http://a b.example", "http://:80"}) {
    EXPECT_EQ(normalize_origin(bad), "") << bad;
  }
  EXPECT_EQ(host_of_origin("http://[::1]:3000"), "::1");
  EXPECT_EQ(host_of_origin("https://a.example"), "a.example");
}

TEST(OriginHelpers, LoopbackNamesAreExact) {
  for (const char* host : {"localhost", "LOCALHOST", "app.localhost", "127.0.0.1", "127.1.2.3",
                           "127.255.255.255", "::1", "[::1]", "0:0:0:0:0:0:0:1"}) {
    EXPECT_TRUE(is_loopback_name(host)) << host;
  }
  for (const char* host : {"", "localhost.evil.example", "128.0.0.1", "127.0.0.256", "127.0.0",
                           "127.0.0.1.evil.example", "1127.0.0.1", "127.0.0.1x", "127..0.1",
                           "127.0.0.0001", "+127.0.0.1", "0.0.0.0", "::", "evil-localhost"}) {
    EXPECT_FALSE(is_loopback_name(host)) << host;
  }
}

TEST(OriginPolicyLoopback, ForeignHostIsRefusedWithOrWithoutOrigin) {
  OriginPolicy policy(true, {}, {});
  // DNS rebinding: the page's name resolves to 127.0.0.1, so Host and Origin both name it.
  auto rebinding = check(policy, {{"Host", "attacker.example:8000"},
                                  {"Origin", "http://attacker.example:8000"}});
  EXPECT_FALSE(rebinding.allowed);
  EXPECT_NE(rebinding.reason.find("Host 'attacker.example:8000'"), std::string::npos)
      << rebinding.reason;
  EXPECT_NE(rebinding.reason.find("server.allowed_hosts"), std::string::npos);
  EXPECT_FALSE(check(policy, {{"Host", "attacker.example:8000"}}).allowed);
  EXPECT_FALSE(check(policy, {}).allowed);  // no Host at all
  EXPECT_TRUE(check(policy, {{"Host", "localhost:8000"}}).allowed);
  EXPECT_TRUE(check(policy, {{"Host", "127.0.0.1:8000"}}).allowed);
  EXPECT_TRUE(check(policy, {{"host", "[::1]:8000"}}).allowed);
  EXPECT_TRUE(check(policy, {{"Host", "coda.localhost"}}).allowed);
}

TEST(OriginPolicyLoopback, ForeignOriginIsRefusedLoopbackOriginsPass) {
  OriginPolicy policy(true, {}, {});
  auto foreign = check(policy, {{"Host", "127.0.0.1:8000"}, {"Origin", "https://evil.example"}});
  EXPECT_FALSE(foreign.allowed);
  EXPECT_NE(foreign.reason.find("server.allowed_origins"), std::string::npos) << foreign.reason;
  EXPECT_FALSE(check(policy, {{"Host", "127.0.0.1:8000"}, {"Origin", "null"}}).allowed);
  EXPECT_FALSE(check(policy, {{"Host", "127.0.0.1:8000"}, {"Origin", "garbage"}}).allowed);
  auto local = check(policy, {{"Host", "127.0.0.1:8000"}, {"Origin", "http://localhost:3000"}});
  EXPECT_TRUE(local.allowed);
  EXPECT_FALSE(local.cross_origin);  // no CORS for pages nobody configured
  EXPECT_TRUE(check(policy, {{"Host", "localhost"}, {"Origin", "http://127.0.0.1"}}).allowed);
  EXPECT_TRUE(check(policy, {{"Host", "localhost"}, {"Origin", ""}}).allowed);  // empty = none
}

TEST(OriginPolicyLoopback, DuplicateHostOrOriginIsRefused) {
  OriginPolicy policy(true, {}, {"https://app.example"});
  EXPECT_FALSE(check(policy, {{"Host", "localhost"}, {"Host", "evil.example"}}).allowed);
  EXPECT_FALSE(check(policy, {{"Host", "localhost"},
                              {"Origin", "https://app.example"},
                              {"Origin", "https://evil.example"}})
                   .allowed);
}

TEST(OriginPolicyLoopback, ConfiguredHostsAndOrigins) {
  OriginPolicy policy(true, {"Coda.Internal:8000"}, {"https://app.example.com/"});
  EXPECT_TRUE(check(policy, {{"Host", "coda.internal:9000"}}).allowed);  // ports are not compared
  // Its own origin, once the Host passed.
  EXPECT_TRUE(check(policy, {{"Host", "coda.internal:8000"}, {"Origin", "http://coda.internal:8000"}})
                  .allowed);
  auto cors = check(policy, {{"Host", "localhost"}, {"Origin", "https://APP.example.com"}});
  EXPECT_TRUE(cors.allowed);
  EXPECT_TRUE(cors.cross_origin);
  // A configured origin does not make its host a valid Host.
  EXPECT_FALSE(check(policy, {{"Host", "app.example.com"}}).allowed);
  EXPECT_FALSE(check(policy, {{"Host", "localhost"}, {"Origin", "https://other.example.com"}})
                   .allowed);
}

TEST(OriginPolicyOtherAddress, HostUncheckedWithoutAllowedHosts) {
  // Behind a proxy (Databricks Apps): the proxy picks Host; the page's origin is its public name.
  OriginPolicy policy(false, {}, {});
  EXPECT_TRUE(check(policy, {{"Host", "10.0.0.7:8000"}}).allowed);
  EXPECT_TRUE(check(policy, {{"Host", "10.0.0.7:8000"},
                             {"X-Forwarded-Host", "app.databricksapps.com"},
                             {"Origin", "https://app.databricksapps.com"}})
                  .allowed);
  EXPECT_TRUE(check(policy, {{"Host", "coda.example:8000"}, {"Origin", "http://coda.example:8000"}})
                  .allowed);
  // Loopback pages are nobody's own here: only the listener on loopback trusts them.
  EXPECT_FALSE(check(policy, {{"Host", "coda.example"}, {"Origin", "http://localhost:3000"}})
                   .allowed);
  EXPECT_FALSE(check(policy, {{"Host", "coda.example"}, {"Origin", "https://evil.example"}})
                   .allowed);
}

TEST(OriginPolicyOtherAddress, AllowedHostsTurnTheHostCheckOn) {
  OriginPolicy policy(false, {"coda.example"}, {});
  EXPECT_TRUE(check(policy, {{"Host", "coda.example:8000"}}).allowed);
  EXPECT_TRUE(check(policy, {{"Host", "localhost:8000"}}).allowed);
  EXPECT_FALSE(check(policy, {{"Host", "attacker.example:8000"}}).allowed);
}

TEST(OriginPolicy, WildcardAdmitsEveryOriginButNotEveryHost) {
  OriginPolicy policy(true, {}, {"*"});
  auto any = check(policy, {{"Host", "localhost"}, {"Origin", "https://anything.example"}});
  EXPECT_TRUE(any.allowed);
  EXPECT_TRUE(any.cross_origin);
  EXPECT_FALSE(check(policy, {{"Host", "localhost"}, {"Origin", "null"}}).allowed);
  EXPECT_FALSE(check(policy, {{"Host", "attacker.example"}, {"Origin", "http://attacker.example"}})
                   .allowed);
}

TEST(OriginPolicy, BadEntriesAreRefused) {
  EXPECT_THROW(OriginPolicy(true, {}, {"app.example.com"}), std::invalid_argument);
  EXPECT_THROW(OriginPolicy(true, {""}, {}), std::invalid_argument);
}

TEST(OriginPolicy, ReasonsDoNotEchoControlCharacters) {
  OriginPolicy policy(true, {}, {});
  auto v = check(policy, {{"Host", "evil\x01.example"}});
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.reason.find('\x01'), std::string::npos);
}

}  // namespace
}  // namespace coda::http
