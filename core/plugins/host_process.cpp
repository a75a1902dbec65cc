// The process services of the host table: agent plugins spawn and stop their CLI through the core's
// ProcessService, so every backend gets the same guardrails (no shell, own session, environment
// allowlist, resource limits, sandbox, SIGTERM -> grace -> SIGKILL, reaping).
#include <memory>
#include <string>
#include <vector>

#include "coda/plugin.hpp"
#include "core/plugins/host_context.hpp"
#include "core/process/process_service.hpp"

namespace coda::plugins {
namespace {

process::ProcessService* service_of(const coda_host_t* host) {
  if (host == nullptr) return nullptr;
  HostContext* context = context_of(host);
  return context == nullptr || context->services == nullptr ? nullptr : context->services->processes;
}

// Forwards a child's output and exit to the plugin's callbacks. The plugin's struct is copied: only
// its ctx must stay valid until on_exit returns, as the ABI states.
class PluginProcessEvents final : public process::ProcessEvents {
 public:
  explicit PluginProcessEvents(const coda_process_events_t& events) : events_(events) {}

  void on_output(uint64_t id, int stream, std::string_view bytes) override {
    if (events_.on_output != nullptr) events_.on_output(events_.ctx, id, stream, sdk::str(bytes));
  }
  void on_exit(uint64_t id, int exit_code, int term_signal) override {
    if (events_.on_exit != nullptr) events_.on_exit(events_.ctx, id, exit_code, term_signal);
  }

 private:
  coda_process_events_t events_;
};

std::vector<std::string> copy_all(const coda_str_t* items, size_t count) {
  std::vector<std::string> out;
  if (items == nullptr) return out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) out.push_back(sdk::copy(items[i]));
  return out;
}

coda_status_t process_spawn(const coda_host_t* host, const coda_spawn_t* spec,
                            const coda_process_events_t* events, uint64_t* out_proc) {
  try {
    process::ProcessService* service = service_of(host);
    if (service == nullptr) {
      set_thread_error("process_spawn: the host's process service is not running");
      return CODA_E_UNSUPPORTED;
    }
    if (spec == nullptr || events == nullptr || !CODA_HAS(spec, coda_spawn_t, task) ||
        !CODA_HAS(events, coda_process_events_t, on_exit)) {
      set_thread_error("process_spawn: spec and events are required (with struct_size set)");
      return CODA_E_INVALID;
    }
    if (spec->argc == 0 || spec->argv == nullptr) {
      set_thread_error("process_spawn: argv is empty");
      return CODA_E_INVALID;
    }
    process::SpawnSpec s;
    s.argv = copy_all(spec->argv, spec->argc);
    s.env_extra = copy_all(spec->env, spec->envc);
    s.cwd = sdk::copy(spec->cwd);
    s.stdin_path = sdk::copy(spec->stdin_path);
    s.task = spec->task;
    if (s.cwd.empty()) {
      // The host keeps no handle -> workspace map here; every agent knows its task's workspace.
      set_thread_error("process_spawn '" + s.argv[0] + "': cwd is required (pass the task's workspace)");
      return CODA_E_INVALID;
    }
    s.sandbox_writable.push_back(s.cwd);
    if (CODA_HAS(spec, coda_spawn_t, writable_count)) {
      for (auto& path : copy_all(spec->writable, spec->writable_count)) {
        if (!path.empty()) s.sandbox_writable.push_back(std::move(path));
      }
    }
    const uint64_t id = service->spawn(s, std::make_shared<PluginProcessEvents>(*events));
    if (out_proc != nullptr) *out_proc = id;
    return CODA_OK;
  } catch (const process::SpawnError& e) {
    set_thread_error(e.what());
    return CODA_E_NOT_FOUND;
  } catch (const std::exception& e) {
    set_thread_error(std::string("process_spawn: ") + e.what());
    return CODA_E_IO;
  } catch (...) {
    set_thread_error("process_spawn: unknown error");
    return CODA_E_INTERNAL;
  }
}

coda_status_t process_terminate(const coda_host_t* host, uint64_t proc) {
  try {
    process::ProcessService* service = service_of(host);
    if (service == nullptr) {
      set_thread_error("process_terminate: the host's process service is not running");
      return CODA_E_UNSUPPORTED;
    }
    if (!service->terminate(proc)) {
      set_thread_error("process_terminate: no live process " + std::to_string(proc));
      return CODA_E_NOT_FOUND;
    }
    return CODA_OK;
  } catch (...) {
    set_thread_error("process_terminate: unknown error");
    return CODA_E_INTERNAL;
  }
}

coda_status_t which(const coda_host_t* host, coda_str_t name, coda_emit_fn emit, void* emit_ctx) {
  try {
    process::ProcessService* service = service_of(host);
    if (service == nullptr) {
      set_thread_error("which: the host's process service is not running");
      return CODA_E_UNSUPPORTED;
    }
    const std::string wanted = sdk::copy(name);
    auto path = service->which(wanted);
    if (!path) {
      set_thread_error("'" + wanted + "' was not found on the PATH agents get");
      return CODA_E_NOT_FOUND;
    }
    if (emit != nullptr) emit(emit_ctx, sdk::str(*path));
    return CODA_OK;
  } catch (...) {
    set_thread_error("which: unknown error");
    return CODA_E_INTERNAL;
  }
}

}  // namespace

void fill_process_services(coda_host_t& table) {
  table.process_spawn = process_spawn;
  table.process_terminate = process_terminate;
  table.which = which;
}

}  // namespace coda::plugins
