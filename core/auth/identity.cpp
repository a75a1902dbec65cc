#include "core/auth/identity.hpp"

#include <stdexcept>

#include <Poco/Environment.h>
#include <Poco/JSON/Parser.h>

#include "coda/plugin.hpp"

namespace coda::auth {

Identity Identity::local_user() {
  static const Identity local = [] {
    Identity id;
    std::string user = Poco::Environment::get("USER", "");
    id.subject = user.empty() ? "local" : user;
    id.display_name = id.subject;
    id.admin = true;  // the only user of an unauthenticated loopback host owns everything on it
    id.authenticated = false;
    return id;
  }();
  return local;
}

Poco::JSON::Object::Ptr Identity::to_json() const {
  Poco::JSON::Object::Ptr obj = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  obj->set("subject", subject);
  obj->set("email", email);
  obj->set("name", display_name);
  obj->set("admin", admin);
  obj->set("authenticated", authenticated);
  return obj;
}

std::string Identity::to_json_text() const {
  using sdk::json_quote;
  return R"({"subject":)" + json_quote(subject) + R"(,"email":)" + json_quote(email) +
         R"(,"name":)" + json_quote(display_name) + R"(,"admin":)" + (admin ? "true" : "false") +
         R"(,"authenticated":)" + (authenticated ? "true" : "false") + "}";
}

Identity Identity::from_json(const Poco::JSON::Object::Ptr& json) {
  if (json.isNull()) throw std::invalid_argument("identity: expected a JSON object");
  Identity id;
  id.subject = json->optValue<std::string>("subject", "");
  id.email = json->optValue<std::string>("email", "");
  id.display_name = json->optValue<std::string>("name", "");
  id.admin = json->optValue<bool>("admin", false);
  id.authenticated = json->optValue<bool>("authenticated", false);
  return id;
}

Identity Identity::from_json_text(const std::string& text) {
  Poco::JSON::Parser parser;
  auto value = parser.parse(text);
  auto obj = value.extract<Poco::JSON::Object::Ptr>();
  return from_json(obj);
}

}  // namespace coda::auth
