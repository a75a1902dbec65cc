#include <cctype>
#include <fstream>
#include <sstream>
#include <vector>

#include <Poco/Environment.h>

#include "core/auth/modes.hpp"
#include "core/auth/secrets.hpp"

namespace coda::auth {
namespace {

struct KnownToken {
  std::string sha256;  // lower-case hex digest of the token
  Identity identity;
};

std::string trim_line_end(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
  return s;
}

bool is_sha256_hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The digest a configured entry stands for. Throws ConfigError naming the entry (never the token).
std::string digest_of(const config::BearerToken& entry, const std::string& key) {
  int sources = !entry.sha256.empty() + !entry.env.empty() + !entry.file.empty();
  if (sources != 1) {
    throw config::ConfigError(entry.where, key,
                              "give exactly one of sha256, env or file for a token");
  }
  if (!entry.sha256.empty()) {
    if (!is_sha256_hex(entry.sha256)) {
      throw config::ConfigError(entry.where, key + ".sha256",
                                "expected 64 hex digits (e.g. from `printf %s TOKEN | sha256sum`)");
    }
    return lower(entry.sha256);
  }
  std::string token;
  if (!entry.env.empty()) {
    if (!Poco::Environment::has(entry.env)) {
      throw config::ConfigError(entry.where, key + ".env",
                                "environment variable " + entry.env + " is not set");
    }
    token = trim_line_end(Poco::Environment::get(entry.env));
  } else {
    std::ifstream in(entry.file, std::ios::binary);
    if (!in) {
      throw config::ConfigError(entry.where, key + ".file", "cannot read " + entry.file);
    }
    std::ostringstream content;
    content << in.rdbuf();
    token = trim_line_end(content.str());
  }
  if (token.size() < 16) {
    throw config::ConfigError(entry.where, key,
                              "the token is empty or shorter than 16 characters; use a long "
                              "random token (e.g. `openssl rand -hex 32`)");
  }
  return sha256_hex(token);
}

// Thread-safe: immutable after construction.
class BearerAuthenticator final : public Authenticator {
 public:
  explicit BearerAuthenticator(std::vector<KnownToken> tokens) : tokens_(std::move(tokens)) {}

  AuthResult authenticate(const RequestView& request) override {
    auto token = bearer_token(request);
    if (!token) {
      return refuse("Authentication required: send Authorization: Bearer <token>.", false);
    }
    // Compare against every entry, without stopping at a match, so the timing says nothing about
    // which (or whether a) token matched.
    std::string digest = sha256_hex(*token);
    const KnownToken* match = nullptr;
    for (const auto& known : tokens_) {
      if (constant_time_equal(digest, known.sha256) && match == nullptr) match = &known;
    }
    if (match == nullptr) return refuse("Invalid bearer token.", true);
    return AuthResult::allow(match->identity);
  }
  bool is_public_path(const std::string& /*path*/) const override { return false; }
  std::string mode() const override { return "bearer"; }

 private:
  static AuthResult refuse(std::string message, bool invalid) {
    AuthResult result = AuthResult::deny(401, std::move(message));
    result.headers.emplace_back("WWW-Authenticate",
                                invalid ? "Bearer error=\"invalid_token\"" : "Bearer");
    return result;
  }

  std::vector<KnownToken> tokens_;
};

}  // namespace

std::unique_ptr<Authenticator> make_bearer_authenticator(const config::AuthConfig& auth) {
  if (auth.tokens.empty()) {
    throw config::ConfigError(auth.where, "auth.tokens",
                              "mode bearer needs at least one token entry");
  }
  std::vector<KnownToken> tokens;
  for (std::size_t i = 0; i < auth.tokens.size(); ++i) {
    const auto& entry = auth.tokens[i];
    std::string key = "auth.tokens[" + std::to_string(i) + "]";
    KnownToken known;
    known.sha256 = digest_of(entry, key);
    known.identity.subject = !entry.subject.empty() ? entry.subject : entry.email;
    if (known.identity.subject.empty()) {
      throw config::ConfigError(entry.where, key, "a token needs a subject or an email");
    }
    known.identity.email = entry.email;
    known.identity.display_name = !entry.name.empty() ? entry.name : known.identity.subject;
    known.identity.admin = entry.admin;
    known.identity.authenticated = true;
    for (const auto& other : tokens) {
      if (other.sha256 == known.sha256) {
        throw config::ConfigError(entry.where, key, "the same token is configured twice");
      }
    }
    tokens.push_back(std::move(known));
  }
  return std::make_unique<BearerAuthenticator>(std::move(tokens));
}

}  // namespace coda::auth
