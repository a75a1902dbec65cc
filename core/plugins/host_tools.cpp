// The tool services of the host table: a tool-provider plugin reports progress, log lines and the
// final result of a call it was given through coda_tools_vtbl_t.call.
#include <string>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include "coda/plugin.hpp"
#include "core/mcp/engine.hpp"
#include "core/plugins/host_context.hpp"

namespace coda::plugins {
namespace {

mcp::ToolCallTable* table_of(const coda_host_t* host) {
  if (host == nullptr) return nullptr;
  HostContext* context = context_of(host);
  if (context == nullptr || context->services == nullptr) return nullptr;
  if (context->services->tool_calls != nullptr) return context->services->tool_calls;
  return context->services->engine == nullptr ? nullptr : &context->services->engine->tool_calls();
}

mcp::LogLevel level_of(int32_t level) {
  switch (level) {
    case CODA_LOG_DEBUG: return mcp::LogLevel::kDebug;
    case CODA_LOG_INFO: return mcp::LogLevel::kInfo;
    case CODA_LOG_WARN: return mcp::LogLevel::kWarning;
    case CODA_LOG_ERROR: return mcp::LogLevel::kError;
    default: return level > CODA_LOG_ERROR ? mcp::LogLevel::kCritical : mcp::LogLevel::kDebug;
  }
}

void tool_progress(const coda_host_t* host, uint64_t call, double progress, double total,
                   coda_str_t message) {
  try {
    mcp::ToolCallTable* table = table_of(host);
    if (table == nullptr) return;
    if (auto live = table->find(call)) {
      live->progress(progress, total > 0 ? std::optional<double>(total) : std::nullopt,
                     sdk::copy(message));
    }
  } catch (...) {
    // Progress is best effort; nothing may cross the ABI.
  }
}

void tool_log(const coda_host_t* host, uint64_t call, int32_t level, coda_str_t data_json) {
  try {
    mcp::ToolCallTable* table = table_of(host);
    if (table == nullptr) return;
    auto live = table->find(call);
    if (!live) return;
    Poco::Dynamic::Var data;
    std::string text = sdk::copy(data_json);
    try {
      // Wrapped in an array: Poco parses only objects and arrays at the top, and data may be a
      // string or a number.
      Poco::JSON::Parser parser;
      data = parser.parse("[" + text + "]").extract<Poco::JSON::Array::Ptr>()->get(0);
    } catch (const Poco::Exception&) {
      data = text;  // not JSON: log the text as a string
    }
    live->log(level_of(level), data);
  } catch (...) {
    // Logging is best effort; nothing may cross the ABI.
  }
}

void tool_done(const coda_host_t* host, uint64_t call, coda_str_t call_tool_result_json) {
  try {
    mcp::ToolCallTable* table = table_of(host);
    if (table == nullptr) return;
    auto live = table->take(call);
    if (!live) return;  // unknown, or answered twice: the first answer stands
    mcp::ToolResult result;
    try {
      Poco::JSON::Parser parser;
      auto value = parser.parse(sdk::copy(call_tool_result_json));
      result = mcp::ToolResult::from_json(value.extract<Poco::JSON::Object::Ptr>());
    } catch (const std::exception& e) {
      result = mcp::ToolResult::error(
          std::string("The tool provider returned an invalid CallToolResult: ") + e.what());
    }
    live->finish(std::move(result));
  } catch (...) {
    // Nothing may cross the ABI.
  }
}

}  // namespace

void fill_tool_services(coda_host_t& table) {
  table.tool_progress = &tool_progress;
  table.tool_log = &tool_log;
  table.tool_done = &tool_done;
}

}  // namespace coda::plugins
