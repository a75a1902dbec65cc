// libFuzzer target: the HTTP request path as far as the core takes it — Poco's request parser (the
// one HTTPServer uses), the authenticator of every mode, then the body into the MCP engine with the
// identity that mode established. Nothing may crash; every reply must be valid JSON.
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>
#include <unistd.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/auth/authenticator.hpp"
#include "core/auth/secrets.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using coda::auth::Authenticator;

// A JWKS with one RSA key the fuzzer cannot sign with: tokens can only be refused, but parsing,
// header decoding and kid lookup all run.
constexpr const char* kJwks = R"({"keys":[{"kty":"RSA","kid":"k1","use":"sig","e":"AQAB","n":")"
                              "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1R"
                              "K7aPFFxuhDR1L6tSoc_BJECPebWKR"
                              "XjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_"
                              "RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAt"
                              "aSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
                              "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPk"
                              "sINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
                              R"("}]})";

struct Modes {
  std::vector<std::unique_ptr<Authenticator>> authenticators;
  Modes() {
    std::string jwks_path = "/tmp/coda-fuzz-jwks-" + std::to_string(::getpid()) + ".json";
    std::ofstream(jwks_path) << kJwks;
    coda::config::ServerConfig server;
    coda::config::AuthConfig none;
    authenticators.push_back(Authenticator::create(none, server));
    coda::config::AuthConfig bearer;
    bearer.mode = "bearer";
    coda::config::BearerToken token;
    token.sha256 = coda::auth::sha256_hex("fuzz-token-0123456789");
    token.subject = "fuzzer";
    bearer.tokens.push_back(token);
    bearer.rate_per_s = 1000;
    authenticators.push_back(Authenticator::create(bearer, server));
    coda::config::AuthConfig databricks;
    databricks.mode = "databricks-apps";
    authenticators.push_back(Authenticator::create(databricks, server));
    coda::config::AuthConfig oauth;
    oauth.mode = "oauth";
    oauth.oauth_json = R"({"issuer":"https://issuer.example","audience":"coda","jwks_file":")" +
                       jwks_path + R"(","scopes":["coda.tasks"]})";
    authenticators.push_back(Authenticator::create(oauth, server));
    std::remove(jwks_path.c_str());
  }
};

Modes& modes() {
  static Modes* instance = new Modes();
  return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string raw(reinterpret_cast<const char*>(data), size);
  std::istringstream in(raw);
  Poco::Net::HTTPRequest request;
  try {
    request.read(in);
  } catch (const Poco::Exception&) {
    return 0;  // the listener answers 400
  }
  coda::auth::RequestView view;
  view.method = request.getMethod();
  view.path = request.getURI();
  view.remote_addr = "127.0.0.1";
  for (const auto& [name, value] : request) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    view.headers.emplace(lower, value);
  }
  std::string body;
  Poco::StreamCopier::copyToString(in, body);
  for (auto& authenticator : modes().authenticators) {
    if (authenticator->is_public_path(view.path)) {
      auto response = authenticator->serve_public(view);
      if (response && response->status == 200) coda::fuzz::require_json(response->body);
      continue;
    }
    auto result = authenticator->authenticate(view);
    if (!result.ok()) {
      // 400: a repeated identity header; 401/403: refused credentials; 429: the limiter.
      const int status = result.status;
      if (status != 400 && status != 401 && status != 403 && status != 429) std::abort();
      continue;
    }
    // The identity crosses the plugin ABI as JSON and back.
    auto identity = coda::auth::Identity::from_json_text(result.identity->to_json_text());
    coda::mcp::RequestContext ctx;
    ctx.identity = identity;
    ctx.transport = "http";
    ctx.protocol_version = request.get("MCP-Protocol-Version", coda::mcp::kDefaultProtocolVersion);
    if (!coda::mcp::is_supported_protocol_version(ctx.protocol_version)) continue;  // 400
    coda::fuzz::dispatch_checked(ctx, body);
  }
  return 0;
}
