// A task's whole process tree dies with it: escapees that left the agent's session and group
// (setsid, setsid -f double forks, setpgid) are ended by terminate() and after the leader exits, with
// a cgroup v2 per child where this machine allows it and with /proc tracking otherwise; children
// survive the thread that spawned them (PR_SET_PDEATHSIG is tied to the service's fork thread).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "core/process/proc_table.hpp"
#include "core/process/process_service.hpp"
#include "core/process/task_cgroup.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/process/recording_events.hpp"

namespace coda::process {
namespace {

using test::RecordingEvents;
using test::RecordingObserver;
using namespace std::chrono_literals;

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

bool alive(pid_t pid) {
  auto entry = read_proc_entry(pid);
  return entry && entry->state != 'Z';
}

bool wait_dead(pid_t pid, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!alive(pid)) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// The pid a script wrote to `path`, once it is there.
pid_t wait_pid_file(const std::string& path, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(path);
    long pid = 0;
    if (in >> pid && pid > 0) return static_cast<pid_t>(pid);
    std::this_thread::sleep_for(10ms);
  }
  return 0;
}

// An agent that starts three escapees, each ignoring SIGTERM, then hangs (or exits at once):
//   esc_setsid   a new session (setsid)
//   esc_double   setsid -f: a double fork whose middle process exits, in a new session
//   esc_pgid     a new process group in the same session (setpgid)
// With `linger`, a leader that exits does so a second later: /proc tracking sees only escapees that
// lived through one of its scans (every 100 ms) while the leader ran; the cgroup has no such window,
// so with a cgroup the leader exits at once.
std::string escapee_script(bool leader_exits, bool linger = false) {
  return "setsid sh -c 'trap \"\" TERM; echo $$ > esc_setsid.tmp; mv esc_setsid.tmp esc_setsid; "
         "while :; do sleep 1; done' </dev/null >/dev/null 2>&1 &\n"
         "setsid -f sh -c 'trap \"\" TERM; echo $$ > esc_double.tmp; mv esc_double.tmp esc_double; "
         "while :; do sleep 1; done' </dev/null >/dev/null 2>&1\n"
         R"(perl -e '$SIG{TERM} = "IGNORE"; setpgrp(0, 0); open(F, ">esc_pgid.tmp"); print F "$$\n";)"
         R"( close(F); rename("esc_pgid.tmp", "esc_pgid"); sleep 1 while 1;' </dev/null >/dev/null 2>&1 &)"
         "\n"
         "while [ ! -s esc_setsid ] || [ ! -s esc_double ] || [ ! -s esc_pgid ]; do sleep 0.02; done\n"
         "echo started\n" +
         std::string(!leader_exits ? "while :; do sleep 1; done\n" : linger ? "sleep 1; exit 0\n" : "exit 0\n");
}

class ProcessTreeTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    config::AgentPolicy policy;
    policy.env_allowlist = {"PATH", "HOME"};
    policy.kill_grace_s = 1;
    if (GetParam()) {
      std::string why;
      if (!CgroupRoot::detect(&why)) {
        if (in_ci()) FAIL() << "no task cgroups in CI: " << why;
        GTEST_SKIP() << "no task cgroups here: " << why;
      }
    }
    service_ = ProcessService::create(policy, "", GetParam());
    service_->set_observer(&observer_);
  }
  void TearDown() override {
    if (service_) service_->shutdown();
  }
  SpawnSpec spec(const std::string& script) {
    SpawnSpec s;
    s.argv = {"sh", "-c", script};
    s.cwd = dir_.path();
    return s;
  }
  std::vector<pid_t> escapees() {
    std::vector<pid_t> pids;
    for (const char* name : {"esc_setsid", "esc_double", "esc_pgid"}) {
      const pid_t pid = wait_pid_file(dir_.path() + "/" + name);
      EXPECT_GT(pid, 0) << name;
      if (pid > 0) pids.push_back(pid);
    }
    return pids;
  }

  coda::test::TempDir dir_;
  RecordingObserver observer_;
  std::unique_ptr<ProcessService> service_;
};

