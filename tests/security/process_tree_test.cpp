// The attack suite: an agent tries to outlive its task. The agent (the fake CLI in mode fake:script)
// starts three escapees that ignore SIGTERM and leave its process group and session — `setsid`, a
// `setsid -f` double fork, and a `setpgid` to a new group — each writing its pid to a file; then
// the task ends by coda_cancel, by timeout_s, by SIGTERM to the host, or by kill -9 of the host.
// Every test FAILS if one escapee (or the agent itself) is still running afterwards. A host killed
// with -9 cannot act: its agent dies through PR_SET_PDEATHSIG, and the escapees end when the next
// host starts (the dead host's cgroups are swept); without task cgroups nothing ends them then, so
// that test fails under CI=true and is skipped with the reason elsewhere.
// Also: a running agent's prompt is in no process's /proc/<pid>/cmdline (gemini and opencode, which
// used to take it as an argument).
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/security/security_support.hpp"

namespace coda::test::security {
namespace {

using namespace std::chrono_literals;

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

// state, ppid and session of a process; state '?' when it does not exist.
struct Stat {
  char state = '?';
  int ppid = 0, pgid = 0, session = 0;
};

Stat stat_of(int pid) {
  Stat stat;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line) || line.rfind(')') == std::string::npos) return stat;
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  rest >> stat.state >> stat.ppid >> stat.pgid >> stat.session;
  return stat;
}

bool alive(int pid) {
  const char state = stat_of(pid).state;
  return state != '?' && state != 'Z';
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

std::vector<int> all_pids() {
  std::vector<int> pids;
  DIR* dir = ::opendir("/proc");
  while (dirent* item = dir == nullptr ? nullptr : ::readdir(dir)) {
    const int pid = std::atoi(item->d_name);
    if (pid > 0) pids.push_back(pid);
  }
  if (dir != nullptr) ::closedir(dir);
  return pids;
}

std::string cmdline_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The agents the server started: children of it that lead their own session and run the fake CLI
// `cli` (escapees adopted by the host, which is a subreaper, lead their own session too).
std::vector<int> agent_leaders(pid_t server, const std::string& cli) {
  std::vector<int> out;
  for (int pid : all_pids()) {
    const auto stat = stat_of(pid);
    if (stat.state == 'Z' || stat.state == '?' || stat.ppid != server || stat.session != pid) continue;
    if (cmdline_of(pid).find("/" + cli) != std::string::npos) out.push_back(pid);
  }
  return out;
}

std::string host_yaml(const std::string& backend, const std::string& script) {
  return R"(plugins:
  load: [transport-mcp-http, agent-cli]
transports:
  mcp-http: {component: dev.coda.transport.mcp-http, path: /mcp}
agents:
  order: [)" + backend + R"(]
  policy:
    env_allowlist: [HOME, LANG]
    env: {PATH: ")" + std::string(CODA_FIXTURE_AGENT_DIR) + R"(:/usr/bin:/bin", FAKE_SCRIPT: ")" +
         script + R"("}
    kill_grace_s: 1
  backends:
    )" + backend + ": {component: dev.coda.agent.cli, preset: " + backend + "}\n";
}

class ProcessTreeAttack : public ::testing::Test {
 protected:
  void SetUp() override {
    // The agent's side: three escapees, each writing its pid (atomically, through a rename), then
    // the agent itself hangs. The files go to this test's directory, outside the workspace.
    const std::string d = files_.path();
    const std::string loop = "trap \"\" TERM; while :; do sleep 1; done";
    std::ofstream(d + "/attack.sh")
        << "setsid sh -c 'echo $$ > " << d << "/setsid.tmp; mv " << d << "/setsid.tmp " << d
        << "/setsid; " << loop << "' </dev/null >/dev/null 2>&1 &\n"
        << "setsid -f sh -c 'echo $$ > " << d << "/double.tmp; mv " << d << "/double.tmp " << d
        << "/double; " << loop << "' </dev/null >/dev/null 2>&1\n"
        << "perl -e '$SIG{TERM} = \"IGNORE\"; setpgrp(0, 0); open(F, \">" << d
        << "/pgid.tmp\"); print F \"$$\\n\"; close(F); rename(\"" << d << "/pgid.tmp\", \"" << d
        << "/pgid\"); sleep 1 while 1;' </dev/null >/dev/null 2>&1 &\n"
        << "while [ ! -s " << d << "/setsid ] || [ ! -s " << d << "/double ] || [ ! -s " << d
        << "/pgid ]; do sleep 0.05; done\n"
        << "echo escapees started >&2\n"
        << "trap '' TERM; while :; do sleep 1; done\n";
  }
  void TearDown() override {
    // Whatever a failed test left behind.
    for (int pid : escapees_) {
      if (alive(pid)) ::kill(pid, SIGKILL);
    }
  }

