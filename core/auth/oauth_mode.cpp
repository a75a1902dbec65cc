#include <cctype>
#include <chrono>
#include <cmath>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JWT/Token.h>

#include "core/auth/jwks.hpp"
#include "core/auth/modes.hpp"
#include "core/auth/secrets.hpp"

namespace coda::auth {
namespace {

constexpr std::string_view kMetadataPath = "/.well-known/oauth-protected-resource";
constexpr std::size_t kMaxTokenBytes = 16 * 1024;

// auth.oauth, validated.
struct OAuthSettings {
  std::string issuer;
  std::vector<std::string> audiences;  // a token must name at least one
  std::string jwks_url;
  std::string jwks_file;
  std::vector<std::string> scopes;  // all required
  std::string resource;             // the protected resource (URL of /mcp); empty: from the request
  std::vector<std::string> authorization_servers;
  int leeway_s = 60;
  int jwks_refresh_s = 60;  // unknown kid: refetch a jwks_url at most this often
};

std::vector<std::string> string_list(const Poco::Dynamic::Var& value, const std::string& key,
                                     const config::Location& where) {
  std::vector<std::string> result;
  if (value.isString()) {
    result.push_back(value.toString());
    return result;
  }
  if (value.type() == typeid(Poco::JSON::Array::Ptr)) {
    auto array = value.extract<Poco::JSON::Array::Ptr>();
    for (std::size_t i = 0; i < array->size(); ++i) {
      auto item = array->get(static_cast<unsigned>(i));
      if (!item.isString()) {
        throw config::ConfigError(where, key, "expected a list of strings");
      }
      result.push_back(item.toString());
    }
    return result;
  }
  throw config::ConfigError(where, key, "expected a string or a list of strings");
}

OAuthSettings parse_settings(const config::AuthConfig& auth, const config::ServerConfig& server) {
  const config::Location& where = auth.where;
  Poco::JSON::Object::Ptr json;
  try {
    json = Poco::JSON::Parser().parse(auth.oauth_json).extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception&) {
    throw config::ConfigError(where, "auth.oauth", "expected a mapping");
  }
  static const std::set<std::string> kKnown = {
      "issuer", "audience", "jwks_url", "jwks_file", "scopes", "resource", "authorization_servers",
      "leeway_s", "jwks_refresh_s"};
  for (const auto& [name, value] : *json) {
    if (!kKnown.count(name)) {
      throw config::ConfigError(where, "auth.oauth." + name,
                                "unknown key; expected one of issuer, audience, jwks_url, "
                                "jwks_file, scopes, resource, authorization_servers, leeway_s, "
                                "jwks_refresh_s");
    }
  }
  auto text = [&](const std::string& name) {
    if (!json->has(name)) return std::string();
    auto value = json->get(name);
    if (!value.isString()) throw config::ConfigError(where, "auth.oauth." + name, "expected a string");
    return value.toString();
  };
  auto integer = [&](const std::string& name, int fallback, int low, int high) {
    if (!json->has(name)) return fallback;
    auto value = json->get(name);
    if (!value.isInteger() || value.convert<long long>() < low || value.convert<long long>() > high) {
      throw config::ConfigError(where, "auth.oauth." + name,
                                "expected an integer from " + std::to_string(low) + " to " +
                                    std::to_string(high));
    }
    return value.convert<int>();
  };
  OAuthSettings s;
  s.issuer = text("issuer");
  if (s.issuer.empty()) {
    throw config::ConfigError(where, "auth.oauth.issuer",
                              "mode oauth needs the token issuer (the iss claim)");
  }
  if (!json->has("audience")) {
    throw config::ConfigError(where, "auth.oauth.audience",
                              "mode oauth needs the audience tokens must be issued for");
  }
  s.audiences = string_list(json->get("audience"), "auth.oauth.audience", where);
  if (s.audiences.empty()) {
    throw config::ConfigError(where, "auth.oauth.audience", "give at least one audience");
  }
  s.jwks_url = text("jwks_url");
  s.jwks_file = text("jwks_file");
  if (s.jwks_url.empty() == s.jwks_file.empty()) {
    throw config::ConfigError(where, "auth.oauth", "give exactly one of jwks_url or jwks_file");
  }
  if (json->has("scopes")) s.scopes = string_list(json->get("scopes"), "auth.oauth.scopes", where);
  s.resource = text("resource");
  if (s.resource.empty() && !server.public_url.empty()) {
    std::string base = server.public_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    s.resource = base + "/mcp";
  }
  if (json->has("authorization_servers")) {
    s.authorization_servers =
        string_list(json->get("authorization_servers"), "auth.oauth.authorization_servers", where);
  } else {
    s.authorization_servers = {s.issuer};
  }
  s.leeway_s = integer("leeway_s", 60, 0, 600);
  s.jwks_refresh_s = integer("jwks_refresh_s", 60, 1, 86400);
  return s;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// A numeric claim as seconds since the epoch; nullopt when absent or not a finite number.
std::optional<double> time_claim(const Poco::JSON::Object& payload, const std::string& name) {
  if (!payload.has(name)) return std::nullopt;
  auto value = payload.get(name);
  if (!value.isNumeric()) return std::nullopt;
  double seconds = value.convert<double>();
  if (!std::isfinite(seconds)) return std::nullopt;
  return seconds;
}

std::set<std::string> token_scopes(const Poco::JSON::Object& payload) {
  std::set<std::string> scopes;
  auto add_words = [&](const std::string& text) {
    std::istringstream words(text);
    for (std::string word; words >> word;) scopes.insert(word);
  };
  for (const char* claim : {"scope", "scp"}) {
    if (!payload.has(claim)) continue;
    auto value = payload.get(claim);
    if (value.isString()) {
      add_words(value.toString());
    } else if (value.type() == typeid(Poco::JSON::Array::Ptr)) {
      auto array = value.extract<Poco::JSON::Array::Ptr>();
      for (std::size_t i = 0; i < array->size(); ++i) {
        auto item = array->get(static_cast<unsigned>(i));
        if (item.isString()) scopes.insert(item.toString());
      }
    }
  }
  return scopes;
}

std::string string_claim(const Poco::JSON::Object& payload, const std::string& name) {
  if (!payload.has(name)) return "";
  auto value = payload.get(name);
  return value.isString() ? value.toString() : "";
}

// True when the token's email_verified claim (OpenID Connect Core 5.1) is true. Some issuers
// (Amazon Cognito) send it as the string "true"; anything else, or no claim, is unverified.
bool email_verified(const Poco::JSON::Object& payload) {
  if (!payload.has("email_verified")) return false;
  auto value = payload.get("email_verified");
  if (value.type() == typeid(bool)) return value.extract<bool>();
  return value.isString() && value.toString() == "true";
}

// A host[:port] as sent in a Host header, or "" when it holds anything else.
std::string clean_host(const std::string& host) {
  if (host.empty() || host.size() > 255) return "";
  for (char c : host) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
              c == '[' || c == ']';
    if (!ok) return "";
  }
  return host;
}

// Validates JWT bearer tokens as an OAuth 2.1 resource server (MCP authorization, RFC 9728).
// Thread-safe: the key set is guarded by a mutex (not held while fetching); everything else is
// immutable.
class OAuthAuthenticator final : public Authenticator {
 public:
  explicit OAuthAuthenticator(OAuthSettings settings) : settings_(std::move(settings)) {
    load_keys();
  }

