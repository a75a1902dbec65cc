#pragma once

#include <string_view>
#include <vector>

#include "core/config/config.hpp"
#include "core/config/reader.hpp"

// The section parsers, one file each (core/config/<section>_section.cpp), called by the loader with
// the Reader of their top-level key. Each fills its struct from the keys it knows; keys it does not
// read are reported as unknown. A section's owner adds its fields' lines in its own file.
namespace coda::config {

void parse_server_section(Reader& section, ServerConfig& server);
// The server checks that need other sections, once all are read: allowed_origins "*" only with
// authentication on (with auth.mode none any page the user visits would act as the local admin).
void check_server_section(Reader& section, const Config& config);
void parse_auth_section(Reader& section, AuthConfig& auth);
void parse_plugins_section(Reader& section, PluginsConfig& plugins);
void parse_mcp_section(Reader& section, McpConfig& mcp);
void parse_tasks_section(Reader& section, TasksConfig& tasks);
void parse_agents_section(Reader& section, AgentsConfig& agents);

// A mapping name → {component: <id>, enabled: bool, ...rest} under `key` of `parent`; the rest of
// each subtree becomes the instance's config_json.
std::vector<ComponentInstance> parse_component_instances(Reader& parent, std::string_view key);

// The default data directory: $XDG_DATA_HOME/coda, else $HOME/.local/share/coda, else "" (no home).
std::string default_data_dir(const EnvLookup& env);

}  // namespace coda::config
