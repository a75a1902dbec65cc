#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>

// Who holds the other end of a TCP connection that this host accepted, when that end is on this
// machine: the kernel's socket table (NETLINK_SOCK_DIAG, else /proc/net/tcp and tcp6) names the
// peer socket's inode and owning uid. A peer on another machine has no entry here.
namespace coda::process {

struct LocalSocketPeer {
  uint64_t inode = 0;  // the peer socket's inode: /proc/<pid>/fd/N links to "socket:[inode]"
  uid_t uid = 0;       // the uid that created the peer socket
};

// The local end of the accepted connection `fd` (its peer socket), or nullopt when the peer is not
// in this network namespace (a remote client, or a proxy in another container) or the kernel's
// tables cannot be read. IPv4-mapped IPv6 addresses are looked up as IPv4. Thread-safe.
std::optional<LocalSocketPeer> local_socket_peer(int fd);

// The same for explicit addresses: `local` is this host's end, `remote` the peer's.
std::optional<LocalSocketPeer> local_socket_peer(const sockaddr_storage& local,
                                                 const sockaddr_storage& remote);

}  // namespace coda::process
