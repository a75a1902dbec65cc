// load_string / load_file / load: YAML text → Config, and the lookup when no --config is given.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include "core/config/sections.hpp"

namespace coda::config {
namespace {

// Counts YAML documents without building them, remembering where the second one starts.
class DocumentCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++starts_ == 2) second_ = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
  const YAML::Mark& second() const { return second_; }

 private:
  int starts_ = 0;
  YAML::Mark second_;
};

// True when the text holds more than one document (or content after the first that yaml-cpp takes
// for one). Looks at most two documents ahead: yaml-cpp 0.7's LoadAll never ends on some inputs (a
// stray ']' after a mapping — found by fuzz_config).
bool has_second_document(const std::string& text, YAML::Mark& where) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  int documents = 0;
  while (documents < 2 && parser.HandleNextDocument(counter)) ++documents;
  where = counter.second();
  return documents > 1;
}

constexpr const char* kSystemConfigPath = "/etc/coda/coda.yaml";
constexpr const char* kBuiltInName = "<built-in>";

Config parse(std::string_view yaml, const std::string& name, const std::string& base_dir,
             const EnvLookup& env) {
  Document document(name, base_dir, env);
  YAML::Node root;
  try {
    const std::string text(yaml);
    YAML::Mark second;
    if (has_second_document(text, second)) {
      throw ConfigError(document.location(second), "",
                        "a configuration is one YAML document, found more (remove the '---' "
                        "separators and anything after the first document)");
    }
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(document.location(e.mark), "", e.msg);
  }
  Config config;
  config.source = name;
  Reader top(document, root, "");
  Reader server = top.child("server");
  parse_server_section(server, config.server);
  Reader auth = top.child("auth");
  parse_auth_section(auth, config.auth);
  Reader plugins = top.child("plugins");
  parse_plugins_section(plugins, config.plugins);
  Reader mcp = top.child("mcp");
  parse_mcp_section(mcp, config.mcp);
  Reader tasks = top.child("tasks");
  parse_tasks_section(tasks, config.tasks);
  Reader agents = top.child("agents");
  parse_agents_section(agents, config.agents);
  config.transports = parse_component_instances(top, "transports");
  config.tools = parse_component_instances(top, "tools");
  check_server_section(server, config);
  document.finish();
  return config;
}

}  // namespace

Config load_string(std::string_view yaml, const std::string& name) {
  return parse(yaml, name, "", process_env());
}

Config load_string(std::string_view yaml, const std::string& name, const std::string& base_dir,
                   const EnvLookup& env) {
  return parse(yaml, name, base_dir, env);
}

Config load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  if (!in || std::filesystem::is_directory(path, ec)) {
    const std::string reason = std::filesystem::exists(path, ec)
                                   ? (std::filesystem::is_directory(path, ec)
                                          ? "is a directory, not a file"
                                          : "cannot be read (permission denied?)")
                                   : "no such file";
    throw ConfigError(Location{path, 0, 0}, "", reason);
  }
  std::ostringstream text;
  text << in.rdbuf();
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  return parse(text.str(), path, ec ? "" : absolute.parent_path().string(), process_env());
}

std::string default_config_path() {
  if (const char* env = std::getenv("CODA_CONFIG"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  if (std::filesystem::exists(kSystemConfigPath, ec)) return kSystemConfigPath;
  return "";
}

Config load(const std::string& path) {
  const std::string chosen = path.empty() ? default_config_path() : path;
  if (!chosen.empty()) return load_file(chosen);
  return load_string(kDefaultConfigYaml, kBuiltInName);
}

}  // namespace coda::config
