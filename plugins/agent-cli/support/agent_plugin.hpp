#pragma once

#include <coda/plugin.hpp>

#include "agent_component.hpp"

// The coda_plugin_t of a plugin with one agent component B. Use it as the body of the entry point:
//   extern "C" CODA_EXPORT const coda_plugin_t* coda_plugin_entry_v1(void) {
//     return coda::agents::single_agent_plugin<MyBackend>({...});
//   }
namespace coda::agents {

using AgentPluginInfo = sdk::ComponentPluginInfo;

template <typename B>
const coda_plugin_t* single_agent_plugin(const AgentPluginInfo& info) {
  return sdk::single_component_plugin<B>(info, CODA_KIND_AGENT, agent_vtbl<B>());
}

}  // namespace coda::agents
