#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace coda::bridge {

// A command line that cannot be split (an unterminated quote, a trailing backslash, or nothing).
class CommandLineError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Splits a command line into argv the way a POSIX shell splits words, without running a shell:
// blanks separate words; '...' keeps its content literally; "..." keeps its content, where a
// backslash escapes only \ " $ ` and newline; a backslash outside quotes escapes the next character.
// Nothing is expanded (no $VAR, globs, ~, pipes or redirections: those characters stay literal).
// Throws CommandLineError when the line is unterminated or holds no word.
std::vector<std::string> split_command_line(std::string_view line);

}  // namespace coda::bridge
