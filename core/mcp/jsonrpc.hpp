#pragma once

#include <string>
#include <string_view>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>

// JSON-RPC 2.0 message text, built without a DOM where the shape is fixed.
namespace coda::mcp::jsonrpc {

inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;

// The JSON text of any value (an id, a result).
std::string to_text(const Poco::Dynamic::Var& value);
// A JSON string literal with quotes.
std::string quote(std::string_view text);

// {"jsonrpc":"2.0","id":<id_text>,"result":<result_text>}
std::string result(const std::string& id_text, std::string_view result_text);
// {"jsonrpc":"2.0","id":<id_text>,"error":{"code":..,"message":..}}; id_text empty: no id member.
std::string error(const std::string& id_text, int code, std::string_view message);
// {"jsonrpc":"2.0","method":<method>,"params":<params>}
std::string notification(std::string_view method, const Poco::JSON::Object::Ptr& params);

}  // namespace coda::mcp::jsonrpc
