#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <vector>

// A read of /proc: which processes exist, their parent, group, session and start time. Used to find
// every member of an agent's process group or session (also after its leader died) and to guard
// against pid reuse.
namespace coda::process {

// One line of /proc/<pid>/stat.
struct ProcEntry {
  pid_t pid = 0;
  char state = '?';  // R S D Z T ... ('Z': exited, not yet reaped)
  pid_t ppid = 0;
  pid_t pgid = 0;
  pid_t sid = 0;
  uint64_t start_time = 0;  // field 22: clock ticks since boot
};

// The entry of one process, or nullopt when it does not exist (or vanished while being read).
std::optional<ProcEntry> read_proc_entry(pid_t pid);

// Every process visible in /proc, in no particular order. Processes that vanish while being read are
// skipped.
std::vector<ProcEntry> list_processes();

// The processes (zombies excluded) whose process group is `pgid` or whose session is `sid`
// (pass 0 to skip a criterion).
std::vector<ProcEntry> group_members(pid_t pgid, pid_t sid);

}  // namespace coda::process
