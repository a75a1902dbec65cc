#pragma once

#include <chrono>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <Poco/Crypto/RSAKey.h>
#include <Poco/Crypto/RSAKeyImpl.h>
#include <Poco/JSON/Object.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>

#include "core/auth/jwks.hpp"

namespace coda::auth::test {

// An RSA signing key of a test issuer: signs tokens and publishes its public half as a JWKS.
class TestIssuer {
 public:
  explicit TestIssuer(std::string kid)
      : kid_(std::move(kid)),
        key_(new Poco::Crypto::RSAKey(Poco::Crypto::RSAKey::KL_2048,
                                      Poco::Crypto::RSAKey::EXP_LARGE)) {}

  const std::string& kid() const { return kid_; }

  // {"kty":"RSA","kid":...,"use":"sig","n":...,"e":...}
  std::string jwk() const {
    auto bytes = [](const Poco::Crypto::RSAKeyImpl::ByteVec& v) { return std::string(v.begin(), v.end()); };
    Poco::JSON::Object key;
    key.set("kty", "RSA");
    key.set("kid", kid_);
    key.set("use", "sig");
    key.set("alg", "RS256");
    key.set("n", base64url_encode(bytes(key_->modulus())));
    key.set("e", base64url_encode(bytes(key_->encryptionExponent())));
    std::ostringstream out;
    key.stringify(out);
    return out.str();
  }
  static std::string jwks(const std::vector<const TestIssuer*>& issuers) {
    std::string text = R"({"keys":[)";
    for (std::size_t i = 0; i < issuers.size(); ++i) {
      text += (i ? "," : "") + issuers[i]->jwk();
    }
    return text + "]}";
  }

  struct Claims {
    std::string issuer = "https://issuer.example";
    std::vector<std::string> audience = {"coda"};
    std::string subject = "alice";
    std::string email = "alice@example.com";
    std::optional<bool> email_verified;  // the email_verified claim; none when unset
    std::string scope = "coda.tasks";
    std::chrono::seconds expires_in{300};
    bool with_kid = true;
  };

  std::string sign(const Claims& claims, const std::string& algorithm = "RS256") const {
    Poco::JWT::Token token;
    token.setType("JWT");
    if (claims.with_kid) token.header().set("kid", kid_);
    token.setIssuer(claims.issuer);
    token.setSubject(claims.subject);
    if (claims.audience.size() == 1) {
      token.setAudience(claims.audience[0]);
    } else {
      token.setAudience(claims.audience);
    }
    if (!claims.email.empty()) token.payload().set("email", claims.email);
    if (claims.email_verified) token.payload().set("email_verified", *claims.email_verified);
    if (!claims.scope.empty()) token.payload().set("scope", claims.scope);
    auto now = std::chrono::system_clock::now();
    auto exp = std::chrono::duration_cast<std::chrono::seconds>(
                   (now + claims.expires_in).time_since_epoch())
                   .count();
    token.payload().set("exp", static_cast<Poco::Int64>(exp));
    token.payload().set("iat", static_cast<Poco::Int64>(exp - claims.expires_in.count()));
    Poco::JWT::Signer signer(key_);
    return signer.sign(token, algorithm);
  }

 private:
  std::string kid_;
  Poco::SharedPtr<Poco::Crypto::RSAKey> key_;
};

}  // namespace coda::auth::test
