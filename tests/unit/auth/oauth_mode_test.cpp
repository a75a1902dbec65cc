#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <gtest/gtest.h>

#include "core/auth/authenticator.hpp"
#include "core/auth/jwks.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/auth/jwt_fixture.hpp"
#include "tests/unit/auth/test_requests.hpp"

namespace coda::auth {
namespace {

using test::header_of;
using test::request_with;
using test::TestIssuer;
using namespace std::chrono_literals;

// Key generation is slow: one issuer (and one impostor) for the whole file.
const TestIssuer& issuer() {
  static const TestIssuer instance("key-1");
  return instance;
}
const TestIssuer& impostor() {
  static const TestIssuer instance("key-1");  // same kid, different key
  return instance;
}

class OAuthMode : public ::testing::Test {
 protected:
  std::unique_ptr<Authenticator> make(const std::string& extra = "") {
    std::string jwks = dir_.write("jwks.json", TestIssuer::jwks({&issuer()}));
    config::AuthConfig auth;
    auth.mode = "oauth";
    auth.oauth_json = R"({"issuer":"https://issuer.example","audience":"coda","jwks_file":")" +
                      jwks + R"(","scopes":["coda.tasks"])" + extra + "}";
    config::ServerConfig server;
    server.public_url = "https://coda.example/";
    return Authenticator::create(auth, server);
  }
  AuthResult call(Authenticator& a, const std::string& token) {
    return a.authenticate(request_with({{"authorization", "Bearer " + token}}));
  }
  static constexpr const char* kMetadataUrl =
      "https://coda.example/.well-known/oauth-protected-resource/mcp";

  coda::test::TempDir dir_;
};

TEST_F(OAuthMode, ValidTokenGivesTheIdentityOfItsClaims) {
  auto a = make();
  EXPECT_EQ(a->mode(), "oauth");
  TestIssuer::Claims verified;
  verified.email_verified = true;
  auto result = call(*a, issuer().sign(verified));
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.identity->subject, "alice");
  EXPECT_EQ(result.identity->email, "alice@example.com");
  EXPECT_TRUE(result.identity->authenticated);
  TestIssuer::Claims many_audiences;
  many_audiences.audience = {"other", "coda"};
  many_audiences.with_kid = false;
  EXPECT_TRUE(call(*a, issuer().sign(many_audiences, "RS512")).ok());
}

TEST_F(OAuthMode, AdminsAreMatchedOnTheSubjectOrAVerifiedEmailOnly) {
  std::string jwks = dir_.write("jwks.json", TestIssuer::jwks({&issuer()}));
  config::AuthConfig auth;
  auth.mode = "oauth";
  auth.oauth_json = R"({"issuer":"https://issuer.example","audience":"coda","jwks_file":")" +
                    jwks + R"("})";
  auth.admins = {"boss@example.com", "root-sub"};
  auto a = Authenticator::create(auth, config::ServerConfig{});
  auto identity_of = [&](const std::string& subject, const std::string& email,
                         std::optional<bool> verified) {
    TestIssuer::Claims claims;
    claims.subject = subject;
    claims.email = email;
    claims.email_verified = verified;
    auto result = call(*a, issuer().sign(claims));
    EXPECT_TRUE(result.ok()) << result.message;
    return result.identity.value_or(Identity{});
  };
  // An email the issuer has not verified names nobody: no admin, no owner address.
  Identity unverified = identity_of("mallory", "boss@example.com", std::nullopt);
  EXPECT_FALSE(unverified.admin);
  EXPECT_EQ(unverified.email, "");
  EXPECT_EQ(unverified.display_name, "mallory");
  EXPECT_FALSE(identity_of("mallory", "boss@example.com", false).admin);
  Identity verified = identity_of("boss-sub", "Boss@Example.com", true);
  EXPECT_TRUE(verified.admin);
  EXPECT_EQ(verified.email, "Boss@Example.com");
  EXPECT_TRUE(identity_of("root-sub", "", std::nullopt).admin);
}

TEST_F(OAuthMode, MissingTokenIs401WithTheMetadataUrl) {
  auto a = make();
  auto result = a->authenticate(request_with());
  EXPECT_EQ(result.status, 401);
  EXPECT_EQ(header_of(result, "WWW-Authenticate"),
            std::string("Bearer resource_metadata=\"") + kMetadataUrl + "\"");
}

