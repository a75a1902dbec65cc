#include "core/plugins/plugin_registry.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/http/router.hpp"
#include "core/log/logging.hpp"
#include "core/plugins/guard.hpp"
#include "core/util/self_path.hpp"

namespace coda::plugins {
namespace fs = std::filesystem;

namespace {

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

std::string canonical_or_same(const std::string& path) {
  std::error_code ec;
  auto c = fs::weakly_canonical(path, ec);
  return ec ? path : c.string();
}

}  // namespace

PluginRegistry::PluginRegistry(config::PluginsConfig config, CoreServices* services)
    : config_(std::move(config)), services_(services) {
  search_paths_ = config_.search_paths.empty() ? util::default_plugin_dirs() : config_.search_paths;
}

PluginRegistry::~PluginRegistry() { unload_all(); }

std::string PluginRegistry::resolve(const config::PluginEntry& entry, std::string& refusal) const {
  if (!entry.path.empty()) {
    if (fs::is_regular_file(entry.path)) return canonical_or_same(entry.path);
    refusal = "expected a plugin file at " + entry.path + ", found " +
              (fs::exists(entry.path) ? "something that is not a regular file" : "no such file");
    return "";
  }
  std::string file = entry.name;
  if (file.size() < 3 || file.compare(file.size() - 3, 3, ".so") != 0) file += ".so";
  for (const auto& dir : search_paths_) {
    fs::path candidate = fs::path(dir) / file;
    if (fs::is_regular_file(candidate)) return canonical_or_same(candidate.string());
  }
  refusal = "expected " + file + " in the plugin search path, found none (searched " +
            join(search_paths_, ", ") + ")";
  return "";
}

void PluginRegistry::refuse(PluginState& state, const std::string& reason) {
  state.loaded = false;
  state.refusal = reason;
  std::string line = "plugin '" + state.name + "'" +
                     (state.file.empty() ? "" : " (" + state.file + ")") + " refused: " + reason;
  if (state.configured) {
    log::get("plugins").error(line);
  } else {
    log::get("plugins").information(line);
  }
}

bool PluginRegistry::load(PluginState& state, bool initialize) {
  std::unique_ptr<PluginLibrary> library;
  try {
    library = PluginLibrary::open(state.file);
  } catch (const PluginRefused& e) {
    refuse(state, e.what());
    return false;
  }
  state.id = library->id();
  state.version = library->version();
  state.description = library->description();
  state.abi = library->abi_version();
  state.components = library->components();
  for (const auto& other : loaded_) {
    if (other.library->id() == library->id()) {
      refuse(state, "expected a plugin id not loaded yet, found " + library->id() +
                        ", already loaded from " + other.library->file());
      return false;
    }
  }
  for (const auto& component : library->components()) {
    auto it = components_.find(component.id);
    if (it != components_.end()) {
      refuse(state, "expected unique component ids, found " + component.id +
                        ", already provided by " + loaded_[it->second].library->file());
      return false;
    }
  }
  Loaded entry;
  entry.state = static_cast<std::size_t>(&state - states_.data());
  if (initialize) {
    entry.context = std::make_unique<HostContext>();
    entry.context->plugin_id = library->id();
    entry.context->plugin_file = library->file();
    entry.context->services = services_;
    fill_host_table(*entry.context);
    const coda_plugin_t& plugin = library->plugin();
    const coda_host_t* table = &entry.context->table;
    CallOutcome outcome = guarded_status([&] { return plugin.init(table); });
    if (!outcome.ok()) {
      refuse(state, "init failed with " + outcome.describe());
      if (services_ != nullptr && services_->router != nullptr) {
        services_->router->unmount_all(entry.context.get());
      }
      return false;
    }
    entry.initialized = true;
  }
  for (const auto& component : library->components()) components_[component.id] = loaded_.size();
  entry.library = std::move(library);
  loaded_.push_back(std::move(entry));
  state.loaded = true;
  log::get("plugins").information("loaded plugin " + state.id + " " + state.version + " (ABI " +
                                  state.abi + ") from " + state.file);
  return true;
}

void PluginRegistry::load_configured(bool enforce_required) {
  // states_ must not reallocate while load() holds a reference into it.
  states_.reserve(states_.size() + config_.load.size());
  for (const auto& entry : config_.load) {
    if (!entry.enabled) continue;
    PluginState& state = states_.emplace_back();
    state.name = entry.name.empty() ? fs::path(entry.path).stem().string() : entry.name;
    state.required = entry.required;
    std::string refusal;
    state.file = resolve(entry, refusal);
    bool ok = false;
    if (state.file.empty()) {
      refuse(state, refusal);
    } else {
      ok = load(state, services_ != nullptr);
    }
    if (!ok && state.required && enforce_required) {
      throw RequiredPluginError("plugin '" + state.name + "'" +
                                (state.file.empty() ? "" : " (" + state.file + ")") +
                                " refused: " + state.refusal);
    }
  }
}

void PluginRegistry::describe_unconfigured() {
  std::set<std::string> known;
  for (const auto& state : states_) {
    if (!state.file.empty()) known.insert(state.file);
  }
  std::vector<std::string> files;
  for (const auto& dir : search_paths_) {
    std::error_code ec;
    for (const auto& item : fs::directory_iterator(dir, ec)) {
      if (item.path().extension() != ".so") continue;
      std::string file = canonical_or_same(item.path().string());
      if (known.insert(file).second) files.push_back(file);
    }
  }
  std::sort(files.begin(), files.end());
  states_.reserve(states_.size() + files.size());
  for (const auto& file : files) {
    PluginState& state = states_.emplace_back();
    state.name = fs::path(file).stem().string();
    state.file = file;
    state.configured = false;
    load(state, false);
  }
}

std::optional<ComponentRef> PluginRegistry::find_component(const std::string& id) const {
  auto it = components_.find(id);
  if (it == components_.end()) return std::nullopt;
  const Loaded& entry = loaded_[it->second];
  for (const auto& info : states_[entry.state].components) {
    if (info.id == id) return ComponentRef{&info, entry.context.get(), &states_[entry.state]};
  }
  return std::nullopt;
}

bool PluginRegistry::component_required(const std::string& id) const {
  auto ref = find_component(id);
  return ref && ref->plugin->required;
}

void PluginRegistry::unload_all() {
  while (!loaded_.empty()) {
    Loaded& entry = loaded_.back();
    if (entry.initialized) {
      if (services_ != nullptr && services_->router != nullptr) {
        std::size_t left = services_->router->unmount_all(entry.context.get());
        if (left > 0) {
          log::get("plugins").warning("plugin " + entry.library->id() + " left " +
                                      std::to_string(left) + " route(s) mounted; unmounted them");
        }
      }
      const coda_plugin_t& plugin = entry.library->plugin();
      std::string error = guarded_void([&] { plugin.deinit(); });
      if (!error.empty()) {
        log::get("plugins").error("plugin " + entry.library->id() + ": deinit " + error);
      }
    }
    log::get("plugins").debug("unloading " + entry.library->file());
    loaded_.pop_back();
  }
  components_.clear();
}

}  // namespace coda::plugins
