#pragma once

#include "core/config/config.hpp"

namespace coda::app {

// `coda serve --stdio`: makes `config` serve MCP on stdin/stdout.
//   - The transport-stdio plugin is loaded and required (without it the host would be useless to the
//     client that started it, so start-up fails with the reason instead).
//   - A transport instance of dev.coda.transport.stdio named "stdio" is added (or enabled).
//   - Unless `listen_given` (an explicit --listen), the listener binds the configured host on port 0:
//     every client starts its own host, and a fixed port would make the second one fail.
// Logs already go to stderr (or server.log_file); the URL line goes to stderr (serve_command.cpp).
void apply_stdio_mode(config::Config& config, bool listen_given);

}  // namespace coda::app