TEST_F(OAuthMode, ExpiredWrongAudienceWrongIssuerAndForgedTokensAre401) {
  auto a = make();
  TestIssuer::Claims expired;
  expired.expires_in = -5min;
  TestIssuer::Claims wrong_audience;
  wrong_audience.audience = {"someone-else"};
  TestIssuer::Claims wrong_issuer;
  wrong_issuer.issuer = "https://evil.example";
  TestIssuer::Claims no_subject;
  no_subject.subject = "";
  std::string valid = issuer().sign({});
  std::string tampered = valid;
  tampered[tampered.find('.') + 5] ^= 1;  // one bit of the payload
  std::vector<std::pair<std::string, std::string>> cases = {
      {"expired", issuer().sign(expired)},
      {"wrong audience", issuer().sign(wrong_audience)},
      {"wrong issuer", issuer().sign(wrong_issuer)},
      {"no subject", issuer().sign(no_subject)},
      {"other key, same kid", impostor().sign({})},
      {"tampered payload", tampered},
      {"garbage", "not.a.jwt"},
      {"one segment", "abc"},
      {"huge", std::string(20000, 'a')},
  };
  for (const auto& [name, token] : cases) {
    auto result = call(*a, token);
    EXPECT_EQ(result.status, 401) << name;
    EXPECT_FALSE(result.ok()) << name;
    std::string challenge = header_of(result, "WWW-Authenticate");
    EXPECT_NE(challenge.find(kMetadataUrl), std::string::npos) << name;
    EXPECT_NE(challenge.find("invalid_token"), std::string::npos) << name;
    EXPECT_EQ(result.message.find(token.substr(0, 20)), std::string::npos) << name;
  }
}

TEST_F(OAuthMode, AlgorithmConfusionIsRefused) {
  auto a = make();
  // HS256 "signed" with the public key material, and alg none.
  Poco::JWT::Token token;
  token.setIssuer("https://issuer.example");
  token.setSubject("alice");
  token.setAudience("coda");
  token.payload().set("scope", "coda.tasks");
  token.setExpiration(Poco::Timestamp() + Poco::Timespan(300, 0));
  token.header().set("kid", "key-1");
  Poco::JWT::Signer hmac(issuer().jwk());
  EXPECT_EQ(call(*a, hmac.sign(token, "HS256")).status, 401);
  std::string unsigned_token = base64url_encode(R"({"alg":"none","kid":"key-1"})") + "." +
                               base64url_encode(R"({"iss":"https://issuer.example","sub":"alice",)"
                                                R"("aud":"coda","exp":99999999999})") +
                               ".";
  EXPECT_EQ(call(*a, unsigned_token).status, 401);
}

TEST_F(OAuthMode, MissingScopeIs403InsufficientScope) {
  auto a = make();
  TestIssuer::Claims narrow;
  narrow.scope = "openid profile";
  auto result = call(*a, issuer().sign(narrow));
  EXPECT_EQ(result.status, 403);
  std::string challenge = header_of(result, "WWW-Authenticate");
  EXPECT_NE(challenge.find("error=\"insufficient_scope\""), std::string::npos) << challenge;
  EXPECT_NE(challenge.find("scope=\"coda.tasks\""), std::string::npos) << challenge;
}

TEST_F(OAuthMode, ServesProtectedResourceMetadataAtBothPaths) {
  auto a = make(R"(,"authorization_servers":["https://login.example"])");
  for (std::string path : {"/.well-known/oauth-protected-resource",
                           "/.well-known/oauth-protected-resource/mcp"}) {
    EXPECT_TRUE(a->is_public_path(path)) << path;
    auto request = request_with({}, path);
    request.method = "GET";
    auto response = a->serve_public(request);
    ASSERT_TRUE(response.has_value()) << path;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->content_type, "application/json");
    auto doc = Poco::JSON::Parser().parse(response->body).extract<Poco::JSON::Object::Ptr>();
    EXPECT_EQ(doc->getValue<std::string>("resource"), "https://coda.example/mcp");
    EXPECT_EQ(doc->getArray("authorization_servers")->getElement<std::string>(0),
              "https://login.example");
    EXPECT_EQ(doc->getArray("scopes_supported")->getElement<std::string>(0), "coda.tasks");
  }
  EXPECT_FALSE(a->is_public_path("/.well-known/oauth-protected-resourcex"));
  EXPECT_FALSE(a->is_public_path("/mcp"));
  auto post = request_with({}, "/.well-known/oauth-protected-resource");
  EXPECT_EQ(a->serve_public(post)->status, 405);
}