  std::unique_ptr<CodaServer> start(const std::string& data_dir = "") {
    auto options = server_options(host_yaml("claude", files_.path() + "/attack.sh"));
    options.data_dir = data_dir;
    return std::make_unique<CodaServer>(options);
  }
  // Starts the attacking task; returns its id once the escapees run (their pids in escapees_).
  std::string run_attack(CodaServer& server, const std::string& extra_arguments = "") {
    auto run = call_tool(server, "coda_run", R"({"prompt":"fake:script")" + extra_arguments + "}", {});
    EXPECT_FALSE(run.is_error) << run.text;
    if (run.structured.isNull()) return "";
    for (const char* name : {"setsid", "double", "pgid"}) {
      int pid = 0;
      EXPECT_TRUE(eventually([&] {
        std::ifstream in(files_.path() + "/" + name);
        return static_cast<bool>(in >> pid) && pid > 0;
      })) << name << " never started; output:\n" << server.output();
      if (pid > 0) escapees_.push_back(pid);
    }
    EXPECT_TRUE(eventually([&] { return !(leaders_ = agent_leaders(server.pid(), "claude")).empty(); }));
    for (int pid : escapees_) {
      EXPECT_TRUE(alive(pid));
      for (int leader : leaders_) EXPECT_NE(stat_of(pid).pgid, leader) << "not an escapee";
    }
    return run.structured->getValue<std::string>("task_id");
  }
  std::string final_status(CodaServer& server, const std::string& task_id) {
    for (int i = 0; i < 6; ++i) {
      auto got = call_tool(server, "coda_get_result",
                           R"({"task_id":")" + task_id + R"(","wait_s":10})", {});
      if (got.structured.isNull()) return "";
      auto status = got.structured->optValue<std::string>("status", "");
      if (status != "queued" && status != "running") return status;
    }
    return "running";
  }
  void expect_all_gone(const std::string& when) {
    for (int pid : leaders_) {
      EXPECT_TRUE(eventually([&] { return !alive(pid); })) << "the agent " << pid << " survived " << when;
    }
    for (int pid : escapees_) {
      EXPECT_TRUE(eventually([&] { return !alive(pid); })) << "escapee " << pid << " survived " << when;
    }
  }

  TempDir files_;
  std::vector<int> escapees_;
  std::vector<int> leaders_;
};

TEST_F(ProcessTreeAttack, EscapeesDieOnCancel) {
  auto server = start();
  const auto task_id = run_attack(*server);
  ASSERT_FALSE(task_id.empty());
  auto cancelled = call_tool(*server, "coda_cancel", R"({"task_id":")" + task_id + R"("})", {});
  EXPECT_FALSE(cancelled.is_error) << cancelled.text;
  EXPECT_EQ(final_status(*server, task_id), "cancelled");
  expect_all_gone("coda_cancel");
}

TEST_F(ProcessTreeAttack, EscapeesDieOnTimeout) {
  auto server = start();
  const auto task_id = run_attack(*server, R"(,"timeout_s":2)");
  ASSERT_FALSE(task_id.empty());
  EXPECT_EQ(final_status(*server, task_id), "timed_out");
  expect_all_gone("timeout_s");
}

TEST_F(ProcessTreeAttack, EscapeesDieWhenTheHostIsStopped) {
  auto server = start();
  ASSERT_FALSE(run_attack(*server).empty());
  EXPECT_EQ(server->stop(std::chrono::seconds(15)), 0) << server->output();
  // Gone by the time the host has exited: no polling.
  for (int pid : leaders_) EXPECT_FALSE(alive(pid)) << "the agent " << pid << " survived SIGTERM";
  for (int pid : escapees_) EXPECT_FALSE(alive(pid)) << "escapee " << pid << " survived SIGTERM";
}

TEST_F(ProcessTreeAttack, EscapeesDieWhenTheHostIsKilled) {
  auto server = start();
  ASSERT_FALSE(run_attack(*server).empty());
  const bool cgroups = server->output().find("one cgroup v2 per agent") != std::string::npos;
  const std::string data_dir = server->data_dir();
  server->kill9();
  // The agent itself: PR_SET_PDEATHSIG.
  for (int pid : leaders_) {
    EXPECT_TRUE(eventually([&] { return !alive(pid); })) << "the agent " << pid << " outlived its host";
  }
  if (!cgroups) {
    const std::string why = "no task cgroups on this machine: escapees of a host killed with -9 "
                            "are not ended (see docs/agents.md)";
    if (in_ci()) FAIL() << why << "\n" << server->output();
    GTEST_SKIP() << why;
  }
  // The escapees: swept with the dead host's cgroups when the next host starts on this machine.
  auto next = start(data_dir);
  expect_all_gone("kill -9 of the host and a restart");
}

// The prompt reaches gemini and opencode on stdin: no process on the machine shows it in argv.
TEST_F(ProcessTreeAttack, APromptIsInNoProcessCmdline) {
  for (const char* backend : {"gemini", "opencode"}) {
    SCOPED_TRACE(backend);
    auto server =
        std::make_unique<CodaServer>(server_options(host_yaml(backend, files_.path() + "/attack.sh")));
    const std::string marker = std::string("prompt-marker-") + backend + "-93be1f";
    auto run = call_tool(*server, "coda_run", R"({"prompt":"fake:hang )" + marker + R"("})", {});
    ASSERT_FALSE(run.is_error) << run.text;
    const auto task_id = run.structured->getValue<std::string>("task_id");
    ASSERT_TRUE(eventually([&] { return !agent_leaders(server->pid(), backend).empty(); }))
        << server->output();
    // fake:hang was read from the prompt (else the fake would finish at once): the agent has it.
    auto got = call_tool(*server, "coda_get_result", R"({"task_id":")" + task_id + R"("})", {});
    ASSERT_FALSE(got.structured.isNull());
    EXPECT_EQ(got.structured->optValue<std::string>("status", ""), "running") << got.text;
    for (int pid : all_pids()) {
      EXPECT_EQ(cmdline_of(pid).find(marker), std::string::npos)
          << "the prompt is in /proc/" << pid << "/cmdline";
    }
    call_tool(*server, "coda_cancel", R"({"task_id":")" + task_id + R"("})", {});
  }
}

}  // namespace
}  // namespace coda::test::security
