#include "core/auth/secrets.hpp"

#include <cctype>

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>
#include <Poco/String.h>

namespace coda::auth {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(data.data(), static_cast<unsigned>(data.size()));
  return Poco::DigestEngine::digestToHex(engine.digest());
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  volatile unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

std::optional<std::string> bearer_token(const RequestView& request) {
  auto header = request.header("authorization");
  if (!header) return std::nullopt;
  std::string_view value = trim(*header);
  constexpr std::string_view kScheme = "bearer";
  if (value.size() <= kScheme.size() || Poco::icompare(std::string(value.substr(0, kScheme.size())), std::string(kScheme)) != 0 ||
      !std::isspace(static_cast<unsigned char>(value[kScheme.size()]))) {
    return std::nullopt;
  }
  std::string_view token = trim(value.substr(kScheme.size()));
  if (token.empty()) return std::nullopt;
  return std::string(token);
}

}  // namespace coda::auth
