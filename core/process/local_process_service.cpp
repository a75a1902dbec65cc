// The production ProcessService: fork/exec without a shell, one I/O thread (epoll) that reads every
// child's pipes, reaps leaders through pidfds, and enforces the SIGTERM -> grace -> SIGKILL
// deadline. The host is made a child subreaper so that orphaned members of an agent's session are
// reparented to it and reaped here instead of lingering as zombies.
//
// A task's whole process tree dies with it, also processes that left the agent's session and group
// (setsid, setpgid, double forks). Chosen at start:
//  1. cgroup v2 (task_cgroup.hpp): each agent starts in its own cgroup, which nothing inside can
//     leave; it is signalled as a whole and ended with cgroup.kill, and removed after.
//  2. Otherwise tracking: the agent is made a child subreaper, so its orphans stay below it while
//  it
//     runs; a /proc scan every kScanInterval records the tree (pid + start time), and every
//     recorded member is signalled with the group. A double fork whose middle process exits and
//     whose grandchild setsid()s, all between two scans while the leader exits too, is missed: only
//     the cgroup closes that race.
// Every child gets PR_SET_PDEATHSIG(SIGKILL): it is forked on a thread that lives as long as the
// service, so the signal comes when the host dies (kill -9), not when some worker thread ends.
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "core/process/agent_account.hpp"
#include "core/process/child_environment.hpp"
#include "core/process/landlock.hpp"
#include "core/process/proc_table.hpp"
#include "core/process/process_service.hpp"
#include "core/process/sandbox.hpp"
#include "core/process/task_cgroup.hpp"
#include "core/util/safe_path.hpp"

namespace coda::process {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr uint64_t kWakeTag = 0;
enum FdKind : uint64_t { kStdout = 1, kStderr = 2, kPidfd = 3 };
// A child's report on the status pipe that is not fatal: it could not enter its cgroup.
constexpr int kCgroupStage = 100;
// How often /proc is scanned while a group outlives its leader, or leaders are polled without
// pidfd.
constexpr auto kScanInterval = std::chrono::milliseconds(100);
// How long shutdown waits past the grace for processes that even SIGKILL did not end (D state).
constexpr auto kShutdownSlack = std::chrono::seconds(5);

uint64_t tag(uint64_t id, FdKind kind) { return (id << 2) | kind; }

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::string errno_text(int error) { return std::strerror(error); }

// Signals `pid` only if it is still the process that started at `start_time`: the pidfd pins it
// between the check and the signal, so a reused pid is never hit.
void signal_if_same(pid_t pid, uint64_t start_time, int sig) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return;
  if (process_start_time(pid) == std::optional<uint64_t>(start_time)) {
    ::syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0);
  }
  ::close(fd);
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::optional<std::string> search_path(const std::string& name, const std::string& path) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) {
    if (is_executable_file(name)) return name;
    return std::nullopt;
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto end = path.find(':', start);
    std::string dir =
        path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + name;
    if (is_executable_file(candidate)) return candidate;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return std::nullopt;
}

// Runs jobs on one long-lived thread. Children are forked there: PR_SET_PDEATHSIG fires when the
// *thread* that forked the child ends, so forking on a task's worker thread would kill the agent as
// soon as that thread is gone. Thread-safe; run() blocks until the job is done.
class ForkThread {
 public:
  ForkThread() : thread_([this] { loop(); }) {}
  ~ForkThread() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void run(const std::function<void()>& job) {
    std::lock_guard serial(serial_);
    std::unique_lock lock(mutex_);
    job_ = &job;
    error_ = nullptr;
    cv_.notify_all();
    cv_.wait(lock, [this] { return job_ == nullptr; });
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (true) {
      cv_.wait(lock, [this] { return stop_ || job_ != nullptr; });
      if (job_ != nullptr) {
        try {
          (*job_)();
        } catch (...) {
          error_ = std::current_exception();
        }
        job_ = nullptr;
        cv_.notify_all();
        continue;
      }
      if (stop_) return;
    }
  }
  std::mutex serial_;  // one job at a time
  std::mutex mutex_;
  std::condition_variable cv_;
  const std::function<void()>* job_ = nullptr;
  std::exception_ptr error_;
  bool stop_ = false;
  std::thread thread_;
};

struct Child {
  ProcessInfo info;
  std::shared_ptr<ProcessEvents> events;
  int out_fd = -1;
  int err_fd = -1;
  int pid_fd = -1;
  bool reaped = false;          // the leader was waited for
  bool exit_delivered = false;  // on_exit was called
  int exit_code = -1;
  int term_signal = 0;
  bool term_sent = false;
  std::optional<Clock::time_point> kill_at;  // SIGKILL of the group when reached
  std::optional<TaskCgroup> cgroup;          // the tree's cgroup, when the host can make them
  std::map<pid_t, uint64_t> members;      // without a cgroup: the tree seen so far (pid -> start)
  std::map<pid_t, ProcessInfo> escapees;  // the members outside the group and session, as told
                                          // to the observer (recovery after a host crash)
  std::string private_tmp;                // its TMPDIR under Landlock, removed with it
};

