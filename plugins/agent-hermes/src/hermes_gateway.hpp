#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hermes_config.hpp"

// Hermes through its gateway's Runs API (`hermes gateway run` with API_SERVER_ENABLED):
// POST /v1/runs -> run_id; GET /v1/runs/{id}/events (SSE) streamed into task events;
// POST /v1/runs/{id}/stop on cancel; GET /v1/runs/{id} for the final status, output and usage.
namespace coda::agents::hermes {

class GatewayRun;

// Thread-safe. Each run has one thread reading its event stream; the destructor joins them.
class GatewayClient {
 public:
  GatewayClient(const coda_host_t* host, const HermesConfig& config);
  ~GatewayClient();
  // nullopt when the gateway answers HTTP at `url`.
  std::optional<std::string> probe() const;
  // Creates the run (synchronously: a refused create throws AgentError, nothing started) and
  // streams it on a thread.
  void start(const TaskInfo& task, const coda_task_events_t& events);
  void cancel(uint64_t handle);

 private:
  void reap_finished();
  const coda_host_t* host_;
  const HermesConfig& config_;
  std::string api_key_;
  std::mutex mutex_;
  std::map<uint64_t, std::shared_ptr<GatewayRun>> runs_;
  std::vector<std::shared_ptr<GatewayRun>> finished_;
};

}  // namespace coda::agents::hermes
