// The agent-hermes plugin: Hermes Agent (Nous Research), the primary coding-agent backend.
#include "hermes_backend.hpp"
#include "support/agent_plugin.hpp"

extern "C" CODA_EXPORT const coda_plugin_t* coda_plugin_entry_v1(void) {
  return coda::agents::single_agent_plugin<coda::agents::hermes::HermesBackend>(
      {"dev.coda.agent-hermes", "Hermes Agent backend", "dev.coda.agent.hermes",
       "Hermes Agent: one-shot, stream-json chat, or the gateway's Runs API", "0.1.0"});
}
