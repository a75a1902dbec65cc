// The `auth:` section: how requests are authenticated and who is an admin.
#include "core/config/sections.hpp"

namespace coda::config {
namespace {

bool is_sha256_hex(const std::string& text) {
  return text.size() == 64 &&
         text.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
}

BearerToken parse_token(Reader token) {
  BearerToken out;
  out.sha256 = token.get_string("sha256");
  out.env = token.get_string("env");
  out.file = token.get_path("file");
  out.subject = token.get_string("subject");
  out.email = token.get_string("email");
  out.name = token.get_string("name");
  out.admin = token.get_bool("admin", out.admin);
  const int sources = !out.sha256.empty() + !out.env.empty() + !out.file.empty();
  if (sources != 1) {
    token.error("", "a token needs exactly one of sha256, env or file (found " +
                        std::to_string(sources) + ")");
  }
  if (!out.sha256.empty() && !is_sha256_hex(out.sha256)) {
    token.error("sha256", "expected 64 hex digits (the SHA-256 of the token, e.g. from "
                          "`printf %s TOKEN | sha256sum`)");
  }
  if (out.subject.empty() && out.email.empty()) {
    token.error("", "a token needs a subject or an email (the identity it maps to)");
  }
  return out;
}

}  // namespace

void parse_auth_section(Reader& section, AuthConfig& auth) {
  auth.mode =
      section.get_choice("mode", auth.mode, {"none", "bearer", "databricks-apps", "oauth"});
  auth.admins = section.get_string_list("admins", auth.admins);
  for (Reader token : section.child_list("tokens")) auth.tokens.push_back(parse_token(token));
  if (section.has("oauth")) auth.oauth_json = section.get_json("oauth");
  auth.rate_per_s = section.get_double("rate_per_s", auth.rate_per_s, 0, 1e9);
  auth.burst = section.get<int>("burst", auth.burst, 1, 1000000);
  auth.allowed_origins = section.get_string_list("allowed_origins", auth.allowed_origins);
  if (auth.mode == "bearer" && auth.tokens.empty()) {
    section.error("mode", "mode bearer needs at least one entry in auth.tokens");
  }
  if (auth.mode == "oauth" && auth.oauth_json == "{}") {
    section.error("mode", "mode oauth needs auth.oauth (issuer, audience, jwks_url or jwks_file)");
  }
}

}  // namespace coda::config