TEST_P(ProcessTreeTest, TerminateEndsEscapeesThatLeftTheSessionAndGroup) {
  auto events = std::make_shared<RecordingEvents>();
  const auto id = service_->spawn(spec(escapee_script(false)), events);
  const auto pids = escapees();
  ASSERT_EQ(pids.size(), 3u);
  const auto leader = observer_.spawned_info(id).pid;
  for (pid_t pid : pids) {
    auto entry = read_proc_entry(pid);
    ASSERT_TRUE(entry);
    EXPECT_NE(entry->pgid, leader) << pid;  // really escaped from the group
  }
  service_->terminate(id);
  ASSERT_TRUE(events->wait_exit());
  for (pid_t pid : pids) EXPECT_TRUE(wait_dead(pid)) << "escapee " << pid << " survived";
  EXPECT_TRUE(observer_.wait_exited(id));
}

TEST_P(ProcessTreeTest, EscapeesEndWhenTheLeaderExits) {
  auto events = std::make_shared<RecordingEvents>();
  const auto id = service_->spawn(spec(escapee_script(true, !GetParam())), events);
  const auto pids = escapees();
  ASSERT_EQ(pids.size(), 3u);
  ASSERT_TRUE(events->wait_exit());
  for (pid_t pid : pids) EXPECT_TRUE(wait_dead(pid)) << "escapee " << pid << " survived";
  EXPECT_TRUE(observer_.wait_exited(id));
}

TEST_P(ProcessTreeTest, ShutdownEndsEscapeesWithinTheGrace) {
  auto events = std::make_shared<RecordingEvents>();
  service_->spawn(spec(escapee_script(false)), events);
  const auto pids = escapees();
  ASSERT_EQ(pids.size(), 3u);
  service_->shutdown();
  for (pid_t pid : pids) EXPECT_FALSE(alive(pid)) << "escapee " << pid << " survived shutdown";
}

TEST_P(ProcessTreeTest, AnotherChildsTreeIsNotTouched) {
  auto a = std::make_shared<RecordingEvents>(), b = std::make_shared<RecordingEvents>();
  const auto id_a = service_->spawn(spec(escapee_script(false)), a);
  const auto pids = escapees();
  auto other = spec("setsid sh -c 'echo $$ > other.tmp; mv other.tmp other; exec sleep 300' "
                    "</dev/null >/dev/null 2>&1 & exec sleep 300");
  const auto id_b = service_->spawn(other, b);
  const pid_t bystander = wait_pid_file(dir_.path() + "/other");
  ASSERT_GT(bystander, 0);
  service_->terminate(id_a);
  ASSERT_TRUE(a->wait_exit());
  for (pid_t pid : pids) EXPECT_TRUE(wait_dead(pid));
  EXPECT_TRUE(alive(bystander));
  EXPECT_FALSE(b->wait_exit(100ms));
  service_->terminate(id_b);
  EXPECT_TRUE(b->wait_exit());
  EXPECT_TRUE(wait_dead(bystander));
}

// Without a cgroup nothing ends escapees when the host dies, so they are told to the observer (the
// task engine records them in the store) and the crash recovery's kill_surviving_group ends them.
// (Only the /proc tracking: with a cgroup the next host sweeps the dead host's cgroups instead.)
class TrackingTreeTest : public ProcessTreeTest {};

