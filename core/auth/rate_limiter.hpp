#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace coda::auth {

// A token bucket per key (an identity's subject, or the address of a refused caller): each key
// may spend `burst` requests at once and regains `rate_per_s` per second. Thread-safe. Memory is
// bounded: past `max_keys` keys, buckets that have refilled completely (indistinguishable from new
// ones) are dropped.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // rate_per_s <= 0 disables the limit (try_acquire always succeeds). burst < 1 counts as 1.
  RateLimiter(double rate_per_s, int burst, std::size_t max_keys = 10000);

  // Takes one token from `key`'s bucket. Returns 0 when the request may proceed, otherwise the whole
  // number of seconds (>= 1) after which a token will be available (the Retry-After value).
  int try_acquire(const std::string& key) { return try_acquire(key, Clock::now()); }
  // The same at a given time, for tests.
  int try_acquire(const std::string& key, Clock::time_point now);

  bool enabled() const { return rate_per_s_ > 0; }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  void refill(Bucket& bucket, Clock::time_point now) const;
  void prune(Clock::time_point now);

  const double rate_per_s_;
  const double burst_;
  const std::size_t max_keys_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

// The rate-limit key of a peer address as the listener reports it ("ip:port", "[ipv6]:port" or a
// bare IP): the IP without the port, an IPv4-mapped IPv6 address as IPv4, and an IPv6 address by
// its /64 prefix (the block one host or customer is routinely given, so hopping addresses inside
// it does not buy fresh buckets). Text that is no address is returned unchanged.
std::string client_address_key(const std::string& remote_addr);

}  // namespace coda::auth