  AuthResult authenticate(const RequestView& request) override {
    auto token = bearer_token(request);
    if (!token) {
      return unauthorized(request, "", "Authentication required: send an OAuth bearer token.");
    }
    if (token->size() > kMaxTokenBytes) {
      return unauthorized(request, "invalid_token", "The bearer token is too large.");
    }
    Poco::JWT::Token verified;
    try {
      Poco::JWT::Token unverified(*token);
      std::string kid = unverified.header().optValue<std::string>("kid", "");
      auto signer_keys = keys_for(kid);
      bool ok = false;
      for (const auto& key : signer_keys) {
        if (key.signer->tryVerify(*token, verified)) {
          ok = true;
          break;
        }
      }
      if (!ok) return unauthorized(request, "invalid_token", "The token signature is not valid.");
    } catch (const std::exception&) {
      // Deliberately no detail: parser messages may quote the token.
      return unauthorized(request, "invalid_token", "The bearer token is not a valid JWT.");
    }
    const Poco::JSON::Object& claims = verified.payload();
    double now = std::chrono::duration<double>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
    auto exp = time_claim(claims, "exp");
    if (!exp) return unauthorized(request, "invalid_token", "The token has no expiry (exp).");
    if (now > *exp + settings_.leeway_s) {
      return unauthorized(request, "invalid_token", "The token has expired.");
    }
    if (auto nbf = time_claim(claims, "nbf"); nbf && now + settings_.leeway_s < *nbf) {
      return unauthorized(request, "invalid_token", "The token is not valid yet.");
    }
    if (string_claim(claims, "iss") != settings_.issuer) {
      return unauthorized(request, "invalid_token", "The token was issued by another issuer.");
    }
    if (!audience_matches(verified)) {
      return unauthorized(request, "invalid_token", "The token was issued for another audience.");
    }
    std::string subject = string_claim(claims, "sub");
    if (subject.empty()) {
      return unauthorized(request, "invalid_token", "The token has no subject (sub).");
    }
    auto scopes = token_scopes(claims);
    for (const auto& required : settings_.scopes) {
      if (!scopes.count(required)) return insufficient_scope(request);
    }
    Identity id;
    id.subject = subject;
    // An email the issuer has not verified is whatever the user typed at sign-up: it never names
    // the caller (not for admins, not as the owner's address, not in the prompt).
    if (email_verified(claims)) id.email = string_claim(claims, "email");
    id.display_name = string_claim(claims, "name");
    if (id.display_name.empty()) id.display_name = string_claim(claims, "preferred_username");
    if (id.display_name.empty()) id.display_name = id.email.empty() ? subject : id.email;
    id.authenticated = true;
    return AuthResult::allow(std::move(id));
  }

