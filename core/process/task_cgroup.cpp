#include "core/process/task_cgroup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "core/process/process_service.hpp"

namespace coda::process {
namespace {

constexpr const char* kPrefix = "coda-task-";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool write_file(const std::string& path, const std::string& value) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
  const int error = errno;
  ::close(fd);
  errno = error;
  return ok;
}

// mountinfo escapes blanks and backslashes in paths as \ooo.
std::string unescape(const std::string& field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && std::isdigit(field[i + 1]) &&
        std::isdigit(field[i + 2]) && std::isdigit(field[i + 3])) {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

// The line "0::<path>" of /proc/<pid>/cgroup: the process's cgroup v2, or "" when there is none.
std::string v2_cgroup_of(const std::string& proc_cgroup_file) {
  std::istringstream lines(read_file(proc_cgroup_file));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  }
  return "";
}

std::string join(const std::string& base, const std::string& relative) {
  if (relative.empty() || relative == "/") return base;
  return base + (base.ends_with('/') ? relative.substr(1) : relative);
}

}  // namespace

bool TaskCgroup::kill() const { return write_file(dir + "/cgroup.kill", "1"); }

namespace {
std::vector<TaskCgroup> children_of(const TaskCgroup& cgroup) {
  std::vector<TaskCgroup> children;
  if (DIR* handle = ::opendir(cgroup.dir.c_str())) {
    while (const dirent* entry = ::readdir(handle)) {
      const std::string name = entry->d_name;
      if (entry->d_type == DT_DIR && name != "." && name != "..") {
        children.push_back(TaskCgroup{cgroup.dir + "/" + name, cgroup.relative + "/" + name});
      }
    }
    ::closedir(handle);
  }
  return children;
}
}  // namespace

void TaskCgroup::signal(int sig) const {
  for (const auto& child : children_of(*this)) child.signal(sig);
  std::istringstream pids(read_file(dir + "/cgroup.procs"));
  long value = 0;
  while (pids >> value) {
    const auto pid = static_cast<pid_t>(value);
    // The pidfd pins this process: once it is open and the process is still ours, the signal
    // cannot reach a process that reused the pid.
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) continue;
    if (contains(pid)) ::syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0);
    ::close(fd);
  }
}

bool TaskCgroup::populated() const {
  const std::string events = read_file(dir + "/cgroup.events");
  return events.find("populated 1") != std::string::npos;
}

bool TaskCgroup::contains(pid_t pid) const {
  const std::string of = v2_cgroup_of("/proc/" + std::to_string(pid) + "/cgroup");
  return of == relative || of.rfind(relative + "/", 0) == 0;
}

bool TaskCgroup::remove() const {
  // Sub-cgroups an agent made (it can, where it may write the cgroup file system) go first: rmdir
  // of a cgroup fails while it has children.
  for (const auto& child : children_of(*this)) child.remove();
  if (::rmdir(dir.c_str()) == 0) return true;
  return errno == ENOENT;
}

std::unique_ptr<CgroupRoot> CgroupRoot::detect(std::string* why) {
  std::string ignored;
  if (why == nullptr) why = &ignored;
  // "36 25 0:31 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw": root is field 4, mount point 5,
  // the file system type follows the " - " separator.
  std::istringstream lines(read_file("/proc/self/mountinfo"));
  std::string line, mount_root, mount_point;
  while (std::getline(lines, line)) {
    const auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream after(line.substr(dash + 3));
    std::string fstype;
    after >> fstype;
    if (fstype != "cgroup2") continue;
    std::istringstream before(line.substr(0, dash));
    std::string id, parent, device;
    before >> id >> parent >> device >> mount_root >> mount_point;
    mount_root = unescape(mount_root);
    mount_point = unescape(mount_point);
    break;
  }
  if (mount_point.empty()) {
    *why = "no cgroup v2 file system is mounted";
    return nullptr;
  }
  const std::string own = v2_cgroup_of("/proc/self/cgroup");
  if (own.empty()) {
    *why = "the host is in no cgroup v2 (/proc/self/cgroup has no 0:: line)";
    return nullptr;
  }
  // Inside a cgroup namespace or a bind mount the mount's root may be a sub-cgroup.
  std::string inside = own;
  if (mount_root != "/") {
    if (own != mount_root && own.rfind(mount_root + "/", 0) != 0) {
      *why = "the host's cgroup " + own + " is outside the cgroup2 mount at " + mount_point;
      return nullptr;
    }
    inside = own.substr(mount_root.size());
  }
  const std::string path = join(mount_point, inside);
  if (::access((path + "/cgroup.procs").c_str(), W_OK) != 0) {
    *why = "the host's cgroup " + path + " is not writable (run as root, or as a systemd service "
           "with Delegate=yes)";
    return nullptr;
  }
  static std::atomic<int> probes{0};
  const std::string probe = path + "/coda-probe-" + std::to_string(::getpid()) + "-" +
                            std::to_string(probes.fetch_add(1));
  if (::mkdir(probe.c_str(), 0755) != 0) {
    *why = "cannot create a cgroup in " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  const bool has_kill = ::access((probe + "/cgroup.kill").c_str(), W_OK) == 0;
  ::rmdir(probe.c_str());
  if (!has_kill) {
    *why = "the kernel has no cgroup.kill (needs Linux 5.14 or later)";
    return nullptr;
  }
  return std::unique_ptr<CgroupRoot>(new CgroupRoot(path, own == "/" ? "" : own));
}

std::optional<TaskCgroup> CgroupRoot::create(uint64_t id) const {
  // Not cached: a forked copy of the host is another host.
  const std::string self = std::to_string(::getpid()) + "." +
                           std::to_string(process_start_time(::getpid()).value_or(0));
  const std::string name = std::string(kPrefix) + self + "." + std::to_string(id);
  TaskCgroup cgroup{path_ + "/" + name, relative_ + "/" + name};
  if (::mkdir(cgroup.dir.c_str(), 0755) != 0) return std::nullopt;
  return cgroup;
}

int CgroupRoot::sweep_dead_hosts() const {
  std::vector<TaskCgroup> dead;
  if (DIR* dir = ::opendir(path_.c_str())) {
    while (const dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      if (name.rfind(kPrefix, 0) != 0) continue;
      // coda-task-<host pid>.<host start time>.<id>
      unsigned long long pid = 0, start = 0, id = 0;
      if (std::sscanf(name.c_str() + std::strlen(kPrefix), "%llu.%llu.%llu", &pid, &start, &id) != 3) {
        continue;
      }
      // A host that still runs (the same pid with the same start time) keeps its cgroups.
      if (process_start_time(static_cast<pid_t>(pid)) == std::optional<uint64_t>(start)) continue;
      dead.push_back(TaskCgroup{path_ + "/" + name, relative_ + "/" + name});
    }
    ::closedir(dir);
  }
  int swept = 0;
  for (const auto& cgroup : dead) {
    cgroup.kill();
    // rmdir succeeds once the killed processes have exited (zombies do not count); one that does
    // not go (a process in uninterruptible sleep) is left for the next start.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (!cgroup.remove() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ++swept;
  }
  return swept;
}

}  // namespace coda::process