TEST_F(OAuthMode, WithoutPublicUrlTheMetadataFollowsTheHostHeader) {
  std::string jwks = dir_.write("jwks.json", TestIssuer::jwks({&issuer()}));
  config::AuthConfig auth;
  auth.mode = "oauth";
  auth.oauth_json =
      R"({"issuer":"https://issuer.example","audience":"coda","jwks_file":")" + jwks + R"("})";
  auto a = Authenticator::create(auth, config::ServerConfig{});
  auto result = a->authenticate(request_with({{"host", "127.0.0.1:8123"}}));
  EXPECT_EQ(header_of(result, "WWW-Authenticate"),
            "Bearer resource_metadata=\"http://127.0.0.1:8123/.well-known/"
            "oauth-protected-resource/mcp\"");
  // Found by fuzz_http_request: a Host the URI parser rejects once made authenticate() throw.
  auto odd = a->authenticate(request_with({{"host", "127...0810:000"}}));
  EXPECT_EQ(odd.status, 401);
  EXPECT_NE(header_of(odd, "WWW-Authenticate").find("resource_metadata="), std::string::npos);
  auto evil = a->authenticate(request_with({{"host", "evil\"host"}}));
  EXPECT_EQ(header_of(evil, "WWW-Authenticate").find("evil"), std::string::npos);
}

void expect_config_error(const std::string& oauth_json, const std::string& key_path) {
  config::AuthConfig auth;
  auth.mode = "oauth";
  auth.oauth_json = oauth_json;
  try {
    Authenticator::create(auth, config::ServerConfig{});
    ADD_FAILURE() << "expected a ConfigError for " << oauth_json;
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(e.key_path(), key_path) << e.what();
  }
}

TEST(OAuthConfig, UnusableSettingsAreConfigErrors) {
  expect_config_error("{}", "auth.oauth.issuer");
  expect_config_error(R"({"issuer":"i"})", "auth.oauth.audience");
  expect_config_error(R"({"issuer":"i","audience":"a"})", "auth.oauth");
  expect_config_error(R"({"issuer":"i","audience":"a","jwks_file":"/nonexistent"})",
                      "auth.oauth.jwks_file");
  expect_config_error(R"({"issuer":"i","audience":"a","jwks_file":"f","jwks_url":"u"})",
                      "auth.oauth");
  expect_config_error(R"({"issuer":"i","audience":[1],"jwks_file":"f"})", "auth.oauth.audience");
  expect_config_error(R"({"issuer":"i","audiense":"a"})", "auth.oauth.audiense");
  expect_config_error(R"({"issuer":"i","audience":"a","jwks_file":"f","leeway_s":-1})",
                      "auth.oauth.leeway_s");
  coda::test::TempDir dir;
  expect_config_error(R"({"issuer":"i","audience":"a","jwks_file":")" +
                          dir.write("bad.json", R"({"keys":[{"kty":"oct","k":"abc"}]})") + "\"}",
                      "auth.oauth.jwks_file");
}

// A JWKS endpoint on 127.0.0.1 whose key set the test can change (key rotation).
class JwksServer {
 public:
  explicit JwksServer(std::string body) : body_(std::move(body)) {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket,
                                                      new Poco::Net::HTTPServerParams);
    server_->start();
    url_ = "http://127.0.0.1:" + std::to_string(socket.address().port()) + "/jwks.json";
  }
  ~JwksServer() {
    release();  // a held handler would keep stopAll waiting
    server_->stopAll(true);
  }
  const std::string& url() const { return url_; }
  void set_body(std::string body) {
    std::lock_guard lock(mutex_);
    body_ = std::move(body);
  }
  int fetches() const { return fetches_; }
  // While held, every request is counted and then answered only after release() (a stalled issuer).
  void hold() {
    std::lock_guard lock(mutex_);
    held_ = true;
  }
  void release() {
    {
      std::lock_guard lock(mutex_);
      held_ = false;
    }
    released_.notify_all();
  }

 private:
  class Handler : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(JwksServer& owner) : owner_(owner) {}
    void handleRequest(Poco::Net::HTTPServerRequest&,
                       Poco::Net::HTTPServerResponse& response) override {
      ++owner_.fetches_;
      std::string body;
      {
        std::unique_lock lock(owner_.mutex_);
        owner_.released_.wait(lock, [&] { return !owner_.held_; });
        body = owner_.body_;
      }
      response.setContentType("application/json");
      response.sendBuffer(body.data(), body.size());
    }

   private:
    JwksServer& owner_;
  };
  class Factory : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(JwksServer& owner) : owner_(owner) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
      return new Handler(owner_);
    }

   private:
    JwksServer& owner_;
  };

  std::mutex mutex_;
  std::condition_variable released_;
  bool held_ = false;
  std::string body_;
  std::atomic<int> fetches_{0};
  std::string url_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

