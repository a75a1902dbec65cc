#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/config/config.hpp"

// The environment an agent process gets: built, never inherited. Only the admin's allowlist passes
// from the host's environment; the policy's fixed variables and the backend's extras are added on
// top. Secrets such as DATABRICKS_TOKEN therefore reach an agent only when the admin names them.
namespace coda::process {

// The PATH children get when neither the allowlist nor the policy provides one.
inline constexpr const char* kDefaultChildPath = "/usr/local/bin:/usr/bin:/bin";

struct ChildEnvironment {
  std::map<std::string, std::string> vars;
  std::vector<std::string> dropped;  // why each refused extra was dropped, for the log

  std::vector<std::string> to_entries() const;  // "NAME=value", sorted by name
  std::string path() const;                     // PATH, or kDefaultChildPath
};

// True when `name` matches an allowlist entry: an exact name, or a prefix ending in '*' ("LC_*").
bool allowlisted(const std::vector<std::string>& allowlist, const std::string& name);

// Builds the environment from `host_env` ("NAME=value" entries, e.g. environ), the policy and the
// extras a backend asked for. An extra is dropped (and listed in `dropped`) when it is malformed, names
// a dynamic-loader variable (LD_*), or copies the value of a host variable outside the allowlist (a
// plugin cannot smuggle a secret through). PATH is always set.
ChildEnvironment build_child_environment(const config::AgentPolicy& policy,
                                         const std::vector<std::string>& host_env,
                                         const std::vector<std::string>& extras);

// The host's own environment as "NAME=value" entries.
std::vector<std::string> current_environment();

}  // namespace coda::process
