// The `plugins:` section: where plugin files are found and which are loaded.
#include "core/config/sections.hpp"

namespace coda::config {
namespace {

bool valid_plugin_name(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
}

}  // namespace

void parse_plugins_section(Reader& section, PluginsConfig& plugins) {
  for (const std::string& path : section.get_string_list("search_paths")) {
    plugins.search_paths.push_back(section.document().resolve_path(path));
  }
  const YAML::Node load = section.value("load");
  if (!load.IsDefined() || load.IsNull()) return;
  if (!load.IsSequence()) {
    section.error("load", "expected a list of plugins ({name, path, required, enabled} or a name)");
    return;
  }
  for (std::size_t i = 0; i < load.size(); ++i) {
    const std::string item_path = section.path() + ".load[" + std::to_string(i) + "]";
    PluginEntry entry;
    entry.where = section.document().location(load[i].Mark());
    if (load[i].IsScalar()) {  // shorthand: just the name
      entry.name = section.document().expand(load[i], item_path).value_or("");
    } else {
      Reader item(section.document(), load[i], item_path);
      entry.name = item.get_string("name");
      entry.path = item.get_path("path");
      entry.required = item.get_bool("required", entry.required);
      entry.enabled = item.get_bool("enabled", entry.enabled);
      if (entry.name.empty() && !entry.path.empty()) {
        // The file name without directory and ".so" names a plugin given only by path.
        entry.name = entry.path.substr(entry.path.rfind('/') + 1);
        if (entry.name.size() > 3 && entry.name.ends_with(".so")) {
          entry.name.resize(entry.name.size() - 3);
        }
      }
    }
    if (!valid_plugin_name(entry.name)) {
      section.document().error(load[i].Mark(), item_path,
                               entry.name.empty()
                                   ? "a plugin needs a name (or a path)"
                                   : "a plugin name is a file name without '/', got '" +
                                         entry.name + "' (use path: for a file elsewhere)");
      continue;
    }
    for (const PluginEntry& other : plugins.load) {
      if (other.name == entry.name) {
        section.document().error(load[i].Mark(), item_path,
                                 "plugin '" + entry.name + "' is listed twice (first at " +
                                     other.where.to_string() + ")");
      }
    }
    plugins.load.push_back(std::move(entry));
  }
}

}  // namespace coda::config
