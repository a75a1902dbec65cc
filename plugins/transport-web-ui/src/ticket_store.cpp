#include "ticket_store.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace coda::webui {
namespace {

std::string random_hex(std::size_t bytes) {
  unsigned char buffer[64];
  std::size_t filled = 0;
  while (filled < bytes) {
    const ssize_t n = ::getrandom(buffer + filled, bytes - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("transport-web-ui: getrandom failed: ") +
                               std::strerror(errno));
    }
    filled += static_cast<std::size_t>(n);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (std::size_t i = 0; i < bytes; ++i) {
    out += kHex[buffer[i] >> 4];
    out += kHex[buffer[i] & 15];
  }
  return out;
}

}  // namespace

TicketStore::TicketStore(std::chrono::seconds ttl, std::size_t max_outstanding)
    : ttl_(ttl), max_outstanding_(max_outstanding == 0 ? 1 : max_outstanding) {}

std::string TicketStore::issue(std::string identity_json) {
  std::string ticket = random_hex(32);
  const Clock::time_point now = Clock::now();
  std::lock_guard lock(mutex_);
  drop_expired(now);
  while (tickets_.size() >= max_outstanding_) {
    auto oldest = tickets_.begin();
    for (auto it = tickets_.begin(); it != tickets_.end(); ++it) {
      if (it->second.expires < oldest->second.expires) oldest = it;
    }
    tickets_.erase(oldest);
  }
  tickets_.emplace(ticket, Entry{std::move(identity_json), now + ttl_});
  return ticket;
}

std::optional<std::string> TicketStore::redeem(std::string_view ticket) {
  const Clock::time_point now = Clock::now();
  std::lock_guard lock(mutex_);
  auto it = tickets_.find(std::string(ticket));
  if (it == tickets_.end()) return std::nullopt;
  Entry entry = std::move(it->second);
  tickets_.erase(it);
  if (entry.expires <= now) return std::nullopt;
  return std::move(entry.identity_json);
}

std::size_t TicketStore::outstanding() const {
  std::lock_guard lock(mutex_);
  return tickets_.size();
}

void TicketStore::drop_expired(Clock::time_point now) {
  for (auto it = tickets_.begin(); it != tickets_.end();) {
    it = it->second.expires <= now ? tickets_.erase(it) : std::next(it);
  }
}

}  // namespace coda::webui
