#include "core/mcp/mcp_metrics.hpp"

#include <array>

namespace coda::mcp {
namespace {

std::string_view request_label(std::string_view method) {
  static constexpr std::array<std::string_view, 5> kKnown = {
      "initialize", "ping", "tools/list", "tools/call", "logging/setLevel"};
  if (method.empty()) return "invalid";
  for (std::string_view known : kKnown) {
    if (method == known) return known;
  }
  return "other";
}

std::string_view notification_label(std::string_view method) {
  static constexpr std::array<std::string_view, 3> kKnown = {
      "notifications/initialized", "notifications/cancelled", "notifications/progress"};
  for (std::string_view known : kKnown) {
    if (method == known) return known;
  }
  return "other";
}

std::string_view outcome_label(McpMetrics::ToolOutcome outcome) {
  switch (outcome) {
    case McpMetrics::ToolOutcome::kOk: return "ok";
    case McpMetrics::ToolOutcome::kToolError: return "tool_error";
    case McpMetrics::ToolOutcome::kCancelled: return "cancelled";
    case McpMetrics::ToolOutcome::kInvalidArguments: return "invalid_arguments";
  }
  return "ok";
}

}  // namespace

McpMetrics::McpMetrics()
    : requests_("coda_mcp_requests_total",
                "MCP requests answered, by JSON-RPC method (\"other\": a method this server does not "
                "implement; \"invalid\": no valid JSON-RPC request) and outcome (ok or error: a "
                "JSON-RPC error response).",
                {"method", "outcome"}, 64),
      notifications_("coda_mcp_notifications_total",
                     "MCP notifications received from clients, by method.", {"method"}, 16),
      tool_calls_("coda_mcp_tool_calls_total",
                  "tools/call requests that reached a tool, by tool and outcome (ok, tool_error: "
                  "isError result, cancelled, invalid_arguments: refused by the input schema).",
                  {"tool", "outcome"}, 512),
      tool_durations_("coda_mcp_tool_call_duration_seconds",
                      "Time from a tools/call request to its result, by tool (coda_get_result with "
                      "wait_s waits on purpose).",
                      {"tool"}, metrics::HistogramFamily::latency_bounds(), 128) {}

void McpMetrics::request(std::string_view method, bool error) {
  requests_.add({request_label(method), error ? "error" : "ok"});
}

void McpMetrics::notification(std::string_view method) {
  notifications_.add({notification_label(method)});
}

void McpMetrics::tool_call(std::string_view tool, ToolOutcome outcome,
                           std::chrono::steady_clock::duration duration) {
  tool_calls_.add({tool, outcome_label(outcome)});
  if (outcome != ToolOutcome::kInvalidArguments) {
    tool_durations_.observe({tool}, std::chrono::duration<double>(duration).count());
  }
}

void McpMetrics::write(metrics::TextWriter& out) const {
  requests_.write(out);
  notifications_.write(out);
  tool_calls_.write(out);
  tool_durations_.write(out);
}

}  // namespace coda::mcp
