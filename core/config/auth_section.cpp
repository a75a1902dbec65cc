// The `auth:` section: how requests are authenticated and who is an admin. The values are checked
// here so that `coda config check` reports them with their location; core/auth checks what needs
// the environment or the file system (token variables and files, the JWKS) when the host starts.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <sstream>

#include "core/config/sections.hpp"

namespace coda::config {
namespace {

bool is_sha256_hex(const std::string& text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
}

BearerToken parse_token(Reader token) {
  BearerToken out;
  out.where = token.location();
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
    token.error("sha256",
                "expected 64 hex digits (the SHA-256 of the token, e.g. from "
                "`printf %s TOKEN | sha256sum`)");
  }
  if (out.subject.empty() && out.email.empty()) {
    token.error("", "a token needs a subject or an email (the identity it maps to)");
  }
  return out;
}

Poco::JSON::Array::Ptr json_list(const std::vector<std::string>& items) {
  Poco::JSON::Array::Ptr array = new Poco::JSON::Array;
  for (const auto& item : items) array->add(item);
  return array;
}

// auth.oauth as the JSON core/auth expects: every key typed and checked here, jwks_file resolved
// against the file's directory, unknown keys reported by the reader.
std::string parse_oauth(Reader oauth, bool required) {
  Poco::JSON::Object json(Poco::JSON_PRESERVE_KEY_ORDER);
  auto set_string = [&](std::string_view key, bool is_path) {
    std::string value = is_path ? oauth.get_path(key) : oauth.get_string(key);
    if (!value.empty()) json.set(std::string(key), value);
  };
  set_string("issuer", false);
  if (required && !json.has("issuer"))
    oauth.error("issuer", "mode oauth needs the issuer (the iss claim)");
  if (oauth.has("audience")) {
    YAML::Node audience = oauth.value("audience");
    if (audience.IsSequence()) {
      json.set("audience", json_list(oauth.get_string_list("audience")));
    } else {
      json.set("audience", oauth.get_string("audience"));
    }
  } else if (required) {
    oauth.error("audience", "mode oauth needs the audience tokens must be issued for");
  }
  set_string("jwks_url", false);
  set_string("jwks_file", true);
  if (json.has("jwks_url") && json.has("jwks_file")) {
    oauth.error("", "give exactly one of jwks_url or jwks_file");
  } else if (required && !json.has("jwks_url") && !json.has("jwks_file")) {
    oauth.error("", "give exactly one of jwks_url or jwks_file");
  }
  if (oauth.has("scopes")) json.set("scopes", json_list(oauth.get_string_list("scopes")));
  set_string("resource", false);
  if (oauth.has("authorization_servers")) {
    json.set("authorization_servers", json_list(oauth.get_string_list("authorization_servers")));
  }
  if (oauth.has("leeway_s")) json.set("leeway_s", oauth.get<int>("leeway_s", 60, 0, 600));
  if (oauth.has("jwks_refresh_s")) {
    json.set("jwks_refresh_s", oauth.get<int>("jwks_refresh_s", 60, 1, 86400));
  }
  std::ostringstream out;
  json.stringify(out);
  return out.str();
}

}  // namespace

void parse_auth_section(Reader& section, AuthConfig& auth) {
  auth.where = section.location();
  auth.mode = section.get_choice("mode", auth.mode, {"none", "bearer", "databricks-apps", "oauth"});
  auth.admins = section.get_string_list("admins", auth.admins);
  for (Reader token : section.child_list("tokens")) auth.tokens.push_back(parse_token(token));
  if (section.has("oauth"))
    auth.oauth_json = parse_oauth(section.child("oauth"), auth.mode == "oauth");
  auth.require_access_token = section.get_bool("require_access_token", auth.require_access_token);
  if (auth.require_access_token && auth.mode != "databricks-apps") {
    section.error("require_access_token",
                  "only for mode databricks-apps (the Apps proxy's "
                  "X-Forwarded-Access-Token)");
  }
  auth.rate_per_s = section.get_double("rate_per_s", auth.rate_per_s, 0, 1e9);
  auth.burst = section.get<int>("burst", auth.burst, 1, 1000000);
  auth.refused_rate_per_s =
      section.get_double("refused_rate_per_s", auth.refused_rate_per_s, 0, 1e9);
  auth.refused_burst = section.get<int>("refused_burst", auth.refused_burst, 1, 1000000);
  if (section.has("allowed_origins")) {
    section.error("allowed_origins",
                  "moved to server.allowed_origins (the listener's one "
                  "Host/Origin policy, for every route)");
  }
  if (auth.mode == "bearer" && auth.tokens.empty()) {
    section.error("mode", "mode bearer needs at least one entry in auth.tokens");
  }
  if (auth.mode == "oauth" && auth.oauth_json == "{}") {
    section.error("mode", "mode oauth needs auth.oauth (issuer, audience, jwks_url or jwks_file)");
  }
}

}  // namespace coda::config