  bool is_public_path(const std::string& path) const override {
    return path.compare(0, kMetadataPath.size(), kMetadataPath) == 0 &&
           (path.size() == kMetadataPath.size() || path[kMetadataPath.size()] == '/');
  }

  std::optional<PublicResponse> serve_public(const RequestView& request) const override {
    if (!is_public_path(request.path)) return std::nullopt;
    PublicResponse response;
    response.headers.emplace_back("Cache-Control", "max-age=300");
    if (request.method != "GET" && request.method != "HEAD") {
      response.status = 405;
      response.headers.emplace_back("Allow", "GET, HEAD");
      response.body = R"({"error":"method not allowed"})";
      return response;
    }
    std::string resource = resource_url(request);
    Poco::JSON::Object doc(Poco::JSON_PRESERVE_KEY_ORDER);
    doc.set("resource", resource);
    Poco::JSON::Array servers;
    for (const auto& server : settings_.authorization_servers) servers.add(server);
    doc.set("authorization_servers", servers);
    Poco::JSON::Array scopes;
    for (const auto& scope : settings_.scopes) scopes.add(scope);
    doc.set("scopes_supported", scopes);
    Poco::JSON::Array methods;
    methods.add("header");
    doc.set("bearer_methods_supported", methods);
    std::ostringstream body;
    doc.stringify(body);
    response.body = body.str();
    return response;
  }

  std::string mode() const override { return "oauth"; }

 private:
  // The resource URL: configured, or (without auth.oauth.resource and server.public_url) built from
  // the request's Host and X-Forwarded-Proto.
  std::string resource_url(const RequestView& request) const {
    if (!settings_.resource.empty()) return settings_.resource;
    std::string proto = request.header("x-forwarded-proto").value_or("http");
    if (proto != "https") proto = "http";
    std::string host = clean_host(request.header("host").value_or(""));
    if (host.empty()) host = "localhost";
    return proto + "://" + host + "/mcp";
  }

  // RFC 9728: the metadata of https://host/path lives at https://host/.well-known/...resource/path.
  // Plain string work (no URI parser): the Host part comes from the request and must never throw.
  std::string metadata_url(const RequestView& request) const {
    std::string resource = resource_url(request);
    std::size_t scheme_end = resource.find("://");
    std::size_t path_start =
        scheme_end == std::string::npos ? std::string::npos : resource.find('/', scheme_end + 3);
    std::string origin = path_start == std::string::npos ? resource : resource.substr(0, path_start);
    std::string path = path_start == std::string::npos ? "" : resource.substr(path_start);
    if (auto cut = path.find_first_of("?#"); cut != std::string::npos) path.resize(cut);
    if (path == "/") path.clear();
    return origin + std::string(kMetadataPath) + path;
  }

