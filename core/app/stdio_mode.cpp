#include "core/app/stdio_mode.hpp"

namespace coda::app {
namespace {

constexpr const char* kStdioPlugin = "transport-stdio";
constexpr const char* kStdioComponent = "dev.coda.transport.stdio";

}  // namespace

void apply_stdio_mode(config::Config& config, bool listen_given) {
  bool plugin_listed = false;
  for (auto& entry : config.plugins.load) {
    if (entry.name == kStdioPlugin) {
      entry.enabled = true;
      entry.required = true;
      plugin_listed = true;
    }
  }
  if (!plugin_listed) {
    config::PluginEntry entry;
    entry.name = kStdioPlugin;
    entry.required = true;
    config.plugins.load.push_back(entry);
  }

  bool transport_listed = false;
  for (auto& instance : config.transports) {
    if (instance.component == kStdioComponent) {
      instance.enabled = true;
      transport_listed = true;
    }
  }
  if (!transport_listed) {
    config::ComponentInstance instance;
    instance.name = "stdio";
    instance.component = kStdioComponent;
    config.transports.push_back(instance);
  }

  if (!listen_given) {
    const std::string& listen = config.server.listen;
    auto colon = listen.rfind(':');
    std::string host = colon == std::string::npos ? std::string("127.0.0.1") : listen.substr(0, colon);
    config.server.listen = host + ":0";
  }
}

}  // namespace coda::app
