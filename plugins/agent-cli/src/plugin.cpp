// The agent-cli plugin: fallback coding-agent CLIs (Claude Code, Codex, Gemini CLI, OpenCode, Aider)
// and any command an admin describes in YAML.
#include "cli_backend.hpp"
#include "support/agent_plugin.hpp"

extern "C" CODA_EXPORT const coda_plugin_t* coda_plugin_entry_v1(void) {
  return coda::agents::single_agent_plugin<coda::agents::cli::CliBackend>(
      {"dev.coda.agent-cli", "Coding-agent CLI backends", "dev.coda.agent.cli",
       "Coding-agent CLIs: presets claude, codex, gemini, opencode, aider, or a custom command",
       "0.1.0"});
}
