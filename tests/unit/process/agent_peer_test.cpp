// Peer attribution of local TCP connections: the kernel's socket table and /proc name the process
// at the other end, and the detector tells the host's descendants from everyone else.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "core/process/agent_peer.hpp"
#include "core/process/socket_peer.hpp"

namespace coda::process {
namespace {

using namespace std::chrono_literals;

// A loopback listener on a free port (IPv4 or IPv6).
struct Listener {
  int fd = -1;
  int family = AF_INET;
  sockaddr_storage address{};
  explicit Listener(int af = AF_INET) : family(af) {
    fd = ::socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0);
    socklen_t len = 0;
    if (af == AF_INET) {
      auto& in4 = reinterpret_cast<sockaddr_in&>(address);
      in4.sin_family = AF_INET;
      in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof in4;
    } else {
      auto& in6 = reinterpret_cast<sockaddr_in6&>(address);
      in6.sin6_family = AF_INET6;
      in6.sin6_addr = in6addr_loopback;
      len = sizeof in6;
    }
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), len), 0);
    EXPECT_EQ(::listen(fd, 8), 0);
    len = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &len);
  }
  ~Listener() { ::close(fd); }
  int connect_to() const {
    int c = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const socklen_t len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    EXPECT_EQ(::connect(c, reinterpret_cast<const sockaddr*>(&address), len), 0);
    return c;
  }
  int accept_one() const { return ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC); }
};

TEST(SocketPeer, NamesTheInodeAndUidOfALocalPeerSocket) {
  for (int af : {AF_INET, AF_INET6}) {
    Listener listener(af);
    const int client = listener.connect_to();
    const int served = listener.accept_one();
    ASSERT_GE(served, 0);
    auto peer = local_socket_peer(served);
    ASSERT_TRUE(peer.has_value()) << "family " << af;
    EXPECT_EQ(peer->uid, ::geteuid());
    struct stat st{};
    ASSERT_EQ(::fstat(client, &st), 0);
    EXPECT_EQ(peer->inode, static_cast<uint64_t>(st.st_ino)) << "the client's socket, not ours";
    ::close(client);
    ::close(served);
  }
}

TEST(SocketPeer, APeerThatIsNotInTheTableIsNotLocal) {
  sockaddr_storage local{}, remote{};
  auto& l = reinterpret_cast<sockaddr_in&>(local);
  auto& r = reinterpret_cast<sockaddr_in&>(remote);
  l.sin_family = r.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &l.sin_addr);
  ::inet_pton(AF_INET, "192.0.2.7", &r.sin_addr);  // TEST-NET-1: no socket of ours
  l.sin_port = htons(1);
  r.sin_port = htons(2);
  EXPECT_FALSE(local_socket_peer(local, remote).has_value());
}

TEST(AgentPeerDetector, AConnectionOfThisProcessIsLocalNotAnAgents) {
  Listener listener;
  const int client = listener.connect_to();
  const int served = listener.accept_one();
  AgentPeerDetector detector;
  EXPECT_EQ(detector.classify(served).kind, PeerKind::kLocal);
  ::close(client);
  ::close(served);
}

// A child (and a grandchild that left its session) connecting to the listener is an agent.
TEST(AgentPeerDetector, ADescendantsConnectionIsAnAgentsWhereverItMoved) {
  for (bool escape : {false, true}) {
    // An orphaned grandchild stays a descendant only through a subreaper (the host is one).
    if (escape) ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    Listener listener;
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t child = ::fork();
    if (child == 0) {
      if (escape && ::fork() != 0) _exit(0);  // the grandchild is orphaned
      if (escape) ::setsid();
      const int c = listener.connect_to();
      char byte = 'x';
      [[maybe_unused]] auto n = ::write(ready[1], &byte, 1);
      ::pause();
      ::close(c);
      _exit(0);
    }
    ::close(ready[1]);
    const int served = listener.accept_one();
    char byte = 0;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1);
    int status = 0;
    if (escape) ::waitpid(child, &status, 0);
    AgentPeerDetector detector;
    auto verdict = detector.classify(served);
    EXPECT_EQ(verdict.kind, PeerKind::kAgent) << (escape ? "escaped grandchild" : "child");
    EXPECT_NE(verdict.pid, 0);
    ::kill(verdict.pid != 0 ? verdict.pid : child, SIGKILL);
    while (::waitpid(-1, &status, WNOHANG) > 0 || ::waitpid(-1, &status, 0) > 0) {
    }
    ::close(served);
    ::close(ready[0]);
  }
}

TEST(AgentPeerDetector, AReservedAgentUidIsAnAgentWithoutLookingForTheProcess) {
  AgentPeerDetector detector({::geteuid()});
  Listener listener;
  const int client = listener.connect_to();
  const int served = listener.accept_one();
  EXPECT_EQ(detector.classify(served).kind, PeerKind::kAgent);
  ::close(client);
  ::close(served);
}

}  // namespace
}  // namespace coda::process
