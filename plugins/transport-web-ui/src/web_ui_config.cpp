#include "web_ui_config.hpp"

#include <set>
#include <stdexcept>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace coda::webui {
namespace {

[[noreturn]] void fail(const std::string& key, const std::string& what) {
  throw std::invalid_argument("transport-web-ui: " + key + ": " + what);
}

std::string get_path(const Poco::JSON::Object& obj, const std::string& key, std::string fallback) {
  if (!obj.has(key)) return fallback;
  const Poco::Dynamic::Var value = obj.get(key);
  if (!value.isString()) fail(key, "expected a string such as \"" + fallback + "\"");
  std::string path = value.extract<std::string>();
  if (path.size() < 2 || path.front() != '/' || path.back() == '/' ||
      path.find_first_of("?#* \t") != std::string::npos) {
    fail(key, "expected an absolute path without a trailing '/', such as \"" + fallback +
                  "\", got \"" + path + "\"");
  }
  return path;
}

int get_int(const Poco::JSON::Object& obj, const std::string& key, int fallback, int min, int max) {
  if (!obj.has(key)) return fallback;
  const Poco::Dynamic::Var value = obj.get(key);
  if (!value.isInteger()) fail(key, "expected an integer from " + std::to_string(min) + " to " +
                                        std::to_string(max));
  const long long n = value.convert<long long>();
  if (n < min || n > max) {
    fail(key, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) +
                  ", got " + std::to_string(n));
  }
  return static_cast<int>(n);
}

}  // namespace

WebUiConfig WebUiConfig::parse(std::string_view json) {
  WebUiConfig config;
  Poco::JSON::Object::Ptr obj;
  try {
    obj = Poco::JSON::Parser().parse(std::string(json)).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    fail("(config)", "expected a JSON object: " + e.displayText());
  }
  if (obj.isNull()) fail("(config)", "expected a mapping");
  static const std::set<std::string> kKnown = {
      "path",           "ws_path",          "mcp_path",        "redirect_root",
      "assets_dir",     "ticket_ttl_s",     "max_connections", "max_calls_per_connection",
      "max_message_kb", "poll_interval_ms", "frame_ancestors"};
  for (const auto& [key, value] : *obj) {
    (void)value;
    if (kKnown.count(key) == 0) {
      std::string known;
      for (const auto& k : kKnown) known += (known.empty() ? "" : ", ") + k;
      fail(key, "unknown key (known keys: " + known + ")");
    }
  }
  config.ui_path = get_path(*obj, "path", config.ui_path);
  config.ws_path = get_path(*obj, "ws_path", config.ws_path);
  config.mcp_path = get_path(*obj, "mcp_path", config.mcp_path);
  if (config.ws_path == config.ui_path || config.ws_path.rfind(config.ui_path + "/", 0) == 0) {
    fail("ws_path", "must not lie under path \"" + config.ui_path + "\"");
  }
  if (obj->has("redirect_root")) {
    const Poco::Dynamic::Var value = obj->get("redirect_root");
    if (!value.isBoolean()) fail("redirect_root", "expected true or false");
    config.redirect_root = value.extract<bool>();
  }
  if (obj->has("assets_dir")) {
    const Poco::Dynamic::Var value = obj->get("assets_dir");
    if (!value.isString()) fail("assets_dir", "expected a directory path (a string)");
    config.assets_dir = value.extract<std::string>();
  }
  config.ticket_ttl_s = get_int(*obj, "ticket_ttl_s", config.ticket_ttl_s, 1, 600);
  config.max_connections = get_int(*obj, "max_connections", config.max_connections, 1, 100000);
  config.max_calls_per_connection =
      get_int(*obj, "max_calls_per_connection", config.max_calls_per_connection, 1, 1024);
  config.max_message_bytes =
      static_cast<std::size_t>(get_int(*obj, "max_message_kb", 1024, 1, 65536)) * 1024u;
  config.poll_interval_ms = get_int(*obj, "poll_interval_ms", config.poll_interval_ms, 100, 60000);
  if (obj->has("frame_ancestors")) {
    const Poco::Dynamic::Var value = obj->get("frame_ancestors");
    if (!value.isString()) fail("frame_ancestors", "expected a CSP source list such as \"'none'\"");
    config.frame_ancestors = value.extract<std::string>();
    if (config.frame_ancestors.empty() ||
        config.frame_ancestors.find_first_of(";,\r\n") != std::string::npos) {
      fail("frame_ancestors", "expected a CSP source list such as \"'none'\" or \"'self'\"");
    }
  }
  return config;
}

}  // namespace coda::webui
