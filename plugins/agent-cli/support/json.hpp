#pragma once

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Small Poco JSON helpers for the agent plugins: reading CLI events and the component config.
namespace coda::agents {

using JsonObject = Poco::JSON::Object::Ptr;
using JsonArray = Poco::JSON::Array::Ptr;

// Parses `text` as a JSON object; null when it is not one (never throws).
JsonObject parse_object(std::string_view text);
// Serialises a value compactly.
std::string to_json(const JsonObject& object);
std::string to_json(const JsonArray& array);

// The member at a dotted path ("message.content"), or nullopt; never throws.
std::optional<Poco::Dynamic::Var> member(const JsonObject& object, std::string_view path);
// The string / number / bool / object / array at `path`, when it has that type.
std::optional<std::string> get_string(const JsonObject& object, std::string_view path);
std::optional<double> get_number(const JsonObject& object, std::string_view path);
std::optional<bool> get_bool(const JsonObject& object, std::string_view path);
JsonObject get_object(const JsonObject& object, std::string_view path);
JsonArray get_array(const JsonObject& object, std::string_view path);

// The `type` member of a JSON line, found without parsing the whole line (fast path for floods);
// empty when absent.
std::string peek_type(std::string_view line);

}  // namespace coda::agents
