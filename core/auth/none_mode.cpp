#include "core/auth/modes.hpp"

namespace coda::auth {
namespace {

// Thread-safe: stateless.
class NoneAuthenticator final : public Authenticator {
 public:
  AuthResult authenticate(const RequestView& /*request*/) override {
    return AuthResult::allow(Identity::local_user());
  }
  bool is_public_path(const std::string& /*path*/) const override { return false; }
  std::string mode() const override { return "none"; }
  bool requires_loopback() const override { return true; }
};

}  // namespace

std::unique_ptr<Authenticator> make_none_authenticator() {
  return std::make_unique<NoneAuthenticator>();
}

}  // namespace coda::auth
