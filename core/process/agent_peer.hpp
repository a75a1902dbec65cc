#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

// Whether a connection to this host was made by one of the host's own agents. Everything the host
// starts — agents and all they start, also processes that left the agent's session (the host is a
// child subreaper, so orphans stay its descendants) — is untrusted: such a connection must never be
// taken for the Databricks Apps proxy or for a user, in any auth mode, whatever headers or
// credentials it sends. Peer attribution works without privileges on every kernel: the kernel's
// socket table names the peer socket's inode and uid, and /proc names the process holding it.
namespace coda::process {

enum class PeerKind {
  kRemote,    // the peer is not on this machine (its socket is not in this network namespace)
  kLocal,     // a local process that does not descend from this host
  kAgent,     // a descendant of this host, or a uid reserved for agents
};

struct PeerVerdict {
  PeerKind kind = PeerKind::kRemote;
  pid_t pid = 0;       // kAgent: the descendant found holding the socket (0: told by uid, or hidden)
  std::string reason;  // kAgent: why, for the log
};

// Thread-safe; cheap when no agent runs (one netlink round trip and one /proc scan per connection).
class AgentPeerDetector {
 public:
  // `agent_uids`: uids that only agents use (agents.policy.run_as); any local socket of theirs is an
  // agent's. `host_pid`: the process whose descendants are agents (0: this process).
  explicit AgentPeerDetector(std::vector<uid_t> agent_uids = {}, pid_t host_pid = 0);

  // Classifies the peer of the accepted, connected TCP socket `fd`. Fails closed: a local peer
  // socket of the host's uid that is not found in any readable process while some descendant's
  // descriptors cannot be read (it made itself non-dumpable) is taken for an agent's.
  PeerVerdict classify(int fd) const;

  // The same for a peer socket already looked up (inode and uid), for tests.
  PeerVerdict classify_socket(uint64_t inode, uid_t uid) const;

 private:
  std::vector<uid_t> agent_uids_;
  pid_t host_pid_;
  uid_t host_uid_;
};

// Every descendant of `root` (children, their children, ...) among the processes now in /proc.
std::vector<pid_t> descendants_of(pid_t root);

// Which of `pids` holds a descriptor on the socket `inode`: the first found, 0 for none.
// `unreadable` is set when some process's descriptor table could not be read.
pid_t holder_of_socket(const std::vector<pid_t>& pids, uint64_t inode, bool& unreadable);

}  // namespace coda::process
