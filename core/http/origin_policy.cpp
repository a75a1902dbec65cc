#include "core/http/origin_policy.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "core/util/listen_address.hpp"

namespace coda::http {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The first element of a comma-separated header value (proxies append theirs).
std::string_view first_of_list(std::string_view value) {
  return trim(value.substr(0, value.find(',')));
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

// "host:port" / "[v6]:port" / "host" / bare v6 -> the host, without brackets.
std::string_view strip_port(std::string_view authority) {
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    return close == std::string_view::npos ? authority.substr(1) : authority.substr(1, close - 1);
  }
  if (std::count(authority.begin(), authority.end(), ':') > 1) return authority;  // bare v6
  return authority.substr(0, authority.find(':'));
}

// A value quoted for an error message: at most 80 characters, control characters replaced.
std::string shown(std::string_view value) {
  std::string out(value.substr(0, 80));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (value.size() > 80) out += "...";
  return "'" + out + "'";
}

OriginVerdict refused(std::string reason) {
  OriginVerdict v;
  v.allowed = false;
  v.reason = std::move(reason);
  return v;
}

}  // namespace

std::string host_of_authority(std::string_view authority) {
  return lower(strip_port(trim(authority)));
}

std::string normalize_origin(std::string_view origin) {
  std::string o = lower(trim(origin));
  while (!o.empty() && o.back() == '/') o.pop_back();
  const auto scheme_end = o.find("://");
  if (scheme_end == std::string::npos || scheme_end == 0) return "";
  const std::string scheme = o.substr(0, scheme_end);
  if (!std::isalpha(static_cast<unsigned char>(scheme[0])) ||
      !std::all_of(scheme.begin(), scheme.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '+' || c == '-' || c == '.';
      })) {
    return "";
  }
  std::string authority = o.substr(scheme_end + 3);
  // An origin is scheme, host and port: no path, no user info, nothing a header should not hold.
  if (authority.empty() ||
      !std::all_of(authority.begin(), authority.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '[' ||
               c == ']';
      })) {
    return "";
  }
  // The port: digits after the last ':' outside brackets; the scheme's default is dropped.
  const auto bracket = authority.rfind(']');
  const auto colon = authority.rfind(':');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    const std::string port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); })) {
      return "";
    }
    if ((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) {
      authority.resize(colon);
    }
  }
  if (strip_port(authority).empty()) return "";
  return scheme + "://" + authority;
}

std::string host_of_origin(std::string_view normalized_origin) {
  const auto scheme_end = normalized_origin.find("://");
  if (scheme_end == std::string_view::npos) return "";
  return std::string(strip_port(normalized_origin.substr(scheme_end + 3)));
}

bool is_loopback_name(std::string_view host) {
  std::string h = lower(host);
  if (!h.empty() && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  constexpr std::string_view kSuffix = ".localhost";
  if (h.size() > kSuffix.size() && h.compare(h.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) {
    return true;
  }
  return util::is_loopback_host(h);  // localhost, 127.0.0.0/8 (strict dotted quad), ::1
}

OriginRequest origin_request_of(const std::vector<std::pair<std::string, std::string>>& headers) {
  OriginRequest out;
  for (const auto& [name, value] : headers) {
    if (iequals(name, "host")) {
      if (out.host_count++ == 0) out.host = value;
    } else if (iequals(name, "origin")) {
      if (out.origin_count++ == 0) out.origin = value;
    } else if (iequals(name, "x-forwarded-host")) {
      if (out.forwarded_host.empty()) out.forwarded_host = first_of_list(value);
    }
  }
  return out;
}

OriginPolicy::OriginPolicy(bool loopback_listener, std::vector<std::string> allowed_hosts,
                           std::vector<std::string> allowed_origins)
    : loopback_listener_(loopback_listener) {
  for (const auto& host : allowed_hosts) {
    std::string h = host_of_authority(host);
    if (h.empty()) throw std::invalid_argument("server.allowed_hosts: an empty host name");
    allowed_hosts_.push_back(std::move(h));
  }
  for (const auto& origin : allowed_origins) {
    if (trim(origin) == "*") {
      any_origin_ = true;
      continue;
    }
    std::string o = normalize_origin(origin);
    if (o.empty()) {
      throw std::invalid_argument("server.allowed_origins: '" + origin +
                                  "' is no origin (expected scheme://host[:port])");
    }
    allowed_origins_.push_back(std::move(o));
  }
}

bool OriginPolicy::host_allowed(std::string_view host) const {
  if (is_loopback_name(host)) return true;
  return std::find(allowed_hosts_.begin(), allowed_hosts_.end(), host) != allowed_hosts_.end();
}

OriginVerdict OriginPolicy::check(const OriginRequest& request) const {
  if (request.host_count > 1) return refused("more than one Host header");
  if (request.origin_count > 1) return refused("more than one Origin header");

  const std::string host = host_of_authority(request.host);
  const bool check_host = loopback_listener_ || !allowed_hosts_.empty();
  if (check_host && !host_allowed(host)) {
    if (host.empty()) {
      return refused("the Host header is missing: this host answers only requests naming it by a "
                     "loopback name or one in server.allowed_hosts");
    }
    return refused("Host " + shown(request.host) +
                   " is not allowed: this host answers only requests naming it by a loopback name "
                   "(localhost, 127.0.0.1, [::1]) or one in server.allowed_hosts (a foreign name "
                   "that resolves to this host is DNS rebinding)");
  }

  if (request.origin_count == 0 || trim(request.origin).empty()) return {};
  const std::string origin = normalize_origin(request.origin);
  auto origin_refused = [&] {
    return refused("Origin " + shown(request.origin) +
                   " is not allowed: a browser page may call this host only from its own origin" +
                   (loopback_listener_ ? ", a loopback origin" : "") +
                   " or one in server.allowed_origins");
  };
  if (origin.empty()) return origin_refused();  // "null" (sandboxed frames, file:) and garbage

  if (any_origin_ ||
      std::find(allowed_origins_.begin(), allowed_origins_.end(), origin) != allowed_origins_.end()) {
    OriginVerdict v;
    v.cross_origin = true;
    return v;
  }
  if (loopback_listener_ && is_loopback_name(host_of_origin(origin))) return {};
  // The page's own origin: what the client addressed (Host, or a proxy's X-Forwarded-Host), under
  // either scheme (a TLS-terminating proxy may not say which it spoke). Host has passed by now,
  // or was not checked because nobody could name what a proxy sends.
  for (std::string_view authority : {request.host, request.forwarded_host}) {
    authority = trim(authority);
    if (authority.empty()) continue;
    for (std::string_view scheme : {"http://", "https://"}) {
      if (normalize_origin(std::string(scheme) + std::string(authority)) == origin) return {};
    }
  }
  return origin_refused();
}

}  // namespace coda::http
