#pragma once

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/plugins/host_context.hpp"
#include "core/plugins/plugin_library.hpp"

namespace coda::plugins {

// A plugin marked `required: true` was refused. what() is the same one-line refusal that is logged.
class RequiredPluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What the registry knows about one plugin, loaded or refused (what `coda plugins list` prints).
struct PluginState {
  std::string name;  // the configured name, or the file name for one found in a search path
  std::string file;  // the resolved file; "" when it was not found
  bool configured = true;
  bool required = false;
  bool loaded = false;   // negotiated, registered and (in a serving registry) initialised
  std::string refusal;   // why not loaded: one line naming the file, what was expected and found
  std::string id, version, description, abi;  // from the plugin's description, when it had one
  std::vector<ComponentInfo> components;
};

// A registered component: its description and the table of the plugin that provides it.
struct ComponentRef {
  const ComponentInfo* info = nullptr;
  HostContext* context = nullptr;  // the providing plugin's host table (create() gets it)
  const PluginState* plugin = nullptr;
};

// The plugin host: finds plugin files on the search paths, loads and negotiates them, initialises them
// with their host table, registers their components by unique id, and tears them down in reverse
// order. A bad plugin is refused with one line (logged as an error) and the host continues without it;
// a required one stops start-up instead. Not thread-safe: control thread only.
class PluginRegistry {
 public:
  // `services` are handed to plugins in their host table; pass null to only describe plugins (listing):
  // init() is then never called.
  PluginRegistry(config::PluginsConfig config, CoreServices* services);
  // unload_all().
  ~PluginRegistry();
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

  // config.search_paths, or the defaults next to the executable (util::default_plugin_dirs).
  const std::vector<std::string>& search_paths() const { return search_paths_; }

  // Loads every enabled plugin of config.load, in order. With `enforce_required`, throws
  // RequiredPluginError for the first required plugin that is refused (the plugins loaded before it
  // stay loaded; unload_all cleans up); without, records it like any refusal and goes on.
  void load_configured(bool enforce_required = true);
  // Also describes the plugin files in the search paths that the configuration does not name (for
  // listing; never initialised). Call after load_configured().
  void describe_unconfigured();

  const std::vector<PluginState>& plugins() const { return states_; }
  // The component with this id, when a loaded plugin provides it.
  std::optional<ComponentRef> find_component(const std::string& id) const;
  // Whether the plugin that provides component `id` is marked required.
  bool component_required(const std::string& id) const;

  // deinit() of every initialised plugin and dlclose of every library, in reverse load order. Every
  // component instance must be destroyed before. Routes a plugin left mounted are unmounted first.
  // Idempotent.
  void unload_all();

 private:
  struct Loaded {
    std::size_t state = 0;  // index in states_
    std::unique_ptr<PluginLibrary> library;
    std::unique_ptr<HostContext> context;
    bool initialized = false;
  };
  std::string resolve(const config::PluginEntry& entry, std::string& refusal) const;
  // Loads one file; on refusal records it and returns false.
  bool load(PluginState& state, bool initialize);
  void refuse(PluginState& state, const std::string& reason);

  config::PluginsConfig config_;
  CoreServices* services_;
  std::vector<std::string> search_paths_;
  std::vector<PluginState> states_;
  std::vector<Loaded> loaded_;
  std::map<std::string, std::size_t> components_;  // id -> index in loaded_
};

}  // namespace coda::plugins
