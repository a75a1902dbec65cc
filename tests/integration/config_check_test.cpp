// `coda config check` through the real binary: the shipped files pass, broken ones are reported
// with file:line:column and the key path, and the exit code says which happened.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/coda_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace coda::test {
namespace {

const std::string kSourceDir = CODA_SOURCE_DIR;

// Every YAML file shipped in config/ and config/examples/.
std::vector<std::string> shipped_config_files() {
  std::vector<std::string> files;
  for (const char* dir : {"/config", "/config/examples"}) {
    for (const auto& entry : std::filesystem::directory_iterator(kSourceDir + dir)) {
      const std::string ext = entry.path().extension().string();
      if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) {
        files.push_back(entry.path().string());
      }
    }
  }
  return files;
}

TEST(ConfigCheck, DefaultConfigFilePasses) {
  const std::string path = kSourceDir + "/config/coda.yaml";
  const RunResult result = run_coda({"config", "check", path});
  EXPECT_EQ(result.exit_code, 0) << result.error;
  EXPECT_EQ(result.output.rfind(path + ": ok (agent isolation: ", 0), 0u) << result.output;
  EXPECT_EQ(result.error, "");
}

TEST(ConfigCheck, EveryShippedFilePasses) {
  const std::vector<std::string> files = shipped_config_files();
  ASSERT_GE(files.size(), 4u) << "config/coda.yaml and at least three examples";
  for (const std::string& path : files) {
    const RunResult result = run_coda({"config", "check", path});
    EXPECT_EQ(result.exit_code, 0) << path << "\n" << result.error;
    EXPECT_EQ(result.output.rfind(path + ": ok (agent isolation: ", 0), 0u) << result.output;
  }
}

// What serve would refuse before listening is refused here too: several users, nothing that
// isolates their agents, no opt-out.
TEST(ConfigCheck, SeveralUsersWithoutAgentIsolationAreRefused) {
  TempDir dir;
  const std::string path = dir.write(
      "shared.yaml", "auth:\n  mode: bearer\n  tokens:\n    - {sha256: " + std::string(64, 'b') +
                         ", subject: alice}\nagents:\n  policy:\n    landlock: off\n");
  const RunResult result = run_coda({"config", "check", path});
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.error.find("lets several users run agents"), std::string::npos) << result.error;
  EXPECT_EQ(result.output, "");
}

// agents.policy.run_as: an unknown user, root, or a host that is not root to switch users are
// refused at the key's place; a real user is named in the summary.
TEST(ConfigCheck, RunAsIsCheckedAgainstTheUsersOfThisMachine) {
  TempDir dir;
  auto check = [&](const std::string& user) {
    return run_coda({"config", "check",
                     dir.write("run-as.yaml", "agents:\n  policy:\n    run_as: " + user + "\n")});
  };
  const std::string place = dir.path() + "/run-as.yaml:3:5: agents.policy.run_as: ";
  if (::geteuid() != 0) {
    const RunResult result = check("nobody");
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_NE(result.error.find(place + "the host runs as uid"), std::string::npos) << result.error;
    return;
  }
  RunResult result = check("no-such-user-7f3e");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.error.find(place + "no user 'no-such-user-7f3e'"), std::string::npos)
      << result.error;
  result = check("root");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.error.find(place + "'root' is root"), std::string::npos) << result.error;
  result = check("nobody");
  EXPECT_EQ(result.exit_code, 0) << result.error;
  EXPECT_NE(result.output.find("agents run as nobody (uid "), std::string::npos) << result.output;
}

TEST(ConfigCheck, MisspelledKeyIsReportedWithLocationAndKeyPath) {
  TempDir dir;
  const std::string path = dir.write("coda.yaml",
                                     "server:\n"
                                     "  listen: 127.0.0.1:0\n"
                                     "tasks:\n"
                                     "  max_concurent: 3\n");
  const RunResult result = run_coda({"config", "check", path});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.output, "");
  EXPECT_EQ(result.error, path +
                              ":4:3: tasks.max_concurent: unknown key 'max_concurent' (did you "
                              "mean 'max_concurrent'?)\n");
}

