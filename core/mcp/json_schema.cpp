#include "core/mcp/json_schema.hpp"

#include <cmath>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Stringifier.h>

namespace coda::mcp {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

std::string to_json_text(const Var& value) {
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(value, out);
  return out.str();
}

bool is_object(const Var& v) { return v.type() == typeid(Object::Ptr); }
bool is_array(const Var& v) { return v.type() == typeid(Array::Ptr); }

bool is_integral_number(const Var& v) {
  if (!v.isNumeric() || v.type() == typeid(bool)) return false;
  if (v.isInteger()) return true;
  double d = v.convert<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

bool has_type(const Var& value, const std::string& type) {
  std::string actual = json_type_name(value);
  if (type == actual) return true;
  if (type == "number") return actual == "integer";
  if (type == "integer") return actual == "number" && is_integral_number(value);
  return false;
}

bool json_equal(const Var& a, const Var& b) {
  if (a.isNumeric() && b.isNumeric() && a.type() != typeid(bool) && b.type() != typeid(bool)) {
    return a.convert<double>() == b.convert<double>();
  }
  return to_json_text(a) == to_json_text(b);
}

std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string number_text(double d) {
  std::ostringstream out;
  out << d;
  return out.str();
}

std::optional<std::string> check(const Var& value, const Object::Ptr& schema, const std::string& at);

std::optional<std::string> check_type(const Var& value, const Object::Ptr& schema,
                                      const std::string& at) {
  if (!schema->has("type")) return std::nullopt;
  Var type = schema->get("type");
  std::vector<std::string> names;
  if (is_array(type)) {
    auto arr = type.extract<Array::Ptr>();
    for (std::size_t i = 0; i < arr->size(); ++i) names.push_back(arr->get(i).toString());
  } else {
    names.push_back(type.toString());
  }
  for (const auto& name : names) {
    if (has_type(value, name)) return std::nullopt;
  }
  std::string expected;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) expected += i + 1 == names.size() ? " or " : ", ";
    expected += names[i];
  }
  return at + ": expected " + expected + ", got " + json_type_name(value);
}

std::optional<std::string> check_object(const Object::Ptr& obj, const Object::Ptr& schema,
                                        const std::string& at) {
  if (auto required = schema->getArray("required")) {
    for (std::size_t i = 0; i < required->size(); ++i) {
      std::string name = required->get(i).toString();
      if (!obj->has(name)) return at + ": missing required property '" + name + "'";
    }
  }
  Object::Ptr properties = schema->getObject("properties");
  Var additional = schema->has("additionalProperties") ? schema->get("additionalProperties") : Var();
  for (const auto& [name, member] : *obj) {
    std::string child = at + "." + name;
    if (!properties.isNull() && properties->has(name)) {
      Object::Ptr sub = properties->getObject(name);
      if (!sub.isNull()) {
        if (auto error = check(member, sub, child)) return error;
      }
      continue;
    }
    if (additional.isEmpty()) continue;
    if (additional.type() == typeid(bool)) {
      if (!additional.extract<bool>()) {
        std::string known;
        if (!properties.isNull()) {
          for (const auto& entry : *properties) known += (known.empty() ? "" : ", ") + entry.first;
        }
        return at + ": unknown property '" + name + "'" +
               (known.empty() ? "" : " (expected one of: " + known + ")");
      }
    } else if (is_object(additional)) {
      if (auto error = check(member, additional.extract<Object::Ptr>(), child)) return error;
    }
  }
  return std::nullopt;
}

std::optional<std::string> check_array(const Array::Ptr& arr, const Object::Ptr& schema,
                                       const std::string& at) {
  if (schema->has("minItems") && arr->size() < schema->getValue<std::size_t>("minItems")) {
    return at + ": must have at least " + schema->get("minItems").toString() + " items";
  }
  if (schema->has("maxItems") && arr->size() > schema->getValue<std::size_t>("maxItems")) {
    return at + ": must have at most " + schema->get("maxItems").toString() + " items";
  }
  Object::Ptr items = schema->getObject("items");
  if (items.isNull()) return std::nullopt;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    if (auto error = check(arr->get(i), items, at + "[" + std::to_string(i) + "]")) return error;
  }
  return std::nullopt;
}

std::optional<std::string> check_number(double d, const Object::Ptr& schema, const std::string& at) {
  auto bound = [&](const char* key) { return schema->getValue<double>(key); };
  if (schema->has("minimum") && d < bound("minimum")) {
    return at + ": must be at least " + number_text(bound("minimum")) + " (got " + number_text(d) + ")";
  }
  if (schema->has("maximum") && d > bound("maximum")) {
    return at + ": must be at most " + number_text(bound("maximum")) + " (got " + number_text(d) + ")";
  }
  if (schema->has("exclusiveMinimum") && schema->get("exclusiveMinimum").isNumeric() &&
      d <= bound("exclusiveMinimum")) {
    return at + ": must be greater than " + number_text(bound("exclusiveMinimum"));
  }
  if (schema->has("exclusiveMaximum") && schema->get("exclusiveMaximum").isNumeric() &&
      d >= bound("exclusiveMaximum")) {
    return at + ": must be less than " + number_text(bound("exclusiveMaximum"));
  }
  return std::nullopt;
}

std::optional<std::string> check_string(const std::string& s, const Object::Ptr& schema,
                                        const std::string& at) {
  std::size_t n = code_points(s);
  if (schema->has("minLength") && n < schema->getValue<std::size_t>("minLength")) {
    return at + ": must be at least " + schema->get("minLength").toString() + " characters long";
  }
  if (schema->has("maxLength") && n > schema->getValue<std::size_t>("maxLength")) {
    return at + ": must be at most " + schema->get("maxLength").toString() + " characters long";
  }
  return std::nullopt;
}

std::optional<std::string> check(const Var& value, const Object::Ptr& schema, const std::string& at) {
  if (auto error = check_type(value, schema, at)) return error;
  if (auto allowed = schema->getArray("enum")) {
    bool found = false;
    for (std::size_t i = 0; i < allowed->size() && !found; ++i) found = json_equal(value, allowed->get(i));
    if (!found) {
      return at + ": must be one of " + to_json_text(Var(allowed)) + " (got " + to_json_text(value) +
             ")";
    }
  }
  if (schema->has("const") && !json_equal(value, schema->get("const"))) {
    return at + ": must be " + to_json_text(schema->get("const"));
  }
  if (is_object(value)) return check_object(value.extract<Object::Ptr>(), schema, at);
  if (is_array(value)) return check_array(value.extract<Array::Ptr>(), schema, at);
  if (value.isString()) return check_string(value.extract<std::string>(), schema, at);
  if (value.isNumeric() && value.type() != typeid(bool)) {
    return check_number(value.convert<double>(), schema, at);
  }
  return std::nullopt;
}

}  // namespace

std::string json_type_name(const Var& value) {
  if (value.isEmpty()) return "null";
  if (is_object(value)) return "object";
  if (is_array(value)) return "array";
  if (value.type() == typeid(bool)) return "boolean";
  if (value.isString()) return "string";
  if (value.isInteger()) return "integer";
  if (value.isNumeric()) return "number";
  return "unknown";
}

std::optional<std::string> validate_json_schema(const Var& value, const Object::Ptr& schema,
                                                const std::string& where) {
  if (schema.isNull()) return std::nullopt;
  return check(value, schema, where);
}

}  // namespace coda::mcp
