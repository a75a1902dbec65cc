#pragma once

#include <string>

#include <coda/plugin.h>

// The coda_host_t table handed to each plugin, and the core services behind it. The table is filled
// by one function per group of services, each in its own file:
//   host_core.cpp      log, last_error, set_error
//   host_messages.cpp  dispatch, cancel_call, open_connection, close_connection  (the MCP engine)
//   host_http.cpp      http_*, ws_*                                              (the listener)
//   host_process.cpp   process_spawn, process_terminate, which                   (agent processes)
//   host_tools.cpp     tool_progress, tool_log, tool_done                        (tool providers)
namespace coda::mcp {
class Engine;
class ToolCallTable;
}  // namespace coda::mcp
namespace coda::http {
class Router;
}
namespace coda::process {
class ProcessService;
}

namespace coda::plugins {

// The core services plugins reach through the table. OWNER: the runtime; they outlive every plugin.
// A null member means the service is not running (its table functions return CODA_E_UNSUPPORTED).
struct CoreServices {
  mcp::Engine* engine = nullptr;
  mcp::ToolCallTable* tool_calls = nullptr;
  http::Router* router = nullptr;
  process::ProcessService* processes = nullptr;
};

// One per loaded plugin: the table it was given (table.host_data points back here) and who it is.
struct HostContext {
  coda_host_t table{};
  std::string plugin_id;
  std::string plugin_file;
  CoreServices* services = nullptr;
};

// The context behind a table handed out by the host. Never null for a table the host made.
inline HostContext* context_of(const coda_host_t* host) {
  return static_cast<HostContext*>(host->host_data);
}

// Records the message that last_error() returns on this thread (after a failing host call), or that a
// plugin set with set_error() for the status it returns next.
void set_thread_error(std::string message);
// The message recorded on this thread, then cleared.
std::string take_thread_error();

void fill_core_services(coda_host_t& table);
void fill_message_services(coda_host_t& table);
void fill_http_services(coda_host_t& table);
void fill_process_services(coda_host_t& table);
void fill_tool_services(coda_host_t& table);

// A complete table for `context` (struct_size, ABI version, host_data and every group above).
void fill_host_table(HostContext& context);

}  // namespace coda::plugins
