#include "core/auth/jwks.hpp"

#include <sstream>
#include <stdexcept>

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Crypto/ECKey.h>
#include <Poco/Crypto/RSAKey.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

namespace coda::auth {
namespace {

// --- Minimal DER, enough to wrap raw JWK numbers into a SubjectPublicKeyInfo PEM that Poco::Crypto
// loads. ---

std::string der_length(std::size_t n) {
  if (n < 0x80) return std::string(1, static_cast<char>(n));
  std::string bytes;
  while (n > 0) {
    bytes.insert(bytes.begin(), static_cast<char>(n & 0xff));
    n >>= 8;
  }
  return std::string(1, static_cast<char>(0x80 | bytes.size())) + bytes;
}

std::string der(unsigned char tag, const std::string& content) {
  return std::string(1, static_cast<char>(tag)) + der_length(content.size()) + content;
}

// A positive INTEGER from big-endian magnitude bytes.
std::string der_unsigned_integer(std::string magnitude) {
  std::size_t zeros = 0;
  while (zeros + 1 < magnitude.size() && magnitude[zeros] == '\0') ++zeros;
  magnitude.erase(0, zeros);
  if (magnitude.empty()) magnitude = std::string(1, '\0');
  if (static_cast<unsigned char>(magnitude[0]) & 0x80) magnitude.insert(magnitude.begin(), '\0');
  return der(0x02, magnitude);
}

std::string der_oid(std::initializer_list<unsigned char> encoded) {
  return der(0x06, std::string(encoded.begin(), encoded.end()));
}

std::string to_pem(const std::string& spki) {
  std::ostringstream b64;
  Poco::Base64Encoder encoder(b64);
  encoder.rdbuf()->setLineLength(64);
  encoder << spki;
  encoder.close();
  return "-----BEGIN PUBLIC KEY-----\n" + b64.str() + "\n-----END PUBLIC KEY-----\n";
}

std::string rsa_public_key_pem(const std::string& n, const std::string& e) {
  // rsaEncryption 1.2.840.113549.1.1.1, NULL parameters.
  std::string algorithm = der(0x30, der_oid({0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01}) +
                                        std::string("\x05\x00", 2));
  std::string rsa_key = der(0x30, der_unsigned_integer(n) + der_unsigned_integer(e));
  std::string bit_string = der(0x03, std::string(1, '\0') + rsa_key);
  return to_pem(der(0x30, algorithm + bit_string));
}

std::string ec_public_key_pem(const std::string& crv, const std::string& x, const std::string& y) {
  std::string curve;
  std::size_t size = 0;
  if (crv == "P-256") {
    curve = der_oid({0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07});  // prime256v1
    size = 32;
  } else if (crv == "P-384") {
    curve = der_oid({0x2b, 0x81, 0x04, 0x00, 0x22});  // secp384r1
    size = 48;
  } else if (crv == "P-521") {
    curve = der_oid({0x2b, 0x81, 0x04, 0x00, 0x23});  // secp521r1
    size = 66;
  } else {
    throw std::runtime_error("unsupported EC curve '" + crv + "'");
  }
  if (x.size() != size || y.size() != size) {
    throw std::runtime_error("EC key coordinates of the wrong size for " + crv);
  }
  // id-ecPublicKey 1.2.840.10045.2.1
  std::string algorithm = der(0x30, der_oid({0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01}) + curve);
  std::string point = std::string(1, '\x04') + x + y;
  std::string bit_string = der(0x03, std::string(1, '\0') + point);
  return to_pem(der(0x30, algorithm + bit_string));
}

std::string required_member(const Poco::JSON::Object::Ptr& key, const std::string& name) {
  if (!key->has(name) || !key->get(name).isString()) {
    throw std::runtime_error("a key has no string member '" + name + "'");
  }
  return key->getValue<std::string>(name);
}

std::shared_ptr<const Poco::JWT::Signer> make_signer(const Poco::JSON::Object::Ptr& key,
                                                     const std::string& kty) {
  auto signer = std::make_shared<Poco::JWT::Signer>();
  // Only asymmetric algorithms of the key's own type: never HS* (a public key used as an HMAC
  // secret) nor "none".
  if (kty == "RSA") {
    std::istringstream pem(rsa_public_key_pem(base64url_decode(required_member(key, "n")),
                                              base64url_decode(required_member(key, "e"))));
    signer->setRSAKey(new Poco::Crypto::RSAKey(&pem));
    signer->setAlgorithms({"RS256", "RS384", "RS512"});
  } else {
    std::istringstream pem(ec_public_key_pem(required_member(key, "crv"),
                                             base64url_decode(required_member(key, "x")),
                                             base64url_decode(required_member(key, "y"))));
    signer->setECKey(new Poco::Crypto::ECKey(&pem));
    signer->setAlgorithms({"ES256", "ES384", "ES512"});
  }
  return signer;
}

}  // namespace

std::string base64url_encode(const std::string& bytes) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
  encoder << bytes;
  encoder.close();
  return out.str();
}

