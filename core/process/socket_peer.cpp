// The kernel's socket table, asked for one TCP socket by its four-tuple. NETLINK_SOCK_DIAG answers
// an exact lookup without privileges in one round trip; where it is missing (some container
// runtimes filter netlink), /proc/net/tcp and tcp6 hold the same rows as text.
#include "core/process/socket_peer.hpp"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace coda::process {
namespace {

// One end of a TCP connection as the kernel tables key it: family, 16 address bytes (IPv4 in the
// first four), port in network byte order.
struct Endpoint {
  int family = AF_UNSPEC;
  uint32_t addr[4] = {0, 0, 0, 0};
  uint16_t port = 0;
};

// `unmap`: an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is taken as the IPv4 address it maps.
std::optional<Endpoint> endpoint_of(const sockaddr_storage& storage, bool unmap = true) {
  Endpoint out;
  if (storage.ss_family == AF_INET) {
    const auto& in4 = reinterpret_cast<const sockaddr_in&>(storage);
    out.family = AF_INET;
    out.addr[0] = in4.sin_addr.s_addr;
    out.port = in4.sin_port;
    return out;
  }
  if (storage.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(storage);
    out.port = in6.sin6_port;
    if (unmap && IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
      // A dual-stack listener sees an IPv4 client as ::ffff:a.b.c.d; the client's socket is IPv4.
      out.family = AF_INET;
      std::memcpy(&out.addr[0], &in6.sin6_addr.s6_addr[12], 4);
      return out;
    }
    out.family = AF_INET6;
    std::memcpy(out.addr, &in6.sin6_addr, 16);
    return out;
  }
  return std::nullopt;
}

// NETLINK_SOCK_DIAG exact lookup of the socket whose local end is `src` and remote end `dst`.
// nullopt with `available` false when netlink could not be asked at all.
std::optional<LocalSocketPeer> sock_diag_lookup(const Endpoint& src, const Endpoint& dst,
                                                bool& available) {
  available = false;
  const int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return std::nullopt;
  struct Close {
    int fd;
    ~Close() { ::close(fd); }
  } close_fd{fd};
  timeval wait{1, 0};  // the kernel answers at once; this only bounds a broken filter
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);

  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } message{};
  message.header.nlmsg_len = sizeof message;
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST;
  message.header.nlmsg_seq = 1;
  message.request.sdiag_family = static_cast<uint8_t>(src.family);
  message.request.sdiag_protocol = IPPROTO_TCP;
  message.request.idiag_states = ~0U;
  message.request.id.idiag_sport = src.port;
  message.request.id.idiag_dport = dst.port;
  std::memcpy(message.request.id.idiag_src, src.addr, sizeof src.addr);
  std::memcpy(message.request.id.idiag_dst, dst.addr, sizeof dst.addr);
  message.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  message.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, &message, sizeof message, 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) != static_cast<ssize_t>(sizeof message)) {
    return std::nullopt;
  }
  alignas(nlmsghdr) char buffer[8192];
  const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
  if (got <= 0) return std::nullopt;
  available = true;
  int left = static_cast<int>(got);
  for (auto* h = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
    if (h->nlmsg_type == NLMSG_ERROR) {
      const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
      // ENOENT: no such socket here, i.e. the peer is not local. Anything else: not answered.
      if (error->error != -ENOENT) available = false;
      return std::nullopt;
    }
    if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
        h->nlmsg_len >= NLMSG_LENGTH(sizeof(inet_diag_msg))) {
      const auto* row = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
      return LocalSocketPeer{row->idiag_inode, static_cast<uid_t>(row->idiag_uid)};
    }
  }
  return std::nullopt;
}

// "0100007F:1F90" as /proc/net/tcp prints an endpoint: each 32-bit word of the address as the host
// reads it from memory, then the port in host order.
std::string proc_net_text(const Endpoint& endpoint) {
  char text[64];
  const int words = endpoint.family == AF_INET ? 1 : 4;
  int n = 0;
  for (int i = 0; i < words; ++i) {
    n += std::snprintf(text + n, sizeof text - n, "%08X", endpoint.addr[i]);
  }
  std::snprintf(text + n, sizeof text - n, ":%04X", ntohs(endpoint.port));
  return text;
}

std::optional<LocalSocketPeer> proc_net_lookup(const Endpoint& src, const Endpoint& dst) {
  std::ifstream table(src.family == AF_INET ? "/proc/net/tcp" : "/proc/net/tcp6");
  const std::string local = proc_net_text(src);
  const std::string remote = proc_net_text(dst);
  std::string line;
  std::getline(table, line);  // the column titles
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local_field, remote_field, state, queues, timer, retransmits;
    unsigned long uid = 0, timeout = 0;
    uint64_t inode = 0;
    if (!(fields >> slot >> local_field >> remote_field >> state >> queues >> timer >> retransmits >>
          uid >> timeout >> inode)) {
      continue;
    }
    if (local_field == local && remote_field == remote) {
      return LocalSocketPeer{inode, static_cast<uid_t>(uid)};
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<LocalSocketPeer> local_socket_peer(const sockaddr_storage& local,
                                                 const sockaddr_storage& remote) {
  // An IPv4 client of a dual-stack listener has an IPv4 socket, unless it connected to the mapped
  // address from an IPv6 socket: both are asked.
  for (bool unmap : {true, false}) {
    auto ours = endpoint_of(local, unmap);
    auto theirs = endpoint_of(remote, unmap);
    if (!ours || !theirs || ours->family != theirs->family) return std::nullopt;
    // The peer's socket has the peer's address as its local end.
    bool netlink_answered = false;
    auto found = sock_diag_lookup(*theirs, *ours, netlink_answered);
    if (!found && !netlink_answered) found = proc_net_lookup(*theirs, *ours);
    if (found) return found;
    if (remote.ss_family != AF_INET6 || theirs->family == AF_INET6) break;
  }
  return std::nullopt;
}

std::optional<LocalSocketPeer> local_socket_peer(int fd) {
  sockaddr_storage local{}, remote{};
  socklen_t local_len = sizeof local, remote_len = sizeof remote;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0 ||
      ::getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &remote_len) != 0) {
    return std::nullopt;
  }
  return local_socket_peer(local, remote);
}

}  // namespace coda::process
