#pragma once

#include <chrono>
#include <string_view>

#include "core/metrics/families.hpp"

// What the MCP engine counts for /metrics: requests by JSON-RPC method and outcome, notifications by
// method, and tool calls by tool with their outcome and duration. Label values come from bounded
// sets: the methods the engine implements (anything else is "other"), and registered tool names.
// Thread-safe and lock-free (metrics::CounterFamily, metrics::HistogramFamily).
namespace coda::mcp {

class McpMetrics {
 public:
  // How a tools/call ended: a result, a result with isError (the tool refused or failed), a call
  // the client cancelled, or arguments the input schema refused.
  enum class ToolOutcome { kOk, kToolError, kCancelled, kInvalidArguments };

  McpMetrics();

  // A request (a message with an id) was answered; `method` as sent ("" for a message that was no
  // valid JSON-RPC request: it counts as "invalid"), `error`: with a JSON-RPC error.
  void request(std::string_view method, bool error);
  void notification(std::string_view method);
  void tool_call(std::string_view tool, ToolOutcome outcome,
                 std::chrono::steady_clock::duration duration);

  void write(metrics::TextWriter& out) const;

 private:
  metrics::CounterFamily requests_;
  metrics::CounterFamily notifications_;
  metrics::CounterFamily tool_calls_;
  metrics::HistogramFamily tool_durations_;
};

}  // namespace coda::mcp
