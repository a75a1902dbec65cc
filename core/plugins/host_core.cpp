// The core services of the host table (log, last_error, set_error) and the assembly of the whole
// table for one plugin.
#include <string>

#include "coda/plugin.hpp"
#include "core/log/logging.hpp"
#include "core/plugins/host_context.hpp"

namespace coda::plugins {
namespace {

// The last error of a failed host call, or the detail a plugin set for the status it returns next.
// One per thread: plugins call from many threads and must not see each other's messages.
thread_local std::string t_error;

void host_log(const coda_host_t* host, int32_t level, coda_str_t message) {
  try {
    HostContext* context = host == nullptr ? nullptr : context_of(host);
    std::string name = context == nullptr ? "plugin" : "plugin." + context->plugin_id;
    log::log_abi_level(Poco::Logger::get(name), level, sdk::copy(message));
  } catch (...) {
    // Logging must never fail a plugin, and nothing may cross the ABI.
  }
}

coda_str_t host_last_error(const coda_host_t* host) {
  (void)host;
  return coda_str_t{t_error.data(), t_error.size()};
}

void host_set_error(const coda_host_t* host, coda_str_t message) {
  (void)host;
  try {
    t_error = sdk::copy(message);
  } catch (...) {
  }
}

}  // namespace

void set_thread_error(std::string message) { t_error = std::move(message); }

std::string take_thread_error() {
  std::string out = std::move(t_error);
  t_error.clear();
  return out;
}

void fill_core_services(coda_host_t& table) {
  table.log = host_log;
  table.last_error = host_last_error;
  table.set_error = host_set_error;
}

void fill_host_table(HostContext& context) {
  coda_host_t& table = context.table;
  table = coda_host_t{};
  table.struct_size = sizeof(coda_host_t);
  table.abi_major = CODA_ABI_MAJOR;
  table.abi_minor = CODA_ABI_MINOR;
  table.host_data = &context;
  fill_core_services(table);
  fill_message_services(table);
  fill_http_services(table);
  fill_process_services(table);
  fill_tool_services(table);
}

}  // namespace coda::plugins
