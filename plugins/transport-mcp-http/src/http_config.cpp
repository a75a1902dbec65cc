#include "http_config.hpp"

#include <set>
#include <stdexcept>

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace coda::mcp_http {
using Poco::Dynamic::Var;

HttpConfig HttpConfig::parse(std::string_view json) {
  HttpConfig config;
  if (json.empty()) return config;
  Poco::JSON::Object::Ptr obj;
  try {
    Poco::JSON::Parser parser;
    obj = parser.parse(std::string(json)).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    throw std::invalid_argument("expected a mapping of settings (" + e.displayText() + ")");
  }
  static const std::set<std::string> kKnown = {"path", "response_mode", "sessions",
                                               "session_ttl_s", "max_body_bytes",
                                               "keepalive_s"};
  for (const auto& [key, value] : *obj) {
    if (kKnown.count(key) == 0) {
      throw std::invalid_argument("unknown key '" + key +
                                  "' (known: path, response_mode, sessions, session_ttl_s, keepalive_s, "
                                  "max_body_bytes; Host and Origin are the listener's: "
                                  "server.allowed_hosts, server.allowed_origins)");
    }
  }
  try {
    if (obj->has("path")) {
      config.path = obj->getValue<std::string>("path");
      if (config.path.empty() || config.path.front() != '/') {
        throw std::invalid_argument("path: must start with '/' (got '" + config.path + "')");
      }
      while (config.path.size() > 1 && config.path.back() == '/') config.path.pop_back();
    }
    if (obj->has("response_mode")) {
      std::string mode = obj->getValue<std::string>("response_mode");
      if (mode == "auto") config.response_mode = ResponseMode::kAuto;
      else if (mode == "json") config.response_mode = ResponseMode::kJson;
      else if (mode == "sse") config.response_mode = ResponseMode::kSse;
      else throw std::invalid_argument("response_mode: must be auto, json or sse (got '" + mode + "')");
    }
    if (obj->has("sessions")) {
      Var v = obj->get("sessions");
      if (v.type() != typeid(bool)) throw std::invalid_argument("sessions: expected true or false");
      config.sessions = v.extract<bool>();
    }
    if (obj->has("session_ttl_s")) {
      Var v = obj->get("session_ttl_s");
      if (!v.isInteger() || v.convert<long long>() <= 0) {
        throw std::invalid_argument("session_ttl_s: expected a positive number of seconds");
      }
      config.session_ttl_s = v.convert<int>();
    }
    if (obj->has("keepalive_s")) {
      Var v = obj->get("keepalive_s");
      if (!v.isInteger() || v.convert<long long>() < 1 || v.convert<long long>() > 300) {
        throw std::invalid_argument("keepalive_s: expected a whole number of seconds from 1 to 300");
      }
      config.keepalive_s = v.convert<int>();
    }
    if (obj->has("max_body_bytes")) {
      Var v = obj->get("max_body_bytes");
      if (!v.isInteger() || v.convert<long long>() <= 0) {
        throw std::invalid_argument("max_body_bytes: expected a positive number of bytes");
      }
      config.max_body_bytes = v.convert<std::size_t>();
    }
  } catch (const Poco::Exception& e) {
    throw std::invalid_argument("wrong type: " + e.displayText());
  }
  return config;
}

}  // namespace coda::mcp_http
