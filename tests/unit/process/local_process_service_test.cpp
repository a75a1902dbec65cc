#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/process/agent_account.hpp"
#include "core/process/landlock.hpp"
#include "core/process/proc_table.hpp"
#include "core/process/process_service.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/unavailable.hpp"
#include "tests/unit/process/recording_events.hpp"

namespace coda::process {
namespace {

using test::RecordingEvents;
using test::RecordingObserver;
using namespace std::chrono_literals;

config::AgentPolicy test_policy() {
  config::AgentPolicy policy;
  policy.env_allowlist = {"PATH", "HOME"};
  policy.kill_grace_s = 1;
  return policy;
}

// Waits until no live (non-zombie) process is in the group/session of `leader` or the pid itself
// exists in any state; true when that happened within the timeout.
bool wait_group_gone(pid_t leader, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (group_members(leader, leader).empty()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

bool pid_exists(pid_t pid) { return read_proc_entry(pid).has_value(); }

class ProcessServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { make_service(test_policy()); }
  void TearDown() override {
    service_->shutdown();
    EXPECT_EQ(service_->live_count(), 0u);
  }
  void make_service(const config::AgentPolicy& policy, const std::string& data_dir = "") {
    if (service_) service_->shutdown();
    service_ = ProcessService::create(policy, data_dir);
    service_->set_observer(&observer_);
  }
  SpawnSpec spec(std::vector<std::string> argv) {
    SpawnSpec s;
    s.argv = std::move(argv);
    s.cwd = dir_.path();
    return s;
  }
  // Runs to completion and returns the events.
  std::shared_ptr<RecordingEvents> run(const SpawnSpec& s) {
    auto events = std::make_shared<RecordingEvents>();
    service_->spawn(s, events);
    EXPECT_TRUE(events->wait_exit());
    return events;
  }

  coda::test::TempDir dir_;
  RecordingObserver observer_;
  std::unique_ptr<ProcessService> service_;
};

TEST_F(ProcessServiceTest, RunsWithoutAShellAndSeparatesStreams) {
  // The argument reaches the program verbatim: no shell expands the `$HOME` or the `;`.
  auto events =
      run(spec({"sh", "-c", "printf '%s' \"$1\"; echo err >&2; exit 3", "sh", "$HOME; rm -rf /"}));
  EXPECT_EQ(events->out(), "$HOME; rm -rf /");
  EXPECT_EQ(events->err(), "err\n");
  EXPECT_EQ(events->exit_code(), 3);
  EXPECT_EQ(events->term_signal(), 0);
  EXPECT_EQ(events->exit_calls(), 1);
}

TEST_F(ProcessServiceTest, RunsInTheGivenDirectory) {
  auto events = run(spec({"pwd"}));
  EXPECT_EQ(events->out(), dir_.path() + "\n");
}

TEST_F(ProcessServiceTest, MissingExecutableOrDirectoryIsASpawnErrorNamingIt) {
  try {
    service_->spawn(spec({"no-such-agent-cli"}), std::make_shared<RecordingEvents>());
    FAIL() << "spawn succeeded";
  } catch (const SpawnError& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-agent-cli"), std::string::npos) << e.what();
  }
  auto bad_cwd = spec({"true"});
  bad_cwd.cwd = dir_.path() + "/missing";
  EXPECT_THROW(service_->spawn(bad_cwd, std::make_shared<RecordingEvents>()), SpawnError);
  const auto not_executable = dir_.write("plain.txt", "text");
  EXPECT_THROW(service_->spawn(spec({not_executable}), std::make_shared<RecordingEvents>()),
               SpawnError);
  EXPECT_EQ(service_->live_count(), 0u);
}

TEST_F(ProcessServiceTest, StdinIsDevNullUnlessAFileIsGiven) {
  // `cat` with an open terminal or pipe on stdin would hang; /dev/null ends it at once.
  auto events = run(spec({"cat"}));
  EXPECT_EQ(events->out(), "");
  EXPECT_EQ(events->exit_code(), 0);
  auto with_file = spec({"cat"});
  with_file.stdin_path = dir_.write("prompt.txt", "the prompt\n");
  EXPECT_EQ(run(with_file)->out(), "the prompt\n");
  auto missing = spec({"cat"});
  missing.stdin_path = dir_.path() + "/missing.txt";
  EXPECT_THROW(service_->spawn(missing, std::make_shared<RecordingEvents>()), SpawnError);
}

TEST_F(ProcessServiceTest, EnvironmentIsBuiltFromTheAllowlist) {
  ::setenv("DATABRICKS_TOKEN", "dapi-secret-value", 1);
  ::setenv("CODA_TEST_ALLOWED", "yes", 1);
  auto policy = test_policy();
  policy.env_allowlist.push_back("CODA_TEST_ALLOW*");
  policy.env["FROM_POLICY"] = "p";
  make_service(policy);
  auto s = spec({"env"});
  s.env_extra = {"FROM_BACKEND=b", "LD_PRELOAD=/tmp/evil.so", "DATABRICKS_TOKEN=dapi-secret-value",
                 "not an entry"};
  auto events = run(s);
  const auto out = events->out();
  EXPECT_EQ(out.find("dapi-secret-value"), std::string::npos) << out;
  EXPECT_EQ(out.find("LD_PRELOAD"), std::string::npos) << out;
  EXPECT_NE(out.find("CODA_TEST_ALLOWED=yes"), std::string::npos) << out;
  EXPECT_NE(out.find("FROM_POLICY=p"), std::string::npos) << out;
  EXPECT_NE(out.find("FROM_BACKEND=b"), std::string::npos) << out;
  EXPECT_NE(out.find("PATH="), std::string::npos) << out;

  // Named by the admin, the token passes.
  policy.env_allowlist.push_back("DATABRICKS_TOKEN");
  make_service(policy);
  EXPECT_NE(run(spec({"env"}))->out().find("DATABRICKS_TOKEN=dapi-secret-value"),
            std::string::npos);
  ::unsetenv("DATABRICKS_TOKEN");
  ::unsetenv("CODA_TEST_ALLOWED");
}

TEST_F(ProcessServiceTest, ChildLeadsItsOwnGroupAndSession) {
  auto events = std::make_shared<RecordingEvents>();
  const auto id = service_->spawn(spec({"sleep", "30"}), events);
  const auto info = observer_.spawned_info(id);
  ASSERT_GT(info.pid, 0);
  EXPECT_EQ(info.pgid, info.pid);
  EXPECT_EQ(info.start_time, process_start_time(info.pid).value_or(0));
  const auto entry = read_proc_entry(info.pid);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->pgid, info.pid);
  EXPECT_EQ(entry->sid, info.pid);
  EXPECT_NE(entry->pgid, ::getpgrp());
  EXPECT_EQ(service_->live_count(), 1u);
  // `sleep` dies at once on SIGTERM, so a second call may already find it gone: idempotence is
  // checked on a child that outlives the signal (SigtermIgnoringChildIsKilledAfterTheGrace).
  EXPECT_TRUE(service_->terminate(id));
  ASSERT_TRUE(events->wait_exit());
  EXPECT_EQ(events->exit_code(), -1);
  EXPECT_EQ(events->term_signal(), SIGTERM);
  EXPECT_TRUE(observer_.wait_exited(id));
  EXPECT_FALSE(service_->terminate(id));
  EXPECT_FALSE(pid_exists(info.pid));
}

TEST_F(ProcessServiceTest, SigtermIgnoringChildIsKilledAfterTheGrace) {
  auto events = std::make_shared<RecordingEvents>();
  const auto id = service_->spawn(
      spec({"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"}), events);
  const auto pid = observer_.spawned_info(id).pid;
  while (events->out().empty()) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(service_->terminate(id));
  EXPECT_TRUE(service_->terminate(id));  // idempotent while the child outlives the SIGTERM
  ASSERT_TRUE(events->wait_exit());
  EXPECT_EQ(events->term_signal(), SIGKILL);
  EXPECT_TRUE(wait_group_gone(pid));
}

TEST_F(ProcessServiceTest, TerminateEndsGrandchildrenToo) {
  auto events = std::make_shared<RecordingEvents>();
  const auto id = service_->spawn(
      spec({"sh", "-c", "(trap '' TERM; while :; do sleep 0.05; done) & echo $!; wait"}), events);
  const auto pid = observer_.spawned_info(id).pid;
  while (events->out().empty()) std::this_thread::sleep_for(10ms);
  const pid_t grandchild = std::stoi(events->out());
  ASSERT_TRUE(pid_exists(grandchild));
  service_->terminate(id);
  ASSERT_TRUE(events->wait_exit());
  EXPECT_TRUE(observer_.wait_exited(id));
  EXPECT_TRUE(wait_group_gone(pid));
  // Reaped too (we are the subreaper): not even a zombie is left.
  EXPECT_FALSE(pid_exists(grandchild));
}

TEST_F(ProcessServiceTest, GrandchildHoldingThePipesIsEndedWhenTheLeaderExits) {
  auto events = std::make_shared<RecordingEvents>();
  // The leader exits at once; its grandchild keeps stdout open and ignores SIGTERM.
  const auto id = service_->spawn(
      spec({"sh", "-c", "(trap '' TERM; while :; do sleep 0.05; done) & echo $!; exit 0"}), events);
  const auto pid = observer_.spawned_info(id).pid;
  ASSERT_TRUE(events->wait_exit());
  EXPECT_EQ(events->exit_code(), 0);
  const pid_t grandchild = std::stoi(events->out());
  EXPECT_TRUE(observer_.wait_exited(id));
  EXPECT_TRUE(wait_group_gone(pid));
  EXPECT_FALSE(pid_exists(grandchild));
}

TEST_F(ProcessServiceTest, DetachedGrandchildIsEndedAfterTheLeaderExits) {
  auto events = std::make_shared<RecordingEvents>();
  const auto id =
      service_->spawn(spec({"sh", "-c", "sleep 30 >/dev/null 2>&1 </dev/null & echo $!"}), events);
  ASSERT_TRUE(events->wait_exit());
  const pid_t grandchild = std::stoi(events->out());
  EXPECT_TRUE(observer_.wait_exited(id));
  EXPECT_FALSE(pid_exists(grandchild));
}

TEST_F(ProcessServiceTest, TerminateTaskEndsEveryProcessOfThatTaskOnly) {
  auto a1 = std::make_shared<RecordingEvents>(), a2 = std::make_shared<RecordingEvents>(),
       b = std::make_shared<RecordingEvents>();
  auto for_task = [&](uint64_t task) {
    auto s = spec({"sleep", "30"});
    s.task = task;
    return s;
  };
  service_->spawn(for_task(7), a1);
  service_->spawn(for_task(7), a2);
  const auto other = service_->spawn(for_task(8), b);
  service_->terminate_task(7);
  EXPECT_TRUE(a1->wait_exit());
  EXPECT_TRUE(a2->wait_exit());
  EXPECT_FALSE(b->wait_exit(200ms));
  EXPECT_EQ(service_->live_count(), 1u);
  service_->terminate(other);
  EXPECT_TRUE(b->wait_exit());
}

TEST_F(ProcessServiceTest, ResourceLimitsApplyInTheChild) {
  auto policy = test_policy();
  policy.limits.file_size_mb = 1;
  policy.limits.open_files = 64;
  policy.limits.cpu_s = 100;
  make_service(policy);
  const auto limits = run(spec({"cat", "/proc/self/limits"}))->out();
  EXPECT_NE(limits.find("Max file size             1048576              1048576"),
            std::string::npos)
      << limits;
  EXPECT_NE(limits.find("Max open files            64                   64"), std::string::npos)
      << limits;
  EXPECT_NE(limits.find("Max cpu time              100                  100"), std::string::npos)
      << limits;
  // Writing past the limit fails in the child (SIGXFSZ).
  auto events = run(spec({"sh", "-c", "head -c 2000000 /dev/zero > big.bin"}));
  EXPECT_NE(events->exit_code(), 0);
}

TEST_F(ProcessServiceTest, LargeOutputStreamsThroughCompletely) {
  auto events = std::make_shared<RecordingEvents>(4096);
  service_->spawn(spec({"head", "-c", "100000000", "/dev/zero"}), events);
  ASSERT_TRUE(events->wait_exit(60s));
  EXPECT_EQ(events->out_bytes(), 100000000u);
  EXPECT_EQ(events->exit_code(), 0);
  EXPECT_FALSE(events->late_output());
}

TEST_F(ProcessServiceTest, WhichResolvesOnTheChildPath) {
  const auto sh = service_->which("sh");
  ASSERT_TRUE(sh);
  EXPECT_EQ(sh->front(), '/');
  EXPECT_FALSE(service_->which("no-such-agent-cli"));
  EXPECT_FALSE(service_->which(""));
}

TEST_F(ProcessServiceTest, ShutdownEndsEveryChildAndRefusesNewOnes) {
  auto events = std::make_shared<RecordingEvents>();
  const auto id = service_->spawn(spec({"sh", "-c", "trap '' TERM; sleep 30 & wait"}), events);
  const auto pid = observer_.spawned_info(id).pid;
  service_->shutdown();
  EXPECT_TRUE(events->wait_exit(0ms));
  EXPECT_EQ(service_->live_count(), 0u);
  EXPECT_TRUE(wait_group_gone(pid));
  EXPECT_THROW(service_->spawn(spec({"true"}), std::make_shared<RecordingEvents>()), SpawnError);
}

TEST_F(ProcessServiceTest, SandboxHidesTheDataDirAndKeepsTheRestReadOnly) {
  if (!service_->which("bwrap")) CODA_MECHANISM_UNAVAILABLE("bubblewrap is not installed");
  const std::string data = dir_.path() + "/data";
  const auto secret = dir_.write("data/coda.db", "secret rows");
  const auto marker = dir_.write("data/ws/seen.txt", "workspace file");
  const std::string workspace = data + "/ws";
  auto policy = test_policy();
  policy.sandbox.enabled = true;
  make_service(policy, data);
  auto s = spec({"sh", "-c",
                 "cat " + secret +
                     " 2>/dev/null || echo hidden; cat seen.txt; echo; "
                     "echo ok > written.txt && echo wrote; "
                     "(echo x > /usr/coda-sandbox-probe) 2>/dev/null && rm /usr/coda-sandbox-probe "
                     "|| echo read-only"});
  s.cwd = workspace;
  auto events = run(s);
  if (events->err().find("bwrap:") != std::string::npos) {
    CODA_MECHANISM_UNAVAILABLE("bubblewrap cannot create namespaces here: " << events->err());
  }
  EXPECT_EQ(events->out(), "hidden\nworkspace file\nwrote\nread-only\n") << events->err();
  EXPECT_EQ(coda::test::read_file(workspace + "/written.txt"), "ok\n");
}

// Landlock, where bubblewrap cannot run: the data dir and the hidden files closed, the workspace
// and the rest open, a private TMPDIR that goes with the child.
TEST_F(ProcessServiceTest, LandlockClosesTheDataDirAndHiddenFilesAndGivesAPrivateTmpdir) {
  if (landlock_abi() <= 0) CODA_MECHANISM_UNAVAILABLE("this kernel has no Landlock");
  const std::string data = dir_.path() + "/data";
  const auto store = dir_.write("data/coda.db", "secret rows");
  const auto other = dir_.write("data/other/theirs.txt", "another task's file");
  const auto config = dir_.write("etc/coda.yaml", "config secret");
  const auto outside = dir_.write("etc/readable.txt", "outside file");
  dir_.write("data/ws/seen.txt", "workspace file");
  const std::string workspace = data + "/ws";
  auto policy = test_policy();
  policy.landlock_enforced = true;
  policy.sandbox.hidden = {config};
  make_service(policy, data);
  auto s =
      spec({"sh", "-c",
            "for f in " + store + " " + other + " " + config +
                "; do cat $f 2>/dev/null || echo closed; done; cat seen.txt; echo; cat " + outside +
                "; echo; echo ok > written.txt && echo wrote; "
                "echo t > \"$TMPDIR/t\" && echo tmp-ok; echo \"$TMPDIR\" > tmpdir.txt"});
  s.cwd = workspace;
  auto events = run(s);
  EXPECT_EQ(events->out(), "closed\nclosed\nclosed\nworkspace file\noutside file\nwrote\ntmp-ok\n")
      << events->err();
  EXPECT_EQ(coda::test::read_file(workspace + "/written.txt"), "ok\n");
  std::string tmpdir = coda::test::read_file(workspace + "/tmpdir.txt");
  while (!tmpdir.empty() && tmpdir.back() == '\n') tmpdir.pop_back();
  EXPECT_EQ(tmpdir.rfind(data + "/tmp/agent-", 0), 0u) << tmpdir;
  // Removed once the child is gone (the service finishes with it after on_exit).
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::filesystem::exists(tmpdir) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_FALSE(std::filesystem::exists(tmpdir)) << tmpdir;
}

// agents.policy.run_as on a root host: the child is that user, with its HOME; the roots it may
// write become its own, without following a symlink or re-owning a hard-linked foreign file.
TEST_F(ProcessServiceTest, RunAsStartsTheAgentAsThatUserAndHandsItsWorkspaceOver) {
  if (::geteuid() != 0) CODA_MECHANISM_UNAVAILABLE("agents.policy.run_as needs root");
  ::chmod(dir_.path().c_str(), 0711);  // passable to the agent user, as a data dir is
  const std::string workspace = dir_.path() + "/ws";
  const auto host_file = dir_.write("host-only.txt", "the host's");
  ::chmod(host_file.c_str(), 0600);
  dir_.write("ws/.coda/tasks/t1/prompt.txt", "the prompt");
  std::filesystem::create_symlink(host_file, workspace + "/planted-link");
  std::filesystem::create_hard_link(host_file, workspace + "/planted-hard-link");
  auto policy = test_policy();
  policy.account = lookup_agent_account("nobody");
  make_service(policy, dir_.path());
  auto s = spec({"sh", "-c",
                 "id -u; echo \"$HOME\"; cat .coda/tasks/t1/prompt.txt; echo; "
                 "echo ok > .coda/tasks/t1/result.json && echo wrote; "
                 "cat planted-link 2>/dev/null || echo closed"});
  s.cwd = workspace;
  auto events = run(s);
  EXPECT_EQ(events->out(), std::to_string(policy.account.uid) + "\n" + policy.account.home +
                               "\nthe prompt\nwrote\nclosed\n")
      << events->err();
  struct stat st {};
  ASSERT_EQ(::stat(host_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u) << "a planted symlink's or hard link's target was re-owned";
  ASSERT_EQ(::lstat((workspace + "/.coda/tasks/t1/result.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, policy.account.uid);
}

// agents.policy.home: per_owner: the engine names a task's HOME; its processes get it, writable
// under Landlock (one of their roots), and forgetting it gives the host's HOME back.
TEST_F(ProcessServiceTest, ATaskHomeIsItsProcessesHomeAndOneOfTheirWritableRoots) {
  const std::string data = dir_.path() + "/data";
  dir_.write("data/homes/owner-a/.keep", "");
  dir_.write("data/ws/.keep", "");
  auto policy = test_policy();
  policy.landlock_enforced = landlock_abi() > 0;
  make_service(policy, data);
  service_->set_task_home(7, data + "/homes/owner-a");
  auto s = spec({"sh", "-c", "echo \"$HOME\"; echo t > \"$HOME/transcript\" && echo wrote"});
  s.cwd = data + "/ws";
  s.task = 7;
  auto events = run(s);
  EXPECT_EQ(events->out(), data + "/homes/owner-a\nwrote\n") << events->err();
  service_->set_task_home(7, "");
  auto after = run(s);
  EXPECT_EQ(after->out().find(data + "/homes/owner-a"), std::string::npos) << after->out();
}

TEST(AgentAccount, RootAndUnknownUsersAreRefusedWithTheReason) {
  for (const char* user : {"root", "0"}) {
    try {
      lookup_agent_account(user);
      ADD_FAILURE() << user << " was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("is root"), std::string::npos) << e.what();
    }
  }
  try {
    lookup_agent_account("no-such-user-7f3e");
    ADD_FAILURE() << "an unknown user was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no user 'no-such-user-7f3e'"), std::string::npos)
        << e.what();
  }
  const auto nobody = lookup_agent_account("nobody");
  EXPECT_NE(nobody.uid, 0u);
  EXPECT_EQ(lookup_agent_account(std::to_string(nobody.uid)).name, nobody.name);
}

TEST(ProcTable, StartTimeGuardsAgainstPidReuse) {
  auto self = process_start_time(::getpid());
  ASSERT_TRUE(self);
  EXPECT_FALSE(process_start_time(0));
  auto service = ProcessService::create(test_policy(), "");
  RecordingObserver observer;
  service->set_observer(&observer);
  auto events = std::make_shared<RecordingEvents>();
  coda::test::TempDir dir;
  SpawnSpec s;
  s.argv = {"sleep", "30"};
  s.cwd = dir.path();
  const auto id = service->spawn(s, events);
  const auto info = observer.spawned_info(id);
  // A different start time means another process owns the pid now: nothing is killed.
  EXPECT_FALSE(kill_surviving_group(info.pid, info.pgid, info.start_time + 1));
  EXPECT_FALSE(events->wait_exit(200ms));
  EXPECT_TRUE(kill_surviving_group(info.pid, info.pgid, info.start_time));
  ASSERT_TRUE(events->wait_exit());
  EXPECT_EQ(events->term_signal(), SIGKILL);
  EXPECT_FALSE(kill_surviving_group(info.pid, info.pgid, info.start_time));
  service->shutdown();
}

}  // namespace
}  // namespace coda::process
