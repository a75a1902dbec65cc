// Agent backends end to end: the real `coda` binary with the bundled agent plugins, the fake CLIs
// of tests/fixtures/agents first on the agents' PATH, and MCP tool calls over HTTP.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "tests/security/security_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace coda::test {
namespace {

using security::call_tool;
using security::with_fake_script;
using namespace std::chrono_literals;

// Hermes (stream-json) first, then Claude Code; `hermes_binary` lets a test make Hermes missing.
std::string agents_config(const std::string& hermes_binary, const std::string& extra_policy = "") {
  return R"(plugins:
  load: [transport-mcp-http, agent-hermes, agent-cli]
transports:
  mcp-http: {component: dev.coda.transport.mcp-http, path: /mcp}
agents:
  order: [hermes, claude]
  policy:
    env_allowlist: [HOME, LANG]
    env: {PATH: ")" +
         std::string(CODA_FIXTURE_AGENT_DIR) + R"(:/usr/bin:/bin"}
    kill_grace_s: 1
)" + extra_policy +
         R"(  backends:
    hermes: {component: dev.coda.agent.hermes, mode: stream-json, binary: )" +
         hermes_binary + R"(}
    claude: {component: dev.coda.agent.cli, preset: claude}
)";
}

std::unique_ptr<CodaServer> start_server(const std::string& config) {
  CodaServer::Options options;
  options.config_yaml = config;
  options.env["DATABRICKS_TOKEN"] = "dapi-must-not-leak";
  return std::make_unique<CodaServer>(options);
}

Poco::JSON::Object::Ptr run_task(CodaServer& server, const std::string& arguments_json) {
  auto run = call_tool(server, "coda_run", arguments_json, {});
  EXPECT_FALSE(run.is_error) << run.text;
  if (run.structured.isNull()) return nullptr;
  return run.structured;
}

// coda_get_result with wait_s until the task is final (or ~60 s).
Poco::JSON::Object::Ptr wait_result(CodaServer& server, const std::string& task_id) {
  Poco::JSON::Object::Ptr result;
  for (int i = 0; i < 6; ++i) {
    auto got =
        call_tool(server, "coda_get_result", R"({"task_id":")" + task_id + R"(","wait_s":10})", {});
    result = got.structured;
    if (result.isNull()) break;
    const auto status = result->optValue<std::string>("status", "");
    if (status != "queued" && status != "running") break;
  }
  return result;
}

// One /proc/<pid>/stat line.
struct Stat {
  int pid = 0, ppid = 0, pgid = 0, session = 0;
  std::string state;
};

// Every process in /proc (zombies excluded).
std::vector<Stat> processes() {
  std::vector<Stat> out;
  DIR* dir = opendir("/proc");
  while (dirent* item = dir == nullptr ? nullptr : readdir(dir)) {
    Stat stat;
    stat.pid = std::atoi(item->d_name);
    if (stat.pid <= 0) continue;
    std::ifstream in("/proc/" + std::to_string(stat.pid) + "/stat");
    std::string line;
    if (!std::getline(in, line) || line.rfind(')') == std::string::npos) continue;
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    rest >> stat.state >> stat.ppid >> stat.pgid >> stat.session;
    if (stat.state != "Z") out.push_back(stat);
  }
  if (dir != nullptr) closedir(dir);
  return out;
}

// Processes in the session or group `sid`.
std::vector<int> session_members(int sid) {
  std::vector<int> out;
  for (const auto& p : processes()) {
    if (p.session == sid || p.pgid == sid) out.push_back(p.pid);
  }
  return out;
}