// A new private directory <data_dir>/tmp/agent-XXXXXX (mode 0700), the agent user's when agents
// run as one (<data_dir>/tmp is then 0711: passable, not listable); empty with errno set on
// failure.
std::string make_private_tmp(const std::string& data_dir, const config::AgentAccount& account) {
  const std::string parent = data_dir + "/tmp";
  if (::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) return "";
  if (account.uid != 0 && ::chmod(parent.c_str(), 0711) != 0) return "";
  std::string path = parent + "/agent-XXXXXX";
  if (::mkdtemp(path.data()) == nullptr) return "";
  if (account.uid != 0 && ::chown(path.c_str(), account.uid, account.gid) != 0) {
    const int error = errno;
    ::rmdir(path.c_str());
    errno = error;
    return "";
  }
  return path;
}

// Removes a private TMPDIR and what the agent left in it (symlinks are removed, never followed).
void remove_private_tmp(const std::string& path) {
  if (path.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

// The observer's id for an escapee of process `id`: beside the service's own ids (small numbers),
// never equal to one. pid_max is at most 2^22.
uint64_t escapee_id(uint64_t id, pid_t pid) {
  return (uint64_t{1} << 63) | (id << 22) | static_cast<uint64_t>(pid);
}

class LocalProcessService final : public ProcessService {
 public:
  LocalProcessService(config::AgentPolicy policy, std::string data_dir, bool task_cgroups)
      : policy_(std::move(policy)), data_dir_(std::move(data_dir)) {
    // Orphaned members of our children's sessions come back to us to be reaped.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    std::string why = "disabled";
    if (task_cgroups) cgroups_ = CgroupRoot::detect(&why);
    if (cgroups_) {
      const int swept = cgroups_->sweep_dead_hosts();
      tree_note_ = "agent process trees: one cgroup v2 per agent under " + cgroups_->path() +
                   (swept > 0 ? " (ended " + std::to_string(swept) + " left by a dead host)" : "");
    } else {
      tree_note_ = "agent process trees: tracked through /proc (no task cgroups: " + why + ")";
    }
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epoll_fd_ < 0 || wake_fd_ < 0) {
      throw SpawnError("process service: cannot create epoll/eventfd: " + errno_text(errno));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeTag;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    thread_ = std::thread([this] { io_loop(); });
  }

  ~LocalProcessService() override {
    shutdown();
    close_fd(epoll_fd_);
    close_fd(wake_fd_);
  }

  uint64_t spawn(const SpawnSpec& spec, std::shared_ptr<ProcessEvents> events) override;
  bool terminate(uint64_t id) override;
  void terminate_task(uint64_t task) override;
  void set_task_home(uint64_t task, const std::string& dir) override {
    std::lock_guard lock(mutex_);
    if (dir.empty()) {
      task_homes_.erase(task);
    } else {
      task_homes_[task] = dir;
    }
  }
  std::optional<std::string> which(const std::string& name) const override;
  void set_observer(ProcessObserver* observer) override { observer_.store(observer); }
  void set_log_sink(LogSink sink) override {
    std::lock_guard lock(mutex_);
    log_sink_ = std::move(sink);
  }
  std::size_t live_count() const override;
  void shutdown() override;

 private:
  void io_loop();
  void wake() {
    const uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  }
  void warn(const std::string& message, int level = 2) {
    LogSink sink;
    {
      std::lock_guard lock(mutex_);
      sink = log_sink_;
    }
    if (sink) {
      sink(level, message);
    } else {
      std::fprintf(stderr, "coda process: %s\n", message.c_str());
    }
  }
  // Signals every member of the child's group and session. Requires mutex_.
  void signal_group(const Child& child, int sig);
  void read_pipe(uint64_t id, FdKind kind);
  void reap_leader(uint64_t id);
  // True when nothing of the child's group, session, cgroup or tracked tree is left (in `procs`, a
  // fresh /proc read); reaps adopted zombies of it. Requires mutex_.
  bool group_gone(const Child& child, const std::vector<ProcEntry>& procs);
  // Without a cgroup: records the members of the child's tree found in `procs`. Requires mutex_.
  void track(Child& child, const std::vector<ProcEntry>& procs);
  void after_leader_exit(Child& child);
  // Sends due SIGKILLs, delivers on_exit for children whose leader was reaped and pipes closed, and
  // (when `scan` is set, as /proc is read for it) forgets groups that are gone. Returns whether a
  // periodic scan is still needed.
  bool settle(bool scan);
  void forget(uint64_t id);

  const config::AgentPolicy policy_;
  const std::string data_dir_;
  std::unique_ptr<CgroupRoot> cgroups_;  // null: trees are tracked through /proc
  std::string tree_note_;                // which of the two, logged at the first spawn
  std::once_flag tree_noted_;
  ForkThread fork_thread_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::atomic<ProcessObserver*> observer_{nullptr};

  mutable std::mutex mutex_;
  std::map<uint64_t, std::shared_ptr<Child>> children_;
  std::map<uint64_t, std::string> task_homes_;  // task handle -> HOME (set_task_home)
  // Escapees to tell the observer (true: spawned, false: exited), outside mutex_, in settle().
  std::vector<std::pair<bool, ProcessInfo>> observer_queue_;
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  bool joined_ = false;
  bool pidfd_supported_ = true;
  std::optional<Clock::time_point> shutdown_deadline_;
  LogSink log_sink_;
};

void LocalProcessService::signal_group(const Child& child, int sig) {
  if (!child.reaped) {
    // The leader (live or zombie) still holds its group id, so it cannot name anyone else's group.
    ::kill(-child.info.pgid, sig);
  }
  // Members that left the group but stayed in the session (job control), or all members once the
  // leader is gone.
  for (const auto& member : group_members(child.info.pgid, child.info.pid)) {
    if (!child.reaped && member.pgid == child.info.pgid) continue;
    ::kill(member.pid, sig);
  }
  // Escapees that left the group and the session: the cgroup holds them all.
  if (child.cgroup) {
    if (sig == SIGKILL) {
      child.cgroup->kill();
    } else {
      child.cgroup->signal(sig);
    }
  }
  for (const auto& [pid, start_time] : child.members) signal_if_same(pid, start_time, sig);
}

uint64_t LocalProcessService::spawn(const SpawnSpec& spec, std::shared_ptr<ProcessEvents> events) {
  if (spec.argv.empty() || spec.argv[0].empty()) throw SpawnError("spawn: empty argv");
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw SpawnError("spawn '" + spec.argv[0] + "': the host is shutting down");
  }
  auto env = build_child_environment(policy_, current_environment(), spec.env_extra);
  for (const auto& reason : env.dropped)
    warn("spawn '" + spec.argv[0] + "': dropped env " + reason);

  const auto exe = search_path(spec.argv[0], env.path());
  if (!exe) {
    throw SpawnError("'" + spec.argv[0] + "': not found or not executable" +
                     (spec.argv[0].find('/') == std::string::npos ? " on PATH " + env.path() : ""));
  }
  const std::string cwd = spec.cwd.empty() ? "." : spec.cwd;
  struct stat st {};
  if (::stat(cwd.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw SpawnError("spawn '" + spec.argv[0] + "': working directory '" + cwd +
                     "' does not exist");
  }

  // The roots the agent may write: the workspace, a Hermes home, the task directory.
  std::vector<std::string> writable = spec.sandbox_writable;
  if (writable.empty() && !spec.cwd.empty()) writable.push_back(spec.cwd);
  std::string task_home;
  if (spec.task != 0) {
    std::lock_guard lock(mutex_);
    if (auto it = task_homes_.find(spec.task); it != task_homes_.end()) task_home = it->second;
  }
  if (!task_home.empty()) {
    env.vars["HOME"] = task_home;  // the owner's own: no other user's agent sessions in it
    writable.push_back(task_home);
  }
  const config::AgentAccount& account = policy_.account;
  if (account.uid != 0) {
    // agents.policy.run_as: the agent is that user, and what it may write is that user's.
    for (const auto& [name, value] : std::initializer_list<std::pair<const char*, std::string>>{
             {"HOME", account.home}, {"USER", account.name}, {"LOGNAME", account.name}}) {
      if (!policy_.env.contains(name) && !(name == std::string("HOME") && !task_home.empty())) {
        env.vars[name] = value;
      }
    }
    for (const auto& root : writable) {
      try {
        util::hand_over_tree(root, account.uid, account.gid);
      } catch (const std::exception& e) {
        throw SpawnError("spawn '" + spec.argv[0] + "': agents.policy.run_as: " + e.what());
      }
    }
  }

  std::vector<std::string> argv = spec.argv;
  argv[0] = *exe;
  std::string program = *exe;
  if (policy_.sandbox.enabled) {
    const auto bwrap = search_path(policy_.sandbox.bwrap, env.path());
    if (!bwrap) {
      throw SpawnError("sandbox enabled but '" + policy_.sandbox.bwrap +
                       "' was not found (install the Debian package bubblewrap)");
    }
    argv = sandbox_argv(policy_.sandbox, *bwrap, data_dir_, writable, cwd, argv);
    program = *bwrap;
  }
  std::optional<LandlockRuleset> landlock;
  std::string private_tmp;  // the Landlocked child's TMPDIR
  if (!policy_.sandbox.enabled && policy_.landlock_enforced) {
    std::vector<std::string> denied = policy_.sandbox.hidden;
    denied.push_back(data_dir_);
    std::vector<std::string> allowed = writable;
    // A private TMPDIR, as bwrap's private /tmp: /tmp itself is out of reach when the data dir is
    // below it, and one agent's temp files are no other agent's business. Removed with the child.
    private_tmp = make_private_tmp(data_dir_, account);
    if (private_tmp.empty()) {
      throw SpawnError("spawn '" + spec.argv[0] + "': cannot create a private TMPDIR under " +
                       data_dir_ + "/tmp: " + errno_text(errno));
    }
    allowed.push_back(private_tmp);
    env.vars["TMPDIR"] = private_tmp;
    try {
      landlock = LandlockRuleset::everything_but(denied, allowed);
    } catch (const std::exception& e) {
      remove_private_tmp(private_tmp);
      throw SpawnError("spawn '" + spec.argv[0] + "': Landlock: " + e.what());
    }
  }
  const int landlock_fd = landlock ? landlock->fd() : -1;

  const std::string stdin_path = spec.stdin_path.empty() ? "/dev/null" : spec.stdin_path;
  int stdin_fd = ::open(stdin_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (stdin_fd < 0) {
    throw SpawnError("spawn '" + spec.argv[0] + "': cannot open stdin '" + stdin_path +
                     "': " + errno_text(errno));
  }
  int out[2] = {-1, -1}, err[2] = {-1, -1}, status_pipe[2] = {-1, -1};
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 ||
      ::pipe2(status_pipe, O_CLOEXEC) != 0) {
    const int error = errno;
    for (int fd : {stdin_fd, out[0], out[1], err[0], err[1], status_pipe[0], status_pipe[1]}) {
      if (fd >= 0) ::close(fd);
    }
    throw SpawnError("spawn '" + spec.argv[0] + "': pipe: " + errno_text(error));
  }

  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::vector<char*> argv_ptrs;
  for (auto& arg : argv) argv_ptrs.push_back(arg.data());
  argv_ptrs.push_back(nullptr);
  auto env_entries = env.to_entries();
  std::vector<char*> env_ptrs;
  for (auto& entry : env_entries) env_ptrs.push_back(entry.data());
  env_ptrs.push_back(nullptr);
  std::vector<std::pair<int, rlim_t>> limits;
  const auto& l = policy_.limits;
  if (l.cpu_s > 0) limits.emplace_back(RLIMIT_CPU, static_cast<rlim_t>(l.cpu_s));
  if (l.address_space_mb > 0) {
    limits.emplace_back(RLIMIT_AS, static_cast<rlim_t>(l.address_space_mb) << 20);
  }
  if (l.file_size_mb > 0)
    limits.emplace_back(RLIMIT_FSIZE, static_cast<rlim_t>(l.file_size_mb) << 20);
  if (l.processes > 0) limits.emplace_back(RLIMIT_NPROC, static_cast<rlim_t>(l.processes));
  if (l.open_files > 0) limits.emplace_back(RLIMIT_NOFILE, static_cast<rlim_t>(l.open_files));
  const char* cwd_c = cwd.c_str();
  const char* program_c = program.c_str();

  std::call_once(tree_noted_, [this] { warn(tree_note_, 1); });
  uint64_t id;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
  }
  std::optional<TaskCgroup> cgroup;
  if (cgroups_) {
    cgroup = cgroups_->create(id);
    if (!cgroup) {
      warn("spawn '" + spec.argv[0] + "': cannot create its cgroup in " + cgroups_->path() + ": " +
           errno_text(errno) + "; its process tree is tracked through /proc instead");
    }
  }
  const std::string cgroup_procs = cgroup ? cgroup->dir + "/cgroup.procs" : "";
  const char* cgroup_procs_c = cgroup ? cgroup_procs.c_str() : nullptr;
  const pid_t host_pid = ::getpid();

  pid_t pid = -1;
  int fork_error = 0;
  fork_thread_.run([&] {
    pid = ::fork();
    if (pid == 0) {
      // Child.
      struct Failure {
        int stage;
        int error;
      };
      auto fail = [&](int stage) {
        Failure failure{stage, errno};
        [[maybe_unused]] auto n = ::write(status_pipe[1], &failure, sizeof failure);
        ::_exit(127);
      };
      if (::setsid() < 0) fail(0);
      // The process tree's containment (see the top of this file), kept in this one block.
      {
        bool contained = false;
        if (cgroup_procs_c != nullptr) {
          // "0" moves the writer: the agent is in its cgroup before it runs a single instruction.
          const int fd = ::open(cgroup_procs_c, O_WRONLY | O_CLOEXEC);
          contained = fd >= 0 && ::write(fd, "0", 1) == 1;
          if (!contained) {
            Failure note{kCgroupStage, errno};
            [[maybe_unused]] auto n = ::write(status_pipe[1], &note, sizeof note);
          }
          if (fd >= 0) ::close(fd);
        }
        // Without a cgroup the agent keeps its orphans below itself, where the host's scans find
        // them.
        if (!contained) ::prctl(PR_SET_CHILD_SUBREAPER, 1);
        // agents.policy.run_as: after the cgroup (root's to write), before PR_SET_PDEATHSIG (which
        // a change of credentials clears).
        if (account.uid != 0) {
          if (!become_agent_account(account)) fail(6);
          ::umask(
              022);  // the host's own 077 (runtime.cpp) is for the data dir, not the agent's files
        }
        // Dies with the host (this thread lives as long as the service); the host may already be
        // gone.
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != host_pid) ::_exit(127);
      }
      if (::dup2(stdin_fd, 0) < 0 || ::dup2(out[1], 1) < 0 || ::dup2(err[1], 2) < 0) fail(1);
      if (::chdir(cwd_c) != 0) fail(2);
      for (const auto& [resource, value] : limits) {
        rlimit limit{value, value};
        if (::setrlimit(resource, &limit) != 0) fail(3);
      }
      if (landlock_fd >= 0 && !enforce_in_child(landlock_fd)) fail(5);
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      for (int sig = 1; sig < NSIG; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
      }
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      // Every descriptor of the host closes at exec (the status pipe stays usable until then).
      ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
      ::execve(program_c, argv_ptrs.data(), env_ptrs.data());
      fail(4);
    }
    fork_error = errno;
  });
  close_fd(stdin_fd);
  close_fd(out[1]);
  close_fd(err[1]);
  close_fd(status_pipe[1]);
  if (pid < 0) {
    close_fd(out[0]);
    close_fd(err[0]);
    close_fd(status_pipe[0]);
    if (cgroup) cgroup->remove();
    remove_private_tmp(private_tmp);
    throw SpawnError("spawn '" + spec.argv[0] + "': fork: " + errno_text(fork_error));
  }
  struct {
    int stage;
    int error;
  } failure{-1, 0};
  ssize_t got;
  bool cgroup_failed = false;
  int cgroup_error = 0;
  while (true) {
    got = ::read(status_pipe[0], &failure, sizeof failure);
    if (got < 0 && errno == EINTR) continue;
    if (got == static_cast<ssize_t>(sizeof failure) && failure.stage == kCgroupStage) {
      cgroup_failed = true;  // not fatal: the child goes on, tracked through /proc
      cgroup_error = failure.error;
      continue;
    }
    break;
  }
  close_fd(status_pipe[0]);
  if (cgroup_failed) {
    warn("spawn '" + spec.argv[0] + "': cannot enter its cgroup " + cgroup->dir + ": " +
         errno_text(cgroup_error) + "; its process tree is tracked through /proc instead");
    cgroup->remove();
    cgroup.reset();
  }
  if (got == static_cast<ssize_t>(sizeof failure)) {
    if (cgroup) cgroup->remove();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    close_fd(out[0]);
    close_fd(err[0]);
    remove_private_tmp(private_tmp);
    static const char* const kStages[] = {"setsid", "redirect", "chdir", "setrlimit",
                                          "exec",   "landlock", "run_as"};
    const char* stage = failure.stage >= 0 && failure.stage <= 6 ? kStages[failure.stage] : "start";
    throw SpawnError("cannot start '" + spec.argv[0] + "' (" + program + "): " + stage + ": " +
                     errno_text(failure.error));
  }

  auto child = std::make_shared<Child>();
  child->info.task = spec.task;
  child->info.pid = pid;
  child->info.pgid = pid;
  child->info.start_time = process_start_time(pid).value_or(0);
  child->events = std::move(events);
  child->cgroup = std::move(cgroup);
  child->private_tmp = private_tmp;
  child->out_fd = out[0];
  child->err_fd = err[0];
  ::fcntl(child->out_fd, F_SETFL, O_NONBLOCK);
  ::fcntl(child->err_fd, F_SETFL, O_NONBLOCK);
  // glibc 2.36's <sys/pidfd.h> lacks C linkage for C++, so the system call is made directly.
  child->pid_fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  {
    std::lock_guard lock(mutex_);
    child->info.id = id;
    if (child->pid_fd < 0) pidfd_supported_ = false;
    children_[id] = child;
  }
  if (auto* observer = observer_.load()) observer->spawned(child->info);
  // Registered after the observer heard of it, so exited() can never come first.
  for (auto [fd, kind] : {std::pair{child->out_fd, kStdout}, std::pair{child->err_fd, kStderr},
                          std::pair{child->pid_fd, kPidfd}}) {
    if (fd < 0) continue;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag(id, kind);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
  wake();
  return id;
}

bool LocalProcessService::terminate(uint64_t id) {
  {
    std::lock_guard lock(mutex_);
    auto it = children_.find(id);
    if (it == children_.end() || it->second->exit_delivered) return false;
    Child& child = *it->second;
    if (child.term_sent) return true;
    child.term_sent = true;
    // A fresh look at the tree, so that what the agent started since the last scan is hit too.
    if (!child.cgroup) track(child, list_processes());
    signal_group(child, SIGTERM);
    // SIGCONT so that a stopped group can act on the SIGTERM.
    signal_group(child, SIGCONT);
    const auto deadline = Clock::now() + std::chrono::seconds(policy_.kill_grace_s);
    if (!child.kill_at || *child.kill_at > deadline) child.kill_at = deadline;
  }
  wake();
  return true;
}

void LocalProcessService::terminate_task(uint64_t task) {
  std::vector<uint64_t> ids;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, child] : children_) {
      if (child->info.task == task && task != 0) ids.push_back(id);
    }
  }
  for (auto id : ids) terminate(id);
}

