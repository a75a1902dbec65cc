#pragma once

#include <optional>
#include <string>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

// Small JSON helpers for the JSON-text fields of tasks (context, artifacts, errors, usage, ...).
namespace coda::tasks {

// The parsed value of `text`, or nullopt when it is not valid JSON.
std::optional<Poco::Dynamic::Var> parse_json(const std::string& text);
// The object in `text`, or null when `text` is not a JSON object.
Poco::JSON::Object::Ptr parse_object(const std::string& text);
// The array in `text`, or an empty array when `text` is not a JSON array.
Poco::JSON::Array::Ptr parse_array_or_empty(const std::string& text);
// Compact JSON text of a value (objects, arrays, strings, numbers, booleans, empty → null).
std::string to_json_text(const Poco::Dynamic::Var& value);
// A new object that keeps keys in insertion order.
inline Poco::JSON::Object::Ptr ordered_object() {
  return new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
}

}  // namespace coda::tasks
