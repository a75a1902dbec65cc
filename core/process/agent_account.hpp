#pragma once

#include <string>

#include "core/config/config.hpp"

// The user agents run as when the host is root (agents.policy.run_as): looked up once at start-up,
// so a child only makes async-signal-safe calls (setgroups, setresgid, setresuid) to become it.
namespace coda::process {

// `user`: a name from the password database or a numeric uid. Throws std::runtime_error saying
// why when it names no user or names root (uid 0 would isolate nothing).
config::AgentAccount lookup_agent_account(const std::string& user);

// In the child, before exec: the groups, then the gid, then the uid (after setresuid nothing could
// change groups any more). Async-signal-safe. Returns false with errno set.
bool become_agent_account(const config::AgentAccount& account);

}  // namespace coda::process