std::optional<std::string> LocalProcessService::which(const std::string& name) const {
  const auto env = build_child_environment(policy_, current_environment(), {});
  return search_path(name, env.path());
}

std::size_t LocalProcessService::live_count() const {
  std::lock_guard lock(mutex_);
  std::size_t count = 0;
  for (const auto& [id, child] : children_) count += child->exit_delivered ? 0 : 1;
  return count;
}

void LocalProcessService::shutdown() {
  std::vector<uint64_t> ids;
  {
    std::lock_guard lock(mutex_);
    if (joined_) return;
    stopping_ = true;
    shutdown_deadline_ = Clock::now() + std::chrono::seconds(policy_.kill_grace_s) + kShutdownSlack;
    for (const auto& [id, child] : children_) ids.push_back(id);
  }
  for (auto id : ids) terminate(id);
  wake();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  std::lock_guard lock(mutex_);
  joined_ = true;
}

void LocalProcessService::read_pipe(uint64_t id, FdKind kind) {
  std::shared_ptr<Child> child;
  {
    std::lock_guard lock(mutex_);
    auto it = children_.find(id);
    if (it == children_.end()) return;
    child = it->second;
  }
  // Only this thread touches the read ends, so no lock is needed around read().
  int& fd = kind == kStdout ? child->out_fd : child->err_fd;
  if (fd < 0) return;
  static thread_local std::string buffer(kReadChunk, '\0');
  const ssize_t n = ::read(fd, buffer.data(), buffer.size());
  if (n > 0) {
    if (child->events) child->events->on_output(id, kind, std::string_view(buffer.data(), n));
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  std::lock_guard lock(mutex_);
  close_fd(fd);
}

void LocalProcessService::after_leader_exit(Child& child) {
  // Whatever the leader left behind in its group or session is ended too: SIGTERM now, SIGKILL
  // after the grace. Agents must not leave processes running after their task.
  if (!child.cgroup) track(child, list_processes());
  const bool tracked_alive = [&] {
    for (const auto& [pid, start_time] : child.members) {
      auto entry = read_proc_entry(pid);
      if (entry && entry->state != 'Z' && entry->start_time == start_time) return true;
    }
    return false;
  }();
  if (group_members(child.info.pgid, child.info.pid).empty() &&
      !(child.cgroup && child.cgroup->populated()) && !tracked_alive) {
    return;
  }
  signal_group(child, SIGTERM);
  signal_group(child, SIGCONT);
  child.term_sent = true;
  const auto deadline = Clock::now() + std::chrono::seconds(policy_.kill_grace_s);
  if (!child.kill_at || *child.kill_at > deadline) child.kill_at = deadline;
}

void LocalProcessService::reap_leader(uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = children_.find(id);
  if (it == children_.end() || it->second->reaped) return;
  Child& child = *it->second;
  int status = 0;
  const pid_t got = ::waitpid(child.info.pid, &status, WNOHANG);
  if (got == 0) return;
  if (got < 0 && errno == EINTR) return;
  child.reaped = true;
  if (got > 0 && WIFEXITED(status)) {
    child.exit_code = WEXITSTATUS(status);
  } else if (got > 0 && WIFSIGNALED(status)) {
    child.term_signal = WTERMSIG(status);
  }
  if (child.pid_fd >= 0) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, child.pid_fd, nullptr);
    close_fd(child.pid_fd);
  }
  after_leader_exit(child);
}

