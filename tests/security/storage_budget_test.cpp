// The attack suite: one user fills the host's disk. Alice's agent (the fake CLI in mode
// fake:script) writes a file bigger than her storage budget (tasks.owner_storage_mb: 1) into its
// workspace and floods output without end, or writes the file and then hides (prints nothing more),
// or plants symlinks to huge files elsewhere. The host (the real `coda`, bearer mode, two users)
// must stop her task as failed with the budget error, store no output past the budget, refuse her
// next coda_run and leave nothing behind — while Bob's task that runs all along, and a new one,
// complete. A link is never her bytes. Every test fails (the flood never ends, the task completes,
// or she is let in again) when the enforcement is removed.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/auth/secrets.hpp"
#include "tests/security/security_support.hpp"

namespace coda::test::security {
namespace {

constexpr const char* kAliceToken = "alice-token-budget-5e4d3c2b1a09";
constexpr const char* kBobToken = "bob-token-budget-90a1b2c3d4e5f6";
constexpr const char* kNotStored = "further output is not stored";

// How often `needle` occurs in `text`.
int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class StorageBudgetAttack : public ::testing::Test {
 protected:
  void SetUp() override {
    // 3 MiB of random data (incompressible) against a budget of 1 MiB. Mode 1 then floods; mode 2
    // goes quiet; mode 3 only plants links to a huge file and a directory outside, then finishes.
    huge_ = outside_.write("huge", incompressible_bytes(8u << 20));
    script_ = files_.write("attack.sh", R"SH(set -u
case "$1" in
  1) head -c 3145728 /dev/urandom > big.bin && echo "ATTACK wrote big.bin"
     yes "ATTACK flood flood flood flood flood flood flood flood flood flood flood flood" ;;
  2) head -c 3145728 /dev/urandom > big.bin && echo "ATTACK wrote big.bin"
     sleep 600 ;;
  4) head -c 3145728 /dev/urandom > "$HOME/big.bin" && echo "ATTACK wrote HOME/big.bin"
     sleep 600 ;;
  3) ln -s ')SH" + huge_ + R"SH(' huge.link && ln -s ')SH" +
                                            outside_.path() + R"SH(' outside.link &&
     echo "ATTACK planted links" ;;
esac
)SH");
    std::string auth = "  mode: bearer\n  tokens:\n";
    for (auto [token, who] : {std::pair{kAliceToken, "alice"}, std::pair{kBobToken, "bob"}}) {
      auth += "    - {sha256: " + auth::sha256_hex(token) + ", subject: " + who +
              ", email: " + who + "@example.com}\n";
    }
    server_ = std::make_unique<CodaServer>(server_options(with_fake_script(
        host_config(auth) + "tasks:\n  owner_storage_mb: 1\n  max_concurrent: 4\n", script_)));
  }

  // coda_run as `token`; the task id, or "" (with a test failure) when refused.
  std::string run(const char* token, const std::string& prompt) {
    auto run = call_tool(*server_, "coda_run", R"({"prompt":")" + prompt + "\"}", bearer(token));
    EXPECT_FALSE(run.is_error) << run.text;
    if (run.is_error || run.structured.isNull()) return "";
    return run.structured->getValue<std::string>("task_id");
  }
  // The task's result (no events) as JSON text.
  std::string result_of(const char* token, const std::string& task_id) {
    auto result =
        call_tool(*server_, "coda_get_result", R"({"task_id":")" + task_id + "\"}", bearer(token));
    EXPECT_FALSE(result.is_error) << result.text;
    return result.structured.isNull() ? result.text : json_text(*result.structured);
  }
  std::size_t task_count(const char* token) {
    auto inbox = call_tool(*server_, "coda_inbox", "{}", bearer(token));
    EXPECT_FALSE(inbox.is_error) << inbox.text;
    return inbox.structured.isNull() ? 0 : inbox.structured->getArray("tasks")->size();
  }
  std::size_t workspace_count() {
    std::size_t n = 0;
    for (const auto& entry :
         std::filesystem::directory_iterator(server_->data_dir() + "/workspaces")) {
      (void)entry;
      ++n;
    }
    return n;
  }
  // Alice is over her budget: coda_run is refused saying so and what to do, and creates nothing.
  void expect_alice_refused() {
    const std::size_t tasks = task_count(kAliceToken), workspaces = workspace_count();
    auto again =
        call_tool(*server_, "coda_run", R"({"prompt":"fake:ok again"})", bearer(kAliceToken));
    ASSERT_EQ(again.http_status, 200);
    EXPECT_TRUE(again.is_error) << "alice was let in again over her budget: " << again.text;
    EXPECT_NE(again.text.find("over the storage budget"), std::string::npos) << again.text;
    EXPECT_NE(again.text.find("1.0 MiB that tasks.owner_storage_mb allows"), std::string::npos)
        << again.text;
    EXPECT_NE(again.text.find("nothing was created"), std::string::npos) << again.text;
    EXPECT_NE(again.text.find("tasks.retention_days"), std::string::npos) << again.text;
    EXPECT_EQ(task_count(kAliceToken), tasks) << "the refused coda_run left a task";
    EXPECT_EQ(workspace_count(), workspaces) << "the refused coda_run left a workspace";
  }

  TempDir files_, outside_;
  std::string huge_, script_;
  std::unique_ptr<CodaServer> server_;
};

