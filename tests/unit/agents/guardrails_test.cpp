// Guardrails every backend gets from the host's process service, checked through the real plugins:
// cancellation leaves no process of the task's group (also a SIGTERM-ignoring child and a
// grandchild), the environment allowlist, stdin, and a 1 GB output flood with bounded memory.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/process/proc_table.hpp"
#include "tests/unit/agents/agent_harness.hpp"

namespace coda::agents::test {
namespace {

using namespace std::chrono_literals;

struct Spawned : process::ProcessObserver {
  void spawned(const process::ProcessInfo& info) override {
    std::lock_guard lock(mutex);
    pids.push_back(info.pid);
  }
  void exited(const process::ProcessInfo&) override {}
  int last() {
    std::lock_guard lock(mutex);
    return pids.empty() ? 0 : pids.back();
  }
  std::mutex mutex;
  std::vector<int> pids;
};

bool wait_for(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

// Starts `prompt` on `config` (an agent-cli or hermes config), waits until the fake printed its first
// event, cancels, and checks that finished() said cancelled and nothing of the group is left.
void expect_cancel_cleans_up(const std::string& plugin, const std::string& config,
                             const std::string& prompt) {
  AgentHarness h;
  Spawned observer;
  h.processes().set_observer(&observer);
  h.load(plugin, config);
  auto recorder = std::make_shared<TaskRecorder>();
  ASSERT_EQ(h.start({.prompt = prompt}, recorder), CODA_OK);
  ASSERT_TRUE(wait_for([&] { return recorder->text().find("fake-cli:") != std::string::npos; }));
  const int leader = observer.last();
  ASSERT_GT(leader, 0);
  if (prompt.find("grandchild") != std::string::npos) {
    ASSERT_TRUE(wait_for([&] { return recorder->grandchild() != 0; }));
  }
  std::this_thread::sleep_for(100ms);  // let the fake reach its misbehaviour (trap, fork)
  const int grandchild = recorder->grandchild();
  EXPECT_TRUE(group_alive(leader));
  h.cancel();
  h.cancel();  // idempotent
  ASSERT_TRUE(recorder->wait(30s));
  EXPECT_EQ(recorder->status(), "cancelled") << recorder->result_json();
  EXPECT_EQ(recorder->finished_calls(), 1);
  EXPECT_TRUE(wait_for([&] { return !group_alive(leader); })) << "group of " << leader << " survived";
  if (grandchild != 0) {
    EXPECT_TRUE(wait_for([&] { return !process::read_proc_entry(grandchild).has_value(); }))
        << "grandchild " << grandchild << " survived";
  }
}

TEST(Cancel, HangingClaudeIsStopped) {
  expect_cancel_cleans_up(CODA_AGENT_CLI_PLUGIN, R"({"preset":"claude"})", "fake:hang");
}

TEST(Cancel, SigtermIgnoringCodexIsKilledAfterTheGrace) {
  expect_cancel_cleans_up(CODA_AGENT_CLI_PLUGIN, R"({"preset":"codex"})", "fake:ignore_term");
}

TEST(Cancel, GrandchildOfHermesDiesWithTheGroup) {
  expect_cancel_cleans_up(CODA_AGENT_HERMES_PLUGIN, R"({"mode":"stream-json"})", "fake:grandchild");
}

TEST(Cancel, GeminiOpencodeAiderToo) {
  expect_cancel_cleans_up(CODA_AGENT_CLI_PLUGIN, R"({"preset":"gemini"})", "fake:grandchild");
  expect_cancel_cleans_up(CODA_AGENT_CLI_PLUGIN, R"({"preset":"opencode"})", "fake:ignore_term");
  expect_cancel_cleans_up(CODA_AGENT_CLI_PLUGIN, R"({"preset":"aider"})", "fake:hang");
}

TEST(Cancel, AfterTheFinalEventTheResultStands) {
  AgentHarness h;
  h.load(CODA_AGENT_CLI_PLUGIN, R"({"preset":"claude"})");
  auto r = h.run({});
  h.cancel();  // the task is over: nothing happens, no second finished()
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(r->status(), "completed");
  EXPECT_EQ(r->finished_calls(), 1);
}

TEST(Environment, SecretsOutsideTheAllowlistNeverReachTheAgent) {
  ::setenv("DATABRICKS_TOKEN", "dapi-top-secret", 1);
  ::setenv("OPENAI_API_KEY", "sk-secret", 1);
  {
    AgentHarness h;
    h.load(CODA_AGENT_CLI_PLUGIN, R"({"preset":"claude","env":{"CLAUDE_CODE_USE_BEDROCK":"0"}})");
    auto r = h.run({});
    const auto names = r->env_names();
    auto has = [&](const char* name) { return std::find(names.begin(), names.end(), name) != names.end(); };
    EXPECT_FALSE(has("DATABRICKS_TOKEN"));
    EXPECT_FALSE(has("OPENAI_API_KEY"));
    EXPECT_TRUE(has("CLAUDE_CODE_USE_BEDROCK"));  // the backend's own setting
    EXPECT_TRUE(has("PATH"));
    EXPECT_EQ(r->text().find("dapi-top-secret"), std::string::npos);
  }
  {
    // Named by the admin, it passes.
    auto policy = AgentHarness::default_policy();
    policy.env_allowlist.push_back("OPENAI_API_KEY");
    AgentHarness h(policy);
    h.load(CODA_AGENT_CLI_PLUGIN, R"({"preset":"claude"})");
    const auto names = h.run({})->env_names();
    EXPECT_NE(std::find(names.begin(), names.end(), "OPENAI_API_KEY"), names.end());
    EXPECT_EQ(std::find(names.begin(), names.end(), "DATABRICKS_TOKEN"), names.end());
  }
  ::unsetenv("DATABRICKS_TOKEN");
  ::unsetenv("OPENAI_API_KEY");
}

TEST(Stdin, AnAgentReadingStdinDoesNotHang) {
  // gemini gets /dev/null, claude its prompt file: both reach EOF and finish.
  for (const char* preset : {"gemini", "claude"}) {
    AgentHarness h;
    h.load(CODA_AGENT_CLI_PLUGIN, std::string(R"({"preset":")") + preset + "\"}");
    auto r = h.run({.prompt = "fake:stdin"});
    EXPECT_EQ(r->status(), "completed") << preset << ": " << r->result_json();
  }
}

// 1 GB of stream-json events (4 KB text deltas) through Hermes: the run completes with its result
// event, every byte is read, and the host's memory does not grow with the output.
// CODA_FLOOD_BYTES overrides the size.
TEST(Flood, OneGigabyteStreamsThroughWithBoundedMemory) {
  const char* env = std::getenv("CODA_FLOOD_BYTES");
  const std::string bytes = env != nullptr ? env : "1000000000";
  AgentHarness h;
  h.load(CODA_AGENT_HERMES_PLUGIN, R"({"mode":"stream-json"})");
  // Warm-up run so that one-time allocations are not counted as growth.
  h.run({.prompt = "fake:flood:10000000"});
  const long before = rss_kib();
  std::atomic<long> peak{before};
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (!done) {
      peak = std::max(peak.load(), rss_kib());
      std::this_thread::sleep_for(20ms);
    }
  });
  const auto start = std::chrono::steady_clock::now();
  auto recorder = std::make_shared<TaskRecorder>();
  ASSERT_EQ(h.start({.prompt = "fake:flood:" + bytes}, recorder), CODA_OK);
  const bool finished = recorder->wait(std::chrono::minutes(10));
  done = true;
  sampler.join();
  ASSERT_TRUE(finished);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(recorder->status(), "completed") << recorder->result_json();
  EXPECT_GE(recorder->event_json_count(), std::stoull(bytes) / 4100);
  const long growth_kib = peak - before;
  std::printf("[flood] %s bytes in %.1f s (%.0f MB/s), %zu events; RSS before %ld KiB, peak %ld KiB, "
              "growth %ld KiB\n", bytes.c_str(), seconds, std::stod(bytes) / 1e6 / seconds,
              recorder->event_json_count(), before, peak.load(), growth_kib);
  RecordProperty("rss_growth_kib", std::to_string(growth_kib));
  EXPECT_LT(growth_kib, 10 * 1024);
}

}  // namespace
}  // namespace coda::agents::test
