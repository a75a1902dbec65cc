#pragma once

#include <CLI/CLI.hpp>

// The subcommands of `coda`. main.cpp calls one register function per command; each lives in its own
// core/app/<name>_command.cpp. A command's callback ends a failed run with fail(code), which main()
// turns into the process exit code.
namespace coda::app {

// Process exit codes (documented in `coda --help` and README.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;         // a runtime failure: cannot listen, internal error
inline constexpr int kExitUsage = 2;           // a bad command line or an unusable configuration
inline constexpr int kExitPluginRefused = 3;   // a plugin marked `required: true` was refused

// The footer every level of --help shows.
inline constexpr const char* kExitCodesHelp =
    "Exit codes: 0 success; 1 runtime failure (cannot listen, internal error); 2 usage or "
    "configuration error; 3 a plugin marked required was refused.";

// Ends the running command with `code` (no output of its own: print the reason first).
[[noreturn]] inline void fail(int code) { throw CLI::RuntimeError(code); }

void register_serve_command(CLI::App& app);    // serve_command.cpp
void register_plugins_command(CLI::App& app);  // plugins_command.cpp
void register_version_command(CLI::App& app);  // version_command.cpp
void register_bridge_command(CLI::App& app);   // bridge_command.cpp
void register_config_command(CLI::App& app);   // config_command.cpp
void register_tasks_command(CLI::App& app);    // tasks_command.cpp

}  // namespace coda::app
