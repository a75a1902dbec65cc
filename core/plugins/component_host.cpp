#include "core/plugins/component_host.hpp"

#include "coda/plugin.hpp"
#include "core/log/logging.hpp"
#include "core/plugins/guard.hpp"
#include "core/plugins/tools_component.hpp"

namespace coda::plugins {

ComponentHost::ComponentHost(PluginRegistry& registry, CoreServices& services)
    : registry_(registry), services_(services) {}

ComponentHost::~ComponentHost() { destroy_all(); }

void ComponentHost::fail(const std::string& component, const std::string& line) {
  log::get("plugins").error(line);
  if (registry_.component_required(component)) throw RequiredPluginError(line);
}

bool ComponentHost::create_one(const config::ComponentInstance& instance, int32_t kind,
                               const char* section, const std::string& config_json) {
  std::string label = std::string(section) + " '" + instance.name + "' (" + instance.component + ")";
  auto ref = registry_.find_component(instance.component);
  if (!ref) {
    log::get("plugins").warning(label + ": no loaded plugin provides component " +
                                instance.component + "; skipped");
    return false;
  }
  if (ref->info->kind != kind) {
    fail(instance.component, label + ": expected a " + kind_name(kind) + " component, found a " +
                                 kind_name(ref->info->kind) + " one; skipped");
    return false;
  }
  const void* vtbl = ref->info->component->vtbl;
  const coda_host_t* host = &ref->context->table;
  coda_str_t config = sdk::str(config_json);
  void* self = nullptr;
  std::string error;
  bool ok = guarded_value(self, error, [&]() -> void* {
    switch (kind) {
      case CODA_KIND_TRANSPORT:
        return static_cast<const coda_transport_vtbl_t*>(vtbl)->create(host, config);
      case CODA_KIND_AGENT:
        return static_cast<const coda_agent_vtbl_t*>(vtbl)->create(host, config);
      default:
        return static_cast<const coda_tools_vtbl_t*>(vtbl)->create(host, config);
    }
  });
  if (ok && self == nullptr) error = take_thread_error();
  if (!ok || self == nullptr) {
    fail(instance.component, label + ": create failed" + (error.empty() ? "" : ": " + error) +
                                 (instance.where.line > 0 ? " (configured at " +
                                                                instance.where.to_string() + ")"
                                                          : ""));
    return false;
  }
  Created created;
  created.ref = ComponentInstanceRef{instance.name, instance.component, kind, vtbl, self,
                                     ref->context};
  if (kind == CODA_KIND_TOOLS) {
    if (services_.engine == nullptr) {
      created_.push_back(std::move(created));
      destroy(created_.back());
      created_.pop_back();
      fail(instance.component, label + ": no MCP engine to register tools in; skipped");
      return false;
    }
    try {
      created.tools = std::make_unique<ToolsComponent>(
          *services_.engine, static_cast<const coda_tools_vtbl_t*>(vtbl), self, instance.component);
    } catch (const std::exception& e) {
      created_.push_back(std::move(created));
      destroy(created_.back());
      created_.pop_back();
      fail(instance.component, label + ": " + e.what());
      return false;
    }
  }
  created_.push_back(std::move(created));
  log::get("plugins").debug("created " + label);
  return true;
}

void ComponentHost::create(const config::Config& config) {
  for (const auto& instance : config.transports) {
    if (instance.enabled &&
        create_one(instance, CODA_KIND_TRANSPORT, "transport", instance.config_json)) {
      transports_.push_back(created_.size() - 1);
    }
  }
  for (const auto& instance : config.tools) {
    if (instance.enabled) create_one(instance, CODA_KIND_TOOLS, "tools", instance.config_json);
  }
  for (const auto& instance : config.agents.backends) {
    if (instance.enabled && create_one(instance, CODA_KIND_AGENT, "agent", instance.config_json)) {
      agents_.push_back(created_.back().ref);
    }
  }
}

void ComponentHost::start_transports() {
  for (; started_ < transports_.size(); ++started_) {
    const ComponentInstanceRef& ref = created_[transports_[started_]].ref;
    auto vtbl = static_cast<const coda_transport_vtbl_t*>(ref.vtbl);
    CallOutcome outcome = guarded_status([&] { return vtbl->start(ref.self); });
    if (!outcome.ok()) {
      std::string line = "transport '" + ref.name + "' (" + ref.component +
                         "): start failed with " + outcome.describe();
      // Stop what started so far of it (it may have mounted routes) before reporting.
      guarded_status([&] { return vtbl->stop(ref.self); });
      log::get("plugins").error(line);
      if (registry_.component_required(ref.component)) throw RequiredPluginError(line);
      transports_.erase(transports_.begin() + static_cast<std::ptrdiff_t>(started_));
      --started_;
      continue;
    }
    log::get("plugins").information("started transport '" + ref.name + "' (" + ref.component + ")");
  }
}

void ComponentHost::stop_transports() {
  while (started_ > 0) {
    --started_;
    const ComponentInstanceRef& ref = created_[transports_[started_]].ref;
    auto vtbl = static_cast<const coda_transport_vtbl_t*>(ref.vtbl);
    CallOutcome outcome = guarded_status([&] { return vtbl->stop(ref.self); });
    if (!outcome.ok()) {
      log::get("plugins").error("transport '" + ref.name + "' (" + ref.component +
                                "): stop failed with " + outcome.describe());
    }
  }
}

void ComponentHost::destroy(Created& created) {
  const ComponentInstanceRef& ref = created.ref;
  if (created.tools) {
    if (!created.tools->detach()) {
      log::get("plugins").error("tools '" + ref.name + "' (" + ref.component +
                                "): calls still running after the grace; not destroyed");
      (void)created.tools.release();  // leaked on purpose: a live call may still use it
      leaked_ = true;
      return;
    }
    created.tools.reset();
  }
  std::string error = guarded_void([&] {
    switch (ref.kind) {
      case CODA_KIND_TRANSPORT:
        static_cast<const coda_transport_vtbl_t*>(ref.vtbl)->destroy(ref.self);
        break;
      case CODA_KIND_AGENT:
        static_cast<const coda_agent_vtbl_t*>(ref.vtbl)->destroy(ref.self);
        break;
      default:
        static_cast<const coda_tools_vtbl_t*>(ref.vtbl)->destroy(ref.self);
        break;
    }
  });
  if (!error.empty()) {
    log::get("plugins").error(std::string(kind_name(ref.kind)) + " '" + ref.name +
                              "': destroy " + error);
  }
}

void ComponentHost::destroy_all() {
  if (started_ > 0) stop_transports();
  agents_.clear();
  while (!created_.empty()) {
    destroy(created_.back());
    created_.pop_back();
  }
  transports_.clear();
}

}  // namespace coda::plugins
