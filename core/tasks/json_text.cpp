#include "core/tasks/json_text.hpp"

#include <sstream>

#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include "coda/json_depth.hpp"

namespace coda::tasks {

std::optional<Poco::Dynamic::Var> parse_json(const std::string& text) {
  // Texts here come from agents (result.json, reports) and from the store: a 100 000-deep "[[[["
  // would overflow the recursive parser's stack and take the host down with it.
  if (sdk::json_nesting_exceeds(text)) return std::nullopt;
  try {
    Poco::JSON::Parser parser;
    return parser.parse(text);
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

Poco::JSON::Object::Ptr parse_object(const std::string& text) {
  auto value = parse_json(text);
  if (!value || value->type() != typeid(Poco::JSON::Object::Ptr)) return nullptr;
  return value->extract<Poco::JSON::Object::Ptr>();
}

Poco::JSON::Array::Ptr parse_array_or_empty(const std::string& text) {
  auto value = parse_json(text);
  if (!value || value->type() != typeid(Poco::JSON::Array::Ptr)) return new Poco::JSON::Array;
  return value->extract<Poco::JSON::Array::Ptr>();
}

std::string to_json_text(const Poco::Dynamic::Var& value) {
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(value, out);
  return out.str();
}

}  // namespace coda::tasks
