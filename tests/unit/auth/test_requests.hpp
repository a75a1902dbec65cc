#pragma once

#include <initializer_list>
#include <string>
#include <utility>

#include "core/auth/authenticator.hpp"

namespace coda::auth::test {

// A POST /mcp from 127.0.0.1 with the given headers (names lower-cased as the listener does).
inline RequestView request_with(
    std::initializer_list<std::pair<std::string, std::string>> headers = {},
    std::string path = "/mcp") {
  RequestView request;
  request.method = "POST";
  request.path = std::move(path);
  request.remote_addr = "127.0.0.1";
  for (const auto& [name, value] : headers) request.headers.emplace(name, value);
  return request;
}

// The value of a response header of an AuthResult, "" when absent.
inline std::string header_of(const AuthResult& result, const std::string& name) {
  for (const auto& [key, value] : result.headers) {
    if (key == name) return value;
  }
  return "";
}

}  // namespace coda::auth::test