// The agent processes the server started: children of it that lead their own session.
std::vector<int> agent_leaders(pid_t server) {
  std::vector<int> out;
  for (const auto& p : processes()) {
    if (p.ppid == server && p.session == p.pid) out.push_back(p.pid);
  }
  return out;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

TEST(AgentsEndToEnd, HermesAnswersWithUsage) {
  auto server = start_server(agents_config("hermes"));
  auto run = run_task(*server, R"({"prompt":"Add a README section."})");
  ASSERT_TRUE(run);
  auto result = wait_result(*server, run->getValue<std::string>("task_id"));
  ASSERT_TRUE(result);
  std::ostringstream text;
  result->stringify(text);
  EXPECT_EQ(result->getValue<std::string>("status"), "completed") << text.str();
  EXPECT_EQ(result->getValue<std::string>("agent"), "hermes");
  EXPECT_EQ(result->getValue<std::string>("summary").rfind("Hermes finished the task", 0), 0u);
  auto usage = result->getObject("usage");
  ASSERT_TRUE(usage) << text.str();
  EXPECT_EQ(usage->optValue<int>("input_tokens", -1), 900) << text.str();
}

// An agent may print any bytes, and cut a character between two writes. Its task stays readable:
// every answer is valid JSON, invalid bytes read as U+FFFD, a character split between writes
// arrives whole, and a file named with invalid bytes is listed the same way.
TEST(AgentsEndToEnd, BinaryOutputStaysReadableAsValidUtf8) {
  TempDir dir;
  const std::string script = dir.write("binary.sh", R"SH(printf 'caf\303'; sleep 0.3
printf '\251 \377\376 binary-end\n'
: > "$(printf 'name-\377')"
)SH");
  auto server = start_server(with_fake_script(agents_config("hermes"), script));
  auto run = run_task(*server, R"({"prompt":"fake:script"})");
  ASSERT_TRUE(run);
  const auto task_id = run->getValue<std::string>("task_id");
  const std::string output = security::finished_output(server->mcp_url(), task_id, {});
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_NE(output.find("status completed"), std::string::npos) << output;
  // "caf" and the rest may come as two events; the é split between the agent's writes is whole.
  EXPECT_NE(output.find("\xC3\xA9 " + fffd + fffd + " binary-end"), std::string::npos) << output;
  for (char raw : {'\xFF', '\xFE'}) EXPECT_EQ(output.find(raw), std::string::npos) << output;
  auto result = wait_result(*server, task_id);
  ASSERT_TRUE(result);
  auto files = result->getArray("files_changed");
  ASSERT_TRUE(files);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < files->size(); ++i)
    names.push_back(files->getElement<std::string>(i));
  EXPECT_NE(std::find(names.begin(), names.end(), "name-" + fffd), names.end())
      << ::testing::PrintToString(names);
}

// An agent writes a result.json nested 200 000 levels deep, the input that overflows a recursive
// parser's stack. The host reads it as "not a JSON object", records that, and keeps serving.
TEST(AgentsEndToEnd, ADeeplyNestedResultFileIsRefusedAndTheHostStaysUp) {
  TempDir dir;
  const std::string script = dir.write("deep.sh", R"SH(d=$(ls -d .coda/tasks/*/ | head -n 1)
head -c 200000 /dev/zero | tr '\0' '[' > "${d}result.json"
)SH");
  auto server = start_server(with_fake_script(agents_config("hermes"), script));
  auto run = run_task(*server, R"({"prompt":"fake:script"})");
  ASSERT_TRUE(run);
  auto result = wait_result(*server, run->getValue<std::string>("task_id"));
  ASSERT_TRUE(result);
  std::ostringstream text;
  result->stringify(text);
  EXPECT_NE(text.str().find("result.json in the task directory is not a JSON object"),
            std::string::npos)
      << text.str();
  auto inbox = call_tool(*server, "coda_inbox", "{}", {});
  EXPECT_FALSE(inbox.is_error) << inbox.text;
}

TEST(AgentsEndToEnd, MissingHermesFallsBackToClaudeAndSaysWhy) {
  auto server = start_server(agents_config("hermes-not-installed"));
  auto run = run_task(*server, R"({"prompt":"Add a README section."})");
  ASSERT_TRUE(run);
  auto result = wait_result(*server, run->getValue<std::string>("task_id"));
  ASSERT_TRUE(result);
  std::ostringstream text;
  result->stringify(text);
  EXPECT_EQ(result->getValue<std::string>("status"), "completed") << text.str();
  EXPECT_EQ(result->getValue<std::string>("agent"), "claude") << text.str();
  EXPECT_EQ(result->getValue<std::string>("summary").rfind("Claude finished the task", 0), 0u);
  // The result names the skipped backend and why.
  EXPECT_NE(text.str().find("hermes-not-installed"), std::string::npos) << text.str();
}

TEST(AgentsEndToEnd, CancelLeavesNoProcessOfTheGroup) {
  auto server = start_server(agents_config("hermes"));
  auto run = run_task(*server, R"({"prompt":"fake:grandchild"})");
  ASSERT_TRUE(run);
  const auto task_id = run->getValue<std::string>("task_id");
  std::vector<int> leaders;
  ASSERT_TRUE(eventually([&] {
    leaders = agent_leaders(server->pid());
    return !leaders.empty() && session_members(leaders.front()).size() >= 3;  // sh, sleep, subshell
  }));
  auto cancelled = call_tool(*server, "coda_cancel", R"({"task_id":")" + task_id + R"("})", {});
  EXPECT_FALSE(cancelled.is_error) << cancelled.text;
  auto result = wait_result(*server, task_id);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->getValue<std::string>("status"), "cancelled");
  for (int leader : leaders) {
    EXPECT_TRUE(eventually([&] { return session_members(leader).empty(); }))
        << "processes of agent session " << leader << " survived the cancel";
  }
}

