#include "core/auth/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/auth/authenticator.hpp"
#include "core/auth/secrets.hpp"
#include "tests/unit/auth/test_requests.hpp"

namespace coda::auth {
namespace {

using namespace std::chrono_literals;
using test::header_of;
using test::request_with;

TEST(RateLimiter, BurstThenRetryAfterUntilRefilled) {
  RateLimiter limiter(2.0, 3);
  auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.try_acquire("alice", t0), 0) << i;
  EXPECT_EQ(limiter.try_acquire("alice", t0), 1);  // 0.5 s for the next token, rounded up
  EXPECT_EQ(limiter.try_acquire("alice", t0 + 400ms), 1);
  EXPECT_EQ(limiter.try_acquire("alice", t0 + 600ms), 0);
  EXPECT_EQ(limiter.try_acquire("alice", t0 + 600ms), 1);
  // A long pause refills up to the burst, not beyond.
  auto later = t0 + 1h;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.try_acquire("alice", later), 0) << i;
  EXPECT_GT(limiter.try_acquire("alice", later), 0);
}

TEST(RateLimiter, KeysAreIndependent) {
  RateLimiter limiter(1.0, 1);
  auto t0 = RateLimiter::Clock::now();
  EXPECT_EQ(limiter.try_acquire("alice", t0), 0);
  EXPECT_GT(limiter.try_acquire("alice", t0), 0);
  EXPECT_EQ(limiter.try_acquire("bob", t0), 0);
}

TEST(RateLimiter, SlowRateGivesALongerRetryAfter) {
  RateLimiter limiter(0.1, 1);
  auto t0 = RateLimiter::Clock::now();
  EXPECT_EQ(limiter.try_acquire("k", t0), 0);
  EXPECT_EQ(limiter.try_acquire("k", t0), 10);
}

TEST(RateLimiter, DisabledNeverLimits) {
  RateLimiter limiter(0, 1);
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(limiter.try_acquire("k"), 0);
}

TEST(RateLimiter, ManyKeysStayBounded) {
  RateLimiter limiter(1000.0, 1, 100);
  auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 10000; ++i) {
    ASSERT_EQ(limiter.try_acquire("k" + std::to_string(i), t0 + std::chrono::milliseconds(i)), 0);
  }
}

TEST(RateLimiter, ConcurrentCallersShareOneBucket) {
  RateLimiter limiter(0.001, 50);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (limiter.try_acquire("shared") == 0) ++allowed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 50);
}

TEST(RateLimitedAuthenticator, BurstPastTheLimitIs429WithRetryAfter) {
  config::AuthConfig auth;
  auth.rate_per_s = 0.5;
  auth.burst = 5;
  auto a = Authenticator::create(auth, config::ServerConfig{});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(a->authenticate(request_with()).ok()) << i;
  auto limited = a->authenticate(request_with());
  EXPECT_FALSE(limited.ok());
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(header_of(limited, "Retry-After"), "2");
}

TEST(RateLimitedAuthenticator, RefusedCallersAreLimitedByAddressWhateverTheirPort) {
  config::AuthConfig auth;
  auth.mode = "bearer";
  auth.tokens.push_back(config::BearerToken{});
  auth.tokens.back().sha256 = std::string(64, 'a');
  auth.tokens.back().subject = "alice";
  auth.refused_rate_per_s = 0.5;
  auth.refused_burst = 3;
  auto a = Authenticator::create(auth, config::ServerConfig{});
  auto wrong_guess_from = [](const std::string& remote_addr) {
    auto request = request_with({{"authorization", "Bearer a-wrong-guess-of-a-token"}});
    request.remote_addr = remote_addr;
    return request;
  };
  // A new connection (a new source port) per guess buys no new bucket.
  for (int port = 40000; port < 40003; ++port) {
    EXPECT_EQ(a->authenticate(wrong_guess_from("10.0.0.7:" + std::to_string(port))).status, 401);
  }
  EXPECT_EQ(a->authenticate(wrong_guess_from("10.0.0.7:40003")).status, 429);
  // Another address has its own bucket.
  EXPECT_EQ(a->authenticate(wrong_guess_from("10.0.0.8:40000")).status, 401);
}

// Accepted and refused requests have separate limits: with rate_per_s at 0 (unlimited, the default)
// refused ones are still limited, and a limit on refused ones never slows a valid caller.
TEST(RateLimitedAuthenticator, RefusedRequestsAreLimitedEvenWhenAcceptedOnesAreNot) {
  config::AuthConfig auth;
  auth.mode = "bearer";
  auth.tokens.push_back(config::BearerToken{});
  auth.tokens.back().sha256 = sha256_hex("the-right-token-0123456789");
  auth.tokens.back().subject = "alice";
  auth.refused_rate_per_s = 0.5;
  auth.refused_burst = 2;
  auto a = Authenticator::create(auth, config::ServerConfig{});
  auto from = [](const std::string& token) {
    auto request = request_with({{"authorization", "Bearer " + token}});
    request.remote_addr = "10.0.0.9:50000";
    return request;
  };
  EXPECT_EQ(a->authenticate(from("wrong-1")).status, 401);
  EXPECT_EQ(a->authenticate(from("wrong-2")).status, 401);
  EXPECT_EQ(a->authenticate(from("wrong-3")).status, 429);
  for (int i = 0; i < 50; ++i)
    EXPECT_TRUE(a->authenticate(from("the-right-token-0123456789")).ok());
}

TEST(ClientAddressKey, ThePortIsDroppedAndIPv6CountsByItsSlash64) {
  EXPECT_EQ(client_address_key("192.0.2.1:5555"), "192.0.2.1");
  EXPECT_EQ(client_address_key("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(client_address_key("[::ffff:192.0.2.1]:5555"), "192.0.2.1");
  EXPECT_EQ(client_address_key("[2001:db8:1:2:aaaa::1]:443"), "2001:db8:1:2::/64");
  EXPECT_EQ(client_address_key("[2001:db8:1:2:bbbb::9]:444"), "2001:db8:1:2::/64");
  EXPECT_EQ(client_address_key("[::1]:80"), "::/64");
  EXPECT_EQ(client_address_key("not an address"), "not an address");
}

}  // namespace
}  // namespace coda::auth
