// The attack suite: an agent tries to read the host and another task. Mallory's agent (fake:script)
// reads coda's /proc/<pid>/environ, mem, maps and fd, the store (tasks.db), the config file the
// host read, every file under the data dir (another running task's workspace holds a secret), every
// process's environ and cmdline in /proc (the other agent's included), and its own environment.
// None of the secrets may show up in its output: the secret in coda's environment, the client
// secret Databricks puts there, Bob's workspace file, Bob's prompt, the store's bytes, the config's
// marker.
//   Sandboxed (agents.policy.sandbox.enabled): bubblewrap's pid namespace hides every other
//   process, the data dir is an empty tmpfs but for the agent's own workspace, the config file is
//   /dev/null, the host is not dumpable (and bwrap drops capabilities, so root inside cannot
//   override that). Landlocked (agents.policy.landlock, the mechanism where user namespaces are
//   missing): the data dir but for the agent's own workspace and the config file are closed; the
//   host's /proc files are closed by PR_SET_DUMPABLE when agents are not root (as root, only the
//   sandbox closes them). Landlocked and run as another user (agents.policy.run_as: nobody) on a
//   root host: the host's /proc files are closed again, because the agent is no longer root.
//   Neither (landlock: off, allow_unisolated), as an unprivileged user: the host is not dumpable,
//   so its /proc files stay closed (the store and other workspaces are then readable: that is what
//   the sandbox is for).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>
#include <vector>

#include "core/auth/secrets.hpp"
#include "core/process/landlock.hpp"
#include "tests/security/security_support.hpp"
#include "tests/support/unavailable.hpp"

