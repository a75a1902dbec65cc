#pragma once

#include <coda/plugin.hpp>

#include "agent_component.hpp"

// The coda_plugin_t of a plugin with one agent component B. Use it as the body of the entry point:
//   extern "C" CODA_EXPORT const coda_plugin_t* coda_plugin_entry_v1(void) {
//     return coda::agents::single_agent_plugin<MyBackend>({...});
//   }
namespace coda::agents {

// Static strings (string literals) describing the plugin and its component.
struct AgentPluginInfo {
  const char* plugin_id;
  const char* plugin_description;
  const char* component_id;
  const char* component_description;
  const char* version;
};

template <typename B>
struct SingleAgentPlugin {
  static const coda_component_t*& component() {
    static const coda_component_t* value = nullptr;
    return value;
  }
  static coda_status_t init(const coda_host_t* host) {
    return host == nullptr || host->abi_major != CODA_ABI_MAJOR ? CODA_E_UNSUPPORTED : CODA_OK;
  }
  static uint32_t count() { return 1; }
  static const coda_component_t* at(uint32_t index) { return index == 0 ? component() : nullptr; }
  static void deinit() {}
};

template <typename B>
const coda_plugin_t* single_agent_plugin(const AgentPluginInfo& info) {
  static const coda_component_t component = {sizeof(coda_component_t), CODA_KIND_AGENT,
                                             info.component_id, info.version,
                                             info.component_description, agent_vtbl<B>()};
  static const coda_plugin_t plugin = {
      sizeof(coda_plugin_t), CODA_ABI_MAJOR, CODA_ABI_MINOR, static_cast<uint32_t>(sizeof(void*)),
      info.plugin_id, info.version, info.plugin_description, &SingleAgentPlugin<B>::init,
      &SingleAgentPlugin<B>::count, &SingleAgentPlugin<B>::at, &SingleAgentPlugin<B>::deinit};
  SingleAgentPlugin<B>::component() = &component;
  return &plugin;
}

}  // namespace coda::agents
