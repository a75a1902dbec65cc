#pragma once

#include <string>
#include <string_view>

// Text from outside the host (an agent's output, a plugin's events) made valid UTF-8 before it is
// stored or put into JSON: a JSON client rejects a whole response over one bad byte, so one agent
// printing binary would otherwise make its task unreadable. Each invalid byte becomes U+FFFD.
namespace coda::util {

// `text` with every byte that is not part of a well-formed UTF-8 sequence (stray continuation
// bytes, overlong forms, surrogates, code points past U+10FFFF, cut-off sequences) replaced by
// U+FFFD. Valid text comes back unchanged. Pure function.
std::string valid_utf8(std::string_view text);

// The same for text that arrives in chunks: a character split between two chunks is kept whole by
// holding its first bytes back until the next chunk. Not thread-safe: one per stream.
class Utf8Stream {
 public:
  // The valid UTF-8 text of everything fed so far that is complete.
  std::string feed(std::string_view chunk);
  // What was held back, as U+FFFD (the stream ended inside a character); empty when nothing was.
  std::string finish();

 private:
  std::string pending_;  // at most 3 bytes: the start of a character cut off by a chunk's end
};

}  // namespace coda::util
