#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

// The task engine's view of an agent backend: a configured instance of an agent component
// (plugins/agent-*), adapted from the C ABI by core/plugins/agent_component.cpp.
namespace coda::tasks {

// One run of a task on a backend. Mirrors coda_task_t.
struct AgentRun {
  uint64_t handle = 0;
  std::string task_id;
  std::string session_id;
  std::string prompt;       // enveloped
  std::string prompt_file;  // the same text in a file in task_dir
  std::string workspace;
  std::string task_dir;
  std::string options_json = "{}";  // see coda_task_t.options_json
};

// Receives what a backend reports about a run. Thread-safe; finished() is the last call for a handle.
class AgentRunEvents {
 public:
  virtual ~AgentRunEvents() = default;
  virtual void event(uint64_t handle, int kind, std::string_view data) = 0;  // CODA_TASK_*
  virtual void finished(uint64_t handle, std::string_view result_json) = 0;
};

// A backend could not start a run (binary missing, spawn failed): the router falls back to the next.
class AgentStartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thread-safe.
class AgentBackend {
 public:
  virtual ~AgentBackend() = default;
  virtual const std::string& name() const = 0;       // the instance name from config ("hermes")
  virtual const std::string& component() const = 0;  // the component id
  // nullopt when the backend can run now, else why not (e.g. "hermes: not found on PATH").
  virtual std::optional<std::string> probe() = 0;
  // Starts a run; returns at once. Throws AgentStartError when nothing started (no finished() then).
  virtual void start(const AgentRun& run, std::shared_ptr<AgentRunEvents> events) = 0;
  // Idempotent; finished() follows.
  virtual void cancel(uint64_t handle) = 0;
};

}  // namespace coda::tasks