  AuthResult unauthorized(const RequestView& request, const std::string& error,
                          std::string message) const {
    AuthResult result = AuthResult::deny(401, message);
    std::string challenge = "Bearer resource_metadata=\"" + metadata_url(request) + "\"";
    if (!error.empty()) {
      challenge += ", error=\"" + error + "\", error_description=\"" + message + "\"";
    }
    result.headers.emplace_back("WWW-Authenticate", challenge);
    return result;
  }

  AuthResult insufficient_scope(const RequestView& request) const {
    std::string scope;
    for (const auto& s : settings_.scopes) scope += (scope.empty() ? "" : " ") + s;
    AuthResult result =
        AuthResult::deny(403, "The token lacks a required scope (needs: " + scope + ").");
    result.headers.emplace_back("WWW-Authenticate",
                                "Bearer error=\"insufficient_scope\", scope=\"" + scope +
                                    "\", resource_metadata=\"" + metadata_url(request) + "\"");
    return result;
  }

  bool audience_matches(const Poco::JWT::Token& token) const {
    for (const auto& audience : token.getAudience()) {
      for (const auto& expected : settings_.audiences) {
        if (audience == expected) return true;
      }
    }
    return false;
  }

  // Keys to try for a token with this kid (every key when the token names none). An unknown kid
  // refetches a jwks_url, at most once per jwks_refresh_s (key rotation at the issuer). The fetch
  // runs without the lock: a slow or hanging issuer delays only the requests that wait for a key it
  // may bring, never those whose key is known. A request with an unknown kid while a fetch is under
  // way is refused at once rather than waiting: anyone can send random kids, and waiters would tie
  // up the listener's bounded handler pool for as long as the issuer stalls.
  std::vector<VerificationKey> keys_for(const std::string& kid) {
    auto pick = [&](const std::vector<VerificationKey>& keys) {  // under the lock
      std::vector<VerificationKey> picked;
      for (const auto& key : keys) {
        if (kid.empty() || key.kid == kid) picked.push_back(key);
      }
      return picked;
    };
    std::unique_lock lock(mutex_);
    auto picked = pick(keys_);
    if (!picked.empty() || settings_.jwks_url.empty()) return picked;
    auto now = std::chrono::steady_clock::now();
    if (fetching_ || now - last_fetch_ < std::chrono::seconds(settings_.jwks_refresh_s)) {
      return picked;
    }
    last_fetch_ = now;
    fetching_ = true;
    lock.unlock();
    std::optional<std::vector<VerificationKey>> fresh;
    try {
      fresh = parse_jwks(fetch_url(settings_.jwks_url, 10));
    } catch (const std::exception&) {
      // Keep the old keys; the request is refused below and a later one retries.
    }
    lock.lock();
    if (fresh) keys_ = std::move(*fresh);
    fetching_ = false;
    return pick(keys_);
  }

  void load_keys() {
    try {
      std::string text = settings_.jwks_file.empty() ? fetch_url(settings_.jwks_url, 10)
                                                     : read_text_file(settings_.jwks_file);
      keys_ = parse_jwks(text);
      last_fetch_ = std::chrono::steady_clock::now();
    } catch (const std::exception& e) {
      throw config::ConfigError(
          config::Location{}, settings_.jwks_file.empty() ? "auth.oauth.jwks_url" : "auth.oauth.jwks_file",
          std::string("cannot load the JSON Web Key Set: ") + e.what());
    }
  }

  const OAuthSettings settings_;
  std::mutex mutex_;  // guards the members below; never held across a fetch
  std::vector<VerificationKey> keys_;
  bool fetching_ = false;
  std::chrono::steady_clock::time_point last_fetch_{};
};

}  // namespace

std::unique_ptr<Authenticator> make_oauth_authenticator(const config::AuthConfig& auth,
                                                        const config::ServerConfig& server) {
  return std::make_unique<OAuthAuthenticator>(parse_settings(auth, server));
}

}  // namespace coda::auth
