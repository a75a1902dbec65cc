#include "core/util/redact.hpp"

#include <cctype>

namespace coda::util {
namespace {

constexpr std::string_view kRedacted = "[redacted]";

bool is_token_char(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '/' ||
         c == '=';
}

// `word` (lower case) at `pos` of `text`, compared case-insensitively.
bool iequals_at(std::string_view text, std::size_t pos, std::string_view word) {
  if (pos + word.size() > text.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[pos + i])) != word[i]) return false;
  }
  return true;
}

// Length of a JWT-shaped run at `pos` ("eyJ" + base64url, '.', base64url, '.', base64url), or 0.
std::size_t jwt_length_at(std::string_view text, std::size_t pos) {
  if (text.compare(pos, 3, "eyJ") != 0) return 0;
  std::size_t end = pos;
  int dots = 0;
  while (end < text.size()) {
    char c = text[end];
    if (c == '.') {
      ++dots;
    } else if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) {
      break;
    }
    ++end;
  }
  return dots >= 2 ? end - pos : 0;
}

}  // namespace

std::string redact_secrets(std::string_view text) {
  static constexpr std::string_view kPrefixes[] = {
      "bearer ", "basic ", "token=", "token\":\"", "token\": \"", "secret=", "password=",
  };
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (std::size_t jwt = jwt_length_at(text, i); jwt > 0) {
      out += kRedacted;
      i += jwt;
      continue;
    }
    bool matched = false;
    for (std::string_view prefix : kPrefixes) {
      if (!iequals_at(text, i, prefix)) continue;
      std::size_t start = i + prefix.size();
      std::size_t end = start;
      while (end < text.size() && is_token_char(text[end])) ++end;
      if (end == start) continue;
      out.append(text.substr(i, prefix.size()));
      out += kRedacted;
      i = end;
      matched = true;
      break;
    }
    if (matched) continue;
    out += text[i++];
  }
  return out;
}

}  // namespace coda::util