TEST(OAuthJwksUrl, FetchesTheKeySetAndRefetchesOnAnUnknownKid) {
  TestIssuer rotated("key-2");
  JwksServer jwks(TestIssuer::jwks({&issuer()}));
  config::AuthConfig auth;
  auth.mode = "oauth";
  auth.oauth_json = R"({"issuer":"https://issuer.example","audience":"coda","jwks_url":")" +
                    jwks.url() + R"(","jwks_refresh_s":1})";
  auto a = Authenticator::create(auth, config::ServerConfig{});
  EXPECT_EQ(jwks.fetches(), 1);
  auto bearer = [](const std::string& token) {
    return request_with({{"authorization", "Bearer " + token}});
  };
  EXPECT_TRUE(a->authenticate(bearer(issuer().sign({}))).ok());
  EXPECT_EQ(jwks.fetches(), 1) << "a known kid must not refetch";
  jwks.set_body(TestIssuer::jwks({&issuer(), &rotated}));
  // The refetch interval is 1 s; keep trying for a while rather than assuming a time.
  bool accepted = false;
  for (int i = 0; i < 50 && !accepted; ++i) {
    accepted = a->authenticate(bearer(rotated.sign({}))).ok();
    if (!accepted) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(accepted);
  EXPECT_LE(jwks.fetches(), 4) << "unknown kids must not hammer the issuer";
}

TEST(OAuthJwksUrl, ASlowRefetchDoesNotBlockTokensWithKnownKeys) {
  TestIssuer rotated("key-3");
  JwksServer jwks(TestIssuer::jwks({&issuer()}));
  config::AuthConfig auth;
  auth.mode = "oauth";
  auth.oauth_json = R"({"issuer":"https://issuer.example","audience":"coda","jwks_url":")" +
                    jwks.url() + R"(","jwks_refresh_s":1})";
  auto a = Authenticator::create(auth, config::ServerConfig{});
  ASSERT_EQ(jwks.fetches(), 1);
  auto bearer = [](const std::string& token) {
    return request_with({{"authorization", "Bearer " + token}});
  };
  jwks.set_body(TestIssuer::jwks({&issuer(), &rotated}));
  jwks.hold();  // the issuer stalls from now on
  // A caller with a rotated key keeps trying until its request is the one that refetches (once the
  // 1 s refresh interval has passed); that request then hangs in the stalled fetch.
  const std::string rotated_token = rotated.sign({});
  auto rotating = std::async(std::launch::async, [&] {
    for (int i = 0; i < 600; ++i) {
      if (a->authenticate(bearer(rotated_token)).ok()) return true;
      if (jwks.fetches() >= 2) return false;  // an earlier attempt hit the stall
      std::this_thread::sleep_for(10ms);
    }
    return false;
  });
  for (int i = 0; i < 1000 && jwks.fetches() < 2; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(jwks.fetches(), 2) << "the unknown kid never refetched";

  // While the fetch hangs, a token with a known key is verified (without waiting for the fetch),
  // and another unknown kid is refused at once rather than queueing behind it.
  auto known = std::async(std::launch::async, [&] {
    return a->authenticate(bearer(issuer().sign({}))).ok();
  });
  auto other_unknown = std::async(std::launch::async, [&] {
    return a->authenticate(bearer(TestIssuer("key-4").sign({}))).status;
  });
  // Verification takes milliseconds. The bound only has to stay below the fetch's own 10 s time
  // limit, after which even a lock held across the fetch would have let these through.
  bool known_done = known.wait_for(5s) == std::future_status::ready;
  bool other_done = other_unknown.wait_for(5s) == std::future_status::ready;
  EXPECT_EQ(jwks.fetches(), 2) << "the stalled fetch was not the only one";
  jwks.release();
  ASSERT_TRUE(known_done) << "a known key waited for the JWKS fetch";
  EXPECT_TRUE(known.get());
  ASSERT_TRUE(other_done) << "an unknown kid queued behind the stalled fetch";
  EXPECT_EQ(other_unknown.get(), 401);
  // The stalled fetch completes: the rotated key is now known.
  rotating.wait();
  EXPECT_TRUE(a->authenticate(bearer(rotated_token)).ok());
}

TEST(OAuthJwksUrl, UnreachableUrlIsAConfigError) {
  config::AuthConfig auth;
  auth.mode = "oauth";
  auth.oauth_json =
      R"({"issuer":"i","audience":"a","jwks_url":"http://127.0.0.1:1/jwks.json"})";
  EXPECT_THROW(Authenticator::create(auth, config::ServerConfig{}), config::ConfigError);
}

}  // namespace
}  // namespace coda::auth
