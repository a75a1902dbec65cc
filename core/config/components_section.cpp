// Component instances (`transports:`, `tools:`, `agents.backends:`): name → {component, enabled,
// ...rest}; the rest of each subtree is the instance's configuration, handed to the plugin as JSON.
#include "core/config/sections.hpp"

namespace coda::config {
namespace {

// Reverse-DNS: at least two dot-separated labels of [a-z0-9-_].
bool valid_component_id(const std::string& id) {
  if (id.find('.') == std::string::npos || id.front() == '.' || id.back() == '.') return false;
  if (id.find("..") != std::string::npos) return false;
  return id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") ==
         std::string::npos;
}

}  // namespace

std::vector<ComponentInstance> parse_component_instances(Reader& parent, std::string_view key) {
  std::vector<ComponentInstance> instances;
  for (auto& [name, where, reader] : parent.child_entries(key)) {
    ComponentInstance instance;
    instance.name = name;
    instance.where = where;
    instance.component = reader.get_string("component");
    instance.enabled = reader.get_bool("enabled", instance.enabled);
    if (key == "transports") {
      // The listener decides Host and Origin once for every route; a transport has no say.
      for (const char* moved : {"allowed_origins", "allowed_hosts"}) {
        if (reader.has(moved)) {
          reader.error(moved, std::string("moved to server.") + moved +
                                  " (the listener's one Host/Origin policy, for every route)");
        }
      }
    }
    if (instance.component.empty()) {
      reader.error("", "missing key 'component' (the reverse-DNS id of the plugin component, e.g. "
                       "dev.coda.transport.mcp-http)");
    } else if (!valid_component_id(instance.component)) {
      reader.error("component", "expected a reverse-DNS component id such as "
                                "dev.coda.agent.cli, got '" + instance.component + "'");
    }
    instance.config_json = reader.rest_as_json();
    instances.push_back(std::move(instance));
  }
  return instances;
}

}  // namespace coda::config
