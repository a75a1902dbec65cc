// The plugin host end to end: bad plugins are refused with one line naming the file and what was
// expected and found while the host keeps serving; `required: true` stops start-up instead; listing
// never initialises plugins.
#include <gtest/gtest.h>

#include <Poco/JSON/Parser.h>

#include "tests/support/coda_server.hpp"
#include "tests/support/http_client.hpp"

namespace coda::test {
namespace {

const std::string kFixtures = CODA_FIXTURE_PLUGIN_DIR;

std::string file_of(const std::string& name) { return kFixtures + "/" + name + ".so"; }

// A configuration that loads `plugins` (name -> required) from the fixture directory and runs the
// http-fixture transport when it is loaded.
std::string config_for(const std::vector<std::pair<std::string, bool>>& plugins,
                       const std::string& transport_extra = "") {
  std::string yaml = "plugins:\n  search_paths: [" + kFixtures + "]\n  load:\n";
  for (const auto& [name, required] : plugins) {
    yaml += "    - {name: " + name + ", required: " + (required ? "true" : "false") + "}\n";
  }
  yaml += "transports:\n  fixture:\n    component: dev.coda.test.http-fixture\n    prefix: /fixture\n" +
          transport_extra;
  return yaml;
}

// The one line of `output` that mentions plugin `name`'s refusal.
std::string refusal_line(const std::string& output, const std::string& name) {
  std::string key = "plugin '" + name + "'";
  auto pos = output.find(key);
  if (pos == std::string::npos) return "";
  auto begin = output.rfind('\n', pos);
  begin = begin == std::string::npos ? 0 : begin + 1;
  auto end = output.find('\n', pos);
  return output.substr(begin, end - begin);
}

struct Refusal {
  std::string name;
  std::vector<std::string> expected;  // substrings of the refusal line
};

const std::vector<Refusal>& refusals() {
  static const std::vector<Refusal> kRefusals = {
      {"bad-abi-major", {"expected plugin ABI 1.x (host ABI 1.", "found ABI 2.0"}},
      {"bad-no-entry", {"expected the entry function coda_plugin_entry_v1", "found no such symbol"}},
      {"bad-init-throws", {"init failed with CODA_E_INTERNAL", "fixture init exploded"}},
      {"bad-init-fails",
       {"init failed with CODA_E_UNSUPPORTED", "fixture needs a host feature that is missing"}},
      {"bad-duplicate-id",
       {"expected unique component ids, found dev.coda.test.http-fixture",
        "already provided by " + file_of("http-fixture")}},
      {"bad-not-elf", {"expected a shared library, found not an ELF file"}},
  };
  return kRefusals;
}

TEST(Plugins, BadPluginsAreRefusedWithOneLineAndTheHostKeepsServing) {
  std::vector<std::pair<std::string, bool>> load = {{"http-fixture", false}};
  for (const auto& r : refusals()) load.emplace_back(r.name, false);
  CodaServer server(config_options(config_for(load)));
  EXPECT_EQ(http_request("GET", server.url() + "/healthz").status, 200);
  EXPECT_EQ(http_request("GET", server.url() + "/readyz").status, 200);
  EXPECT_EQ(http_request("GET", server.url() + "/fixture/echo").status, 200);  // the good one runs
  std::string output = server.output();
  for (const auto& r : refusals()) {
    std::string line = refusal_line(output, r.name);
    ASSERT_FALSE(line.empty()) << r.name << " not refused:\n" << output;
    EXPECT_NE(line.find(file_of(r.name)), std::string::npos) << line;
    EXPECT_NE(line.find("refused: "), std::string::npos) << line;
    for (const auto& part : r.expected) EXPECT_NE(line.find(part), std::string::npos) << line;
  }
  EXPECT_EQ(server.stop(), 0) << server.output();
}

TEST(Plugins, RequiredBadPluginStopsStartupWithItsLine) {
  for (const auto& r : refusals()) {
    TempDir dir;
    std::string config = dir.write(
        "coda.yaml", config_for({{"http-fixture", false}, {r.name, true}}));
    auto run = run_coda({"serve", "--listen", "127.0.0.1:0", "--config", config, "--data-dir",
                         dir.path() + "/data"});
    EXPECT_EQ(run.exit_code, 3) << r.name << "\n" << run.error;
    std::string line = refusal_line(run.error, r.name);
    EXPECT_NE(line.find(file_of(r.name)), std::string::npos) << r.name << "\n" << run.error;
    for (const auto& part : r.expected) EXPECT_NE(line.find(part), std::string::npos) << line;
  }
}

TEST(Plugins, MissingPluginFileIsRefusedNamingTheSearchPath) {
  CodaServer server(config_options(config_for({{"http-fixture", false}, {"no-such-plugin", false}})));
  std::string line = refusal_line(server.output(), "no-such-plugin");
  EXPECT_NE(line.find("expected no-such-plugin.so in the plugin search path, found none"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find(kFixtures), std::string::npos) << line;
  EXPECT_EQ(http_request("GET", server.url() + "/fixture/echo").status, 200);
}

TEST(Plugins, TransportThatFailsToStartIsSkipped) {
  CodaServer server(config_options(config_for({{"http-fixture", false}}, "    fail_start: true\n")));
  EXPECT_NE(server.output().find("transport 'fixture' (dev.coda.test.http-fixture): start failed "
                                 "with CODA_E_STATE: fixture configured to fail at start"),
            std::string::npos)
      << server.output();
  EXPECT_EQ(http_request("GET", server.url() + "/fixture/echo").status, 404);
  EXPECT_EQ(http_request("GET", server.url() + "/readyz").status, 200);
}

TEST(Plugins, RequiredTransportThatFailsToStartStopsStartup) {
  TempDir dir;
  std::string config =
      dir.write("coda.yaml", config_for({{"http-fixture", true}}, "    fail_start: true\n"));
  auto run = run_coda({"serve", "--listen", "127.0.0.1:0", "--config", config, "--data-dir",
                       dir.path() + "/data"});
  EXPECT_EQ(run.exit_code, 3) << run.error;
  EXPECT_NE(run.error.find("fixture configured to fail at start"), std::string::npos) << run.error;
}

TEST(PluginsList, ShowsTheBundledTemplateWithItsAbiVersion) {
  TempDir dir;
  std::string config = dir.write("coda.yaml", "plugins:\n  load: []\n");
  auto run = run_coda({"plugins", "list", "--config", config});
  ASSERT_EQ(run.exit_code, 0) << run.error;
  EXPECT_NE(run.output.find("template-plugin (not configured): loaded com.example.template 0.1.0 "
                            "ABI 1."),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("tools com.example.template.echo 0.1.0"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find(std::string(CODA_PLUGIN_DIR)), std::string::npos) << run.output;
}

TEST(PluginsList, JsonListsRefusalsAndNeverInitialises) {
  TempDir dir;
  std::vector<std::pair<std::string, bool>> load = {{"http-fixture", false}};
  for (const auto& r : refusals()) load.emplace_back(r.name, false);
  std::string config = dir.write("coda.yaml", config_for(load));
  auto run = run_coda({"plugins", "list", "--json", "--config", config});
  ASSERT_EQ(run.exit_code, 0) << run.error;
  auto root = Poco::JSON::Parser().parse(run.output).extract<Poco::JSON::Object::Ptr>();
  auto plugins = root->getArray("plugins");
  std::map<std::string, Poco::JSON::Object::Ptr> by_name;
  for (std::size_t i = 0; i < plugins->size(); ++i) {
    auto p = plugins->getObject(static_cast<unsigned>(i));
    by_name[p->getValue<std::string>("name")] = p;
  }
  ASSERT_TRUE(by_name.count("http-fixture"));
  EXPECT_EQ(by_name["http-fixture"]->getValue<std::string>("status"), "loaded");
  EXPECT_EQ(by_name["http-fixture"]->getValue<std::string>("abi"), "1.1");
  auto components = by_name["http-fixture"]->getArray("components");
  ASSERT_EQ(components->size(), 1u);
  EXPECT_EQ(components->getObject(0)->getValue<std::string>("kind"), "transport");
  // init() is never called by a listing: the plugins whose init fails are listed as loaded.
  EXPECT_EQ(by_name["bad-init-throws"]->getValue<std::string>("status"), "loaded");
  EXPECT_EQ(by_name["bad-init-fails"]->getValue<std::string>("status"), "loaded");
  EXPECT_EQ(by_name["bad-abi-major"]->getValue<std::string>("status"), "refused");
  EXPECT_NE(by_name["bad-abi-major"]->getValue<std::string>("reason").find("found ABI 2.0"),
            std::string::npos);
  EXPECT_EQ(by_name["bad-not-elf"]->getValue<std::string>("status"), "refused");
}

TEST(PluginsList, RequiredRefusalExitsThree) {
  TempDir dir;
  std::string config = dir.write("coda.yaml", config_for({{"bad-abi-major", true}}));
  auto run = run_coda({"plugins", "list", "--config", config});
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_NE(run.output.find("bad-abi-major (required): refused"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace coda::test
