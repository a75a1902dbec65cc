#include <iostream>

#include <coda/plugin.h>

#include "coda/version.hpp"
#include "core/app/commands.hpp"

namespace coda::app {

void register_version_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("version", "Print the version of coda and of its plugin ABI.");
  cmd->footer(kExitCodesHelp);
  cmd->callback([] {
    std::cout << kProductName << " " << kVersion << " (plugin ABI " << CODA_ABI_MAJOR << "."
              << CODA_ABI_MINOR << ")\n";
  });
}

}  // namespace coda::app
