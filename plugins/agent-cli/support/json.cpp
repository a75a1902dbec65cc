#include "json.hpp"

#include <Poco/JSON/Parser.h>

#include <sstream>

#include <coda/json_depth.hpp>

namespace coda::agents {

JsonObject parse_object(std::string_view text) {
  // An agent's output is untrusted: a line nested past the shared limit is no event.
  if (sdk::json_nesting_exceeds(text)) return nullptr;
  try {
    Poco::JSON::Parser parser;
    auto value = parser.parse(std::string(text));
    return value.extract<JsonObject>();
  } catch (...) {
    return nullptr;
  }
}

std::string to_json(const JsonObject& object) {
  std::ostringstream out;
  if (object) object->stringify(out); else out << "null";
  return out.str();
}

std::string to_json(const JsonArray& array) {
  std::ostringstream out;
  if (array) array->stringify(out); else out << "null";
  return out.str();
}

std::optional<Poco::Dynamic::Var> member(const JsonObject& object, std::string_view path) {
  try {
    JsonObject current = object;
    while (current) {
      const auto dot = path.find('.');
      const std::string key(path.substr(0, dot));
      if (!current->has(key)) return std::nullopt;
      auto value = current->get(key);
      if (dot == std::string_view::npos) {
        if (value.isEmpty()) return std::nullopt;
        return value;
      }
      if (value.type() != typeid(JsonObject)) return std::nullopt;
      current = value.extract<JsonObject>();
      path = path.substr(dot + 1);
    }
  } catch (...) {
  }
  return std::nullopt;
}

std::optional<std::string> get_string(const JsonObject& object, std::string_view path) {
  auto value = member(object, path);
  if (!value || !value->isString()) return std::nullopt;
  return value->convert<std::string>();
}

std::optional<double> get_number(const JsonObject& object, std::string_view path) {
  auto value = member(object, path);
  if (!value || !value->isNumeric()) return std::nullopt;
  try {
    return value->convert<double>();
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<bool> get_bool(const JsonObject& object, std::string_view path) {
  auto value = member(object, path);
  if (!value || !value->isBoolean()) return std::nullopt;
  return value->convert<bool>();
}

JsonObject get_object(const JsonObject& object, std::string_view path) {
  auto value = member(object, path);
  if (!value || value->type() != typeid(JsonObject)) return nullptr;
  return value->extract<JsonObject>();
}

JsonArray get_array(const JsonObject& object, std::string_view path) {
  auto value = member(object, path);
  if (!value || value->type() != typeid(JsonArray)) return nullptr;
  return value->extract<JsonArray>();
}

std::string peek_type(std::string_view line) {
  const auto key = line.find("\"type\"");
  if (key == std::string_view::npos) return {};
  auto pos = line.find_first_not_of(" \t:", key + 6);
  if (pos == std::string_view::npos || line[pos] != '"') return {};
  const auto end = line.find('"', pos + 1);
  if (end == std::string_view::npos) return {};
  return std::string(line.substr(pos + 1, end - pos - 1));
}

}  // namespace coda::agents
