#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/config/config.hpp"

namespace coda::auth {
class Authenticator;
}
namespace coda::util {
class FileLock;
}
namespace coda::http {
class Router;
class HttpServer;
}  // namespace coda::http
namespace coda::mcp {
class Engine;
}
namespace coda::process {
class ProcessService;
}
namespace coda::tasks {
class TaskService;
}
namespace coda::plugins {
struct CoreServices;
class PluginRegistry;
class ComponentHost;
}  // namespace coda::plugins

namespace coda::app {

class MetricsEndpoint;

// The host could not start. what() is the one-line reason; exit_code() the process exit code
// (commands.hpp).
class StartupError : public std::runtime_error {
 public:
  StartupError(int exit_code, const std::string& message)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// The running host: owns every core service and the plugins, and starts and stops them in order.
//
// Start (start()): authenticator -> listener bound and accepting (readyz 503) -> on_listening(url) ->
// MCP engine, process service, task service, /metrics (unless server.metrics is disabled) -> plugins
// loaded and initialised -> component instances created -> transports started -> task service
// started -> readyz 200.
// Shutdown (shutdown()): readyz 503 -> transports stop -> in-flight requests finish -> task service
// stops -> components destroyed -> plugins deinit -> libraries unloaded.
//
// Not thread-safe: start() and shutdown() from the control thread; request_shutdown() from anywhere.
class Runtime {
 public:
  struct Options {
    // stdio: `coda serve --stdio` (the stdio transport speaks MCP on stdin/stdout; the URL line and
    // all logs go to stderr).
    bool stdio = false;
  };

  // Takes the configuration with the command line overrides already applied.
  Runtime(config::Config config, Options options);
  // shutdown().
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Starts everything; calls on_listening with the URL once the listener accepts connections.
  // Throws StartupError (with its exit code) for anything that stops start-up: an unusable
  // configuration or data dir, a non-loopback address without authentication, a listener that cannot
  // bind, a required plugin refused.
  void start(const std::function<void(const std::string& url)>& on_listening);

  // Stops everything in order. Idempotent.
  void shutdown();

  const config::Config& config() const { return config_; }
  std::string url() const;

 private:
  config::Config config_;
  Options options_;
  std::string data_dir_;
  config::AgentPolicy agent_policy_;  // config_'s, with the host's secret files and isolation decided
  // In construction order; destroyed in reverse.
  std::unique_ptr<util::FileLock> data_dir_lock_;  // one host per data dir
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<http::HttpServer> server_;
  std::shared_ptr<MetricsEndpoint> metrics_;  // outlives the task service, which reports to it
  std::unique_ptr<mcp::Engine> engine_;
  std::unique_ptr<process::ProcessService> processes_;
  std::unique_ptr<tasks::TaskService> tasks_;
  std::unique_ptr<plugins::CoreServices> services_;
  std::unique_ptr<plugins::PluginRegistry> registry_;
  std::unique_ptr<plugins::ComponentHost> components_;
  bool started_ = false;
  bool stopped_ = false;
};

// The data directory: config.server.data_dir, else $XDG_DATA_HOME/coda, else ~/.local/share/coda.
std::string resolve_data_dir(const config::ServerConfig& server);

}  // namespace coda::app
