// load_string / load_file / load: YAML text → Config, and the lookup when no --config is given.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/config/sections.hpp"

namespace coda::config {
namespace {

constexpr const char* kSystemConfigPath = "/etc/coda/coda.yaml";
constexpr const char* kBuiltInName = "<built-in>";

Config parse(std::string_view yaml, const std::string& name, const std::string& base_dir,
             const EnvLookup& env) {
  Document document(name, base_dir, env);
  YAML::Node root;
  try {
    std::vector<YAML::Node> documents = YAML::LoadAll(std::string(yaml));
    if (documents.size() > 1) {
      throw ConfigError(document.location(documents[1].Mark()), "",
                        "a configuration is one YAML document, found " +
                            std::to_string(documents.size()) + " (remove the '---' separators)");
    }
    if (!documents.empty()) root = documents.front();
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