void LocalProcessService::track(Child& child, const std::vector<ProcEntry>& procs) {
  // The tree: the leader while it runs, every member recorded before, their descendants, and the
  // group and session. Members that are gone (or whose pid now names a newer process) are dropped.
  std::multimap<pid_t, const ProcEntry*> by_parent;
  std::map<pid_t, const ProcEntry*> by_pid;
  for (const auto& entry : procs) {
    by_parent.emplace(entry.ppid, &entry);
    by_pid.emplace(entry.pid, &entry);
  }
  std::map<pid_t, uint64_t> next;
  std::vector<pid_t> roots;
  if (!child.reaped) roots.push_back(child.info.pid);
  for (const auto& [pid, start_time] : child.members) {
    auto it = by_pid.find(pid);
    if (it != by_pid.end() && it->second->start_time == start_time && it->second->state != 'Z') {
      roots.push_back(pid);
    }
  }
  for (const auto& entry : procs) {
    if (entry.state == 'Z' || entry.pid == child.info.pid) continue;
    if (entry.pgid == child.info.pgid || entry.sid == child.info.pid) roots.push_back(entry.pid);
  }
  while (!roots.empty()) {
    const pid_t pid = roots.back();
    roots.pop_back();
    auto self = by_pid.find(pid);
    if (self == by_pid.end() || next.contains(pid)) continue;
    if (pid != child.info.pid) next[pid] = self->second->start_time;
    auto [begin, end] = by_parent.equal_range(pid);
    for (auto it = begin; it != end; ++it) roots.push_back(it->second->pid);
  }
  child.members = std::move(next);
  // Escapees are recorded for the crash recovery like process groups: the observer (the task
  // engine) stores them, and a later host kills those that still run with the same start time.
  // Members of the group or session need no record: the leader's covers them.
  if (observer_.load() == nullptr) return;
  for (auto it = child.escapees.begin(); it != child.escapees.end();) {
    auto member = child.members.find(it->first);
    if (member != child.members.end() && member->second == it->second.start_time) {
      ++it;
      continue;
    }
    observer_queue_.emplace_back(false, it->second);
    it = child.escapees.erase(it);
  }
  for (const auto& [pid, start_time] : child.members) {
    auto entry = by_pid.find(pid);
    if (entry == by_pid.end() || entry->second->state == 'Z' || child.escapees.contains(pid))
      continue;
    if (entry->second->pgid == child.info.pgid || entry->second->sid == child.info.pid) continue;
    ProcessInfo info{escapee_id(child.info.id, pid), child.info.task, pid, entry->second->pgid,
                     start_time};
    child.escapees.emplace(pid, info);
    observer_queue_.emplace_back(true, info);
  }
}

