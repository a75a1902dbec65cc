#include "core/process/agent_peer.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "core/process/proc_table.hpp"
#include "core/process/socket_peer.hpp"

namespace coda::process {

std::vector<pid_t> descendants_of(pid_t root) {
  std::multimap<pid_t, pid_t> children;
  for (const auto& entry : list_processes()) {
    if (entry.state != 'Z') children.emplace(entry.ppid, entry.pid);
  }
  std::vector<pid_t> out;
  std::vector<pid_t> pending{root};
  while (!pending.empty()) {
    const pid_t parent = pending.back();
    pending.pop_back();
    auto [begin, end] = children.equal_range(parent);
    for (auto it = begin; it != end; ++it) {
      if (it->second == root || std::find(out.begin(), out.end(), it->second) != out.end()) continue;
      out.push_back(it->second);
      pending.push_back(it->second);
    }
  }
  return out;
}

pid_t holder_of_socket(const std::vector<pid_t>& pids, uint64_t inode, bool& unreadable) {
  const std::string wanted = "socket:[" + std::to_string(inode) + "]";
  char target[64];
  for (pid_t pid : pids) {
    const std::string dir_path = "/proc/" + std::to_string(pid) + "/fd";
    DIR* dir = ::opendir(dir_path.c_str());
    if (dir == nullptr) {
      // Gone meanwhile (ENOENT) is harmless; EACCES means it hides its descriptors from us.
      if (errno != ENOENT && errno != ESRCH) unreadable = true;
      continue;
    }
    const int dir_fd = ::dirfd(dir);
    pid_t found = 0;
    while (const dirent* item = ::readdir(dir)) {
      if (item->d_name[0] == '.') continue;
      const ssize_t n = ::readlinkat(dir_fd, item->d_name, target, sizeof target - 1);
      if (n <= 0) continue;
      if (static_cast<std::size_t>(n) == wanted.size() &&
          std::memcmp(target, wanted.data(), wanted.size()) == 0) {
        found = pid;
        break;
      }
    }
    ::closedir(dir);
    if (found != 0) return found;
  }
  return 0;
}

AgentPeerDetector::AgentPeerDetector(std::vector<uid_t> agent_uids, pid_t host_pid)
    : agent_uids_(std::move(agent_uids)),
      host_pid_(host_pid != 0 ? host_pid : ::getpid()),
      host_uid_(::geteuid()) {}

PeerVerdict AgentPeerDetector::classify(int fd) const {
  auto peer = local_socket_peer(fd);
  if (!peer) return {};
  return classify_socket(peer->inode, peer->uid);
}

PeerVerdict AgentPeerDetector::classify_socket(uint64_t inode, uid_t uid) const {
  PeerVerdict verdict;
  verdict.kind = PeerKind::kLocal;
  if (std::find(agent_uids_.begin(), agent_uids_.end(), uid) != agent_uids_.end()) {
    verdict.kind = PeerKind::kAgent;
    verdict.reason = "the connection comes from uid " + std::to_string(uid) + ", which runs agents";
    return verdict;
  }
  const auto descendants = descendants_of(host_pid_);
  if (descendants.empty()) return verdict;
  bool hidden = false;
  if (pid_t holder = holder_of_socket(descendants, inode, hidden)) {
    verdict.kind = PeerKind::kAgent;
    verdict.pid = holder;
    verdict.reason = "the connection comes from pid " + std::to_string(holder) +
                     ", a process this host started";
    return verdict;
  }
  if (!hidden || uid != host_uid_) return verdict;
  // A descendant hides its descriptors. The socket may still be a user's (a browser, an MCP client
  // of the same uid): look for it in every other process; not found anywhere → fail closed.
  std::vector<pid_t> others;
  for (const auto& entry : list_processes()) {
    if (entry.pid != host_pid_ &&
        std::find(descendants.begin(), descendants.end(), entry.pid) == descendants.end()) {
      others.push_back(entry.pid);
    }
  }
  bool others_hidden = false;
  if (holder_of_socket(others, inode, others_hidden) != 0) return verdict;
  verdict.kind = PeerKind::kAgent;
  verdict.reason =
      "the connection's process is not found and a process this host started hides its descriptors";
  return verdict;
}

}  // namespace coda::process
