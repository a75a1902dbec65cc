// The `server:` section: listener address, data directory, logging, Host/Origin policy, HTTP
// limits, TLS.
#include <algorithm>
#include <charconv>
#include <regex>

#include "core/config/sections.hpp"

namespace coda::config {
namespace {

// "" when `listen` is a valid host:port (IPv6 hosts in brackets), else what is wrong with it.
std::string listen_problem(const std::string& listen) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return "expected HOST:PORT";
  const std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (host.front() == '[' ? host.back() != ']' || host.size() < 3
                          : host.find(':') != std::string::npos) {
    return "expected HOST:PORT (write an IPv6 host in brackets: [::1]:8000)";
  }
  int value = -1;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 0 ||
      value > 65535) {
    return "expected a port from 0 to 65535 after the last ':'";
  }
  return "";
}

// scheme://host[:port] with an optional trailing slash, nothing else (the policy normalizes it).
bool looks_like_origin(const std::string& origin) {
  static const std::regex kOrigin(R"(^[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9._\-]+(:[0-9]{1,5})?/?$|)"
                                  R"(^[A-Za-z][A-Za-z0-9+.-]*://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?/?$)");
  return std::regex_match(origin, kOrigin);
}

void parse_limits(Reader limits, HttpLimits& out) {
  out.max_body_bytes = limits.get_bytes("max_body_bytes", out.max_body_bytes, 1024, 1ull << 34);
  out.max_header_bytes = limits.get_bytes("max_header_bytes", out.max_header_bytes, 256, 1u << 24);
  out.max_headers = limits.get<int>("max_headers", out.max_headers, 1, 10000);
  out.idle_timeout_s = limits.get<int>("idle_timeout_s", out.idle_timeout_s, 1, 86400);
  out.request_timeout_s = limits.get<int>("request_timeout_s", out.request_timeout_s, 1, 86400);
  out.threads = limits.get<int>("threads", out.threads, 1, 1024);
  out.max_queued_connections =
      limits.get<int>("max_queued_connections", out.max_queued_connections, 1, 65536);
}

void parse_tls(Reader tls, TlsConfig& out) {
  out.enabled = tls.get_bool("enabled", out.enabled);
  out.cert_file = tls.get_path("cert_file", out.cert_file);
  out.key_file = tls.get_path("key_file", out.key_file);
  if (out.enabled && (out.cert_file.empty() || out.key_file.empty())) {
    tls.error(out.cert_file.empty() ? "cert_file" : "key_file",
              "TLS is enabled: cert_file and key_file are both required");
  }
}

}  // namespace

std::string default_data_dir(const EnvLookup& env) {
  if (const auto xdg = env("XDG_DATA_HOME"); xdg && !xdg->empty() && xdg->front() == '/') {
    return *xdg + "/coda";
  }
  if (const auto home = env("HOME"); home && !home->empty()) return *home + "/.local/share/coda";
  return "";
}

void parse_server_section(Reader& section, ServerConfig& server) {
  server.listen = section.get_string("listen", server.listen);
  if (const std::string problem = listen_problem(server.listen); !problem.empty()) {
    section.error("listen", problem + ", got '" + server.listen + "'");
  }
  server.data_dir = section.get_path("data_dir", server.data_dir);
  if (server.data_dir.empty()) server.data_dir = default_data_dir(section.document().env());
  server.public_url = section.get_string("public_url", server.public_url);
  if (!server.public_url.empty() && server.public_url.rfind("http://", 0) != 0 &&
      server.public_url.rfind("https://", 0) != 0) {
    section.error("public_url", "expected an http:// or https:// URL, got '" +
                                    server.public_url + "'");
  }
  while (server.public_url.size() > 1 && server.public_url.back() == '/') {
    server.public_url.pop_back();
  }
  server.log_level =
      section.get_choice("log_level", server.log_level, {"debug", "info", "warning", "error"});
  server.log_format = section.get_choice("log_format", server.log_format, {"text", "json"});
  server.log_file = section.get_path("log_file", server.log_file);
  server.access_log = section.get_bool("access_log", server.access_log);
  server.metrics = section.get_choice("metrics", server.metrics,
                                      {"admin", "authenticated", "public", "disabled"});
  server.allowed_hosts = section.get_string_list("allowed_hosts", server.allowed_hosts);
  for (auto& host : server.allowed_hosts) {
    std::transform(host.begin(), host.end(), host.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (host.empty() || host.find_first_of("*/ \t@") != std::string::npos) {
      section.error("allowed_hosts", "expected host names such as coda.example.com, got '" + host +
                                         "' (no wildcards, schemes or paths)");
    }
  }
  server.allowed_origins = section.get_string_list("allowed_origins", server.allowed_origins);
  for (const auto& origin : server.allowed_origins) {
    if (origin != "*" && !looks_like_origin(origin)) {
      section.error("allowed_origins", "expected origins such as https://app.example.com "
                                       "(scheme://host[:port]) or \"*\", got '" + origin + "'");
    }
  }
  parse_limits(section.child("limits"), server.limits);
  parse_tls(section.child("tls"), server.tls);
}

void check_server_section(Reader& section, const Config& config) {
  const auto& origins = config.server.allowed_origins;
  if (config.auth.mode == "none" && std::find(origins.begin(), origins.end(), "*") != origins.end()) {
    section.error("allowed_origins",
                  "\"*\" admits every web page the user visits, and with auth.mode none each would "
                  "act as the local admin: list the origins, or turn authentication on");
  }
}

}  // namespace coda::config
