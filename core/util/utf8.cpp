#include "core/util/utf8.hpp"

#include <Poco/UTF8Encoding.h>

namespace coda::util {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// How many bytes a sequence starting with `lead` has; 0 for a byte that cannot start one.
std::size_t sequence_length(unsigned char lead) {
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Where the last, unfinished character of `text` starts, or text.size() when it ends on a boundary.
std::size_t incomplete_tail(std::string_view text) {
  const std::size_t size = text.size();
  for (std::size_t back = 1; back <= 3 && back <= size; ++back) {
    const auto c = static_cast<unsigned char>(text[size - back]);
    if (is_continuation(c)) continue;
    const std::size_t need = sequence_length(c);
    return need > back ? size - back : size;
  }
  return size;
}

}  // namespace

std::string valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && static_cast<unsigned char>(text[i]) < 0x80) ++i;
  if (i == text.size()) return std::string(text);  // ASCII: the common case, no copy loop
  // Poco's UTF8Encoding::isLegal judges each sequence (RFC 3629: no overlongs, no surrogates,
  // nothing past U+10FFFF). Poco's TextConverter is not used because it swallows the bytes after a
  // bad lead byte ("\xE2\x82y" loses the y); here a bad byte is replaced alone.
  std::string out(text.substr(0, i));
  out.reserve(text.size() + 8);
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  while (i < text.size()) {
    if (bytes[i] < 0x80) {
      out.push_back(static_cast<char>(bytes[i++]));
      continue;
    }
    const std::size_t n = sequence_length(bytes[i]);
    if (n > 0 && i + n <= text.size() &&
        Poco::UTF8Encoding::isLegal(bytes + i, static_cast<int>(n))) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out.append(kReplacement);
      ++i;
    }
  }
  return out;
}

std::string Utf8Stream::feed(std::string_view chunk) {
  std::string text = pending_;
  text.append(chunk);
  const std::size_t cut = incomplete_tail(text);
  pending_ = text.substr(cut);
  text.resize(cut);
  return valid_utf8(text);
}

std::string Utf8Stream::finish() {
  std::string rest = valid_utf8(pending_);
  pending_.clear();
  return rest;
}

}  // namespace coda::util
