#include "core/mcp/origin.hpp"

#include <sstream>
#include <stdexcept>

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>

namespace coda::mcp {
namespace {

std::string string_member(const Poco::JSON::Object::Ptr& obj, const std::string& name) {
  if (!obj->has(name) || obj->isNull(name)) return "";
  Poco::Dynamic::Var v = obj->get(name);
  if (!v.isString()) throw std::invalid_argument("origin: '" + name + "' must be a string");
  return v.extract<std::string>();
}

}  // namespace

RequestContext context_from_origin_json(std::string_view origin_json, bool default_local_user) {
  RequestContext ctx;
  if (origin_json.empty()) {
    if (default_local_user) ctx.identity = auth::Identity::local_user();
    return ctx;
  }
  Poco::JSON::Object::Ptr obj;
  try {
    Poco::JSON::Parser parser;
    obj = parser.parse(std::string(origin_json)).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    throw std::invalid_argument("origin: not a JSON object: " + e.displayText());
  } catch (const std::bad_cast&) {
    throw std::invalid_argument("origin: not a JSON object");
  }
  ctx.transport = string_member(obj, "transport");
  ctx.session_id = string_member(obj, "session_id");
  ctx.protocol_version = string_member(obj, "protocol_version");
  ctx.request_id = string_member(obj, "request_id");
  ctx.base_url = string_member(obj, "base_url");
  if (obj->has("conn") && !obj->isNull("conn")) {
    Poco::Dynamic::Var conn = obj->get("conn");
    if (!conn.isInteger()) throw std::invalid_argument("origin: 'conn' must be an integer");
    ctx.connection = conn.convert<std::uint64_t>();
  }
  Poco::JSON::Object::Ptr identity = obj->has("identity") ? obj->getObject("identity") : nullptr;
  if (!identity.isNull()) {
    ctx.identity = auth::Identity::from_json(identity);
  } else if (obj->has("identity") && !obj->isNull("identity")) {
    throw std::invalid_argument("origin: 'identity' must be an object");
  } else if (default_local_user) {
    ctx.identity = auth::Identity::local_user();
  }
  return ctx;
}

std::string origin_json_of(const RequestContext& ctx) {
  Poco::JSON::Object obj(Poco::JSON_PRESERVE_KEY_ORDER);
  obj.set("transport", ctx.transport);
  if (ctx.connection != 0) obj.set("conn", ctx.connection);
  obj.set("identity", ctx.identity.to_json());
  if (!ctx.session_id.empty()) obj.set("session_id", ctx.session_id);
  if (!ctx.protocol_version.empty()) obj.set("protocol_version", ctx.protocol_version);
  if (!ctx.request_id.empty()) obj.set("request_id", ctx.request_id);
  if (!ctx.base_url.empty()) obj.set("base_url", ctx.base_url);
  std::ostringstream out;
  obj.stringify(out);
  return out.str();
}

}  // namespace coda::mcp
