#include "core/plugins/agent_component.hpp"

#include <map>
#include <mutex>
#include <stdexcept>

#include <coda/plugin.hpp>

#include "core/plugins/guard.hpp"

namespace coda::plugins {
namespace {

using sdk::str;
using sdk::view;

class AgentComponent : public tasks::AgentBackend,
                       public std::enable_shared_from_this<AgentComponent> {
 public:
  AgentComponent(const ComponentInstanceRef& ref, const coda_agent_vtbl_t* vtbl)
      : name_(ref.name), component_(ref.component), vtbl_(vtbl), self_(ref.self) {}

  const std::string& name() const override { return name_; }
  const std::string& component() const override { return component_; }

  std::optional<std::string> probe() override {
    if (!CODA_HAS(vtbl_, coda_agent_vtbl_t, probe) || vtbl_->probe == nullptr) return std::nullopt;
    auto outcome = guarded_status([&] { return vtbl_->probe(self_); });
    if (outcome.ok()) return std::nullopt;
    return name_ + ": " + (outcome.detail.empty() ? "not available (" +
                                                        std::string(status_name(outcome.status)) + ")"
                                                  : outcome.detail);
  }

  void start(const tasks::AgentRun& run, std::shared_ptr<tasks::AgentRunEvents> events) override {
    auto sink = std::make_shared<Sink>();
    sink->owner = weak_from_this();
    sink->events = std::move(events);
    sink->table = sdk::make<coda_task_events_t>();
    sink->table.ctx = sink.get();
    sink->table.event = &Sink::on_event;
    sink->table.finished = &Sink::on_finished;
    {
      std::lock_guard lock(mutex_);
      sinks_[run.handle] = sink;
    }
    auto task = sdk::make<coda_task_t>();
    task.handle = run.handle;
    task.task_id = str(run.task_id);
    task.session_id = str(run.session_id);
    task.prompt = str(run.prompt);
    task.prompt_file = str(run.prompt_file);
    task.workspace = str(run.workspace);
    task.task_dir = str(run.task_dir);
    task.options_json = str(run.options_json);
    auto outcome = guarded_status([&] { return vtbl_->start(self_, &task, &sink->table); });
    if (!outcome.ok()) {
      {
        std::lock_guard lock(mutex_);
        // Only when no finished() came: a plugin must not call it after a failed start.
        auto it = sinks_.find(run.handle);
        if (it != sinks_.end() && it->second == sink) sinks_.erase(it);
      }
      throw tasks::AgentStartError(name_ + ": " + outcome.describe());
    }
  }

  void cancel(uint64_t handle) override {
    {
      std::lock_guard lock(mutex_);
      if (!sinks_.count(handle)) return;  // finished already
    }
    auto outcome = guarded_status([&] { return vtbl_->cancel(self_, handle); });
    if (!outcome.ok()) {
      // The engine still kills the run's process group; the failure is only worth a log line.
      throw std::runtime_error(name_ + ": cancel: " + outcome.describe());
    }
  }

 private:
  // The coda_task_events_t of one run: valid until its finished() returns.
  struct Sink {
    coda_task_events_t table{};
    std::weak_ptr<AgentComponent> owner;
    std::shared_ptr<tasks::AgentRunEvents> events;

    static void on_event(void* ctx, uint64_t handle, int32_t kind, coda_str_t data) {
      auto* sink = static_cast<Sink*>(ctx);
      (void)guarded_void([&] { sink->events->event(handle, kind, view(data)); });
    }
    static void on_finished(void* ctx, uint64_t handle, coda_str_t result_json) {
      auto* sink = static_cast<Sink*>(ctx);
      std::shared_ptr<Sink> keep;  // the table stays valid until this call returns
      if (auto owner = sink->owner.lock()) {
        std::lock_guard lock(owner->mutex_);
        auto it = owner->sinks_.find(handle);
        if (it != owner->sinks_.end() && it->second.get() == sink) {
          keep = it->second;
          owner->sinks_.erase(it);
        }
      }
      (void)guarded_void([&] { sink->events->finished(handle, view(result_json)); });
    }
  };

  std::string name_;
  std::string component_;
  const coda_agent_vtbl_t* vtbl_;
  void* self_;
  std::mutex mutex_;
  std::map<uint64_t, std::shared_ptr<Sink>> sinks_;  // live runs by handle
};

}  // namespace

std::shared_ptr<tasks::AgentBackend> make_agent_backend(const ComponentInstanceRef& agent) {
  const auto* vtbl = static_cast<const coda_agent_vtbl_t*>(agent.vtbl);
  if (agent.kind != CODA_KIND_AGENT || vtbl == nullptr) {
    throw std::invalid_argument(agent.name + ": not an agent component instance");
  }
  if (!CODA_HAS(vtbl, coda_agent_vtbl_t, cancel) || vtbl->start == nullptr ||
      vtbl->cancel == nullptr) {
    throw std::invalid_argument(agent.name + " (" + agent.component +
                                "): the agent vtable lacks start or cancel");
  }
  return std::make_shared<AgentComponent>(agent, vtbl);
}

}  // namespace coda::plugins
