#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "core/auth/identity.hpp"

namespace coda::mcp {

// What the engine knows about the message being handled. Filled by the transport (through the
// dispatch origin) from its authentication and headers.
struct RequestContext {
  auth::Identity identity;
  std::string transport;         // "http", "stdio", "ws", "test", ...
  uint64_t connection = 0;       // a push-capable connection (open_connection), 0 when none
  std::string protocol_version;  // negotiated or from the MCP-Protocol-Version header; may be empty
  std::string session_id;        // Mcp-Session-Id when sessions are on; may be empty
  std::string request_id;        // for logs: X-Request-Id or generated
  std::string base_url;          // scheme://host[:port] the client used (HTTP, WebSocket); may be empty
};

// MCP logging levels, in increasing severity (RFC 5424 names).
enum class LogLevel { kDebug, kInfo, kNotice, kWarning, kError, kCritical, kAlert, kEmergency };

// The result of one tools/call: a CallToolResult.
struct ToolResult {
  Poco::JSON::Array::Ptr content = new Poco::JSON::Array;  // content blocks
  Poco::JSON::Object::Ptr structured;                     // structuredContent, may be null
  bool is_error = false;

  // A single text block.
  static ToolResult text(const std::string& text);
  // structuredContent plus the same JSON as a text block (what tools with an outputSchema return).
  static ToolResult structured_json(const Poco::JSON::Object::Ptr& value);
  // isError: true with a single text block that says what was wrong and what to send instead.
  static ToolResult error(const std::string& message);

  Poco::JSON::Object::Ptr to_json() const;
  // Reads a CallToolResult object (e.g. from a tool-provider plugin). Throws std::invalid_argument
  // when `content` is missing or not an array, or structuredContent is not an object.
  static ToolResult from_json(const Poco::JSON::Object::Ptr& json);
};

// One in-flight tools/call, owned jointly by the engine and the tool. Thread-safe: every member may be
// called from any thread. finish() must be called exactly once; later calls are ignored.
class ToolCall {
 public:
  virtual ~ToolCall() = default;
  virtual const RequestContext& context() const = 0;
  // The call's arguments, already validated against the tool's inputSchema (never null).
  virtual const Poco::JSON::Object::Ptr& arguments() const = 0;
  // Sends notifications/progress when the request carried a progress token (no-op otherwise).
  // progress must increase from call to call; total <= 0 or nullopt means unknown.
  virtual void progress(double progress, std::optional<double> total,
                        const std::string& message) = 0;
  // Sends notifications/message when level passes the client's logging/setLevel threshold.
  virtual void log(LogLevel level, const Poco::Dynamic::Var& data,
                   const std::string& logger = "") = 0;
  // True once the client cancelled (notifications/cancelled) or went away.
  virtual bool cancelled() const = 0;
  // Runs fn once when the call is cancelled (at once, on this thread, if it already is).
  virtual void on_cancel(std::function<void()> fn) = 0;
  // Delivers the result: the engine sends the response. Exactly once.
  virtual void finish(ToolResult result) = 0;
};

// A tool the engine offers. Implementations are thread-safe.
class Tool {
 public:
  virtual ~Tool() = default;
  // The MCP Tool object: name, title, description, inputSchema, outputSchema, annotations.
  virtual Poco::JSON::Object::Ptr definition() const = 0;
  // Handles one call: may finish before returning, or later from any thread. May block the calling
  // thread for a bounded time (e.g. coda_get_result's wait_s); must return soon after cancellation.
  virtual void call(std::shared_ptr<ToolCall> call) = 0;
};

}  // namespace coda::mcp
