#include "core/plugins/plugin_library.hpp"

#include <gtest/gtest.h>

#include "core/plugins/guard.hpp"
#include "core/plugins/plugin_registry.hpp"
#include "tests/support/temp_dir.hpp"

namespace coda::plugins {
namespace {

const std::string kFixtures = CODA_FIXTURE_PLUGIN_DIR;

std::string refusal_of(const std::string& file) {
  try {
    PluginLibrary::open(file);
  } catch (const PluginRefused& e) {
    return e.what();
  }
  return "";
}

TEST(PluginLibrary, OpensAndDescribesTheTemplate) {
  auto lib = PluginLibrary::open(std::string(CODA_PLUGIN_DIR) + "/template-plugin.so");
  EXPECT_EQ(lib->id(), "com.example.template");
  EXPECT_EQ(lib->version(), "0.1.0");
  EXPECT_EQ(lib->abi_version(), "1.1");
  ASSERT_EQ(lib->components().size(), 1u);
  EXPECT_EQ(lib->components()[0].id, "com.example.template.echo");
  EXPECT_EQ(lib->components()[0].kind, CODA_KIND_TOOLS);
  EXPECT_STREQ(kind_name(lib->components()[0].kind), "tools");
}

TEST(PluginLibrary, RefusesWithWhatWasExpectedAndFound) {
  EXPECT_NE(refusal_of(kFixtures + "/bad-abi-major.so").find("found ABI 2.0"), std::string::npos);
  EXPECT_NE(refusal_of(kFixtures + "/bad-no-entry.so").find("coda_plugin_entry_v1"),
            std::string::npos);
  EXPECT_NE(refusal_of(kFixtures + "/bad-not-elf.so").find("not an ELF file"), std::string::npos);
  coda::test::TempDir dir;
  std::string empty = dir.write("empty.so", "");
  EXPECT_NE(refusal_of(empty).find("expected a shared library"), std::string::npos);
}

TEST(PluginLibrary, InitIsNotCalledByOpening) {
  // bad-init-throws throws from init(): opening and describing it must not run init.
  auto lib = PluginLibrary::open(kFixtures + "/bad-init-throws.so");
  EXPECT_EQ(lib->id(), "dev.coda.test.bad-init-throws");
}

TEST(Guard, ExceptionsBecomeInternalErrorsAndStatusesKeepTheirDetail) {
  auto thrown = guarded_status([]() -> coda_status_t { throw std::runtime_error("boom"); });
  EXPECT_EQ(thrown.status, CODA_E_INTERNAL);
  EXPECT_EQ(thrown.describe(), "CODA_E_INTERNAL: threw: boom");
  auto refused = guarded_status([] {
    set_thread_error("too old");
    return static_cast<coda_status_t>(CODA_E_UNSUPPORTED);
  });
  EXPECT_EQ(refused.describe(), "CODA_E_UNSUPPORTED: too old");
  EXPECT_TRUE(guarded_status([] { return static_cast<coda_status_t>(CODA_OK); }).ok());
  EXPECT_EQ(guarded_void([] { throw 42; }), "threw an exception");
}

TEST(PluginRegistry, ListingRegistryNeverInitialisesAndRefusesDuplicates) {
  config::PluginsConfig config;
  config.search_paths = {kFixtures};
  for (const char* name : {"http-fixture", "bad-duplicate-id", "bad-init-throws", "missing"}) {
    config::PluginEntry entry;
    entry.name = name;
    config.load.push_back(entry);
  }
  PluginRegistry registry(config, nullptr);
  registry.load_configured();
  const auto& states = registry.plugins();
  ASSERT_EQ(states.size(), 4u);
  EXPECT_TRUE(states[0].loaded);
  EXPECT_FALSE(states[1].loaded);
  EXPECT_NE(states[1].refusal.find("already provided by " + kFixtures + "/http-fixture.so"),
            std::string::npos)
      << states[1].refusal;
  EXPECT_TRUE(states[2].loaded);  // not initialised, so its throwing init never ran
  EXPECT_FALSE(states[3].loaded);
  EXPECT_NE(states[3].refusal.find("found none"), std::string::npos);
  auto ref = registry.find_component("dev.coda.test.http-fixture");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->plugin->file, kFixtures + "/http-fixture.so");
  EXPECT_FALSE(registry.find_component("dev.coda.test.nothing"));
}

TEST(PluginRegistry, RequiredRefusalThrowsTheLine) {
  config::PluginsConfig config;
  config.search_paths = {kFixtures};
  config::PluginEntry entry;
  entry.name = "bad-abi-major";
  entry.required = true;
  config.load.push_back(entry);
  PluginRegistry registry(config, nullptr);
  try {
    registry.load_configured();
    ADD_FAILURE() << "no exception";
  } catch (const RequiredPluginError& e) {
    std::string line = e.what();
    EXPECT_NE(line.find("plugin 'bad-abi-major' (" + kFixtures + "/bad-abi-major.so) refused: "),
              std::string::npos)
        << line;
    EXPECT_EQ(line.find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace coda::plugins
