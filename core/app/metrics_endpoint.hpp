#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "core/http/router.hpp"
#include "core/metrics/families.hpp"
#include "core/tasks/task.hpp"

namespace coda::http {
class HttpServer;
}
namespace coda::mcp {
class Engine;
}
namespace coda::tasks {
class TaskStore;
}
namespace coda::plugins {
struct PluginState;
}

namespace coda::app {

// GET /metrics: the host's Prometheus metrics in text format 0.0.4 (docs/operations.md lists every
// series). It gathers them at scrape time from their owners — the listener's request counters, the
// MCP engine's request and tool-call counters, the task store's counts of live tasks (indexed: queued and running tasks only, so a store with a
// million finished tasks costs the same), the agent runs this host ended, the plugin load status
// and the build — and keeps only the counters nobody else owns (agent runs).
//
// Access (server.metrics): "admin" answers 403 to callers without admin rights; "authenticated" and
// "public" answer every caller the listener let through ("public" makes the listener skip
// authentication for /metrics). Thread-safe.
class MetricsEndpoint : public http::RouteHandler {
 public:
  // `server`, `engine` and `store` must outlive the endpoint; `engine` may be null (no MCP series),
  // `store` too (no task series).
  MetricsEndpoint(std::string access, const http::HttpServer& server, const mcp::Engine* engine,
                  tasks::TaskStore* store, int queue_limit, int running_limit);

  // Records the plugin load status shown from now on (call on the control thread after loading).
  void set_plugins(const std::vector<plugins::PluginState>& plugins);
  // tasks::TaskEngine::RunFinished: one run ended on `backend` ("" for none) in `state`.
  void run_finished(const std::string& backend, tasks::TaskState state);

  // The whole exposition body.
  std::string render() const;

  void handle(http::Exchange& exchange) override;

 private:
  const std::string access_;
  const http::HttpServer& server_;
  const mcp::Engine* engine_;
  tasks::TaskStore* store_;
  const int queue_limit_;
  const int running_limit_;
  const double start_time_s_;
  metrics::CounterFamily agent_runs_;
  mutable std::mutex plugins_mutex_;
  std::string plugin_series_;  // under plugins_mutex_: rendered once by set_plugins
};

}  // namespace coda::app
