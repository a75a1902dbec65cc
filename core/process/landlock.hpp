#pragma once

#include <string>
#include <vector>

// Landlock (Linux ≥ 5.13, unprivileged) as the agents' file-system confinement where bubblewrap's
// user namespaces are missing (a non-root container such as a Databricks App). A ruleset is built
// in the host before fork and enforced by the child (PR_SET_NO_NEW_PRIVS + landlock_restrict_self)
// right before exec, so the agent and everything it starts are bound by it.
//
// Landlock only allows, it cannot deny a path below an allowed one. So "everything but the data dir
// and the host's secret files" is built as: every entry of every ancestor of a denied path, except
// the entry leading to it, is allowed in full; the denied paths and the ancestors themselves get no
// rule; the paths the agent works in (its workspace and task dir, inside the data dir) are allowed
// again. Consequences, documented in docs/security.md: a file created later directly in one of
// those ancestors (e.g. /tmp when the data dir is below /tmp) is out of reach, and listing an
// ancestor is refused. Every agent gets its own Landlock domain, which also stops it from reading
// another agent's /proc/<pid>/{environ,mem} (Landlock limits ptrace-class access to nested
// domains).
namespace coda::process {

// The kernel's Landlock ABI version; 0 when the kernel has none (or it is disabled at boot).
int landlock_abi();

// A Landlock ruleset ready for a child to enforce. Movable, closes its descriptor.
class LandlockRuleset {
 public:
  // Everything but `denied` (and what is below them) in full, plus `allowed` (which may lie inside
  // a denied path). Paths are made absolute and canonical. Throws std::runtime_error naming the
  // cause when the kernel refuses (no Landlock, a path that cannot be opened is skipped, not an
  // error).
  static LandlockRuleset everything_but(const std::vector<std::string>& denied,
                                        const std::vector<std::string>& allowed);

  LandlockRuleset(LandlockRuleset&& other) noexcept;
  LandlockRuleset& operator=(LandlockRuleset&& other) noexcept;
  LandlockRuleset(const LandlockRuleset&) = delete;
  LandlockRuleset& operator=(const LandlockRuleset&) = delete;
  ~LandlockRuleset();

  // The ruleset's descriptor, for enforce_in_child().
  int fd() const { return fd_; }
  // How many rules it holds (for the log and tests).
  int rules() const { return rules_; }

 private:
  explicit LandlockRuleset(int fd) : fd_(fd) {}
  int fd_ = -1;
  int rules_ = 0;
};

// In a forked child, before exec: no new privileges, then the ruleset. Async-signal-safe (two
// syscalls). Returns false with errno set when the kernel refused.
bool enforce_in_child(int ruleset_fd);

}  // namespace coda::process
