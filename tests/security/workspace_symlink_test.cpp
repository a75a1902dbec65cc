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

}  // namespace
}  // namespace coda::test::security
