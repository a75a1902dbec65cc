// The attack suite: an agent plants symlinks in its own workspace so that the host, which writes
// and reads files under <workspace>/.coda/, reaches outside it. Task 1's agent (fake:script) makes
// its result.json a link to a secret file outside the workspace and replaces .coda/tasks with a
// link to a directory outside. The host must not read the secret into task 1's result, and task 2
// of the same session (previous_session_id) must fail safely instead of writing its prompt through
// the link. The test fails if any of it works.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/security/security_support.hpp"

namespace coda::test::security {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSecret = "shadow-secret-9c2e7b41";

// Polls coda_get_result (no events) until the task is final; returns its structured result as text.
std::string final_result(const CodaServer& server, const std::string& task_id) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    auto result =
        call_tool(server, "coda_get_result", R"({"task_id":")" + task_id + R"(","wait_s":5})", {});
    if (result.is_error || result.structured.isNull()) return "error: " + result.text;
    const auto status = result.structured->getValue<std::string>("status");
    if (status != "queued" && status != "running") return json_text(*result.structured);
  }
  ADD_FAILURE() << "task " << task_id << " did not finish";
  return "";
}

TEST(WorkspaceSymlink, HostNeverFollowsLinksTheAgentPlanted) {
  TempDir dir, outside;
  // The foreign file is a JSON object: were it read as result.json, its errors would be shown.
  const std::string secret_text =
      std::string(R"({"summary":")") + kSecret + R"(","errors":[")" + kSecret + R"("]})";
  const std::string secret = outside.write("secret.json", secret_text);
  const std::string victim = outside.path() + "/victim";
  fs::create_directory(victim);
  // Step 1 links the task's own result.json to the secret; step 2 replaces .coda/tasks.
  const std::string script =
      dir.write("attack.sh",
                R"SH(set -u
if [ "$1" = 1 ]; then
  for d in .coda/tasks/*/; do ln -sfn ')SH" +
                    secret + R"SH(' "${d}result.json" && echo "ATTACK planted ${d}result.json"; done
else
  mv .coda/tasks .coda/tasks.moved && ln -s ')SH" +
                    victim + R"SH(' .coda/tasks && echo "ATTACK planted .coda/tasks"
fi
)SH");
  CodaServer server(server_options(with_fake_script(host_config("  mode: none\n"), script)));

  auto first = call_tool(server, "coda_run", R"({"prompt":"fake:script:1"})", {});
  ASSERT_FALSE(first.is_error) << first.text;
  const auto task1 = first.structured->getValue<std::string>("task_id");
  const auto session1 = first.structured->getValue<std::string>("session_id");
  const std::string output1 = finished_output(server.mcp_url(), task1, {});
  ASSERT_NE(output1.find("ATTACK planted"), std::string::npos) << "the attack did not run:\n"
                                                               << output1;
  const std::string result1 = final_result(server, task1);
  EXPECT_EQ(result1.find(kSecret), std::string::npos)
      << "the host read a foreign file through the agent's result.json link:\n"
      << result1;
  EXPECT_NE(result1.find("refusing to follow the symlink"), std::string::npos)
      << "no clear error:\n"
      << result1;

  // Task 2 (same session) replaces .coda/tasks with a link to a directory outside.
  auto second =
      call_tool(server, "coda_run",
                R"({"prompt":"fake:script:2","previous_session_id":")" + session1 + "\"}", {});
  ASSERT_FALSE(second.is_error) << second.text;
  const auto task2 = second.structured->getValue<std::string>("task_id");
  const auto session2 = second.structured->getValue<std::string>("session_id");
  const std::string output2 = finished_output(server.mcp_url(), task2, {});
  ASSERT_NE(output2.find("ATTACK planted .coda/tasks"), std::string::npos)
      << "the attack did not run:\n"
      << output2;

  // Task 3 must fail safely instead of creating its directory and prompt through the link.
  auto third =
      call_tool(server, "coda_run",
                R"({"prompt":"fake:ok next","previous_session_id":")" + session2 + "\"}", {});
  ASSERT_FALSE(third.is_error) << third.text;
  const std::string result3 =
      final_result(server, third.structured->getValue<std::string>("task_id"));
  EXPECT_NE(result3.find("\"status\":\"failed\""), std::string::npos) << result3;
  EXPECT_NE(result3.find("refusing to follow the symlink"), std::string::npos) << result3;

  // Nothing was written outside the workspace, and the foreign file is unchanged.
  EXPECT_TRUE(fs::is_empty(victim)) << "the host wrote through the agent's .coda/tasks link";
  EXPECT_EQ(read_file(secret), secret_text);
  EXPECT_EQ(server.output().find(kSecret), std::string::npos) << server.output();
}

// Hermes one-shot mode reports its usage in <task dir>/hermes-usage.json, which the host reads
// after the agent ends. The agent replaces that file with a link to a foreign JSON file: the host
// must not read it (its token counts and session id would become the task's).
TEST(WorkspaceSymlink, HostNeverReadsTheHermesUsageFileThroughALink) {
  TempDir outside;
  const std::string foreign = outside.write(
      "usage.json", std::string(R"({"input_tokens": 777777, "session_id": ")") + kSecret + "\"}");
  const std::string config = R"(plugins:
  load: [transport-mcp-http, agent-hermes]
transports:
  mcp-http: {component: dev.coda.transport.mcp-http, path: /mcp}
agents:
  order: [hermes]
  policy:
    yolo_allowed: true
    env: {FAKE_USAGE_LINK: )" +
                             foreign + R"(}
  backends:
    hermes: {component: dev.coda.agent.hermes, mode: oneshot}
auth:
  mode: none
)";
  CodaServer server(server_options(config));
  // One-shot Hermes runs only "yolo" tasks (it cannot ask for approvals).
  auto run = call_tool(server, "coda_run", R"({"prompt":"plain task","permissions":"yolo"})", {});
  ASSERT_FALSE(run.is_error) << run.text;
  const auto task_id = run.structured->getValue<std::string>("task_id");
  const std::string result = final_result(server, task_id);
  ASSERT_NE(result.find("Hermes finished the task"), std::string::npos)
      << "the agent did not run:\n"
      << result;
  EXPECT_EQ(result.find(kSecret), std::string::npos)
      << "the host read a foreign file through the usage file's link:\n"
      << result;
  EXPECT_EQ(result.find("777777"), std::string::npos)
      << "the host read a foreign file through the usage file's link:\n"
      << result;
  const std::string link = server.data_dir() + "/workspaces";
  bool planted = false;
  for (const auto& entry : fs::recursive_directory_iterator(link)) {
    if (entry.path().filename() == "hermes-usage.json" && fs::is_symlink(entry.symlink_status())) {
      planted = true;
    }
  }
  EXPECT_TRUE(planted) << "the fake agent did not plant the link: the test proves nothing";
}

}  // namespace
}  // namespace coda::test::security
