// coda: the CoDA Host command line. Each subcommand lives in core/app/<name>_command.cpp and is
// registered here.
#include <CLI/CLI.hpp>

#include "coda/version.hpp"
#include "core/app/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"CoDA Host: MCP clients hand long-running coding tasks to coding agents.", "coda"};
  app.require_subcommand(1);
  app.footer(coda::app::kExitCodesHelp);
  app.set_version_flag("--version", std::string(coda::kProductName) + " " + coda::kVersion);

  coda::app::register_serve_command(app);
  coda::app::register_plugins_command(app);
  coda::app::register_version_command(app);
  coda::app::register_bridge_command(app);
  coda::app::register_config_command(app);
  coda::app::register_tasks_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Error& e) {
    int code = app.exit(e);  // prints help, the version, or the usage error
    if (e.get_name() == "RuntimeError") return code;
    return code == 0 ? coda::app::kExitOk : coda::app::kExitUsage;
  }
  return coda::app::kExitOk;
}
