#pragma once

#include <optional>
#include <string>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>

namespace coda::mcp {

// Checks `value` against the subset of JSON Schema that tool input schemas use: type (a name or an
// array of names), properties, required, additionalProperties (boolean or schema), enum, const,
// minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength, maxLength (in code points), items,
// minItems, maxItems. Other keywords are ignored (accepted). Returns nullopt when the value conforms,
// else one message naming the location, e.g. "arguments.timeout_s: must be at most 86400 (got 90000)".
// `where` is the name of the root in messages. Thread-safe (pure function).
std::optional<std::string> validate_json_schema(const Poco::Dynamic::Var& value,
                                                const Poco::JSON::Object::Ptr& schema,
                                                const std::string& where);

// The JSON type name of a value: "object", "array", "string", "integer", "number", "boolean", "null".
std::string json_type_name(const Poco::Dynamic::Var& value);

}  // namespace coda::mcp
