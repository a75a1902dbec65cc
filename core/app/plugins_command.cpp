#include <iostream>
#include <memory>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "core/app/commands.hpp"
#include "core/config/config.hpp"
#include "core/log/logging.hpp"
#include "core/plugins/plugin_registry.hpp"

namespace coda::app {
namespace {

struct ListOptions {
  std::string config_path;
  bool json = false;
};

std::string status_of(const plugins::PluginState& state) {
  return state.loaded ? "loaded" : "refused";
}

void print_text(const plugins::PluginRegistry& registry) {
  std::cout << "search path: ";
  for (std::size_t i = 0; i < registry.search_paths().size(); ++i) {
    std::cout << (i == 0 ? "" : ", ") << registry.search_paths()[i];
  }
  std::cout << "\n";
  for (const auto& state : registry.plugins()) {
    std::string flags;
    if (!state.configured) flags = " (not configured)";
    if (state.required) flags = " (required)";
    std::cout << state.name << flags << ": " << status_of(state);
    if (!state.id.empty()) {
      std::cout << " " << state.id << " " << state.version << " ABI " << state.abi;
    }
    if (!state.file.empty()) std::cout << " " << state.file;
    std::cout << "\n";
    if (!state.loaded) std::cout << "  reason: " << state.refusal << "\n";
    for (const auto& c : state.components) {
      std::cout << "  " << plugins::kind_name(c.kind) << " " << c.id << " " << c.version;
      if (!c.description.empty()) std::cout << " - " << c.description;
      std::cout << "\n";
    }
  }
}

void print_json(const plugins::PluginRegistry& registry) {
  Poco::JSON::Object out(Poco::JSON_PRESERVE_KEY_ORDER);
  Poco::JSON::Array::Ptr paths = new Poco::JSON::Array;
  for (const auto& p : registry.search_paths()) paths->add(p);
  out.set("search_paths", paths);
  Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
  for (const auto& state : registry.plugins()) {
    Poco::JSON::Object::Ptr item = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    item->set("name", state.name);
    item->set("status", status_of(state));
    item->set("file", state.file);
    item->set("configured", state.configured);
    item->set("required", state.required);
    item->set("id", state.id);
    item->set("version", state.version);
    item->set("abi", state.abi);
    item->set("description", state.description);
    item->set("reason", state.refusal);
    Poco::JSON::Array::Ptr components = new Poco::JSON::Array;
    for (const auto& c : state.components) {
      Poco::JSON::Object::Ptr comp = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
      comp->set("id", c.id);
      comp->set("kind", plugins::kind_name(c.kind));
      comp->set("version", c.version);
      comp->set("description", c.description);
      components->add(comp);
    }
    item->set("components", components);
    list->add(item);
  }
  out.set("plugins", list);
  out.stringify(std::cout, 2);
  std::cout << "\n";
}

int run_list(const ListOptions& options) {
  config::Config config;
  try {
    config = config::load(options.config_path);
    log::Options log_options;
    log_options.level = "fatal";  // the listing itself reports every refusal
    log::configure(log_options);
  } catch (const std::exception& e) {
    std::cerr << "coda: " << e.what() << "\n";
    return kExitUsage;
  }
  // No host services: listing reads each plugin's description but never initialises it.
  plugins::PluginRegistry registry(config.plugins, nullptr);
  registry.load_configured(false);
  registry.describe_unconfigured();
  if (options.json) {
    print_json(registry);
  } else {
    print_text(registry);
  }
  bool required_refused = false;
  for (const auto& state : registry.plugins()) {
    if (state.required && !state.loaded) required_refused = true;
  }
  return required_refused ? kExitPluginRefused : kExitOk;
}

}  // namespace

void register_plugins_command(CLI::App& app) {
  CLI::App* plugins = app.add_subcommand("plugins", "Inspect plugins.");
  plugins->require_subcommand(1);
  plugins->footer(kExitCodesHelp);
  auto options = std::make_shared<ListOptions>();
  CLI::App* list = plugins->add_subcommand(
      "list",
      "List the configured plugins and the plugin files on the search path: id, kind, version, ABI "
      "version, file, and 'loaded' (found and accepted) or the reason it was refused. Listing reads "
      "each plugin's description but never initialises or starts it.");
  list->footer(kExitCodesHelp);
  list->add_option("--config", options->config_path,
                   "Configuration file (default: $CODA_CONFIG, then /etc/coda/coda.yaml, then the "
                   "built-in defaults)");
  list->add_flag("--json", options->json, "Print JSON instead of text");
  list->callback([options] {
    int code = run_list(*options);
    if (code != kExitOk) fail(code);
  });
}

}  // namespace coda::app
