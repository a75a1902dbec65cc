#pragma once

#include <cstddef>
#include <string>

// Identifiers: unpredictable ones (task ids, tickets) from the operating system's CSPRNG, and cheap
// unique ones (request ids) from a per-thread generator.
namespace coda::util {

// `bytes` random bytes from getrandom(2), as 2*bytes lower-case hex digits. Thread-safe. Throws
// std::runtime_error only if the kernel refuses (never in practice).
std::string random_hex(std::size_t bytes);

// 32 lower-case hex digits that are unique in practice but no secret: a per-thread 128-bit generator
// seeded once from getrandom(2). For ids that only correlate log lines (X-Request-Id), where a
// system call per request would cost more than the rest of the id.
std::string unique_hex128();

}  // namespace coda::util
