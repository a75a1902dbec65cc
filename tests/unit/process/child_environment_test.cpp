#include "core/process/child_environment.hpp"

#include <gtest/gtest.h>

#include "core/process/sandbox.hpp"

namespace coda::process {
namespace {

TEST(ChildEnvironment, OnlyAllowlistedHostVariablesPass) {
  config::AgentPolicy policy;
  policy.env_allowlist = {"HOME", "LC_*"};
  const auto env = build_child_environment(
      policy, {"HOME=/root", "LC_ALL=C", "DATABRICKS_TOKEN=dapi1", "PATH=/host/bin"}, {});
  EXPECT_EQ(env.vars.at("HOME"), "/root");
  EXPECT_EQ(env.vars.at("LC_ALL"), "C");
  EXPECT_EQ(env.vars.count("DATABRICKS_TOKEN"), 0u);
  // PATH was not allowlisted: children get the default one.
  EXPECT_EQ(env.path(), kDefaultChildPath);
}

TEST(ChildEnvironment, PolicyAndExtrasAreAddedAndBadExtrasDropped) {
  config::AgentPolicy policy;
  policy.env_allowlist = {"PATH"};
  policy.env = {{"HERMES_HOME", "/srv/hermes"}};
  const auto env = build_child_environment(
      policy, {"PATH=/usr/bin", "SECRET=s3", "OTHER=o"},
      {"MODEL=m", "LD_LIBRARY_PATH=/x", "=novalue", "SECRET=s3", "OTHER=different", "PATH=/p"});
  EXPECT_EQ(env.vars.at("HERMES_HOME"), "/srv/hermes");
  EXPECT_EQ(env.vars.at("MODEL"), "m");
  EXPECT_EQ(env.vars.at("OTHER"), "different");  // a value the backend chose, not the host's copy
  EXPECT_EQ(env.vars.count("SECRET"), 0u);
  EXPECT_EQ(env.vars.count("LD_LIBRARY_PATH"), 0u);
  EXPECT_EQ(env.path(), "/p");
  EXPECT_EQ(env.dropped.size(), 3u);
  const auto entries = env.to_entries();
  EXPECT_EQ(entries.front(), "HERMES_HOME=/srv/hermes");
}

TEST(ChildEnvironment, AllowlistPatterns) {
  EXPECT_TRUE(allowlisted({"LC_*"}, "LC_ALL"));
  EXPECT_FALSE(allowlisted({"LC_*"}, "LANG"));
  EXPECT_TRUE(allowlisted({"*"}, "ANYTHING"));
  EXPECT_FALSE(allowlisted({"HOME"}, "HOMEDIR"));
  EXPECT_FALSE(allowlisted({}, "HOME"));
}

TEST(Sandbox, DataDirIsHiddenBeforeTheWorkspaceIsBound) {
  config::SandboxConfig sandbox;
  sandbox.enabled = true;
  sandbox.network = false;
  sandbox.writable = {"/opt/cache"};
  const auto argv = sandbox_argv(sandbox, "/usr/bin/bwrap", "/data", {"/data/ws/1"}, "/data/ws/1",
                                 {"/usr/bin/claude", "-p", "x"});
  auto at = [&](const std::string& word) {
    return std::find(argv.begin(), argv.end(), word) - argv.begin();
  };
  EXPECT_EQ(argv.front(), "/usr/bin/bwrap");
  EXPECT_LT(at("/data"), at("/data/ws/1"));
  EXPECT_NE(at("--unshare-net"), static_cast<long>(argv.size()));
  EXPECT_NE(at("/opt/cache"), static_cast<long>(argv.size()));
  EXPECT_EQ(argv[argv.size() - 4], "--");
  EXPECT_EQ(argv.back(), "x");
}

}  // namespace
}  // namespace coda::process
