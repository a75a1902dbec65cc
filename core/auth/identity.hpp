#pragma once

#include <string>

#include <Poco/JSON/Object.h>

namespace coda::auth {

// Who sent a request, as established by the transport's authentication — never by a tool argument.
// When auth is off (loopback only), every request is the local user (authenticated == false).
struct Identity {
  std::string subject;       // stable unique id: the task owner key
  std::string email;         // may be empty
  std::string display_name;  // may be empty
  bool admin = false;        // may see every owner's tasks
  bool authenticated = false;

  // The local user of a host without authentication.
  static Identity local_user();

  // {"subject","email","name","admin","authenticated"}
  Poco::JSON::Object::Ptr to_json() const;
  std::string to_json_text() const;
  // Missing fields stay empty/false. Throws std::invalid_argument on a non-object.
  static Identity from_json(const Poco::JSON::Object::Ptr& json);
  static Identity from_json_text(const std::string& text);
};

}  // namespace coda::auth
