// ${VAR} and ${VAR:-default} expansion of YAML scalars.
#include "core/config/interpolate.hpp"

#include <cstdlib>

namespace coda::config {
namespace {

bool is_name_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

// The index of the '}' closing the reference whose body starts at `from`, honouring nested ${...};
// npos when there is none.
std::size_t find_closing_brace(std::string_view text, std::size_t from) {
  int depth = 0;
  for (std::size_t i = from; i < text.size(); ++i) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      ++depth;
      ++i;
    } else if (text[i] == '}') {
      if (depth == 0) return i;
      --depth;
    }
  }
  return std::string_view::npos;
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::string interpolate(std::string_view text, const EnvLookup& env) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '$') {
      out += c;
      ++i;
      continue;
    }
    if (text.substr(i, 3) == "$${") {  // escaped: a literal "${"
      out += "${";
      i += 3;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{') {
      out += c;
      ++i;
      continue;
    }
    const std::size_t body = i + 2;
    const std::size_t close = find_closing_brace(text, body);
    if (close == std::string_view::npos) {
      throw InterpolationError("unterminated '${' (write '$${' for a literal '${')");
    }
    const std::string_view reference = text.substr(body, close - body);
    std::size_t name_end = 0;
    while (name_end < reference.size() && is_name_char(reference[name_end])) ++name_end;
    const std::string name(reference.substr(0, name_end));
    const std::string_view rest = reference.substr(name_end);
    if (name.empty() || !is_name_start(name[0]) || (!rest.empty() && rest.substr(0, 2) != ":-")) {
      throw InterpolationError("bad reference '${" + std::string(reference) +
                               "}': expected ${NAME} or ${NAME:-default}");
    }
    const std::optional<std::string> value = env(name);
    if (rest.empty()) {
      if (!value) {
        throw InterpolationError("environment variable '" + name + "' is not set (set it, or write ${" +
                                 name + ":-default})");
      }
      out += *value;
    } else if (value && !value->empty()) {
      out += *value;
    } else {
      out += interpolate(rest.substr(2), env);
    }
    i = close + 1;
  }
  return out;
}

}  // namespace coda::config
