// `coda config check [FILE]` and `coda config default`: validate a configuration file without
// starting anything, and print the built-in defaults to start a file from.
#include <iostream>
#include <memory>
#include <string>

#include "core/app/agent_isolation.hpp"
#include "core/app/commands.hpp"
#include "core/config/config.hpp"

namespace coda::app {
namespace {

// Loads `file` (or, when empty, what `coda serve` would use) and reports the result: "<name>: ok" on
// stdout, or every error line on stderr and exit code 2.
void check_config(const std::string& file) {
  const std::string path = file.empty() ? config::default_config_path() : file;
  try {
    const config::Config loaded = config::load(path);
    // What `coda serve` would refuse before it listens, found here too (on this machine's kernel).
    const AgentIsolation isolation = decide_agent_isolation(loaded);
    std::cout << loaded.source << ": ok (agent isolation: " << isolation.summary << ")\n";
    for (const auto& warning : isolation.warnings) std::cerr << "warning: " << warning << "\n";
  } catch (const config::ConfigError& e) {
    for (const std::string& line : e.lines()) std::cerr << line << "\n";
    fail(kExitUsage);
  } catch (const IsolationRefused& e) {
    std::cerr << path << ": " << e.what() << "\n";
    fail(kExitUsage);
  }
}

}  // namespace

void register_config_command(CLI::App& app) {
  CLI::App* config = app.add_subcommand("config", "Check configuration files.");
  config->footer(kExitCodesHelp);
  config->require_subcommand(1);

  auto file = std::make_shared<std::string>();
  CLI::App* check = config->add_subcommand(
      "check",
      "Load FILE as `coda serve --config FILE` would and report every problem as "
      "file:line:column: key.path: what is wrong. Without FILE: $CODA_CONFIG, then "
      "/etc/coda/coda.yaml, then the built-in defaults. Also decides, on this machine, how agents "
      "would be isolated, and refuses what `coda serve` would refuse (several users, nothing that "
      "isolates agents). Prints 'FILE: ok (agent isolation: ...)' and exits 0, or the errors and "
      "exits 2.");
  check->footer(kExitCodesHelp);
  check->add_option("FILE", *file, "The YAML configuration file to check");
  check->callback([file] { check_config(*file); });

  CLI::App* defaults = config->add_subcommand(
      "default", "Print the built-in default configuration (config/coda.yaml), to start a file from.");
  defaults->footer(kExitCodesHelp);
  defaults->callback([] { std::cout << config::kDefaultConfigYaml; });
}

}  // namespace coda::app
