#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/plugins/host_context.hpp"
#include "core/plugins/plugin_registry.hpp"

namespace coda::plugins {

class ToolsComponent;

// A created instance of a plugin component, as configured under transports:, tools: or
// agents.backends:.
struct ComponentInstanceRef {
  std::string name;       // the instance name from the configuration ("mcp-http", "hermes")
  std::string component;  // the component id
  int32_t kind = 0;
  const void* vtbl = nullptr;      // OWNER: the plugin library
  void* self = nullptr;            // OWNER: the plugin; destroyed by ComponentHost
  HostContext* context = nullptr;  // the providing plugin's host table
};

// Creates, starts, stops and destroys the configured component instances of the loaded plugins.
// Transports start in configuration order and stop in reverse; tool providers are registered in the
// MCP engine (ToolsComponent); agent instances are created here and handed out through agents() (the
// task service wraps them, see agent_component.hpp) and destroyed here after the task service stopped.
// An instance that cannot be created or started is logged and skipped, unless its plugin is required
// (then RequiredPluginError). Not thread-safe: control thread only.
class ComponentHost {
 public:
  ComponentHost(PluginRegistry& registry, CoreServices& services);
  // destroy_all().
  ~ComponentHost();
  ComponentHost(const ComponentHost&) = delete;
  ComponentHost& operator=(const ComponentHost&) = delete;

  // create() of every enabled instance; tool providers are registered in the engine right away.
  void create(const config::Config& config);
  // start() of every created transport, in order.
  void start_transports();
  // stop() of every started transport, in reverse order. After it, no transport calls into the host.
  void stop_transports();
  // Removes the tool providers from the engine and destroys every instance in reverse creation
  // order. Call after stop_transports() and after the task service released the agents. Idempotent.
  void destroy_all();

  const std::vector<ComponentInstanceRef>& agents() const { return agents_; }
  std::size_t transport_count() const { return transports_.size(); }
  std::size_t started_transport_count() const { return started_; }
  // False when an instance could not be destroyed (calls still running): its library must then stay
  // loaded until the process exits.
  bool clean() const { return !leaked_; }

 private:
  struct Created {
    ComponentInstanceRef ref;
    std::unique_ptr<ToolsComponent> tools;  // for tool providers
  };
  // config_json: the instance's config as handed to create().
  bool create_one(const config::ComponentInstance& instance, int32_t kind, const char* section,
                  const std::string& config_json);
  void destroy(Created& created);
  void fail(const std::string& component, const std::string& line);

  PluginRegistry& registry_;
  CoreServices& services_;
  std::vector<Created> created_;  // every instance, in creation order
  std::vector<std::size_t> transports_;  // indexes into created_
  std::size_t started_ = 0;
  bool leaked_ = false;
  std::vector<ComponentInstanceRef> agents_;
};

}  // namespace coda::plugins