bool LocalProcessService::group_gone(const Child& child, const std::vector<ProcEntry>& procs) {
  // Members of the session (or of the cgroup, or of the tracked tree) reparented to us (the
  // subreaper) are reaped here; the group is gone once no member is left in any state we could
  // still wait for.
  const pid_t self = ::getpid();
  const pid_t sid = child.info.pid;
  bool gone = true;
  for (const auto& entry : procs) {
    bool ours = entry.pgid == child.info.pgid || entry.sid == sid;
    if (!ours) {
      auto member = child.members.find(entry.pid);
      ours = member != child.members.end() && member->second == entry.start_time;
    }
    if (!ours && child.cgroup && entry.ppid == self && entry.state == 'Z') {
      ours = child.cgroup->contains(entry.pid);
    }
    if (!ours) continue;
    if (entry.pid == child.info.pid && !child.reaped) return false;
    if (entry.state != 'Z') {
      gone = false;
    } else if (entry.ppid == self && entry.pid != child.info.pid) {
      int status = 0;
      if (::waitpid(entry.pid, &status, WNOHANG) == 0) gone = false;
    }
  }
  // Escapees in the cgroup are in no group or session of ours.
  if (gone && child.cgroup && child.cgroup->populated()) gone = false;
  return gone;
}

bool LocalProcessService::settle(bool scan) {
  std::vector<std::shared_ptr<Child>> exits;
  std::vector<ProcessInfo> gone;
  std::vector<std::pair<bool, ProcessInfo>> told;
  bool need_scan = false;
  const auto now = Clock::now();
  const std::vector<ProcEntry> procs = scan ? list_processes() : std::vector<ProcEntry>();
  {
    std::lock_guard lock(mutex_);
    const bool give_up = stopping_ && shutdown_deadline_ && now >= *shutdown_deadline_;
    for (auto it = children_.begin(); it != children_.end();) {
      Child& child = *it->second;
      if (child.kill_at && now >= *child.kill_at) {
        signal_group(child, SIGKILL);
        child.kill_at.reset();
      }
      if (give_up) {
        // Even SIGKILL did not end it (uninterruptible sleep): stop waiting, report what we know.
        for (int* fd : {&child.out_fd, &child.err_fd, &child.pid_fd}) {
          if (*fd >= 0) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, *fd, nullptr);
          close_fd(*fd);
        }
        child.reaped = true;
      }
      if (scan && !child.cgroup) track(child, procs);
      if (!child.exit_delivered && child.reaped && child.out_fd < 0 && child.err_fd < 0) {
        child.exit_delivered = true;
        exits.push_back(it->second);
      }
      if (child.exit_delivered) {
        if (give_up || (scan && group_gone(child, procs))) {
          if (child.cgroup) child.cgroup->remove();
          remove_private_tmp(child.private_tmp);
          for (const auto& [pid, info] : child.escapees) observer_queue_.emplace_back(false, info);
          gone.push_back(child.info);
          it = children_.erase(it);
          continue;
        }
        need_scan = true;
      } else if (child.reaped || !pidfd_supported_ || child.pid_fd < 0 || !child.cgroup) {
        need_scan = true;  // (without a cgroup, the tree is tracked by the scans)
      }
      ++it;
    }
    told.swap(observer_queue_);
  }
  for (const auto& child : exits) {
    if (child->events) child->events->on_exit(child->info.id, child->exit_code, child->term_signal);
  }
  if (auto* observer = observer_.load()) {
    for (const auto& [spawned, info] : told) {
      if (spawned) {
        observer->spawned(info);
      } else {
        observer->exited(info);
      }
    }
    for (const auto& info : gone) observer->exited(info);
  }
  return need_scan;
}

