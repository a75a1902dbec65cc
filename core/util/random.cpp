#include "core/util/random.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace coda::util {

namespace {

void fill_random(unsigned char* buffer, std::size_t bytes) {
  std::size_t filled = 0;
  while (filled < bytes) {
    ssize_t n = getrandom(buffer + filled, bytes - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");
    }
    filled += static_cast<std::size_t>(n);
  }
}

std::string hex(const unsigned char* bytes, std::size_t count) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(count * 2);
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0xf]);
  }
  return out;
}

}  // namespace

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> buffer(bytes);
  fill_random(buffer.data(), bytes);
  return hex(buffer.data(), bytes);
}

std::string unique_hex128() {
  // Two SplitMix64 streams (period 2^64 each), seeded at random once per thread.
  thread_local uint64_t state[2] = {0, 0};
  thread_local bool seeded = false;
  if (!seeded) {
    fill_random(reinterpret_cast<unsigned char*>(state), sizeof state);
    seeded = true;
  }
  auto next = [](uint64_t& s) {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  unsigned char bytes[16];
  for (int half = 0; half < 2; ++half) {
    uint64_t v = next(state[half]);
    for (int i = 0; i < 8; ++i) bytes[half * 8 + i] = static_cast<unsigned char>(v >> (8 * i));
  }
  return hex(bytes, sizeof bytes);
}

}  // namespace coda::util
