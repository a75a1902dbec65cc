// The backup and restore procedure of docs/operations.md, exactly as documented: the sqlite3
// commands `.backup` and `VACUUM INTO` against the store of a running `coda serve` with a finished
// task, the copy checked and restored into a fresh data directory, where `coda tasks` finds the
// task.
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "tests/security/security_support.hpp"
#include "tests/support/coda_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace coda::test {
namespace {

namespace fs = std::filesystem;
using security::call_tool;

// Runs a shell command; its exit status and stdout.
std::pair<int, std::string> shell(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string host_config() {
  return R"(plugins:
  search_paths: [")" +
         std::string(CODA_PLUGIN_DIR) + R"(", ")" + std::string(CODA_FIXTURE_PLUGIN_DIR) + R"("]
  load: [{name: transport-mcp-http, required: true}, {name: agent-fixture, required: true}]
transports:
  mcp-http: {component: dev.coda.transport.mcp-http, path: /mcp}
agents:
  order: [fixture]
  backends:
    fixture: {component: dev.coda.test.agent-fixture}
)";
}

TEST(Operations, OnlineBackupsOfARunningHostRestoreIntoANewDataDir) {
  ASSERT_EQ(shell("command -v sqlite3 >/dev/null").first, 0)
      << "sqlite3 is missing (packaging/bootstrap.sh installs it)";
  CodaServer server(config_options(host_config()));
  auto run = call_tool(server, "coda_run", R"({"prompt":"back me up\nFIXTURE: lines 1"})", {});
  ASSERT_FALSE(run.structured.isNull()) << run.text;
  const auto task_id = run.structured->getValue<std::string>("task_id");
  auto done =
      call_tool(server, "coda_get_result", R"({"task_id":")" + task_id + R"(","wait_s":25})", {});
  ASSERT_FALSE(done.structured.isNull()) << done.text;
  ASSERT_EQ(done.structured->getValue<std::string>("status"), "completed");

  TempDir backups;
  const std::string store = server.data_dir() + "/tasks.db";
  const std::string by_backup = backups.path() + "/by-backup.db";
  const std::string by_vacuum = backups.path() + "/by-vacuum.db";
  // The commands of docs/operations.md, while the host runs.
  ASSERT_EQ(shell("sqlite3 '" + store + "' \".backup '" + by_backup + "'\"").first, 0);
  ASSERT_EQ(shell("sqlite3 '" + store + "' \"VACUUM INTO '" + by_vacuum + "'\"").first, 0);
  EXPECT_TRUE(server.running()) << "the host keeps serving during a backup";

  for (const auto& copy : {by_backup, by_vacuum}) {
    SCOPED_TRACE(copy);
    auto check = shell("sqlite3 '" + copy + "' 'PRAGMA integrity_check'");
    EXPECT_EQ(check.first, 0);
    EXPECT_EQ(check.second, "ok\n");

    TempDir restored;  // restore: the copy becomes tasks.db of a fresh data dir
    fs::copy_file(copy, restored.path() + "/tasks.db");
    auto verified = run_coda({"tasks", "check", "--data-dir", restored.path()});
    EXPECT_EQ(verified.exit_code, 0) << verified.output << verified.error;
    auto shown = run_coda({"tasks", "show", task_id, "--data-dir", restored.path()});
    ASSERT_EQ(shown.exit_code, 0) << shown.error;
    auto json = Poco::JSON::Parser().parse(shown.output).extract<Poco::JSON::Object::Ptr>();
    EXPECT_EQ(json->getValue<std::string>("task_id"), task_id);
    EXPECT_EQ(json->getValue<std::string>("status"), "completed");
  }
}

}  // namespace
}  // namespace coda::test
