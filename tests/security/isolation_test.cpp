// The attack suite, part 2: per-user isolation of tasks on the real `coda` binary (bearer mode).
// User A cannot list, read, wait on or cancel user B's task: every answer is exactly the one for a task
// id that does not exist. An admin (auth.admins) sees and cancels every user's tasks.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <thread>

#include "core/auth/secrets.hpp"
#include "tests/security/security_support.hpp"

namespace coda::test::security {
namespace {

using namespace std::chrono_literals;

constexpr const char* kAliceToken = "alice-token-0f9e8d7c6b5a4938";
constexpr const char* kBobToken = "bob-token-1a2b3c4d5e6f7a8b9c";
constexpr const char* kCarolToken = "carol-admin-token-9z8y7x6w5v";

class SecurityIsolation : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string auth = "  mode: bearer\n  admins: [carol@example.com]\n  tokens:\n";
    for (auto [token, who] : {std::pair{kAliceToken, "alice"}, std::pair{kBobToken, "bob"},
                              std::pair{kCarolToken, "carol"}}) {
      auth += "    - {sha256: " + auth::sha256_hex(token) + ", subject: " + who +
              ", email: " + who + "@example.com}\n";
    }
    server_ = std::make_unique<CodaServer>(server_options(host_config(auth)));
    // Bob's task hangs, so it stays running for the whole test.
    auto run = call_tool(*server_, "coda_run", R"({"prompt":"fake:hang bob's secret work"})",
                         bearer(kBobToken));
    ASSERT_EQ(run.http_status, 200);
    ASSERT_FALSE(run.is_error) << run.text;
    bob_task_ = run.structured->getValue<std::string>("task_id");
  }

  ToolOutcome as(const char* token, const std::string& tool, const std::string& args) {
    return call_tool(*server_, tool, args, bearer(token));
  }
  std::string bob_status() {
    auto mine = as(kBobToken, "coda_get_result", R"({"task_id":")" + bob_task_ + R"("})");
    EXPECT_FALSE(mine.is_error) << mine.text;
    return mine.structured.isNull() ? "" : mine.structured->getValue<std::string>("status");
  }
  // The answer for `id` with its id blanked, so answers for different ids can be compared.
  static std::string without_id(std::string text, const std::string& id) {
    for (auto pos = text.find(id); pos != std::string::npos; pos = text.find(id)) {
      text.replace(pos, id.size(), "<id>");
    }
    return text;
  }

  std::unique_ptr<CodaServer> server_;
  std::string bob_task_;
};

TEST_F(SecurityIsolation, AnotherUsersTaskLooksExactlyLikeAnUnknownOne) {
  const std::string unknown = "00000000000000000000000000000000";
  for (std::string tool : {"coda_get_result", "coda_cancel"}) {
    auto foreign = as(kAliceToken, tool, R"({"task_id":")" + bob_task_ + R"("})");
    auto missing = as(kAliceToken, tool, R"({"task_id":")" + unknown + R"("})");
    EXPECT_TRUE(foreign.is_error) << tool << ": " << foreign.text;
    EXPECT_TRUE(missing.is_error) << tool;
    EXPECT_EQ(without_id(foreign.text, bob_task_), without_id(missing.text, unknown)) << tool;
    EXPECT_EQ(foreign.text.find("bob"), std::string::npos) << tool << ": " << foreign.text;
  }
  // Waiting on it: the same, and at once (no wait on someone else's task).
  auto waited = as(kAliceToken, "coda_get_result", R"({"task_id":")" + bob_task_ + R"(","wait_s":5})");
  auto waited_missing =
      as(kAliceToken, "coda_get_result", R"({"task_id":")" + unknown + R"(","wait_s":5})");
  EXPECT_TRUE(waited.is_error);
  EXPECT_EQ(without_id(waited.text, bob_task_), without_id(waited_missing.text, unknown));
  // Listing: Alice's inbox is empty, also when she asks for every user's tasks.
  for (std::string args : {"{}", R"({"all_users":true})", R"({"email":"bob@example.com"})"}) {
    auto inbox = as(kAliceToken, "coda_inbox", args);
    if (inbox.is_error) continue;  // all_users may be refused outright for non-admins
    ASSERT_FALSE(inbox.structured.isNull()) << args;
    EXPECT_EQ(inbox.structured->getArray("tasks")->size(), 0u) << args;
  }
  // Bob's task went on untouched.
  EXPECT_EQ(bob_status(), "running");
}

// Alice names Bob's address in the `email` argument. With authentication on it is ignored: her task
// (and its prompt's "User:" line, made from the same field) carries her own address, and her inbox
// filtered by Bob's address still shows only her tasks.
TEST_F(SecurityIsolation, TheEmailArgumentCannotNameSomeoneElse) {
  auto run = as(kAliceToken, "coda_run",
                R"({"prompt":"fake:hang alice's work","email":"bob@example.com"})");
  ASSERT_FALSE(run.is_error) << run.text;
  const auto alice_task = run.structured->getValue<std::string>("task_id");
  // The prompt the host wrote for her agent (read here as the host's user).
  const std::string prompt_file = server_->data_dir() + "/workspaces/" +
                                  run.structured->getValue<std::string>("session_id") +
                                  "/.coda/tasks/" + alice_task + "/prompt.txt";
  std::string prompt;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (prompt.find("TASK:") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    std::ifstream in(prompt_file);
    prompt.assign(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_NE(prompt.find("User: alice@example.com\n"), std::string::npos) << prompt;
  EXPECT_EQ(prompt.find("bob@example.com"), std::string::npos) << prompt;
  auto inbox = as(kAliceToken, "coda_inbox", R"({"email":"bob@example.com"})");
  ASSERT_FALSE(inbox.is_error) << inbox.text;
  EXPECT_EQ(inbox.text.find(bob_task_), std::string::npos) << inbox.text;
  EXPECT_NE(inbox.text.find(alice_task), std::string::npos) << inbox.text;
}

TEST_F(SecurityIsolation, AnAdminSeesAndCancelsEveryonesTasks) {
  auto inbox = as(kCarolToken, "coda_inbox", R"({"all_users":true})");
  ASSERT_FALSE(inbox.is_error) << inbox.text;
  auto tasks = inbox.structured->getArray("tasks");
  bool found = false;
  for (std::size_t i = 0; i < tasks->size(); ++i) {
    found |= tasks->getObject(static_cast<unsigned>(i))->getValue<std::string>("task_id") == bob_task_;
  }
  EXPECT_TRUE(found);
  auto read = as(kCarolToken, "coda_get_result", R"({"task_id":")" + bob_task_ + R"("})");
  EXPECT_FALSE(read.is_error) << read.text;
  auto cancel = as(kCarolToken, "coda_cancel", R"({"task_id":")" + bob_task_ + R"("})");
  EXPECT_FALSE(cancel.is_error) << cancel.text;
  std::string status;
  for (int i = 0; i < 100; ++i) {
    status = bob_status();
    if (status == "cancelled") break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(status, "cancelled");
}

}  // namespace
}  // namespace coda::test::security
