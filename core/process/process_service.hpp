#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.hpp"

// Spawning and supervising agent processes. Guardrails live here so that every backend has them:
// no shell, own process group, stdin from /dev/null or a file, an environment built from the
// admin's allowlist, resource limits, the optional bubblewrap sandbox, SIGTERM -> grace -> SIGKILL
// of the whole process tree (group, session, and escapees through a cgroup or /proc tracking),
// death with the host (PR_SET_PDEATHSIG), and every child reaped.
namespace coda::process {

struct SpawnSpec {
  std::vector<std::string> argv;       // argv[0]: absolute path, or a name looked up on PATH
  std::vector<std::string> env_extra;  // "NAME=value", added after the allowlisted environment
  std::string cwd;                     // must exist
  std::string stdin_path;              // empty: /dev/null
  uint64_t task = 0;                   // the task handle it works for, 0 for none
  std::vector<std::string> sandbox_writable;  // paths writable inside the sandbox (the workspace)
};

// A live or finished child, as recorded for crash recovery.
struct ProcessInfo {
  uint64_t id = 0;
  uint64_t task = 0;
  pid_t pid = 0;
  pid_t pgid = 0;
  uint64_t start_time = 0;  // /proc/<pid>/stat field 22 (clock ticks since boot): guards pid reuse
};

class SpawnError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Receives a process's output and exit. Calls for one process come from one I/O thread and never
// overlap; on_exit is the last call, after both pipes closed and the leader was reaped.
class ProcessEvents {
 public:
  virtual ~ProcessEvents() = default;
  virtual void on_output(uint64_t id, int stream, std::string_view bytes) = 0;  // 1 out, 2 err
  virtual void on_exit(uint64_t id, int exit_code, int term_signal) = 0;
};

// Told when a process group starts and ends, so the task store can record it for recovery.
class ProcessObserver {
 public:
  virtual ~ProcessObserver() = default;
  virtual void spawned(const ProcessInfo& info) = 0;
  virtual void exited(const ProcessInfo& info) = 0;
};

// Thread-safe.
class ProcessService {
 public:
  virtual ~ProcessService() = default;

  // Starts a child. Throws SpawnError (with a message naming the executable) when it cannot start:
  // the executable is missing or not executable, cwd is missing, fork/exec failed.
  virtual uint64_t spawn(const SpawnSpec& spec, std::shared_ptr<ProcessEvents> events) = 0;
  // SIGTERM to the group, the configured grace, then SIGKILL to the group. Idempotent; returns at
  // once. Returns false when the id is unknown or already exited.
  virtual bool terminate(uint64_t id) = 0;
  // terminate() for every live process of a task.
  virtual void terminate_task(uint64_t task) = 0;
  // The HOME every process of `task` gets (agents.policy.home: per_owner): writable, among its
  // roots (the sandbox's, Landlock's, run_as'). Set before the task's backend starts; "" forgets
  // it.
  virtual void set_task_home(uint64_t task, const std::string& dir) = 0;
  // The absolute path `name` resolves to on the PATH that children get, if any.
  virtual std::optional<std::string> which(const std::string& name) const = 0;
  virtual void set_observer(ProcessObserver* observer) = 0;
  // Number of live children.
  virtual std::size_t live_count() const = 0;
  // Kills every child's group (SIGKILL after the grace) and joins the I/O threads. Idempotent.
  virtual void shutdown() = 0;

  // Where the service reports warnings (e.g. environment entries it dropped). level is CODA_LOG_*
  // (0 debug .. 3 error). Without a sink they go to stderr. Set it before the first spawn.
  using LogSink = std::function<void(int level, const std::string& message)>;
  virtual void set_log_sink(LogSink sink) { (void)sink; }

  // The production implementation, with the admin's policy (allowlist, limits, sandbox, grace).
  // data_dir is hidden from sandboxed children.
  // A task's whole process tree is contained by a cgroup v2 per child where the host may create
  // cgroups below its own, else tracked through /proc (see local_process_service.cpp).
  static std::unique_ptr<ProcessService> create(const config::AgentPolicy& policy,
                                                const std::string& data_dir);
  // The same; task_cgroups = false forces the /proc tracking (tests of the fallback).
  static std::unique_ptr<ProcessService> create(const config::AgentPolicy& policy,
                                                const std::string& data_dir, bool task_cgroups);
};

// Crash recovery: kills the process group `pgid` if its leader `pid` still runs and has the
// recorded start time (so a reused pid is never hit). Returns true when something was killed.
bool kill_surviving_group(pid_t pid, pid_t pgid, uint64_t start_time);

// /proc/<pid>/stat start time, or nullopt when the process does not exist.
std::optional<uint64_t> process_start_time(pid_t pid);

}  // namespace coda::process
