// The SDK as a third party uses it: `cmake --install` of the SDK into a temporary prefix, the template
// built out of tree with find_package(CodaSDK), and the host loading the result.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include "tests/support/coda_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace coda::test {
namespace {

// Runs a shell command line, its output into `log`; returns the exit status.
int sh(const std::string& command, const std::string& log) {
  int status = std::system((command + " >>" + log + " 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(Sdk, TemplateBuildsOutOfTreeAgainstTheInstalledSdkAndLoads) {
  TempDir dir;
  std::string prefix = dir.path() + "/prefix";
  std::string build = dir.path() + "/build";
  std::string log = dir.path() + "/log";
  std::string cmake = CODA_CMAKE_COMMAND;
  ASSERT_EQ(sh(cmake + " --install " + CODA_BUILD_DIR + " --component sdk --prefix " + prefix, log),
            0)
      << read_file(log);
  std::string tmpl = prefix + "/share/coda/sdk/template";
  ASSERT_TRUE(std::filesystem::exists(tmpl + "/template_plugin.c")) << read_file(log);
  ASSERT_TRUE(std::filesystem::exists(prefix + "/include/coda/plugin.h"));
  ASSERT_EQ(sh(cmake + " -S " + tmpl + " -B " + build + " -DCMAKE_PREFIX_PATH=" + prefix +
                   " -DCMAKE_C_COMPILER=" + CODA_C_COMPILER,
               log),
            0)
      << read_file(log);
  ASSERT_EQ(sh(cmake + " --build " + build, log), 0) << read_file(log);
  ASSERT_TRUE(std::filesystem::exists(build + "/template-plugin.so")) << read_file(log);

  std::string config = dir.write(
      "coda.yaml", "plugins:\n  search_paths: [" + build +
                       "]\n  load:\n    - {name: template-plugin, required: true}\n"
                       "tools:\n  echo:\n    component: com.example.template.echo\n");
  auto list = run_coda({"plugins", "list", "--config", config});
  EXPECT_EQ(list.exit_code, 0) << list.output << list.error;
  EXPECT_NE(list.output.find("template-plugin (required): loaded com.example.template 0.1.0 ABI 1."),
            std::string::npos)
      << list.output;
  EXPECT_NE(list.output.find(build + "/template-plugin.so"), std::string::npos) << list.output;

  // And it runs: the host initialises it and creates its tool provider (required: a failure would
  // stop start-up).
  CodaServer server(config_options(read_file(config)));
  EXPECT_NE(server.output().find("loaded plugin com.example.template 0.1.0"), std::string::npos)
      << server.output();
  EXPECT_EQ(server.stop(), 0) << server.output();
}

}  // namespace
}  // namespace coda::test
