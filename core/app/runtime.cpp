#include "core/app/runtime.hpp"

#include <Poco/JSON/Parser.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "core/app/agent_isolation.hpp"
#include "core/app/commands.hpp"
#include "core/app/metrics_endpoint.hpp"
#include "core/auth/authenticator.hpp"
#include "core/http/router.hpp"
#include "core/http/server.hpp"
#include "core/log/logging.hpp"
#include "core/mcp/engine.hpp"
#include "core/plugins/agent_component.hpp"
#include "core/plugins/component_host.hpp"
#include "core/plugins/host_context.hpp"
#include "core/plugins/plugin_registry.hpp"
#include "core/process/process_service.hpp"
#include "core/tasks/task_service.hpp"
#include "core/util/file_lock.hpp"
#include "core/util/listen_address.hpp"

namespace coda::app {
namespace {

// How long in-flight requests get to finish at shutdown before their connections are cut.
constexpr std::chrono::milliseconds kDrainGrace{5000};

// coda_run's viewer_url: server.public_url (or the caller's address) plus the path of the first
// enabled web UI transport; no link when none is configured.
tasks::ViewerLinks viewer_links(const config::Config& config) {
  tasks::ViewerLinks links;
  links.public_url = config.server.public_url;
  for (const auto& transport : config.transports) {
    if (!transport.enabled || transport.component != "dev.coda.transport.web-ui") continue;
    std::string path = "/ui";
    try {
      auto obj =
          Poco::JSON::Parser().parse(transport.config_json).extract<Poco::JSON::Object::Ptr>();
      if (obj->has("path") && obj->get("path").isString())
        path = obj->getValue<std::string>("path");
    } catch (const std::exception&) {
      // The transport refuses its own bad config when it is created; keep the default here.
    }
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    links.viewer_path = path;
    break;
  }
  return links;
}

}  // namespace

std::string resolve_data_dir(const config::ServerConfig& server) {
  if (!server.data_dir.empty()) return server.data_dir;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/coda";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home != '\0' ? home : ".") + "/.local/share/coda";
}

Runtime::Runtime(config::Config config, Options options)
    : config_(std::move(config)), options_(options) {}

Runtime::~Runtime() { shutdown(); }

std::string Runtime::url() const { return server_ ? server_->url() : ""; }

void Runtime::start(const std::function<void(const std::string& url)>& on_listening) {
  auto& logger = log::get("app");
  started_ = true;

  data_dir_ = resolve_data_dir(config_.server);
  std::error_code ec;
  std::filesystem::create_directories(data_dir_, ec);
  if (ec || !std::filesystem::is_directory(data_dir_)) {
    throw StartupError(kExitUsage, "data dir " + data_dir_ + " cannot be created: " +
                                       (ec ? ec.message() : "not a directory"));
  }
  // A second host on the same data dir would take the first one's running tasks for crashed ones
  // at recovery (and SQLite is no place for two schedulers): refuse it.
  try {
    data_dir_lock_ = std::make_unique<util::FileLock>(data_dir_ + "/coda.lock");
  } catch (const std::runtime_error& e) {
    throw StartupError(kExitFailure, "data dir " + data_dir_ +
                                         " is in use by another coda serve: " + e.what() +
                                         "; give this one its own --data-dir");
  }

  try {
    authenticator_ = auth::Authenticator::create(config_.auth, config_.server);
  } catch (const config::ConfigError& e) {
    throw StartupError(kExitUsage, e.what());
  }
  util::ListenAddress address;
  try {
    address = util::parse_listen_address(config_.server.listen);
  } catch (const std::invalid_argument& e) {
    throw StartupError(kExitUsage, std::string("server.listen: ") + e.what());
  }
  if (authenticator_->requires_loopback() && !util::is_loopback_host(address.host)) {
    throw StartupError(kExitUsage,
                       "refusing to listen on " + address.to_string() + " with auth.mode " +
                           authenticator_->mode() +
                           ": without authentication anyone who can reach the port could run "
                           "agents as you. Listen on 127.0.0.1 (or [::1]), or set auth.mode to "
                           "bearer, databricks-apps or oauth.");
  }
  AgentIsolation isolation;
  try {
    isolation = decide_agent_isolation(config_);
  } catch (const IsolationRefused& e) {
    throw StartupError(kExitUsage, e.what());
  }
  agent_policy_ = isolation.policy;
  prepare_data_dir(data_dir_, agent_policy_);
  logger.information("agent isolation: " + isolation.summary +
                     "; the host is not dumpable; connections from agent processes are refused");
  for (const auto& warning : isolation.warnings) logger.warning(warning);

  router_ = std::make_unique<http::Router>();
  try {
    server_ = std::make_unique<http::HttpServer>(config_.server, *router_, authenticator_.get());
  } catch (const http::ListenError& e) {
    throw StartupError(kExitFailure, e.what());
  }
  if (agent_policy_.account.uid != 0) server_->set_agent_uids({agent_policy_.account.uid});
  server_->start();
  logger.information("listening on " + server_->url() + " (auth " + authenticator_->mode() + ")");
  if (on_listening) on_listening(server_->url());

  mcp::Engine::Options engine_options;
  engine_options.config = config_.mcp;
  engine_ = std::make_unique<mcp::Engine>(engine_options);
  if (!processes_) {
    processes_ = process::ProcessService::create(agent_policy_, data_dir_);
    processes_->set_log_sink([](int level, const std::string& message) {
      log::log_abi_level(log::get("process"), level, message);
    });
  }
  try {
    // The agents' policy as start-up decided it (isolation, per-owner homes), not only as read.
    config::AgentsConfig agents = config_.agents;
    agents.policy = agent_policy_;
    tasks_ = std::make_unique<tasks::TaskService>(config_.tasks, agents, data_dir_, *processes_);
  } catch (const std::exception& e) {
    throw StartupError(kExitFailure, std::string("tasks: ") + e.what());
  }
  tasks_->register_tools(*engine_, viewer_links(config_));
  if (config_.server.metrics != "disabled") {
    metrics_ = std::make_shared<MetricsEndpoint>(
        config_.server.metrics, *server_, engine_.get(), &tasks_->engine().store(),
        config_.tasks.max_queued, config_.tasks.max_concurrent);
    tasks_->engine().set_run_finished(
        [metrics = metrics_](const std::string& backend, tasks::TaskState state) {
          metrics->run_finished(backend, state);
        });
    router_->mount("/metrics", metrics_);
  }

  services_ = std::make_unique<plugins::CoreServices>();
  services_->engine = engine_.get();
  services_->tool_calls = &engine_->tool_calls();
  services_->router = router_.get();
  services_->processes = processes_.get();

  registry_ = std::make_unique<plugins::PluginRegistry>(config_.plugins, services_.get());
  components_ = std::make_unique<plugins::ComponentHost>(*registry_, *services_);
  try {
    registry_->load_configured();
    components_->create(config_);
    for (const auto& agent : components_->agents()) {
      try {
        tasks_->add_backend(plugins::make_agent_backend(agent));
      } catch (const std::invalid_argument& e) {
        logger.error(e.what());
      }
    }
    components_->start_transports();
  } catch (const plugins::RequiredPluginError& e) {
    throw StartupError(kExitPluginRefused, e.what());
  }
  if (metrics_) metrics_->set_plugins(registry_->plugins());
  tasks_->start();

  server_->set_readiness(http::Readiness::kReady);
  logger.information("ready: " + std::to_string(components_->started_transport_count()) +
                     " transport(s) started");
}

void Runtime::shutdown() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  auto& logger = log::get("app");
  logger.information("shutting down");
  if (server_) server_->set_readiness(http::Readiness::kDraining);
  if (components_) components_->stop_transports();
  if (server_) server_->stop(kDrainGrace);
  if (tasks_) tasks_->stop();
  // Children spawned by plugins are killed and reaped while their plugins are still loaded: the
  // process service's I/O thread calls the plugin's on_exit (and on_output) through function
  // pointers into the plugin, so unloading first let a late exit jump into unmapped code (ASan:
  // SEGV in host_process.cpp on_exit after unload_all, e.g. an agent that reported its result
  // before exiting).
  if (processes_) processes_->shutdown();
  bool clean = true;
  if (components_) {
    components_->destroy_all();
    clean = components_->clean();
  }
  if (registry_) {
    if (clean) {
      registry_->unload_all();
    } else {
      logger.error("some plugin objects are still in use: plugins stay loaded until exit");
      (void)registry_.release();
    }
  }
  logger.information("stopped");
}

}  // namespace coda::app