void LocalProcessService::io_loop() {
  std::vector<epoll_event> events(64);
  bool need_scan = false;
  auto last_scan = Clock::now();
  while (true) {
    int timeout_ms = -1;
    {
      std::lock_guard lock(mutex_);
      if (stopping_ && children_.empty()) break;
      std::optional<Clock::time_point> next;
      for (const auto& [id, child] : children_) {
        if (child->kill_at && (!next || *child->kill_at < *next)) next = child->kill_at;
      }
      if (stopping_ && shutdown_deadline_ && (!next || *shutdown_deadline_ < *next)) {
        next = shutdown_deadline_;
      }
      if (need_scan) {
        const auto scan = Clock::now() + kScanInterval;
        if (!next || scan < *next) next = scan;
      }
      if (next) {
        const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next - Clock::now());
        timeout_ms = static_cast<int>(std::max<int64_t>(0, wait.count()));
      }
    }
    const int n =
        ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
    for (int i = 0; i < n; ++i) {
      const uint64_t value = events[i].data.u64;
      if (value == kWakeTag) {
        uint64_t drained;
        [[maybe_unused]] auto r = ::read(wake_fd_, &drained, sizeof drained);
        continue;
      }
      const uint64_t id = value >> 2;
      const auto kind = static_cast<FdKind>(value & 3);
      if (kind == kPidfd) {
        reap_leader(id);
      } else {
        read_pipe(id, kind);
      }
    }
    const bool scan_due = need_scan && Clock::now() - last_scan >= kScanInterval;
    if (scan_due) {
      last_scan = Clock::now();
      // Without pidfds, leaders are polled; groups outliving their leader are checked in settle().
      std::vector<uint64_t> unreaped;
      {
        std::lock_guard lock(mutex_);
        for (const auto& [id, child] : children_) {
          if (!child->reaped && child->pid_fd < 0) unreaped.push_back(id);
        }
      }
      for (auto id : unreaped) reap_leader(id);
    }
    need_scan = settle(scan_due || !need_scan);
  }
}

}  // namespace

std::unique_ptr<ProcessService> ProcessService::create(const config::AgentPolicy& policy,
                                                       const std::string& data_dir) {
  return create(policy, data_dir, true);
}

std::unique_ptr<ProcessService> ProcessService::create(const config::AgentPolicy& policy,
                                                       const std::string& data_dir,
                                                       bool task_cgroups) {
  return std::make_unique<LocalProcessService>(policy, data_dir, task_cgroups);
}

}  // namespace coda::process
