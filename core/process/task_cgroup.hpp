#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

// One cgroup v2 per agent process tree: everything the agent starts stays in it whatever it does
// with its session and process group (setsid, setpgid, double forks), so the whole tree can be
// signalled, and killed at once with cgroup.kill (kernel >= 5.14). Used where the host may create
// cgroups below its own (root, or a systemd unit with Delegate=yes); otherwise the process service
// falls back to tracking the tree through /proc.
namespace coda::process {

// One task's cgroup. Copyable; the operations are safe on a removed cgroup (they fail).
struct TaskCgroup {
  std::string dir;       // absolute directory, e.g. /sys/fs/cgroup/coda.service/coda-task-12.345.1
  std::string relative;  // as /proc/<pid>/cgroup names it, e.g. /coda.service/coda-task-12.345.1

  // SIGKILL to every process in it, atomically (no pid is read, so none can be reused meanwhile).
  bool kill() const;
  // Sends `sig` to each process in it and in its sub-cgroups through a pidfd, checking after opening
  // the pidfd that the process is still there (so a pid reused in between is never hit).
  void signal(int sig) const;
  // True while some process (zombies excluded) is in it or in a sub-cgroup.
  bool populated() const;
  // True when /proc/<pid>/cgroup names it or a sub-cgroup of it (also for a zombie).
  bool contains(pid_t pid) const;
  // rmdir, sub-cgroups first; true when it is gone.
  bool remove() const;
};

// The host's own cgroup v2 directory, where the task cgroups are made. Thread-safe (immutable).
class CgroupRoot {
 public:
  // Finds the cgroup2 mount in /proc/self/mountinfo (never a fixed path: /sys/fs/cgroup on a unified
  // system, /sys/fs/cgroup/unified on a hybrid one) and the host's cgroup in /proc/self/cgroup, and
  // checks that a child cgroup can be created there and has cgroup.kill. Returns null with the
  // reason in *why when not (no cgroup v2, not writable, kernel without cgroup.kill).
  static std::unique_ptr<CgroupRoot> detect(std::string* why);

  // The directory, e.g. /sys/fs/cgroup/system.slice/coda.service.
  const std::string& path() const { return path_; }

  // Creates the cgroup for process `id` of this host, named coda-task-<host pid>.<host start>.<id>
  // so that a later host can tell the cgroups of a dead host from those of a live one. nullopt (errno
  // set) when it cannot be made.
  std::optional<TaskCgroup> create(uint64_t id) const;

  // Kills and removes the task cgroups left by hosts that no longer run (a host killed with -9):
  // their agents' escapees end here, at the next start. Returns how many cgroups were swept.
  int sweep_dead_hosts() const;

 private:
  CgroupRoot(std::string path, std::string relative)
      : path_(std::move(path)), relative_(std::move(relative)) {}
  std::string path_;
  std::string relative_;
};

}  // namespace coda::process