TEST(AgentsEndToEnd, TimeoutKillsASigtermIgnoringAgent) {
  auto server = start_server(agents_config("hermes"));
  auto run = run_task(*server, R"({"prompt":"fake:ignore_term","timeout_s":2})");
  ASSERT_TRUE(run);
  const auto task_id = run->getValue<std::string>("task_id");
  std::vector<int> leaders;
  ASSERT_TRUE(eventually([&] { return !(leaders = agent_leaders(server->pid())).empty(); }));
  auto result = wait_result(*server, task_id);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->getValue<std::string>("status"), "timed_out");
  for (int leader : leaders) {
    EXPECT_TRUE(eventually([&] { return session_members(leader).empty(); }));
  }
}

TEST(AgentsEndToEnd, YoloFlagOnlyWhenTheAdminAllowsIt) {
  auto server = start_server(agents_config("hermes-not-installed", "    yolo_allowed: true\n"));
  auto run = run_task(*server, R"({"prompt":"go","permissions":"yolo"})");
  ASSERT_TRUE(run);
  auto result = wait_result(*server, run->getValue<std::string>("task_id"));
  ASSERT_TRUE(result);
  EXPECT_NE(result->getValue<std::string>("summary").find("bypassPermissions"), std::string::npos);

  auto strict = start_server(agents_config("hermes-not-installed"));
  auto refused = call_tool(*strict, "coda_run", R"({"prompt":"go","permissions":"yolo"})", {});
  EXPECT_TRUE(refused.is_error);  // yolo is not allowed on this host: nothing runs
  auto smart = run_task(*strict, R"({"prompt":"go"})");
  ASSERT_TRUE(smart);
  auto smart_result = wait_result(*strict, smart->getValue<std::string>("task_id"));
  ASSERT_TRUE(smart_result);
  EXPECT_EQ(smart_result->getValue<std::string>("summary"),
            "Claude finished the task (permission mode acceptEdits).");
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// 1 GB of agent output through the whole host (plugin, process service, task engine, store with its
// per-task cap): the task completes and the host's RSS grows by less than 10 MB.
// CODA_FLOOD_BYTES overrides the size.
TEST(AgentsEndToEnd, OneGigabyteFloodKeepsHostMemoryBounded) {
  const char* env = std::getenv("CODA_FLOOD_BYTES");
  const std::string bytes = env != nullptr ? env : "1000000000";
  auto server = start_server(agents_config("hermes"));
  // Warm-up: the first task opens the store, loads the plugin paths, grows the thread pools.
  auto warm = run_task(*server, R"({"prompt":"fake:flood:20000000"})");
  ASSERT_TRUE(warm);
  ASSERT_EQ(
      wait_result(*server, warm->getValue<std::string>("task_id"))->getValue<std::string>("status"),
      "completed");
  const long before = rss_kib(server->pid());
  std::atomic<long> peak{before};
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (!done) {
      peak = std::max(peak.load(), rss_kib(server->pid()));
      std::this_thread::sleep_for(50ms);
    }
  });
  const auto start = std::chrono::steady_clock::now();
  auto run = run_task(*server, R"({"prompt":"fake:flood:)" + bytes + R"("})");
  Poco::JSON::Object::Ptr result;
  if (run) {
    const auto task_id = run->getValue<std::string>("task_id");
    for (int i = 0; i < 60; ++i) {  // up to ~10 minutes
      result = wait_result(*server, task_id);
      if (result && result->getValue<std::string>("status") != "running") break;
    }
  }
  done = true;
  sampler.join();
  ASSERT_TRUE(result);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(result->getValue<std::string>("status"), "completed");
  const long growth = peak - before;
  std::printf(
      "[flood e2e] %s bytes in %.1f s; coda RSS before %ld KiB, peak %ld KiB, growth %ld KiB\n",
      bytes.c_str(), seconds, before, peak.load(), growth);
  RecordProperty("rss_growth_kib", std::to_string(growth));
  EXPECT_LT(growth, 10 * 1024);
}

}  // namespace
}  // namespace coda::test
