// The agent-cli plugin: fallback coding-agent CLIs (Claude Code, Codex, Gemini CLI, OpenCode, Aider)
// and any command an admin describes in YAML.
#include <coda/plugin.hpp>

#include "cli_backend.hpp"

namespace {

coda_status_t plugin_init(const coda_host_t* host) {
  if (host == nullptr || host->abi_major != CODA_ABI_MAJOR) return CODA_E_UNSUPPORTED;
  return CODA_OK;
}

const coda_component_t kComponents[] = {{
    sizeof(coda_component_t), CODA_KIND_AGENT, "dev.coda.agent.cli", "0.1.0",
    "Coding-agent CLIs: presets claude, codex, gemini, opencode, aider, or a custom command",
    coda::agents::agent_vtbl<coda::agents::cli::CliBackend>()}};

uint32_t component_count() { return 1; }
const coda_component_t* component_at(uint32_t index) {
  return index == 0 ? &kComponents[0] : nullptr;
}
void plugin_deinit() {}

}  // namespace

extern "C" CODA_EXPORT const coda_plugin_t* coda_plugin_entry_v1(void) {
  static const coda_plugin_t plugin = {sizeof(coda_plugin_t), CODA_ABI_MAJOR, CODA_ABI_MINOR,
                                       static_cast<uint32_t>(sizeof(void*)), "dev.coda.agent-cli",
                                       "0.1.0", "Coding-agent CLI backends", plugin_init,
                                       component_count, component_at, plugin_deinit};
  return &plugin;
}
