/* Compiled by ctest as C11 with -Wall -Wextra -pedantic -Werror: plugin.h must be clean C. */
#include <coda/plugin.h>

/* Touch every struct so that a broken declaration fails to compile. */
static size_t sizes(void) {
  return sizeof(coda_str_t) + sizeof(coda_reply_sink_t) + sizeof(coda_http_header_t) +
         sizeof(coda_http_request_t) + sizeof(coda_ws_handler_t) + sizeof(coda_http_route_t) +
         sizeof(coda_spawn_t) + sizeof(coda_process_events_t) + sizeof(coda_host_t) +
         sizeof(coda_transport_vtbl_t) + sizeof(coda_task_t) + sizeof(coda_task_events_t) +
         sizeof(coda_agent_vtbl_t) + sizeof(coda_tools_vtbl_t) + sizeof(coda_component_t) +
         sizeof(coda_plugin_t);
}

int main(void) {
  coda_plugin_t plugin = {0};
  plugin.struct_size = (uint32_t)sizeof plugin;
  return (CODA_HAS(&plugin, coda_plugin_t, deinit) && sizes() > 0) ? 0 : 1;
}
