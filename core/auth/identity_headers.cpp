#include "core/auth/identity_headers.hpp"

#include <array>
#include <string_view>
#include <utility>

namespace coda::auth {
namespace {

// (lower-cased name as RequestView holds it, name for messages)
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kIdentityHeaders = {{
    {"authorization", "Authorization"},
    {"x-forwarded-email", "X-Forwarded-Email"},
    {"x-forwarded-user", "X-Forwarded-User"},
    {"x-forwarded-preferred-username", "X-Forwarded-Preferred-Username"},
    {"x-forwarded-access-token", "X-Forwarded-Access-Token"},
}};

}  // namespace

std::optional<std::string> repeated_identity_header(const RequestView& request) {
  for (const auto& [lower_name, name] : kIdentityHeaders) {
    if (request.headers.count(std::string(lower_name)) > 1) return std::string(name);
  }
  return std::nullopt;
}

}  // namespace coda::auth
