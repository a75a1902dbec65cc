#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/dll/shared_library.hpp>
#include <coda/plugin.h>

namespace coda::plugins {

// A library that cannot be used as a plugin. what() is the reason only (what was expected and what
// was found), without the file: the registry prefixes the plugin's name and file.
class PluginRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One component as the plugin describes it (static data of the library).
struct ComponentInfo {
  int32_t kind = 0;
  std::string id;
  std::string version;
  std::string description;
  const coda_component_t* component = nullptr;  // OWNER: the library
};

// "transport", "agent", "tools" or "unknown".
const char* kind_name(int32_t kind);

// A loaded and negotiated plugin library: the entry function was found, the description checked
// (ABI major equal, plugin minor <= host minor, pointer size, struct sizes, required functions, every
// component's id and vtable). Nothing of the plugin has run yet except its static constructors and the
// entry function; init() is the caller's. The library stays loaded as long as this object lives.
// Not thread-safe (control thread).
class PluginLibrary {
 public:
  // Loads `file` with RTLD_NOW | RTLD_LOCAL and negotiates. Throws PluginRefused with the reason.
  static std::unique_ptr<PluginLibrary> open(const std::string& file);
  ~PluginLibrary();
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

  const std::string& file() const { return file_; }
  const coda_plugin_t& plugin() const { return *plugin_; }
  const std::string& id() const { return id_; }
  const std::string& version() const { return version_; }
  const std::string& description() const { return description_; }
  // "1.0"
  std::string abi_version() const;
  // The components of a known kind (others are skipped with a debug line).
  const std::vector<ComponentInfo>& components() const { return components_; }

 private:
  PluginLibrary() = default;
  void negotiate();

  std::string file_;
  boost::dll::shared_library library_;
  const coda_plugin_t* plugin_ = nullptr;
  std::string id_, version_, description_;
  std::vector<ComponentInfo> components_;
};

}  // namespace coda::plugins
