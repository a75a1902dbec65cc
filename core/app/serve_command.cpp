#include <sys/prctl.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "core/app/commands.hpp"
#include "core/app/runtime.hpp"
#include "core/app/shutdown_signal.hpp"
#include "core/app/stdio_mode.hpp"
#include "core/config/config.hpp"
#include "core/log/logging.hpp"
#include "core/plugins/plugin_registry.hpp"

namespace coda::app {
namespace {

struct ServeOptions {
  std::string config_path;
  std::string listen;
  std::string data_dir;
  std::string log_level;
  std::string log_format;
  bool stdio = false;
};

int run_serve(const ServeOptions& options) {
  // Not dumpable: /proc/<pid>/environ, mem, fd and maps of the host stay closed to processes of the
  // same uid without CAP_SYS_PTRACE — the agents it runs. Its environment holds secrets that
  // agents.policy.env_allowlist keeps from them. (Also: no core dumps of a process holding tokens.)
  ::prctl(PR_SET_DUMPABLE, 0);
  // Before any thread exists: every thread inherits the blocked SIGINT/SIGTERM.
  ShutdownSignal signals;

  config::Config config;
  try {
    config = config::load(options.config_path);
    if (!options.listen.empty()) config.server.listen = options.listen;
    if (options.stdio) apply_stdio_mode(config, !options.listen.empty());
    if (!options.data_dir.empty()) config.server.data_dir = options.data_dir;
    if (!options.log_level.empty()) config.server.log_level = options.log_level;
    if (!options.log_format.empty()) config.server.log_format = options.log_format;
    log::Options log_options;
    log_options.level = config.server.log_level;
    log_options.format = config.server.log_format;
    log_options.file = config.server.log_file;
    log::configure(log_options);
  } catch (const std::exception& e) {
    std::cerr << "coda: " << e.what() << "\n";
    return kExitUsage;
  }

  Runtime::Options runtime_options;
  runtime_options.stdio = options.stdio;
  Runtime runtime(std::move(config), runtime_options);
  try {
    runtime.start([&](const std::string& url) {
      // The contract tests and scripts rely on: exactly this line, once bound. With --stdio, stdout
      // belongs to the protocol.
      std::FILE* out = options.stdio ? stderr : stdout;
      std::fprintf(out, "coda listening on %s\n", url.c_str());
      std::fflush(out);
    });
  } catch (const StartupError& e) {
    log::get("app").fatal(e.what());
    runtime.shutdown();
    std::cerr << "coda: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    log::get("app").fatal(std::string("start-up failed: ") + e.what());
    runtime.shutdown();
    std::cerr << "coda: start-up failed: " << e.what() << "\n";
    return kExitFailure;
  }

  std::string reason = signals.wait();
  log::get("app").information(reason + " received");
  runtime.shutdown();
  return kExitOk;
}

}  // namespace

void register_serve_command(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "Run the host: load the plugins, listen for MCP clients, run tasks. Prints \"coda listening on "
      "URL\" once the listener is bound; SIGINT or SIGTERM shut down gracefully.");
  cmd->footer(kExitCodesHelp);
  cmd->add_option("--config", options->config_path,
                  "Configuration file (default: $CODA_CONFIG, then /etc/coda/coda.yaml, then the "
                  "built-in defaults)");
  cmd->add_option("--listen", options->listen,
                  "HOST:PORT to listen on, overriding server.listen (port 0 picks a free one)");
  cmd->add_option("--data-dir", options->data_dir,
                  "Directory for the task database and workspaces, overriding server.data_dir");
  cmd->add_option("--log-level", options->log_level,
                  "debug, info, warning or error, overriding server.log_level");
  cmd->add_option("--log-format", options->log_format,
                  "text or json (one JSON object per line), overriding server.log_format")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_flag("--stdio", options->stdio,
                "Speak MCP on stdin/stdout (for a local client that starts coda); the URL line and "
                "logs go to stderr");
  cmd->callback([options] {
    int code = run_serve(*options);
    if (code != kExitOk) fail(code);
  });
}

}  // namespace coda::app
