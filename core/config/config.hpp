#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The host's configuration: one YAML file mapped to typed structs. Every key is documented in
// config/coda.yaml (the built-in defaults) and docs/configuration.md. Each area owns its section
// struct below; a section's parser lives in config/<section>_section.cpp.
namespace coda::config {

// Where a value came from, for error messages: file:line:column (1-based).
struct Location {
  std::string file;
  int line = 0;
  int column = 0;
  std::string to_string() const;  // "file:line:column" (or "file" when line is 0)
};

// A configuration that cannot be used. what() is "file:line:column: key.path: what is wrong".
class ConfigError : public std::runtime_error {
 public:
  ConfigError(Location where, std::string key_path, const std::string& message);
  const Location& where() const { return where_; }
  const std::string& key_path() const { return key_path_; }
  // Every error found in the document, one line each, in file order; the first is what().
  const std::vector<std::string>& lines() const { return lines_; }
  // Replaces lines() (the loader reports all errors of a document at once, not only the first).
  void set_lines(std::vector<std::string> lines) { lines_ = std::move(lines); }

 private:
  Location where_;
  std::string key_path_;
  std::vector<std::string> lines_;
};

struct TlsConfig {
  bool enabled = false;
  std::string cert_file;
  std::string key_file;
};

// HTTP listener limits: a slow or huge request cannot hold a worker or memory.
struct HttpLimits {
  std::size_t max_body_bytes = 4u << 20;
  std::size_t max_header_bytes = 16u << 10;  // one header field (name + value)
  int max_headers = 100;
  int idle_timeout_s = 30;     // keep-alive idle connections are closed after this
  int request_timeout_s = 60;  // reading one request (headers + body) may take at most this
  int threads = 32;            // worker threads (long-poll tool calls and SSE hold one each)
  int max_queued_connections = 256;
};

struct ServerConfig {
  std::string listen = "127.0.0.1:8000";  // host:port; port 0 picks a free one
  std::string data_dir;                   // empty: $XDG_DATA_HOME/coda or ~/.local/share/coda
  std::string public_url;                 // how clients reach this host (viewer_url, metadata)
  std::string log_level = "info";         // debug | info | warning | error
  std::string log_format = "text";        // text | json
  std::string log_file;                   // empty: stderr
  bool access_log = true;                 // one info line per HTTP request (logger coda.access)
  std::string metrics =
      "admin";  // who may read /metrics: admin | authenticated | public | disabled
  // The listener's Host/Origin policy (core/http/origin_policy.hpp), for every route: Host names
  // accepted besides loopback ones, and browser origins besides loopback and same-origin pages
  // ("*": any, only with authentication on). Hosts lower-cased, origins as written (validated).
  std::vector<std::string> allowed_hosts;
  std::vector<std::string> allowed_origins;
  HttpLimits limits;
  TlsConfig tls;
};

struct PluginEntry {
  std::string name;  // file <name>.so on the search path, unless path is given
  std::string path;  // explicit file, optional
  bool required = false;
  bool enabled = true;
  Location where;
};

struct PluginsConfig {
  std::vector<std::string> search_paths;  // empty: <dir of coda>/plugins, <prefix>/lib/coda/plugins
  std::vector<PluginEntry> load;
};

// A configured instance of a plugin component (a transport, a tool provider or an agent backend).
struct ComponentInstance {
  std::string name;       // the instance's name (the key in the YAML mapping)
  std::string component;  // reverse-DNS component id
  bool enabled = true;
  std::string config_json = "{}";  // the rest of the subtree, as JSON, handed to create()
  Location where;
};

struct McpConfig {
  std::string instructions;  // empty: the built-in text of the task tools
  int page_size = 100;       // tools/list page size
  int tool_threads = 8;      // tools/call running at once (waiting calls hold none)
};

struct TasksConfig {
  int max_concurrent = 5;
  int max_per_owner = 2;
  int max_queued = 100;
  int max_queued_per_owner = 20;  // queued tasks of one owner: one user cannot fill the queue
  int default_timeout_s = 3600;
  int max_timeout_s = 86400;
  int inbox_window_s = 86400;
  int max_wait_s = 50;
  int retention_days = 30;
  std::string on_restart = "interrupt";     // interrupt | requeue
  std::size_t events_max_bytes = 8u << 20;  // per task: head and tail kept past this
  // Per owner: stored events of all their tasks plus their workspaces, MiB; 0 = unlimited.
  std::int64_t owner_storage_mb = 2048;
  std::string envelope_template;            // file; empty: built-in
};

struct ResourceLimits {
  std::int64_t cpu_s = 0;             // RLIMIT_CPU; 0 = unlimited
  std::int64_t address_space_mb = 0;  // RLIMIT_AS
  std::int64_t file_size_mb = 0;      // RLIMIT_FSIZE
  std::int64_t processes = 0;         // RLIMIT_NPROC
  std::int64_t open_files = 0;        // RLIMIT_NOFILE
};

struct SandboxConfig {
  bool enabled = false;  // bubblewrap: workspace writable, data dir hidden, the rest read-only
  std::string bwrap = "bwrap";
  std::vector<std::string> writable;  // extra writable paths
  bool network = true;
  // Files the host read that may hold secrets (the config file, token and key files): hidden from
  // sandboxed agents. Set by the host at start-up, not from YAML.
  std::vector<std::string> hidden;
};

// A user that agents run as (agents.policy.run_as), as the host looked it up.
struct AgentAccount {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups
  std::string name;
  std::string home;  // HOME for its agents
};

struct AgentPolicy {
  std::vector<std::string> env_allowlist;  // names passed from the host's environment
  std::map<std::string, std::string> env;  // set for every agent
  bool yolo_allowed = false;
  int kill_grace_s = 10;
  ResourceLimits limits;
  SandboxConfig sandbox;
  // Landlock for agents outside the bubblewrap sandbox: "auto" (when several users are possible:
  // any auth.mode but none), "on" (always), "off" (never).
  std::string landlock = "auto";
  // The documented opt-out: start with several users possible and nothing that isolates agents.
  bool allow_unisolated = false;
  // Whether agents are put under Landlock: decided by the host at start-up from `landlock`,
  // auth.mode, the sandbox and the kernel; not from YAML.
  bool landlock_enforced = false;
  // Agents' HOME: "shared" (the host's, where agent CLIs keep their sessions and transcripts),
  // "per_owner" (one directory per task owner under the data dir), "auto" (per_owner when several
  // users are possible: any auth.mode but none).
  std::string home = "auto";
  bool per_owner_home = false;  // decided by the host at start-up from `home`; not from YAML
  // The user agents run as when the host runs as root (a name or a numeric uid); "" = the host's.
  std::string run_as;
  Location run_as_where;  // of the key, for errors
  // That user, looked up by the host at start-up (not from YAML). uid 0: agents run as the host.
  AgentAccount account;
};

struct AgentsConfig {
  std::vector<std::string> order;       // backend names, first available runs
  std::vector<std::string> selectable;  // backends coda_run's `agent` may name; empty: all
  AgentPolicy policy;
  std::vector<ComponentInstance> backends;
};

struct BearerToken {
  std::string sha256;  // hex digest of the token
  std::string env;     // or: the token is in this environment variable
  std::string file;    // or: in this file
  std::string subject, email, name;
  bool admin = false;
  Location where;  // of the entry, for errors
};

struct AuthConfig {
  std::string mode = "none";        // none | bearer | databricks-apps | oauth
  std::vector<std::string> admins;  // subjects or emails
  std::vector<BearerToken> tokens;
  std::string oauth_json = "{}";  // oauth: {issuer, audience, jwks_url|jwks_file, scopes}
  // databricks-apps: refuse requests without X-Forwarded-Access-Token, which the proxy sends with
  // every request once the app has user authorization (on-behalf-of) enabled.
  bool require_access_token = false;
  double rate_per_s = 0;  // per identity; 0 = unlimited
  int burst = 20;
  // Refused requests (no or a wrong credential) per client address: guessing stays slow by default.
  double refused_rate_per_s = 1;  // 0 = unlimited
  int refused_burst = 20;
  Location where;  // of the auth section, for errors
};

struct Config {
  std::string source;  // the file it came from, or "<built-in>"
  ServerConfig server;
  AuthConfig auth;
  PluginsConfig plugins;
  McpConfig mcp;
  TasksConfig tasks;
  AgentsConfig agents;
  std::vector<ComponentInstance> transports;
  std::vector<ComponentInstance> tools;
};

// The built-in defaults: config/coda.yaml, embedded at build time.
extern const std::string_view kDefaultConfigYaml;

// Parses YAML text; `name` is used in error locations. Interpolates ${VAR} and ${VAR:-default} in
// scalars from the environment. Throws ConfigError on unknown keys, wrong types and bad values.
Config load_string(std::string_view yaml, const std::string& name);
// As above, with relative paths resolved against `base_dir` (none when empty) and ${...} looked up
// through `env` (for tests and embedding).
Config load_string(std::string_view yaml, const std::string& name, const std::string& base_dir,
                   const std::function<std::optional<std::string>(const std::string&)>& env);
// Reads and parses a file. Throws ConfigError (also for a missing or unreadable file).
Config load_file(const std::string& path);
// The lookup when no --config is given: $CODA_CONFIG, then /etc/coda/coda.yaml, then the built-in
// defaults. Returns the path used, or "" for the built-in defaults.
std::string default_config_path();
// load_file(path) when path is non-empty, else the lookup above.
Config load(const std::string& path);

}  // namespace coda::config