std::string base64url_decode(const std::string& text) {
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) throw std::runtime_error("invalid base64url text");
  }
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
  std::string out;
  Poco::StreamCopier::copyToString(decoder, out);
  return out;
}

std::vector<VerificationKey> parse_jwks(const std::string& json_text) {
  Poco::JSON::Object::Ptr root;
  try {
    root = Poco::JSON::Parser().parse(json_text).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("not a JSON object: " + e.displayText());
  } catch (const std::exception&) {
    throw std::runtime_error("not a JSON object");
  }
  if (root.isNull()) throw std::runtime_error("not a JSON object");
  auto keys = root->getArray("keys");
  if (keys.isNull()) throw std::runtime_error("not a key set: no \"keys\" array");
  std::vector<VerificationKey> result;
  std::string last_problem;
  for (std::size_t i = 0; i < keys->size(); ++i) {
    auto key = keys->getObject(static_cast<unsigned>(i));
    if (key.isNull()) continue;
    std::string kty = key->optValue<std::string>("kty", "");
    std::string use = key->optValue<std::string>("use", "sig");
    if ((kty != "RSA" && kty != "EC") || use != "sig") continue;
    try {
      VerificationKey verification;
      verification.kid = key->optValue<std::string>("kid", "");
      verification.kty = kty;
      verification.signer = make_signer(key, kty);
      result.push_back(std::move(verification));
    } catch (const Poco::Exception& e) {
      last_problem = "key " + std::to_string(i) + ": " + e.displayText();
    } catch (const std::exception& e) {
      last_problem = "key " + std::to_string(i) + ": " + e.what();
    }
  }
  if (result.empty()) {
    throw std::runtime_error("no usable RSA or EC signing key in the key set" +
                             (last_problem.empty() ? std::string() : " (" + last_problem + ")"));
  }
  return result;
}

std::string fetch_url(const std::string& url, int timeout_s) {
  try {
    Poco::URI uri(url);
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (uri.getScheme() == "https") {
      Poco::Net::Context::Ptr context = new Poco::Net::Context(
          Poco::Net::Context::TLS_CLIENT_USE, "", "", "", Poco::Net::Context::VERIFY_RELAXED, 9,
          true);
      session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(),
                                                                context);
    } else if (uri.getScheme() == "http") {
      session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    } else {
      throw std::runtime_error("only http and https URLs are supported");
    }
    session->setTimeout(Poco::Timespan(timeout_s, 0));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, uri.getPathAndQuery(),
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Accept", "application/json");
    session->sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& body = session->receiveResponse(response);
    std::string text;
    Poco::StreamCopier::copyToString(body, text);
    if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) {
      throw std::runtime_error("HTTP status " + std::to_string(response.getStatus()));
    }
    return text;
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("cannot fetch " + url + ": " + e.displayText());
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    if (what.rfind("cannot fetch", 0) == 0) throw;
    throw std::runtime_error("cannot fetch " + url + ": " + what);
  }
}

}  // namespace coda::auth
