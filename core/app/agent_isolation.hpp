#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "core/config/config.hpp"

// How agents are kept from the host and from each other, decided once at start-up (and by
// `coda config check`) from the configuration and what this machine offers: the bubblewrap sandbox,
// else Landlock, else nothing — which is refused when several users are possible, unless the admin
// opted out (agents.policy.allow_unisolated). docs/security.md#agents-are-confined.
namespace coda::app {

// Several users are possible and nothing would isolate their agents, or Landlock was demanded on a
// kernel without it. what() says why and the ways out.
class IsolationRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct AgentIsolation {
  // The agents' policy as the process service gets it: with the host's secret files
  // (sandbox.hidden) and landlock_enforced filled in.
  config::AgentPolicy policy;
  std::string summary;                // for the start-up log line "agent isolation: ..."
  std::vector<std::string> warnings;  // weaker than it looks, e.g. Landlock only as root
};

// Throws IsolationRefused.
AgentIsolation decide_agent_isolation(const config::Config& config);

// Sets the data dir's modes for `policy`: without agents.policy.run_as it is the host's alone
// (0700). With it, the data dir, workspaces/, homes/ and tmp/ are 0711 — an agent reaches its own
// workspace, HOME and TMPDIR by path but lists nothing — every other entry loses its group and other
// access, and the host's umask becomes 077 so what it creates later (the store) stays its own.
void prepare_data_dir(const std::string& data_dir, const config::AgentPolicy& policy);

}  // namespace coda::app
