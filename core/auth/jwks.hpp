#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <Poco/JWT/Signer.h>

// JSON Web Key Sets (RFC 7517): the public keys that verify JWT signatures in mode oauth.
namespace coda::auth {

// One verification key of a set. `kid` may be empty (then it is tried for tokens without a kid).
struct VerificationKey {
  std::string kid;
  std::string kty;  // "RSA" or "EC"
  std::shared_ptr<const Poco::JWT::Signer> signer;  // accepts only the algorithms of its key type
};

// Parses JWKS JSON text ({"keys": [...]}) into verifiers. RSA keys (n, e) and EC keys on P-256,
// P-384 and P-521 (x, y) are used; keys meant for encryption ("use": "enc") and other key types are
// skipped. Throws std::runtime_error with a clear message for text that is not a key set or holds
// no usable key.
std::vector<VerificationKey> parse_jwks(const std::string& json_text);

// The whole body of `url` (http or https) fetched with a GET, with a time limit. Throws
// std::runtime_error naming the url on any failure or a non-200 status.
std::string fetch_url(const std::string& url, int timeout_s);

// Base64url without padding (RFC 7515) of raw bytes, and back. decode throws std::runtime_error on
// characters outside the alphabet.
std::string base64url_encode(const std::string& bytes);
std::string base64url_decode(const std::string& text);

}  // namespace coda::auth
