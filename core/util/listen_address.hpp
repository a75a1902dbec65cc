#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// Parsing and classifying the `host:port` addresses the listener binds to.
namespace coda::util {

// A parsed `host:port`. host has no brackets ("::1", not "[::1]").
struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;

  // "host:port", with brackets around an IPv6 host.
  std::string to_string() const;
};

// Parses "host:port", "[v6]:port" or ":port" (all interfaces). Throws std::invalid_argument with a
// message naming the text and what is wrong (missing port, port out of range, empty host in brackets).
ListenAddress parse_listen_address(std::string_view text);

// True for names and addresses that only the local machine can reach: "localhost", 127.0.0.0/8, ::1.
// "0.0.0.0", "::" and every other name are not loopback.
bool is_loopback_host(std::string_view host);

// "http://host:port" (or https), with brackets around an IPv6 host.
std::string make_url(std::string_view scheme, std::string_view host, std::uint16_t port);

}  // namespace coda::util
