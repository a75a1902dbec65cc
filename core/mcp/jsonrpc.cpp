#include "core/mcp/jsonrpc.hpp"

#include <sstream>
#include <typeinfo>

#include <Poco/JSON/Stringifier.h>

#include "coda/plugin.hpp"

namespace coda::mcp::jsonrpc {

std::string to_text(const Poco::Dynamic::Var& value) {
  // The common cases (ids, names) without a stream.
  const std::type_info& type = value.type();
  if (type == typeid(std::string)) return quote(value.extract<std::string>());
  if (type == typeid(Poco::Int64)) return std::to_string(value.extract<Poco::Int64>());
  if (type == typeid(Poco::UInt64)) return std::to_string(value.extract<Poco::UInt64>());
  if (type == typeid(int)) return std::to_string(value.extract<int>());
  if (type == typeid(unsigned)) return std::to_string(value.extract<unsigned>());
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(value, out);
  return out.str();
}

std::string quote(std::string_view text) { return sdk::json_quote(text); }

std::string result(const std::string& id_text, std::string_view result_text) {
  std::string out;
  out.reserve(40 + id_text.size() + result_text.size());
  out += R"({"jsonrpc":"2.0","id":)";
  out += id_text;
  out += R"(,"result":)";
  out += result_text;
  out += '}';
  return out;
}

std::string error(const std::string& id_text, int code, std::string_view message) {
  std::string out = R"({"jsonrpc":"2.0",)";
  if (!id_text.empty()) out += R"("id":)" + id_text + ",";
  out += R"("error":{"code":)" + std::to_string(code) + R"(,"message":)" + quote(message) + "}}";
  return out;
}

std::string notification(std::string_view method, const Poco::JSON::Object::Ptr& params) {
  std::string out = R"({"jsonrpc":"2.0","method":)" + quote(method);
  if (!params.isNull()) out += R"(,"params":)" + to_text(params);
  out += '}';
  return out;
}

}  // namespace coda::mcp::jsonrpc
