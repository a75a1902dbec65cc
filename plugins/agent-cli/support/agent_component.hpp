#pragma once

#include <coda/plugin.hpp>

#include <map>
#include <memory>
#include <set>
#include <vector>
#include <optional>
#include <stdexcept>
#include <string>

#include "json.hpp"
#include "process_run.hpp"
#include "task_info.hpp"

// The C++ side of an agent component: a Backend class per component, wrapped into a
// coda_agent_vtbl_t by agent_vtbl<B>() so that no exception crosses the ABI.
namespace coda::agents {

// A configuration or start-up problem with a message for the admin (becomes set_error's text).
class AgentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thread-safe: probe/start/cancel come from any thread.
class Backend {
 public:
  explicit Backend(const coda_host_t* host) : host_(host) {}
  virtual ~Backend() = default;
  // nullopt when the backend can run now, else why not.
  virtual std::optional<std::string> probe() = 0;
  // Starts a run; throws AgentError when nothing started (finished() will not be called).
  virtual void start(const TaskInfo& task, const coda_task_events_t& events) = 0;
  // Idempotent; finished() follows.
  virtual void cancel(uint64_t handle) = 0;
  const coda_host_t* host() const { return host_; }

 protected:
  // The absolute path of `name` on the PATH agents get, or nullopt.
  std::optional<std::string> which(const std::string& name) const;

 private:
  const coda_host_t* host_;
};

// Reads a component's config: every key must be consumed, so typos are reported by name.
class ConfigReader {
 public:
  ConfigReader(std::string component, std::string_view config_json);
  std::string string(const std::string& key, const std::string& fallback = "");
  std::vector<std::string> strings(const std::string& key);
  std::map<std::string, std::string> string_map(const std::string& key);
  bool boolean(const std::string& key, bool fallback);
  int integer(const std::string& key, int fallback);
  JsonObject object(const std::string& key);
  // Throws AgentError naming every key that was not read.
  void finish();

 private:
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;
  std::string component_;
  JsonObject config_;
  std::set<std::string> read_;
};

// A backend that runs a CLI through the host's process service and keeps its runs by handle.
class ProcessBackend : public Backend {
 public:
  using Backend::Backend;
  std::optional<std::string> probe() override;
  void start(const TaskInfo& task, const coda_task_events_t& events) override;
  void cancel(uint64_t handle) override;

 protected:
  // The executable (name or path) probe() looks for, and how to install it.
  virtual std::string binary() const = 0;
  virtual std::string install_hint() const = 0;
  // The command and the parser for one task. May throw AgentError (e.g. a missing prompt file).
  virtual Command command(const TaskInfo& task) const = 0;
  virtual std::unique_ptr<OutputParser> parser(const TaskInfo& task) const = 0;

 private:
  RunTable runs_;
};

namespace detail {
template <typename B>
struct AgentEntry {
  static void* create(const coda_host_t* host, coda_str_t config_json) {
    B* result = nullptr;
    sdk::barrier(host, CODA_E_INVALID, [&] {
      result = new B(host, sdk::view(config_json));
      return CODA_OK;
    });
    return result;
  }
  static coda_status_t probe(void* self) {
    auto* backend = static_cast<B*>(self);
    return sdk::barrier(backend->host(), CODA_E_INTERNAL, [&] {
      if (auto why = backend->probe()) {
        const coda_host_t* host = backend->host();
        if (host->set_error != nullptr) host->set_error(host, sdk::str(*why));
        return CODA_E_NOT_FOUND;
      }
      return CODA_OK;
    });
  }
  static coda_status_t start(void* self, const coda_task_t* task, const coda_task_events_t* events) {
    auto* backend = static_cast<B*>(self);
    return sdk::barrier(backend->host(), CODA_E_INTERNAL, [&] {
      if (task == nullptr || events == nullptr) {
        throw AgentError("start: task and events are required");
      }
      const TaskInfo info = copy_task(*task);
      if (!info.refused_session.empty() && events->event != nullptr) {
        // Said in the task's log, without echoing the refused text itself.
        static constexpr std::string_view kNote =
            "coda: the previous agent session id is not a valid id ([A-Za-z0-9._:-]{1,128}, no leading "
            "'-'); it was not passed to the agent, which starts a fresh session\n";
        events->event(events->ctx, info.handle, CODA_TASK_TEXT, sdk::str(kNote));
      }
      backend->start(info, *events);
      return CODA_OK;
    });
  }
  static coda_status_t cancel(void* self, uint64_t handle) {
    auto* backend = static_cast<B*>(self);
    return sdk::barrier(backend->host(), CODA_E_INTERNAL, [&] {
      backend->cancel(handle);
      return CODA_OK;
    });
  }
  static void destroy(void* self) { delete static_cast<B*>(self); }
};
}  // namespace detail

// The vtable of component B (constructible as B(const coda_host_t*, std::string_view config_json)).
template <typename B>
const coda_agent_vtbl_t* agent_vtbl() {
  static const coda_agent_vtbl_t vtbl = [] {
    auto v = sdk::make<coda_agent_vtbl_t>();
    v.create = &detail::AgentEntry<B>::create;
    v.probe = &detail::AgentEntry<B>::probe;
    v.start = &detail::AgentEntry<B>::start;
    v.cancel = &detail::AgentEntry<B>::cancel;
    v.destroy = &detail::AgentEntry<B>::destroy;
    return v;
  }();
  return &vtbl;
}

}  // namespace coda::agents
