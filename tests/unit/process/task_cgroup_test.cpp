// The cgroup v2 facility on this machine's real cgroup2 mount: where the host's cgroup is, a task
// cgroup holding a real child, signalling and killing it, and sweeping only dead hosts' cgroups.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/process/proc_table.hpp"
#include "core/process/process_service.hpp"
#include "core/process/task_cgroup.hpp"

namespace coda::process {
namespace {

using namespace std::chrono_literals;

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

#define REQUIRE_CGROUPS(root)                                              \
  std::string why;                                                         \
  auto root = CgroupRoot::detect(&why);                                       \
  if (!root) {                                                             \
    if (in_ci()) FAIL() << "no task cgroups in CI: " << why;               \
    GTEST_SKIP() << "no task cgroups here: " << why;                       \
  }

// A child that moves itself into `procs` (as the process service's children do) and sleeps.
pid_t child_in(const std::string& procs, bool ignore_term = false) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Never outlives the test, whatever assertion ends it (it would hold ctest's output pipe).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (ignore_term) ::signal(SIGTERM, SIG_IGN);
    std::ofstream(procs) << "0";
    while (true) ::pause();
  }
  return pid;
}

bool eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST(TaskCgroup, TheRootIsTheHostsOwnCgroupOnTheCgroup2Mount) {
  REQUIRE_CGROUPS(root);
  // This process is listed in the directory found (mountinfo + /proc/self/cgroup joined right, also
  // on a hybrid layout where cgroup2 is at /sys/fs/cgroup/unified).
  std::ifstream procs(root->path() + "/cgroup.procs");
  bool listed = false;
  for (long pid = 0; procs >> pid;) listed = listed || pid == ::getpid();
  EXPECT_TRUE(listed) << root->path();
}

TEST(TaskCgroup, HoldsAChildSignalsKillsAndIsRemoved) {
  REQUIRE_CGROUPS(root);
  auto cgroup = root->create(1);
  ASSERT_TRUE(cgroup) << std::strerror(errno);
  const pid_t a = child_in(cgroup->dir + "/cgroup.procs");
  const pid_t b = child_in(cgroup->dir + "/cgroup.procs", true);
  ASSERT_TRUE(eventually([&] { return cgroup->contains(a) && cgroup->contains(b); }));
  EXPECT_TRUE(cgroup->populated());
  EXPECT_FALSE(cgroup->contains(::getpid()));
  EXPECT_FALSE(cgroup->remove());  // not while processes are in it
  // A sub-cgroup the agent made (where it may) is signalled, killed and removed with it.
  const std::string sub = cgroup->dir + "/nested";
  ASSERT_EQ(::mkdir(sub.c_str(), 0755), 0) << std::strerror(errno);
  const pid_t c = child_in(sub + "/cgroup.procs", true);
  ASSERT_TRUE(eventually([&] { return cgroup->contains(c); }));
  cgroup->signal(SIGTERM);  // every member; b ignores it
  int status = 0;
  ASSERT_EQ(::waitpid(a, &status, 0), a);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  EXPECT_TRUE(cgroup->kill());
  ASSERT_EQ(::waitpid(b, &status, 0), b);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ASSERT_EQ(::waitpid(c, &status, 0), c);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_FALSE(cgroup->populated());
  EXPECT_TRUE(cgroup->remove());
  struct stat st{};
  EXPECT_NE(::stat(cgroup->dir.c_str(), &st), 0);
}

TEST(TaskCgroup, TheSweepTakesOnlyCgroupsOfHostsThatNoLongerRun) {
  REQUIRE_CGROUPS(root);
  // Ours (a live host) stays.
  auto mine = root->create(2);
  ASSERT_TRUE(mine);
  const pid_t in_mine = child_in(mine->dir + "/cgroup.procs");
  // A dead host's: named after a process that exited (its pid and start time no longer match).
  const pid_t gone = ::fork();
  if (gone == 0) ::_exit(0);
  const uint64_t gone_start = process_start_time(gone).value_or(1);
  ::waitpid(gone, nullptr, 0);
  const std::string dead = root->path() + "/coda-task-" + std::to_string(gone) + "." +
                           std::to_string(gone_start) + ".7";
  ASSERT_EQ(::mkdir(dead.c_str(), 0755), 0) << std::strerror(errno);
  const pid_t in_dead = child_in(dead + "/cgroup.procs");
  // Another host starting meanwhile (tests run in parallel) may sweep it first, even before the
  // child got in: then the child is ended here and only the removal is checked.
  const TaskCgroup dead_cgroup{dead, mine->relative.substr(0, mine->relative.rfind('/')) +
                                          dead.substr(dead.rfind('/'))};
  const bool joined = eventually([&] {
    struct stat st{};
    return dead_cgroup.contains(in_dead) || ::stat(dead.c_str(), &st) != 0;
  }) && dead_cgroup.contains(in_dead);
  root->sweep_dead_hosts();
  int status = 0;
  if (!joined) ::kill(in_dead, SIGKILL);
  ASSERT_EQ(::waitpid(in_dead, &status, 0), in_dead);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  struct stat st{};
  EXPECT_NE(::stat(dead.c_str(), &st), 0) << "the dead host's cgroup was not removed";
  EXPECT_TRUE(mine->populated()) << "a live host's cgroup was swept";
  mine->kill();
  ::waitpid(in_mine, &status, 0);
  EXPECT_TRUE(mine->remove());
}

}  // namespace
}  // namespace coda::process