TEST(ConfigCheck, EveryErrorIsPrintedOnItsOwnLine) {
  TempDir dir;
  const std::string path = dir.write("coda.yaml",
                                     "server:\n"
                                     "  limits:\n"
                                     "    threads: many\n"
                                     "auth:\n"
                                     "  mode: bearr\n"
                                     "agents:\n"
                                     "  policy: {yolo_allowed: sometimes}\n");
  const RunResult result = run_coda({"config", "check", path});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.error,
            path +
                ":3:14: server.limits.threads: expected an integer from 1 to 1024, got 'many'\n" +
                path +
                ":5:9: auth.mode: expected one of none, bearer, databricks-apps, oauth, got "
                "'bearr' (did you mean 'bearer'?)\n" +
                path +
                ":7:26: agents.policy.yolo_allowed: expected true or false, got "
                "'sometimes'\n");
}

TEST(ConfigCheck, InterpolationUsesTheEnvironment) {
  TempDir dir;
  const std::string path = dir.write("coda.yaml", "server:\n  listen: 127.0.0.1:${TEST_PORT}\n");
  const RunResult unset = run_coda({"config", "check", path});
  EXPECT_EQ(unset.exit_code, 2);
  EXPECT_EQ(unset.error, path +
                             ":2:11: server.listen: environment variable 'TEST_PORT' is not "
                             "set (set it, or write ${TEST_PORT:-default})\n");

  const RunResult set = run_coda({"config", "check", path}, {{"TEST_PORT", "8123"}});
  EXPECT_EQ(set.exit_code, 0) << set.error;

  const RunResult bad = run_coda({"config", "check", path}, {{"TEST_PORT", "http"}});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.error.find(path + ":2:11: server.listen: expected a port"), std::string::npos)
      << bad.error;
}

TEST(ConfigCheck, YamlSyntaxErrorHasALocation) {
  TempDir dir;
  const std::string path = dir.write("coda.yaml", "server:\n  listen: [127.0.0.1:0\n");
  const RunResult result = run_coda({"config", "check", path});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.error.rfind(path + ":3:1: ", 0), 0u) << result.error;
}

TEST(ConfigCheck, MissingFileIsAnError) {
  TempDir dir;
  const RunResult result = run_coda({"config", "check", dir.path() + "/absent.yaml"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.error, dir.path() + "/absent.yaml: no such file\n");
}

TEST(ConfigCheck, WithoutAFileChecksWhatServeWouldUse) {
  TempDir dir;
  const std::string path = dir.write("env.yaml", "tasks: {max_concurrent: 2}\n");
  const RunResult from_env = run_coda({"config", "check"}, {{"CODA_CONFIG", path}});
  EXPECT_EQ(from_env.exit_code, 0) << from_env.error;
  EXPECT_EQ(from_env.output.rfind(path + ": ok (agent isolation: ", 0), 0u) << from_env.output;
  if (!std::filesystem::exists("/etc/coda/coda.yaml")) {
    const RunResult built_in = run_coda({"config", "check"}, {{"CODA_CONFIG", ""}});
    EXPECT_EQ(built_in.exit_code, 0) << built_in.error;
    EXPECT_EQ(built_in.output.rfind("<built-in>: ok (agent isolation: ", 0), 0u) << built_in.output;
  }
}

TEST(ConfigCheck, DefaultPrintsTheShippedFile) {
  const RunResult result = run_coda({"config", "default"});
  EXPECT_EQ(result.exit_code, 0) << result.error;
  EXPECT_EQ(result.output, read_file(kSourceDir + "/config/coda.yaml"));
}

TEST(ConfigCheck, HelpDescribesTheCommand) {
  const RunResult result = run_coda({"config", "check", "--help"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.output.find("file:line:column"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace coda::test