TEST_P(TrackingTreeTest, TrackedEscapeesAreRecordedForTheCrashRecovery) {
  auto events = std::make_shared<RecordingEvents>();
  auto s = spec(escapee_script(false));
  s.task = 42;
  const auto id = service_->spawn(s, events);
  const auto pids = escapees();
  ASSERT_EQ(pids.size(), 3u);
  // The setsid and setsid -f escapees left the session: recorded each. The setpgid one is still in
  // the agent's session, which the leader's own record covers.
  const std::vector<pid_t> left_session = {pids[0], pids[1]};
  std::vector<ProcessInfo> records;
  auto recorded = [&] {
    records.clear();
    for (const auto& info : observer_.all_spawned()) {
      for (pid_t pid : left_session) {
        if (info.pid == pid && info.id != id) records.push_back(info);
      }
    }
    return records.size() == left_session.size();
  };
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!recorded() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  ASSERT_EQ(records.size(), left_session.size()) << "escapees not recorded";
  for (const auto& info : records) {
    EXPECT_EQ(info.task, 42u);
    EXPECT_NE(info.pgid, observer_.spawned_info(id).pgid);
    EXPECT_EQ(info.start_time, process_start_time(info.pid).value_or(0));
  }
  // What the recovery of the next host does with the records (the leader's included).
  for (const auto& info : records) {
    EXPECT_TRUE(kill_surviving_group(info.pid, info.pgid, info.start_time));
  }
  const auto leader = observer_.spawned_info(id);
  EXPECT_TRUE(kill_surviving_group(leader.pid, leader.pgid, leader.start_time));
  for (pid_t pid : pids) EXPECT_TRUE(wait_dead(pid)) << "escapee " << pid << " survived recovery";
  ASSERT_TRUE(events->wait_exit());
  for (const auto& info : records) EXPECT_TRUE(observer_.wait_exited(info.id));
}

INSTANTIATE_TEST_SUITE_P(Mechanisms, ProcessTreeTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Cgroup" : "Tracking"; });
INSTANTIATE_TEST_SUITE_P(Mechanisms, TrackingTreeTest, ::testing::Values(false),
                         [](const auto&) { return "Tracking"; });

// PR_SET_PDEATHSIG fires when the thread that forked a child ends: the service forks on its own
// thread, so a child outlives the (short-lived) thread that asked for it.
TEST(ProcessTree, AChildOutlivesTheThreadThatSpawnedIt) {
  config::AgentPolicy policy;
  policy.env_allowlist = {"PATH"};
  policy.kill_grace_s = 1;
  auto service = ProcessService::create(policy, "");
  RecordingObserver observer;
  service->set_observer(&observer);
  auto events = std::make_shared<RecordingEvents>();
  uint64_t id = 0;
  std::thread([&] {
    SpawnSpec s;
    s.argv = {"sleep", "30"};
    id = service->spawn(s, events);
  }).join();
  EXPECT_FALSE(events->wait_exit(300ms)) << "the child died with the spawning thread";
  const pid_t pid = observer.spawned_info(id).pid;
  ASSERT_TRUE(alive(pid));
  service->shutdown();
}

// A host killed with -9: its agent dies through PR_SET_PDEATHSIG, and what the agent left in its
// cgroup is swept by the next host started in the same cgroup.
TEST(ProcessTree, AKilledHostsAgentDiesAndItsEscapeesAreSweptByTheNext) {
  coda::test::TempDir dir;
  const pid_t host = ::fork();
  ASSERT_GE(host, 0);
  if (host == 0) {
    config::AgentPolicy policy;
    policy.env_allowlist = {"PATH"};
    auto service = ProcessService::create(policy, "");
    SpawnSpec s;
    s.argv = {"sh", "-c",
              "setsid -f sh -c 'echo $$ > esc.tmp; mv esc.tmp esc; exec sleep 300' "
              "</dev/null >/dev/null 2>&1; echo $$ > leader.tmp; mv leader.tmp leader; exec sleep 300"};
    s.cwd = dir.path();
    service->spawn(s, std::make_shared<RecordingEvents>());
    while (true) ::pause();
  }
  const pid_t leader = wait_pid_file(dir.path() + "/leader");
  const pid_t escapee = wait_pid_file(dir.path() + "/esc");
  ASSERT_GT(leader, 0);
  ASSERT_GT(escapee, 0);
  ::kill(host, SIGKILL);
  int status = 0;
  ::waitpid(host, &status, 0);
  EXPECT_TRUE(wait_dead(leader)) << "the agent outlived its host";
  std::string why;
  auto root = CgroupRoot::detect(&why);
  if (!root) {
    ::kill(escapee, SIGKILL);
    if (in_ci()) FAIL() << "no task cgroups in CI: " << why;
    GTEST_SKIP() << "no task cgroups here (the escapee is only ended by recovery): " << why;
  }
  // (A host started by a test running in parallel may sweep it first; either way it must end.)
  root->sweep_dead_hosts();
  EXPECT_TRUE(wait_dead(escapee));
}

}  // namespace
}  // namespace coda::process
