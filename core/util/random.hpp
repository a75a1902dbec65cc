#pragma once

#include <cstddef>
#include <string>

// Unpredictable identifiers (request ids, task ids, tickets) from the operating system's CSPRNG.
namespace coda::util {

// `bytes` random bytes from getrandom(2), as 2*bytes lower-case hex digits. Thread-safe. Throws
// std::runtime_error only if the kernel refuses (never in practice).
std::string random_hex(std::size_t bytes);

}  // namespace coda::util
