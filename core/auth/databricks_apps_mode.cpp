#include <cctype>

#include "core/auth/modes.hpp"

namespace coda::auth {
namespace {

constexpr std::size_t kMaxHeaderValue = 320;

// A forwarded identity value: non-empty after trimming, bounded, printable ASCII without quotes or
// separators that could confuse logs. nullopt otherwise.
std::optional<std::string> clean_value(const std::optional<std::string>& raw) {
  if (!raw) return std::nullopt;
  std::string value = *raw;
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
  std::size_t start = 0;
  while (start < value.size() && std::isspace(static_cast<unsigned char>(value[start]))) ++start;
  value.erase(0, start);
  if (value.empty() || value.size() > kMaxHeaderValue) return std::nullopt;
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e || c == '"' || c == '\\' || c == ',' || c == ';') return std::nullopt;
  }
  return value;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Trusts the X-Forwarded-* identity headers that the Databricks Apps proxy sets after it has
// authenticated the user. Safe only when the proxy is the sole way to reach the listener (see
// docs/security.md). Thread-safe: stateless.
class DatabricksAppsAuthenticator final : public Authenticator {
 public:
  explicit DatabricksAppsAuthenticator(bool require_access_token)
      : require_access_token_(require_access_token) {}

  AuthResult authenticate(const RequestView& request) override {
    auto email = clean_value(request.header("x-forwarded-email"));
    auto user = clean_value(request.header("x-forwarded-user"));
    if (!email && !user) {
      return AuthResult::deny(401,
                              "Authentication required: this host serves requests through the "
                              "Databricks Apps proxy only (no X-Forwarded-Email or X-Forwarded-User).");
    }
    // The token is never read or passed on: its presence is the proxy's signal (its value is a
    // bearer credential of the user, only the workspace can check it).
    const auto token = request.header("x-forwarded-access-token");
    if (require_access_token_ && (!token || token->empty())) {
      return AuthResult::deny(401,
                              "Authentication required: auth.require_access_token is set and the "
                              "request carries no X-Forwarded-Access-Token from the Apps proxy.");
    }
    Identity id;
    // The email is the owner key, as the prototype used it; the user id stands in without one.
    id.subject = email ? lower(*email) : *user;
    id.email = email ? lower(*email) : "";
    auto preferred = clean_value(request.header("x-forwarded-preferred-username"));
    id.display_name = preferred ? *preferred : id.subject;
    id.authenticated = true;
    return AuthResult::allow(std::move(id));
  }
  bool is_public_path(const std::string& /*path*/) const override { return false; }
  std::string mode() const override { return "databricks-apps"; }

 private:
  const bool require_access_token_;
};

}  // namespace

std::unique_ptr<Authenticator> make_databricks_apps_authenticator(bool require_access_token) {
  return std::make_unique<DatabricksAppsAuthenticator>(require_access_token);
}

}  // namespace coda::auth
