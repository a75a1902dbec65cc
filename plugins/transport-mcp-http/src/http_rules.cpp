#include "http_rules.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace coda::mcp_http {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

}  // namespace

Accepts parse_accept(std::string_view accept) {
  Accepts result;
  if (trim(accept).empty()) return {true, true};
  for (auto range : split(accept, ',')) {
    auto params = split(range, ';');
    std::string type = lower(trim(params[0]));
    bool zero = false;
    for (std::size_t i = 1; i < params.size(); ++i) {
      auto param = trim(params[i]);
      if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        zero = std::strtod(std::string(param.substr(2)).c_str(), nullptr) <= 0.0;
      }
    }
    if (zero) continue;
    if (type == "*/*") result.json = result.sse = true;
    if (type == "application/json" || type == "application/*") result.json = true;
    if (type == "text/event-stream" || type == "text/*") result.sse = true;
  }
  return result;
}

bool is_json_content_type(std::string_view content_type) {
  auto type = lower(trim(split(content_type, ';')[0]));
  return type == "application/json";
}

std::string sse_event(std::string_view data) {
  std::string out = "event: message\n";
  for (auto line : split(data, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out += "data: ";
    out += line;
    out += '\n';
  }
  out += '\n';
  return out;
}


std::string http_error_body(int code, std::string_view message) {
  return R"({"jsonrpc":"2.0","error":{"code":)" + std::to_string(code) + R"(,"message":)" +
         json_quote(message) + "}}";
}

}  // namespace coda::mcp_http
