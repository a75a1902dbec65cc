#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/JSON/Object.h>

#include "core/config/config.hpp"
#include "core/mcp/reply_sink.hpp"
#include "core/mcp/tool.hpp"
#include "core/mcp/tool_call_table.hpp"

namespace coda::metrics {
class TextWriter;
}

// The MCP engine: JSON-RPC 2.0 over any transport. A transport hands each received message to
// dispatch() together with where it came from (RequestContext) and a ReplySink; the engine answers
// through the sink with zero or more notifications tied to the message (progress, logging) and then
// exactly one final send (the response, or nothing for notifications and responses). That split is
// what lets the HTTP transport choose between a JSON body and an SSE stream.
namespace coda::mcp {

// Identifies one dispatched message for cancel(). 0 is never a valid id.
using CallId = std::uint64_t;
// Identifies a push-capable connection (stdio, WebSocket, an HTTP GET stream). 0 means none.
using ConnectionId = std::uint64_t;

// The protocol revisions the engine speaks, newest first. The first is offered when a client asks for
// one we do not know.
const std::vector<std::string>& supported_protocol_versions();
// True for one of supported_protocol_versions().
bool is_supported_protocol_version(std::string_view version);
// The revision assumed when a transport gives none (the HTTP default when the header is absent).
inline constexpr const char* kDefaultProtocolVersion = "2025-03-26";

// Thread-safe: every member may be called from any thread, concurrently. Tools may complete calls on
// other threads; replies for one message never overlap.
class Engine {
 public:
  struct Options {
    config::McpConfig config;
    std::string server_name;     // empty: coda::kProductName
    std::string server_version;  // empty: coda::kVersion
    std::string server_title;    // optional serverInfo.title
  };

  explicit Engine(Options options);
  explicit Engine(const config::McpConfig& config);
  // Cancels every call still in flight and waits (bounded) for their final replies.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // The server instructions used when McpConfig.instructions is empty (the task tools supply it).
  void set_default_instructions(std::string text);

  // Handles one JSON-RPC message (or a batch array when ctx.protocol_version is 2025-03-26). The reply
  // may arrive through `sink` before dispatch returns, or later from another thread. Never throws: a
  // malformed message is answered with a JSON-RPC error through the sink. Returns an id for cancel().
  CallId dispatch(const RequestContext& ctx, std::string_view message,
                  std::shared_ptr<ReplySink> sink);

  // The transport's client went away: aborts the call if it still runs (the tool sees cancelled());
  // the final reply is still sent. Unknown or finished ids are ignored.
  void cancel(CallId call);

  // Registers a long-lived connection on which the engine may push notifications later (e.g.
  // notifications/tools/list_changed). Only ReplySink::notify is used on `push`. Messages dispatched
  // with RequestContext.connection set to the returned id share its logging level.
  ConnectionId open_connection(const RequestContext& ctx, std::shared_ptr<ReplySink> push);
  // Returns once no push on this connection runs or will start. Unknown ids are ignored.
  void close_connection(ConnectionId connection);

  // Adds a tool to the registry. Throws std::invalid_argument when its definition has no valid name
  // ([A-Za-z0-9_.-], 1-128 characters), no description, no object inputSchema, or the name is taken.
  // Open connections get notifications/tools/list_changed.
  void add_tool(std::shared_ptr<Tool> tool);
  // Removes a tool by name; returns false when there is none. Calls already running finish normally.
  bool remove_tool(const std::string& name);
  // The definitions of every registered tool, sorted by name.
  std::vector<Poco::JSON::Object::Ptr> tool_definitions() const;

  // The table that tool-provider plugins answer through (host_tools.cpp). OWNER: the engine.
  ToolCallTable& tool_calls();

  // The engine's series for /metrics (McpMetrics: requests by method, notifications, tool calls).
  void write_metrics(metrics::TextWriter& out) const;

  class Impl;  // defined in engine.cpp only

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace coda::mcp
