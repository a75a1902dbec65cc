#include "core/auth/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

#include <Poco/Net/IPAddress.h>
#include <Poco/Net/SocketAddress.h>

namespace coda::auth {

RateLimiter::RateLimiter(double rate_per_s, int burst, std::size_t max_keys)
    : rate_per_s_(rate_per_s), burst_(std::max(burst, 1)), max_keys_(std::max<std::size_t>(max_keys, 1)) {}

void RateLimiter::refill(Bucket& bucket, Clock::time_point now) const {
  if (now <= bucket.updated) return;
  double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  bucket.tokens = std::min(burst_, bucket.tokens + elapsed * rate_per_s_);
  bucket.updated = now;
}

void RateLimiter::prune(Clock::time_point now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    refill(it->second, now);
    it = it->second.tokens >= burst_ ? buckets_.erase(it) : std::next(it);
  }
}

int RateLimiter::try_acquire(const std::string& key, Clock::time_point now) {
  if (!enabled()) return 0;
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) prune(now);
    it = buckets_.emplace(key, Bucket{burst_, now}).first;
  }
  Bucket& bucket = it->second;
  refill(bucket, now);
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return 0;
  }
  double wait_s = (1.0 - bucket.tokens) / rate_per_s_;
  return std::max(1, static_cast<int>(std::ceil(wait_s)));
}

std::string client_address_key(const std::string& remote_addr) {
  Poco::Net::IPAddress ip;
  try {
    ip = Poco::Net::SocketAddress(remote_addr).host();
  } catch (const Poco::Exception&) {
    if (!Poco::Net::IPAddress::tryParse(remote_addr, ip)) return remote_addr;
  }
  if (ip.family() == Poco::Net::IPAddress::IPv6) {
    if (ip.isIPv4Mapped()) {
      std::string text = ip.toString();  // "::ffff:a.b.c.d"
      return text.substr(text.rfind(':') + 1);
    }
    return (ip & Poco::Net::IPAddress(64, Poco::Net::IPAddress::IPv6)).toString() + "/64";
  }
  return ip.toString();
}

}  // namespace coda::auth
