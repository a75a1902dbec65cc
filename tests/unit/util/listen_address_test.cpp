#include "core/util/listen_address.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace coda::util {
namespace {

TEST(ListenAddress, ParsesHostAndPort) {
  auto a = parse_listen_address("127.0.0.1:8000");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 8000);
  EXPECT_EQ(a.to_string(), "127.0.0.1:8000");
}

TEST(ListenAddress, ParsesBracketedIpv6AndEmptyHost) {
  auto v6 = parse_listen_address("[::1]:0");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 0);
  EXPECT_EQ(v6.to_string(), "[::1]:0");
  EXPECT_EQ(parse_listen_address(":9000").host, "0.0.0.0");
}

TEST(ListenAddress, RejectsBadInputNamingIt) {
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "host:abc", "::1:80",
                          "[::1]80", "[]:80", "[::1", ""}) {
    try {
      parse_listen_address(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("'" + std::string(bad) + "'"), std::string::npos)
          << e.what();
    }
  }
}

TEST(Loopback, OnlyLocalAddressesAreLoopback) {
  for (const char* host : {"localhost", "127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(is_loopback_host(host)) << host;
  }
  for (const char* host : {"0.0.0.0", "::", "10.0.0.1", "example.com", "128.0.0.1", "::ffff:10.0.0.1"}) {
    EXPECT_FALSE(is_loopback_host(host)) << host;
  }
}

TEST(MakeUrl, BracketsIpv6) {
  EXPECT_EQ(make_url("http", "127.0.0.1", 80), "http://127.0.0.1:80");
  EXPECT_EQ(make_url("https", "::1", 443), "https://[::1]:443");
}

}  // namespace
}  // namespace coda::util
