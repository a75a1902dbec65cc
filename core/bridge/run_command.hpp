#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace coda::bridge {

// What a finished command printed and how it ended.
struct CommandResult {
  int exit_code = -1;    // -1 when killed by a signal
  int term_signal = 0;   // the signal that ended it, 0 when it exited
  std::string out;       // stdout (at most kMaxCommandOutput bytes kept)
  std::string err;       // stderr (likewise)
};

inline constexpr std::size_t kMaxCommandOutput = 1u << 20;

// The command could not be run at all, or did not finish in time. what() names the program.
class CommandError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs argv (argv[0] looked up on PATH, no shell) with stdin from /dev/null and the caller's
// environment, collects stdout and stderr, and waits for it to exit. After `timeout` the command is
// killed (SIGKILL) and CommandError is thrown; CommandError also when it cannot be started.
// Thread-safe (every call has its own pipes).
CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

}  // namespace coda::bridge