TEST_F(StorageBudgetAttack, AFloodingAgentFillingItsWorkspaceIsStoppedAndOnlyItsOwnerRefused) {
  const std::string bob_running = run(kBobToken, "fake:hang bob works all along");
  const std::string attack = run(kAliceToken, "fake:script:1");
  ASSERT_FALSE(attack.empty());

  const std::string output = finished_output(server_->mcp_url(), attack, bearer(kAliceToken));
  ASSERT_FALSE(output.empty()) << "the host never stopped the attack";
  ASSERT_NE(output.find("ATTACK wrote big.bin"), std::string::npos) << "the attack did not run";
  EXPECT_EQ(output.rfind("status failed\n", 0), 0u) << output.substr(0, 200);
  EXPECT_EQ(count_of(output, kNotStored), 1) << "one host event says output is not stored";
  // The budget, plus what was in flight when the figure was last read from the store (without the
  // enforcement the flood stores its whole 8 MiB events_max_bytes).
  EXPECT_LE(output.size(), (1u << 20) + (256u << 10)) << "output past the budget was stored";
  const std::string result = result_of(kAliceToken, attack);
  EXPECT_NE(result.find("over the storage budget"), std::string::npos) << result;
  EXPECT_NE(result.find("tasks.owner_storage_mb"), std::string::npos) << result;

  expect_alice_refused();

  // Bob's running task was not taken down, and he still runs a task to completion.
  const std::string bob_state = result_of(kBobToken, bob_running);
  EXPECT_NE(bob_state.find(R"("status":"running")"), std::string::npos) << bob_state;
  const std::string bob_next = run(kBobToken, "fake:ok bob again");
  EXPECT_EQ(finished_output(server_->mcp_url(), bob_next, bearer(kBobToken))
                .rfind("status completed\n", 0),
            0u);
  call_tool(*server_, "coda_cancel", R"({"task_id":")" + bob_running + "\"}", bearer(kBobToken));
}

TEST_F(StorageBudgetAttack, AQuietAgentFillingItsWorkspaceIsMeasuredAndStopped) {
  const std::string attack = run(kAliceToken, "fake:script:2");
  ASSERT_FALSE(attack.empty());
  const std::string output = finished_output(server_->mcp_url(), attack, bearer(kAliceToken));
  ASSERT_FALSE(output.empty()) << "the host never stopped the attack";
  ASSERT_NE(output.find("ATTACK wrote big.bin"), std::string::npos) << "the attack did not run";
  EXPECT_EQ(output.rfind("status failed\n", 0), 0u) << output;
  EXPECT_EQ(count_of(output, kNotStored), 1) << output;
  const std::string result = result_of(kAliceToken, attack);
  EXPECT_NE(result.find("over the storage budget"), std::string::npos) << result;
  expect_alice_refused();
  const std::string bob = run(kBobToken, "fake:ok bob");
  EXPECT_EQ(
      finished_output(server_->mcp_url(), bob, bearer(kBobToken)).rfind("status completed\n", 0),
      0u);

  // What the refusal says to do works: the administrator deletes the task, alice runs again.
  const auto deleted = run_coda({"tasks", "delete", attack, "--data-dir", server_->data_dir()});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.output << deleted.error;
  EXPECT_NE(deleted.output.find("deleted with its events and its workspace"), std::string::npos)
      << deleted.output;
  EXPECT_EQ(workspace_count(), 1u) << "only bob's workspace is left";
  const std::string again = run(kAliceToken, "fake:ok alice again");
  EXPECT_EQ(finished_output(server_->mcp_url(), again, bearer(kAliceToken))
                .rfind("status completed\n", 0),
            0u);
}

// The owner's agents' HOME (one per owner with several users) is the owner's storage too.
TEST_F(StorageBudgetAttack, AnAgentFillingItsHomeIsMeasuredAndStopped) {
  const std::string attack = run(kAliceToken, "fake:script:4");
  ASSERT_FALSE(attack.empty());
  const std::string output = finished_output(server_->mcp_url(), attack, bearer(kAliceToken));
  ASSERT_FALSE(output.empty()) << "the host never stopped the attack";
  ASSERT_NE(output.find("ATTACK wrote HOME/big.bin"), std::string::npos)
      << "the attack did not run";
  EXPECT_EQ(output.rfind("status failed\n", 0), 0u) << output;
  EXPECT_NE(result_of(kAliceToken, attack).find("over the storage budget"), std::string::npos);
  expect_alice_refused();
  // The admin empties alice's home: her next coda_run measures it again and is let in.
  std::size_t removed = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(server_->data_dir() + "/homes")) {
    if (entry.path().filename() == "big.bin") removed += std::filesystem::remove(entry.path());
  }
  ASSERT_EQ(removed, 1u) << "the 3 MiB file was not in a per-owner home";
  const std::string again = run(kAliceToken, "fake:ok alice again");
  EXPECT_EQ(finished_output(server_->mcp_url(), again, bearer(kAliceToken))
                .rfind("status completed\n", 0),
            0u);
}

TEST_F(StorageBudgetAttack, LinksToHugeFilesElsewhereAreNotTheAgentsBytes) {
  const std::string task = run(kAliceToken, "fake:script:3");
  ASSERT_FALSE(task.empty());
  const std::string output = finished_output(server_->mcp_url(), task, bearer(kAliceToken));
  ASSERT_NE(output.find("ATTACK planted links"), std::string::npos) << output;
  EXPECT_EQ(output.rfind("status completed\n", 0), 0u) << output;
  EXPECT_EQ(count_of(output, kNotStored), 0) << output;
  // The links were measured at the end of the task and did not count: alice may run again.
  const std::string next = run(kAliceToken, "fake:ok again");
  EXPECT_EQ(
      finished_output(server_->mcp_url(), next, bearer(kAliceToken)).rfind("status completed\n", 0),
      0u);
}

}  // namespace
}  // namespace coda::test::security