namespace coda::test::security {
namespace {

constexpr const char* kEnvSecret = "host-env-secret-4e5f6a7b8c";
constexpr const char* kClientSecret = "dbx-client-secret-9a8b7c6d";
constexpr const char* kWorkspaceSecret = "bob-workspace-secret-1c2d3e";
constexpr const char* kPromptSecret = "bob-prompt-secret-5f6e7d";
constexpr const char* kConfigMarker = "config-file-marker-8e9f0a";
constexpr const char* kTranscriptSecret = "bob-transcript-secret-7d8e9f";
constexpr const char* kBobToken = "bob-confine-token-0a1b2c3d4e5f";
constexpr const char* kMalloryToken = "mallory-confine-token-6a7b8c9d";

// $1 = 1: Bob's agent, which keeps a secret in its workspace and runs on. $1 = 2: Mallory's, which
// reads everything it can name. CODA_PID, DATA_DIR and CONFIG are filled in once coda runs.
constexpr const char* kScript = R"(
if [ "$1" = 1 ]; then
  mkdir -p "$HOME/.claude/projects" &&
    printf '%s\n' "@TRANSCRIPT_SECRET@" > "$HOME/.claude/projects/bob-session.jsonl"
  printf '%s\n' "@WORKSPACE_SECRET@" > secret.txt
  exec sleep 100000
fi
try() { echo "TRY $1"; head -c 4096 "$1" 2>&1 | tr '\0' ' '; echo; }
for f in environ mem maps cmdline; do try /proc/@CODA_PID@/$f; done
ls -l /proc/@CODA_PID@/fd/ 2>&1 | head -20
for fd in /proc/@CODA_PID@/fd/*; do try "$fd"; done
try "@DATA_DIR@/tasks.db"
try "@CONFIG@"
find "@DATA_DIR@" -type f 2>/dev/null | while read -r f; do try "$f"; done
for p in /proc/[0-9]*; do try "$p/environ"; try "$p/cmdline"; done
find "$HOME" -maxdepth 4 -name '*.jsonl' 2>/dev/null | while read -r f; do try "$f"; done
env
echo ATTACK-DONE
)";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

class Confinement : public ::testing::Test {
 protected:
  // Bob's agent holds its secret, then Mallory's agent attacks; returns what Mallory's agent
  // printed. The config, the attack script and the data dir live under /var/tmp, as they would
  // under /etc and /var/lib: outside the private /tmp a sandbox gives every agent anyway.
  enum class Isolation { kSandbox, kLandlock, kLandlockRunAs, kNone };

  std::string attack(Isolation isolation) {
    std::string auth = "  mode: bearer\n  tokens:\n";
    for (auto [token, who] : {std::pair{kBobToken, "bob"}, std::pair{kMalloryToken, "mallory"}}) {
      auth += "    - {sha256: " + auth::sha256_hex(token) + ", subject: " + who + "}\n";
    }
    const std::string script = dir_.path() + "/attack.sh";
    std::string config = with_fake_script(host_config(auth), script);
    const char* policy = isolation == Isolation::kSandbox    ? "    sandbox: {enabled: true}\n"
                         : isolation == Isolation::kLandlock ? "    landlock: on\n"
                         : isolation == Isolation::kLandlockRunAs
                             ? "    landlock: on\n    run_as: nobody\n"
                             : "    landlock: off\n"
                               "    allow_unisolated: true\n";
    // An agent user must be able to pass to its workspace and read its script, as it would pass
    // /var/lib to /var/lib/coda; the config file below stays closed (Landlock: a hidden file).
    if (isolation == Isolation::kLandlockRunAs) ::chmod(dir_.path().c_str(), 0755);
    config.replace(config.find("  policy:\n"), 10, std::string("  policy:\n") + policy);
    config += "# " + std::string(kConfigMarker) + "\n";
    const std::string config_file = dir_.write("etc/coda.yaml", config);
    const std::string data_dir = dir_.path() + "/data";
    auto options = server_options(
        "", {{"CODA_TEST_SECRET", kEnvSecret}, {"DATABRICKS_CLIENT_SECRET", kClientSecret}});
    options.args.insert(options.args.end(), {"--config", config_file});
    options.data_dir = data_dir;
    dir_.write("attack.sh", "exit 0\n");  // replaced once the host's pid is known
    server_ = std::make_unique<CodaServer>(options);
    std::string attack_script = kScript;
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"@CODA_PID@", std::to_string(server_->pid())},
             {"@DATA_DIR@", data_dir},
             {"@CONFIG@", config_file},
             {"@WORKSPACE_SECRET@", kWorkspaceSecret},
             {"@TRANSCRIPT_SECRET@", kTranscriptSecret}}) {
      attack_script = replace_all(attack_script, from, to);
    }
    dir_.write("attack.sh", attack_script);

    auto bob = call_tool(*server_, "coda_run",
                         std::string(R"({"prompt":"fake:script:1 )") + kPromptSecret + "\"}",
                         bearer(kBobToken));
    EXPECT_FALSE(bob.is_error) << bob.text;
    // Bob's secret file exists before Mallory looks for it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline && !bob_secret_written()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(bob_secret_written()) << server_->output();
    // ...and his transcript is in his own HOME below the data dir, not in one Mallory shares.
    EXPECT_EQ(
        std::system(
            ("grep -rqs " + std::string(kTranscriptSecret) + " " + data_dir + "/homes").c_str()),
        0)
        << "Bob's agent kept its transcript outside a per-owner HOME";

    auto mallory =
        call_tool(*server_, "coda_run", R"({"prompt":"fake:script:2"})", bearer(kMalloryToken));
    EXPECT_FALSE(mallory.is_error) << mallory.text;
    if (mallory.is_error) return "";
    return finished_output(server_->mcp_url(), mallory.structured->getValue<std::string>("task_id"),
                           bearer(kMalloryToken));
  }

  bool bob_secret_written() const {
    return std::system(("grep -rqs " + std::string(kWorkspaceSecret) + " " + server_->data_dir() +
                        " --include=secret.txt")
                           .c_str()) == 0;
  }

  // `host_proc`: the host's environment (its /proc files) must stay closed; `files`: the store, the
  // config, other workspaces and Bob's prompt must too.
  static void expect_no_secret(const std::string& output, bool host_proc, bool files) {
    ASSERT_NE(output.find("ATTACK-DONE"), std::string::npos) << "the attack did not run:\n"
                                                             << output;
    std::vector<const char*> secrets;
    if (host_proc) secrets.insert(secrets.end(), {kEnvSecret, kClientSecret});
    // Bob's prompt is in his task dir (prompt.txt) and in the store; never in any process's
    // cmdline. His agent sessions (a CLI's transcripts in $HOME) are his: one HOME per owner.
    if (files) {
      secrets.insert(secrets.end(), {kWorkspaceSecret, kPromptSecret, kConfigMarker,
                                     kTranscriptSecret, "SQLite format 3"});
    }
    for (const char* secret : secrets) {
      EXPECT_EQ(output.find(secret), std::string::npos) << "leaked " << secret << ":\n" << output;
    }
  }

  TempDir dir_{"/var/tmp"};
  std::unique_ptr<CodaServer> server_;  // declared last: stopped before dir_ goes
};

TEST_F(Confinement, ASandboxedAgentReadsNothingOfTheHostOrOfAnotherTask) {
  expect_no_secret(attack(Isolation::kSandbox), true, true);
}

TEST_F(Confinement, ALandlockedAgentReadsNoStoreConfigOrOtherWorkspace) {
  if (process::landlock_abi() <= 0) CODA_MECHANISM_UNAVAILABLE("this kernel has no Landlock");
  // As root the agent passes the ptrace check on the host's environ despite PR_SET_DUMPABLE
  // (CAP_SYS_PTRACE), and Landlock does not stop that read: a root host needs the sandbox for it.
  // security_unprivileged_user runs this as a normal user, where the host's /proc stays closed too.
  expect_no_secret(attack(Isolation::kLandlock), ::geteuid() != 0, true);
}

TEST_F(Confinement, ARootHostsAgentsRunAsAnotherUserReadNothingOfTheHostOrOfAnotherTask) {
  if (::geteuid() != 0) {
    // agents.policy.run_as needs a root host (an unprivileged one refuses it: it_config_check);
    // the root run of this binary tries it.
    SUCCEED() << "not root: run_as is tried by the root run of this binary";
    return;
  }
  if (process::landlock_abi() <= 0) CODA_MECHANISM_UNAVAILABLE("this kernel has no Landlock");
  // The host's /proc files are closed because the agent is not root; the rest by Landlock.
  expect_no_secret(attack(Isolation::kLandlockRunAs), true, true);
}

TEST_F(Confinement, WithoutTheSandboxTheHostsProcFilesStayClosedToAnUnprivilegedAgent) {
  if (::geteuid() == 0) {
    // Root agents pass ptrace checks: only the sandbox (test above) or a separate uid protect them.
    // This case is tried by security_unprivileged_user, which runs this binary as a normal user.
    SUCCEED() << "as root: covered by the sandboxed test and by the unprivileged run";
    return;
  }
  expect_no_secret(attack(Isolation::kNone), true, false);
}

}  // namespace
}  // namespace coda::test::security
