#include "core/process/child_environment.hpp"

#include <unistd.h>

namespace coda::process {
namespace {

bool valid_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_';
    if (!ok) return false;
  }
  return !(name[0] >= '0' && name[0] <= '9');
}

std::map<std::string, std::string> parse_entries(const std::vector<std::string>& entries) {
  std::map<std::string, std::string> vars;
  for (const auto& entry : entries) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    vars.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return vars;
}

}  // namespace

std::vector<std::string> ChildEnvironment::to_entries() const {
  std::vector<std::string> entries;
  entries.reserve(vars.size());
  for (const auto& [name, value] : vars) entries.push_back(name + "=" + value);
  return entries;
}

std::string ChildEnvironment::path() const {
  const auto it = vars.find("PATH");
  return it == vars.end() || it->second.empty() ? kDefaultChildPath : it->second;
}

bool allowlisted(const std::vector<std::string>& allowlist, const std::string& name) {
  for (const auto& pattern : allowlist) {
    if (!pattern.empty() && pattern.back() == '*') {
      if (name.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0) return true;
    } else if (pattern == name) {
      return true;
    }
  }
  return false;
}

ChildEnvironment build_child_environment(const config::AgentPolicy& policy,
                                         const std::vector<std::string>& host_env,
                                         const std::vector<std::string>& extras) {
  ChildEnvironment result;
  const auto host = parse_entries(host_env);
  for (const auto& [name, value] : host) {
    if (allowlisted(policy.env_allowlist, name)) result.vars[name] = value;
  }
  for (const auto& [name, value] : policy.env) result.vars[name] = value;
  for (const auto& entry : extras) {
    const auto eq = entry.find('=');
    const std::string name = eq == std::string::npos ? entry : entry.substr(0, eq);
    if (eq == std::string::npos || !valid_name(name)) {
      result.dropped.push_back("'" + name + "': not a NAME=value entry");
      continue;
    }
    if (name.rfind("LD_", 0) == 0) {
      result.dropped.push_back(name + ": dynamic-loader variables are never passed");
      continue;
    }
    const std::string value = entry.substr(eq + 1);
    const auto from_host = host.find(name);
    if (from_host != host.end() && from_host->second == value && !value.empty() &&
        !allowlisted(policy.env_allowlist, name) && policy.env.count(name) == 0) {
      result.dropped.push_back(name + ": copies a host variable outside agents.policy.env_allowlist");
      continue;
    }
    result.vars[name] = value;
  }
  if (result.vars.count("PATH") == 0) result.vars["PATH"] = kDefaultChildPath;
  return result;
}

std::vector<std::string> current_environment() {
  std::vector<std::string> entries;
  for (char** it = environ; it != nullptr && *it != nullptr; ++it) entries.emplace_back(*it);
  return entries;
}

}  // namespace coda::process
