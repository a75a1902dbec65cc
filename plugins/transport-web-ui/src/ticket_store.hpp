#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace coda::webui {

// Short-lived, single-use WebSocket tickets. A proxy such as the Databricks Apps one authenticates
// ordinary HTTP requests but does not forward the caller's identity on a WebSocket upgrade, so the
// page first asks for a ticket over an authenticated request; the ticket carries that identity to the
// upgrade (/ws?ticket=...). A ticket is 256 random bits (getrandom), redeemable once, within `ttl`.
// Thread-safe.
class TicketStore {
 public:
  using Clock = std::chrono::steady_clock;

  TicketStore(std::chrono::seconds ttl, std::size_t max_outstanding);

  // A new ticket for the caller described by identity_json. Expired tickets are dropped first; when
  // max_outstanding unexpired tickets exist, the oldest is evicted (a ticket flood cannot grow memory).
  // Throws std::runtime_error when the system has no randomness to give.
  std::string issue(std::string identity_json);

  // The identity a ticket was issued for, consuming the ticket; nullopt when the ticket is unknown,
  // already used or expired.
  std::optional<std::string> redeem(std::string_view ticket);

  std::chrono::seconds ttl() const { return ttl_; }
  std::size_t outstanding() const;

 private:
  struct Entry {
    std::string identity_json;
    Clock::time_point expires;
  };
  void drop_expired(Clock::time_point now);  // requires mutex_

  const std::chrono::seconds ttl_;
  const std::size_t max_outstanding_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> tickets_;
};

}  // namespace coda::webui
