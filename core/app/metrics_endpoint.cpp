#include "core/app/metrics_endpoint.hpp"

#include <coda/plugin.h>

#include "coda/version.hpp"
#include "core/auth/identity.hpp"
#include "core/http/exchange.hpp"
#include "core/http/server.hpp"
#include "core/log/logging.hpp"
#include "core/mcp/engine.hpp"
#include "core/metrics/text_writer.hpp"
#include "core/plugins/plugin_library.hpp"
#include "core/plugins/plugin_registry.hpp"
#include "core/tasks/task_store.hpp"

namespace coda::app {
namespace {

double unix_now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

MetricsEndpoint::MetricsEndpoint(std::string access, const http::HttpServer& server,
                                 const mcp::Engine* engine, tasks::TaskStore* store,
                                 int queue_limit, int running_limit)
    : access_(std::move(access)),
      server_(server),
      engine_(engine),
      store_(store),
      queue_limit_(queue_limit),
      running_limit_(running_limit),
      start_time_s_(unix_now_s()),
      agent_runs_("coda_agent_runs_total",
                  "Agent runs this host ended, by backend (\"none\": no backend could start the "
                  "task) and outcome (the task's final state).",
                  {"backend", "outcome"}, 256) {}

void MetricsEndpoint::set_plugins(const std::vector<plugins::PluginState>& plugins) {
  metrics::TextWriter out;
  out.family("coda_plugin_loaded", "gauge",
             "1 for each configured plugin that was loaded, 0 for one that was refused (the log "
             "says why).");
  for (const auto& p : plugins) {
    if (!p.configured) continue;
    out.sample("coda_plugin_loaded",
               {{"plugin", p.name}, {"file", p.file}, {"id", p.id}, {"version", p.version}},
               static_cast<uint64_t>(p.loaded ? 1 : 0));
  }
  out.family("coda_plugin_component_registered", "gauge",
             "1 for each component a loaded plugin registered, by plugin, component id and kind.");
  for (const auto& p : plugins) {
    if (!p.configured || !p.loaded) continue;
    for (const auto& c : p.components) {
      out.sample("coda_plugin_component_registered",
                 {{"plugin", p.name}, {"component", c.id}, {"kind", plugins::kind_name(c.kind)}},
                 static_cast<uint64_t>(1));
    }
  }
  std::lock_guard lock(plugins_mutex_);
  plugin_series_ = out.take();
}

void MetricsEndpoint::run_finished(const std::string& backend, tasks::TaskState state) {
  agent_runs_.add({backend.empty() ? std::string_view("none") : std::string_view(backend),
                   tasks::to_string(state)});
}

std::string MetricsEndpoint::render() const {
  metrics::TextWriter out;
  out.family("coda_build_info", "gauge", "Always 1; the labels carry the version and plugin ABI.");
  const std::string abi = std::to_string(CODA_ABI_MAJOR) + "." + std::to_string(CODA_ABI_MINOR);
  out.sample("coda_build_info", {{"version", kVersion}, {"abi", abi}}, static_cast<uint64_t>(1));
  out.family("coda_start_time_seconds", "gauge", "When this host process started (Unix time).");
  out.sample("coda_start_time_seconds", {}, start_time_s_);

  server_.write_metrics(out);
  if (engine_ != nullptr) engine_->write_metrics(out);

  if (store_ != nullptr) {
    try {
      // Both counts walk the (state, created_ms) index over live tasks only: bounded by the limits.
      auto queued = static_cast<uint64_t>(store_->count_in_state(tasks::TaskState::kQueued));
      auto running = static_cast<uint64_t>(store_->count_in_state(tasks::TaskState::kRunning));
      out.family("coda_tasks", "gauge",
                 "Live tasks in the store (all hosts that share it), by state: queued or running. "
                 "Finished tasks are counted by coda_agent_runs_total.");
      out.sample("coda_tasks", {{"state", "queued"}}, queued);
      out.sample("coda_tasks", {{"state", "running"}}, running);
      out.family("coda_task_queue_depth", "gauge", "Queued tasks waiting for an agent.");
      out.sample("coda_task_queue_depth", {}, queued);
    } catch (const std::exception& e) {
      log::get("metrics").warning(std::string("task counts unavailable: ") + e.what());
    }
    out.family("coda_task_queue_limit", "gauge",
               "tasks.max_queued: coda_run is refused while this many tasks are queued.");
    out.sample("coda_task_queue_limit", {}, static_cast<uint64_t>(queue_limit_));
    out.family("coda_task_running_limit", "gauge",
               "tasks.max_concurrent: at most this many tasks run at once.");
    out.sample("coda_task_running_limit", {}, static_cast<uint64_t>(running_limit_));
  }
  agent_runs_.write(out);
  std::string text = out.take();
  std::lock_guard lock(plugins_mutex_);
  text += plugin_series_;
  return text;
}

void MetricsEndpoint::handle(http::Exchange& exchange) {
  const auto& request = exchange.request();
  if (request.path != "/metrics") {
    exchange.send_error(404, "no route for " + request.path);
    return;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    exchange.add_header("Allow", "GET, HEAD");
    exchange.send_error(405, "use GET for /metrics");
    return;
  }
  if (access_ == "admin") {
    bool admin = false;
    try {
      admin = auth::Identity::from_json_text(request.identity_json).admin;
    } catch (const std::exception&) {
    }
    if (!admin) {
      exchange.send_error(403, "/metrics is for admins (server.metrics: admin)");
      return;
    }
  }
  std::string body = render();
  exchange.set_status(200);
  exchange.add_header("Content-Type", metrics::kTextContentType);
  exchange.add_header("Cache-Control", "no-store");
  if (request.method == "GET") exchange.write(body);
}

}  // namespace coda::app
