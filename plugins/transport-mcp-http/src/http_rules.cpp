#include "http_rules.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>

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

// Splits "host:port" / "[v6]:port" / "host" and returns the host without brackets.
std::string strip_port(std::string_view hostport) {
  if (!hostport.empty() && hostport.front() == '[') {
    auto close = hostport.find(']');
    return std::string(close == std::string_view::npos ? hostport.substr(1) : hostport.substr(1, close - 1));
  }
  if (std::count(hostport.begin(), hostport.end(), ':') > 1) return std::string(hostport);  // bare v6
  auto colon = hostport.find(':');
  return std::string(colon == std::string_view::npos ? hostport : hostport.substr(0, colon));
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

std::string host_of_host_header(std::string_view host) { return lower(strip_port(trim(host))); }

std::string normalize_origin(std::string_view origin) {
  std::string o = lower(trim(origin));
  while (!o.empty() && o.back() == '/') o.pop_back();
  auto scheme_end = o.find("://");
  if (scheme_end == std::string::npos || scheme_end == 0 || scheme_end + 3 >= o.size()) return "";
  if (o.find('/', scheme_end + 3) != std::string::npos) return "";
  return o;
}

std::string host_of_origin(std::string_view normalized_origin) {
  auto scheme_end = normalized_origin.find("://");
  if (scheme_end == std::string_view::npos) return "";
  return strip_port(normalized_origin.substr(scheme_end + 3));
}

bool is_loopback_host(std::string_view host) {
  std::string h = lower(host);
  if (h == "localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1") return true;
  if (h.size() > 10 && h.compare(h.size() - 10, 10, ".localhost") == 0) return true;
  // 127.x.y.z: four decimal parts of 1 to 3 digits, each at most 255.
  int parts = 0;
  unsigned value = 0;
  std::size_t digits = 0;
  for (std::size_t i = 0; i <= h.size(); ++i) {
    if (i < h.size() && h[i] >= '0' && h[i] <= '9') {
      value = value * 10 + static_cast<unsigned>(h[i] - '0');
      if (++digits > 3 || value > 255) return false;
    } else if ((i == h.size() || h[i] == '.') && digits > 0) {
      if (parts == 0 && value != 127) return false;
      ++parts;
      value = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  return parts == 4;
}

bool is_loopback_address(std::string_view address) {
  std::string host = strip_port(trim(address));
  if (host.rfind("::ffff:", 0) == 0) host = host.substr(7);  // v4-mapped
  return host == "::1" || (is_loopback_host(host) && host != "localhost");
}

bool OriginPolicy::origin_allowed(std::string_view origin_header) const {
  if (trim(origin_header).empty()) return true;
  std::string origin = normalize_origin(origin_header);
  if (origin.empty()) return false;  // "null" (sandboxed pages, file://) and garbage
  if (is_loopback_host(host_of_origin(origin))) return true;
  return cors_origin(origin_header);
}

bool OriginPolicy::cors_origin(std::string_view origin_header) const {
  std::string origin = normalize_origin(origin_header);
  if (origin.empty()) return false;
  for (const auto& allowed : allowed_origins) {
    if (allowed == "*" || allowed == origin) return true;
  }
  return false;
}

bool OriginPolicy::host_allowed(std::string_view host_header, bool remote_is_loopback) const {
  if (!remote_is_loopback) return true;
  std::string host = host_of_host_header(host_header);
  if (host.empty()) return false;  // HTTP/1.1 requires Host
  if (is_loopback_host(host)) return true;
  for (const auto& allowed : allowed_hosts) {
    if (allowed == host) return true;
  }
  for (const auto& origin : allowed_origins) {
    if (origin != "*" && host_of_origin(origin) == host) return true;
  }
  return false;
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
