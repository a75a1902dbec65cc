// The `agents:` section: which backends exist, the order they are tried in, and the guardrails
// every agent process runs under.
#include <algorithm>

#include "core/config/sections.hpp"

namespace coda::config {
namespace {

// Passed to agents by default: what a CLI needs to run, never a secret. API keys only when the
// admin adds them.
const std::vector<std::string> kDefaultEnvAllowlist = {"PATH",   "HOME", "USER",   "LANG",
                                                       "LC_ALL", "TERM", "TMPDIR", "TZ"};

void parse_limits(Reader limits, ResourceLimits& out) {
  constexpr std::int64_t kMax = std::int64_t{1} << 40;
  out.cpu_s = limits.get_int("cpu_s", out.cpu_s, 0, kMax);
  out.address_space_mb = limits.get_int("address_space_mb", out.address_space_mb, 0, kMax);
  out.file_size_mb = limits.get_int("file_size_mb", out.file_size_mb, 0, kMax);
  out.processes = limits.get_int("processes", out.processes, 0, kMax);
  out.open_files = limits.get_int("open_files", out.open_files, 0, kMax);
}

void parse_sandbox(Reader sandbox, SandboxConfig& out) {
  out.enabled = sandbox.get_bool("enabled", out.enabled);
  out.bwrap = sandbox.get_string("bwrap", out.bwrap);
  if (out.bwrap.find('/') != std::string::npos) {
    out.bwrap = sandbox.document().resolve_path(out.bwrap);
  }
  for (const std::string& path : sandbox.get_string_list("writable")) {
    out.writable.push_back(sandbox.document().resolve_path(path));
  }
  out.network = sandbox.get_bool("network", out.network);
}

void parse_policy(Reader section, AgentPolicy& out) {
  out.env_allowlist = section.get_string_list("env_allowlist", kDefaultEnvAllowlist);
  out.env = section.get_string_map("env", out.env);
  out.yolo_allowed = section.get_bool("yolo_allowed", out.yolo_allowed);
  out.kill_grace_s = section.get<int>("kill_grace_s", out.kill_grace_s, 0, 3600);
  parse_limits(section.child("limits"), out.limits);
  parse_sandbox(section.child("sandbox"), out.sandbox);
  out.landlock = section.get_choice("landlock", out.landlock, {"auto", "on", "off"});
  out.allow_unisolated = section.get_bool("allow_unisolated", out.allow_unisolated);
  out.home = section.get_choice("home", out.home, {"auto", "shared", "per_owner"});
  out.run_as = section.get_string("run_as", out.run_as);
  out.run_as_where = section.location("run_as");
}

// Every name in `names` (read from `key`) must be one of the backends.
void check_backend_names(Reader& section, std::string_view key,
                         const std::vector<std::string>& names,
                         const std::vector<ComponentInstance>& backends) {
  std::vector<std::string> known;
  for (const ComponentInstance& backend : backends) known.push_back(backend.name);
  for (const std::string& name : names) {
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    const std::optional<std::string> near = closest_match(name, known);
    section.error(key, "no backend named '" + name + "' in agents.backends" +
                           (near ? " (did you mean '" + *near + "'?)" : ""));
  }
}

}  // namespace

void parse_agents_section(Reader& section, AgentsConfig& agents) {
  agents.backends = parse_component_instances(section, "backends");
  // Without an order, the backends are tried in file order.
  std::vector<std::string> file_order;
  for (const ComponentInstance& backend : agents.backends) file_order.push_back(backend.name);
  agents.order = section.get_string_list("order", file_order);
  agents.selectable = section.get_string_list("selectable", agents.selectable);
  check_backend_names(section, "order", agents.order, agents.backends);
  check_backend_names(section, "selectable", agents.selectable, agents.backends);
  parse_policy(section.child("policy"), agents.policy);
}

}  // namespace coda::config
