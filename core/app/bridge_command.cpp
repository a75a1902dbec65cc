// `coda bridge`: a stdio MCP server that forwards every message to a remote /mcp endpoint.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>

#include "core/app/commands.hpp"
#include "core/bridge/bridge.hpp"

namespace coda::app {
namespace {

// Writes whole lines to stdout; a client that closed its end ends the bridge.
void write_stdout_line(const std::string& line) {
  std::string out = line + "\n";
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::write(1, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) std::_Exit(kExitOk);  // nobody reads our answers any more
    done += static_cast<std::size_t>(n);
  }
}

void write_stderr_line(const std::string& line) {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::fprintf(stderr, "coda bridge: %s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace

void register_bridge_command(CLI::App& app) {
  auto raw = std::make_shared<bridge::RawOptions>();
  CLI::App* cmd = app.add_subcommand(
      "bridge",
      "Serve MCP on stdin/stdout and forward every message to a remote Streamable HTTP endpoint "
      "(e.g. a CoDA Host deployed as a Databricks App), for clients that only start local "
      "servers. Diagnostics go to stderr; tokens are never printed.");
  cmd->footer(std::string(
                  "Environment: CODA_MCP_URL (instead of --url); DATABRICKS_PROFILE (without "
                  "--token-command: the token comes from `databricks auth token -p "
                  "$DATABRICKS_PROFILE`).\n") +
              "Exit codes: 0 end of input; 2 usage error (no URL, bad option).");
  cmd->add_option("--url", raw->url, "The remote MCP endpoint, e.g. https://HOST/mcp");
  cmd->add_option("--token-command", raw->token_command,
                  "A command that prints a bearer token (bare, or JSON with access_token and "
                  "expiry); run without a shell, cached until shortly before expiry, run again when "
                  "the server refuses the token");
  cmd->add_option("--header", raw->headers, "An extra 'Name: value' header (repeatable)");
  cmd->add_option("--timeout", raw->timeout_s,
                  "Seconds to wait for the server (connect, and between bytes of an answer)")
      ->default_val(bridge::kDefaultTimeoutSeconds);
  cmd->callback([raw] {
    bridge::Options options;
    try {
      options = bridge::resolve_options(*raw, bridge::process_environment());
    } catch (const bridge::UsageError& e) {
      std::cerr << "coda bridge: " << e.what() << "\n";
      fail(kExitUsage);
    }
    ::signal(SIGPIPE, SIG_IGN);
    write_stderr_line("forwarding stdin/stdout to " + options.url.text +
                      (options.token_command.empty()
                           ? std::string(" (no token command)")
                           : " (token from '" + options.token_command.front() + "')"));
    int code = bridge::run_bridge(options, std::cin, write_stdout_line, write_stderr_line);
    if (code != kExitOk) fail(code);
  });
}

}  // namespace coda::app
