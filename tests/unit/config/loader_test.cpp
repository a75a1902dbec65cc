// The configuration loader as a user meets it: YAML text in, typed structs or located errors out.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>

#include "core/config/config.hpp"
#include "core/config/reader.hpp"
#include "tests/support/temp_dir.hpp"

namespace coda::config {
namespace {

using Env = std::map<std::string, std::string>;

std::function<std::optional<std::string>(const std::string&)> env_of(Env values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    const auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

Config load_text(const std::string& yaml, Env env = {{"HOME", "/home/u"}}) {
  return load_string(yaml, "t.yaml", "/etc/coda", env_of(std::move(env)));
}

// Every error line the loader reports for `yaml` (empty when it loads).
std::vector<std::string> errors_of(const std::string& yaml, Env env = {{"HOME", "/home/u"}}) {
  try {
    load_text(yaml, std::move(env));
  } catch (const ConfigError& e) {
    return e.lines();
  }
  return {};
}

std::string error_of(const std::string& yaml, Env env = {{"HOME", "/home/u"}}) {
  const std::vector<std::string> lines = errors_of(yaml, std::move(env));
  return lines.empty() ? "" : lines.front();
}

// ---- defaults ----

TEST(ConfigDefaults, EmbeddedDefaultsAreConfigCodaYamlItself) {
  EXPECT_EQ(std::string(kDefaultConfigYaml),
            test::read_file(std::string(CODA_SOURCE_DIR) + "/config/coda.yaml"));
}

TEST(ConfigDefaults, BuiltInDefaultsLoadWithTheDocumentedValues) {
  const Config config = load_string(kDefaultConfigYaml, "<built-in>", "", env_of({{"HOME", "/h"}}));
  EXPECT_EQ(config.source, "<built-in>");
  EXPECT_EQ(config.server.listen, "127.0.0.1:8000");
  EXPECT_EQ(config.server.data_dir, "/h/.local/share/coda");
  EXPECT_EQ(config.auth.mode, "none");
  EXPECT_EQ(config.agents.order,
            (std::vector<std::string>{"hermes", "claude", "codex", "gemini", "opencode", "aider"}));
  EXPECT_EQ(config.agents.policy.env_allowlist,
            (std::vector<std::string>{"PATH", "HOME", "USER", "LANG", "LC_ALL", "TERM", "TMPDIR",
                                      "TZ"}));
  std::vector<std::string> plugins;
  for (const PluginEntry& entry : config.plugins.load) plugins.push_back(entry.name);
  EXPECT_EQ(plugins, (std::vector<std::string>{"transport-mcp-http", "transport-stdio",
                                               "transport-web-ui", "agent-hermes", "agent-cli"}));
  std::map<std::string, std::string> transports;
  for (const ComponentInstance& t : config.transports) transports[t.name] = t.component;
  EXPECT_EQ(transports.at("mcp-http"), "dev.coda.transport.mcp-http");
  EXPECT_EQ(transports.at("web-ui"), "dev.coda.transport.web-ui");
  EXPECT_EQ(config.transports.front().config_json, R"({"path":"/mcp"})");
  std::map<std::string, ComponentInstance> backends;
  for (const ComponentInstance& b : config.agents.backends) backends[b.name] = b;
  EXPECT_EQ(backends.at("hermes").component, "dev.coda.agent.hermes");
  for (const char* cli : {"claude", "codex", "gemini", "opencode", "aider"}) {
    EXPECT_EQ(backends.at(cli).component, "dev.coda.agent.cli");
    EXPECT_EQ(backends.at(cli).config_json, std::string(R"({"preset":")") + cli + R"("})");
  }
}

TEST(ConfigDefaults, AnOmittedKeyMeansTheSameAsTheEmbeddedFile) {
  const Env env{{"HOME", "/h"}};
  const Config file = load_string(kDefaultConfigYaml, "<built-in>", "", env_of(env));
  const Config empty = load_string("", "empty.yaml", "", env_of(env));
  const ServerConfig &a = file.server, &b = empty.server;
  EXPECT_EQ(a.listen, b.listen);
  EXPECT_EQ(a.data_dir, b.data_dir);
  EXPECT_EQ(a.public_url, b.public_url);
  EXPECT_EQ(a.log_level, b.log_level);
  EXPECT_EQ(a.log_format, b.log_format);
  EXPECT_EQ(a.log_file, b.log_file);
  EXPECT_EQ(a.limits.max_body_bytes, b.limits.max_body_bytes);
  EXPECT_EQ(a.limits.max_header_bytes, b.limits.max_header_bytes);
  EXPECT_EQ(a.limits.max_headers, b.limits.max_headers);
  EXPECT_EQ(a.limits.idle_timeout_s, b.limits.idle_timeout_s);
  EXPECT_EQ(a.limits.request_timeout_s, b.limits.request_timeout_s);
  EXPECT_EQ(a.limits.threads, b.limits.threads);
  EXPECT_EQ(a.limits.max_queued_connections, b.limits.max_queued_connections);
  EXPECT_EQ(a.tls.enabled, b.tls.enabled);
  EXPECT_EQ(file.auth.mode, empty.auth.mode);
  EXPECT_EQ(file.auth.admins, empty.auth.admins);
  EXPECT_EQ(file.auth.oauth_json, empty.auth.oauth_json);
  EXPECT_EQ(file.auth.rate_per_s, empty.auth.rate_per_s);
  EXPECT_EQ(file.auth.burst, empty.auth.burst);
  EXPECT_EQ(a.allowed_hosts, b.allowed_hosts);
  EXPECT_EQ(a.allowed_origins, b.allowed_origins);
  EXPECT_EQ(file.plugins.search_paths, empty.plugins.search_paths);
  EXPECT_EQ(file.mcp.instructions, empty.mcp.instructions);
  EXPECT_EQ(file.mcp.page_size, empty.mcp.page_size);
  const TasksConfig &t = file.tasks, &u = empty.tasks;
  EXPECT_EQ(t.max_concurrent, u.max_concurrent);
  EXPECT_EQ(t.max_per_owner, u.max_per_owner);
  EXPECT_EQ(t.max_queued, u.max_queued);
  EXPECT_EQ(t.max_queued_per_owner, u.max_queued_per_owner);
  EXPECT_EQ(t.default_timeout_s, u.default_timeout_s);
  EXPECT_EQ(t.max_timeout_s, u.max_timeout_s);
  EXPECT_EQ(t.inbox_window_s, u.inbox_window_s);
  EXPECT_EQ(t.max_wait_s, u.max_wait_s);
  EXPECT_EQ(t.retention_days, u.retention_days);
  EXPECT_EQ(t.on_restart, u.on_restart);
  EXPECT_EQ(t.events_max_bytes, u.events_max_bytes);
  EXPECT_EQ(t.owner_storage_mb, u.owner_storage_mb);
  EXPECT_EQ(t.envelope_template, u.envelope_template);
  const AgentPolicy &p = file.agents.policy, &q = empty.agents.policy;
  EXPECT_EQ(file.agents.selectable, empty.agents.selectable);
  EXPECT_EQ(p.env_allowlist, q.env_allowlist);
  EXPECT_EQ(p.env, q.env);
  EXPECT_EQ(p.yolo_allowed, q.yolo_allowed);
  EXPECT_EQ(p.kill_grace_s, q.kill_grace_s);
  EXPECT_EQ(p.limits.cpu_s, q.limits.cpu_s);
  EXPECT_EQ(p.limits.address_space_mb, q.limits.address_space_mb);
  EXPECT_EQ(p.limits.file_size_mb, q.limits.file_size_mb);
  EXPECT_EQ(p.limits.processes, q.limits.processes);
  EXPECT_EQ(p.limits.open_files, q.limits.open_files);
  EXPECT_EQ(p.sandbox.enabled, q.sandbox.enabled);
  EXPECT_EQ(p.sandbox.bwrap, q.sandbox.bwrap);
  EXPECT_EQ(p.sandbox.writable, q.sandbox.writable);
  EXPECT_EQ(p.sandbox.network, q.sandbox.network);
}

TEST(ConfigDefaults, SecretsAreNotInTheDefaultAllowlist) {
  const Config config = load_string(kDefaultConfigYaml, "<built-in>", "", env_of({{"HOME", "/h"}}));
  for (const std::string& name : config.agents.policy.env_allowlist) {
    EXPECT_EQ(name.find("TOKEN"), std::string::npos) << name;
    EXPECT_EQ(name.find("KEY"), std::string::npos) << name;
  }
}

TEST(ConfigDefaults, DataDirFollowsXdgDataHome) {
  EXPECT_EQ(load_text("", {{"HOME", "/home/u"}, {"XDG_DATA_HOME", "/xdg"}}).server.data_dir,
            "/xdg/coda");
  EXPECT_EQ(load_text("").server.data_dir, "/home/u/.local/share/coda");
}

// ---- values ----

TEST(ConfigValues, TypedValuesAreRead) {
  const Config config = load_text(
      "server:\n"
      "  listen: '[::1]:0'\n"
      "  limits: {threads: 4, max_body_bytes: 1MiB, max_header_bytes: 2048}\n"
      "tasks:\n"
      "  max_concurrent: 7\n"
      "  on_restart: requeue\n"
      "  events_max_bytes: 64KB\n"
      "auth:\n"
      "  mode: bearer\n"
      "  rate_per_s: 2.5\n"
      "  tokens:\n"
      "    - {env: CODA_TOKEN, subject: ci, admin: true}\n"
      "agents:\n"
      "  policy:\n"
      "    env: {GIT_AUTHOR_NAME: coda, EMPTY: }\n"
      "    yolo_allowed: True\n");
  EXPECT_EQ(config.server.listen, "[::1]:0");
  EXPECT_EQ(config.server.limits.threads, 4);
  EXPECT_EQ(config.server.limits.max_body_bytes, 1u << 20);
  EXPECT_EQ(config.server.limits.max_header_bytes, 2048u);
  EXPECT_EQ(config.tasks.max_concurrent, 7);
  EXPECT_EQ(config.tasks.on_restart, "requeue");
  EXPECT_EQ(config.tasks.events_max_bytes, 64000u);
  EXPECT_EQ(config.auth.mode, "bearer");
  EXPECT_DOUBLE_EQ(config.auth.rate_per_s, 2.5);
  ASSERT_EQ(config.auth.tokens.size(), 1u);
  EXPECT_EQ(config.auth.tokens[0].env, "CODA_TOKEN");
  EXPECT_TRUE(config.auth.tokens[0].admin);
  EXPECT_EQ(config.agents.policy.env,
            (std::map<std::string, std::string>{{"GIT_AUTHOR_NAME", "coda"}, {"EMPTY", ""}}));
  EXPECT_TRUE(config.agents.policy.yolo_allowed);
  EXPECT_TRUE(config.agents.order.empty());
}

TEST(ConfigValues, InterpolationHappensBeforeTypeConversion) {
  const Config config = load_text(
      "server:\n"
      "  listen: 0.0.0.0:${PORT:-8000}\n"
      "  limits: {threads: '${THREADS}'}\n"
      "tasks: {max_concurrent: '${UNSET:-3}'}\n",
      {{"HOME", "/h"}, {"PORT", "9100"}, {"THREADS", "12"}});
  EXPECT_EQ(config.server.listen, "0.0.0.0:9100");
  EXPECT_EQ(config.server.limits.threads, 12);
  EXPECT_EQ(config.tasks.max_concurrent, 3);
}

TEST(ConfigValues, RelativePathsResolveAgainstTheFilesDirectory) {
  const Config config = load_text(
      "server: {data_dir: data, log_file: ~/coda.log}\n"
      "plugins:\n"
      "  search_paths: [plugins, /opt/coda/plugins]\n"
      "  load: [{name: mine, path: ../lib/mine.so}]\n"
      "tasks: {envelope_template: templates/envelope.md}\n");
  EXPECT_EQ(config.server.data_dir, "/etc/coda/data");
  EXPECT_EQ(config.server.log_file, "/home/u/coda.log");
  EXPECT_EQ(config.plugins.search_paths,
            (std::vector<std::string>{"/etc/coda/plugins", "/opt/coda/plugins"}));
  EXPECT_EQ(config.plugins.load.at(0).path, "/etc/lib/mine.so");
  EXPECT_EQ(config.tasks.envelope_template, "/etc/coda/templates/envelope.md");
}

TEST(ConfigValues, PluginEntriesTakeTheFullFormOrJustAName) {
  const Config config = load_text(
      "plugins:\n"
      "  load:\n"
      "    - transport-mcp-http\n"
      "    - {name: agent-cli, required: true, enabled: false}\n"
      "    - {path: /opt/x/custom-agent.so}\n");
  ASSERT_EQ(config.plugins.load.size(), 3u);
  EXPECT_EQ(config.plugins.load[0].name, "transport-mcp-http");
  EXPECT_FALSE(config.plugins.load[0].required);
  EXPECT_TRUE(config.plugins.load[0].enabled);
  EXPECT_EQ(config.plugins.load[0].where.to_string(), "t.yaml:3:7");
  EXPECT_TRUE(config.plugins.load[1].required);
  EXPECT_FALSE(config.plugins.load[1].enabled);
  EXPECT_EQ(config.plugins.load[2].name, "custom-agent");
  EXPECT_EQ(config.plugins.load[2].path, "/opt/x/custom-agent.so");
}

TEST(ConfigValues, AKeyWithoutAValueMeansTheDefault) {
  const Config config = load_text(
      "server:\n"
      "  listen:\n"
      "  limits: {threads: ~}\n"
      "tasks:\n"
      "  on_restart: null\n"
      "agents:\n");
  EXPECT_EQ(config.server.listen, "127.0.0.1:8000");
  EXPECT_EQ(config.server.limits.threads, 32);
  EXPECT_EQ(config.tasks.on_restart, "interrupt");
  EXPECT_EQ(config.agents.policy.env_allowlist.size(), 8u);
}

// ---- component subtrees ----

TEST(ConfigComponents, TheRestOfTheSubtreeBecomesTypedJson) {
  const Config config = load_text(
      "transports:\n"
      "  api:\n"
      "    component: dev.example.transport\n"
      "    enabled: false\n"
      "    port: 8080\n"
      "    ratio: 0.5\n"
      "    big: 1e3\n"
      "    flag: true\n"
      "    none: null\n"
      "    empty:\n"
      "    quoted: '42'\n"
      "    text: hello \"world\"\n"
      "    hex: 0x1F\n"
      "    from_env: ${PORT}\n"
      "    from_default: ${UNSET:-}\n"
      "    escaped: $${HOME}\n"
      "    list: [1, two, {three: 3}]\n"
      "    nested: {a: {b: [x]}}\n",
      {{"HOME", "/h"}, {"PORT", "9000"}});
  ASSERT_EQ(config.transports.size(), 1u);
  const ComponentInstance& api = config.transports[0];
  EXPECT_EQ(api.name, "api");
  EXPECT_EQ(api.component, "dev.example.transport");
  EXPECT_FALSE(api.enabled);
  EXPECT_EQ(api.where.to_string(), "t.yaml:2:3");
  EXPECT_EQ(api.config_json,
            R"({"port":8080,"ratio":0.5,"big":1000.0,"flag":true,"none":null,"empty":null,)"
            R"("quoted":"42","text":"hello \"world\"","hex":31,"from_env":9000,)"
            R"("from_default":"","escaped":"${HOME}","list":[1,"two",{"three":3}],)"
            R"("nested":{"a":{"b":["x"]}}})");
}

TEST(ConfigComponents, InstancesKeepFileOrderInEverySection) {
  const Config config = load_text(
      "tools:\n"
      "  b: {component: dev.example.b}\n"
      "  a: {component: dev.example.a, limit: 3}\n"
      "agents:\n"
      "  backends:\n"
      "    second: {component: dev.coda.agent.cli, preset: codex}\n"
      "    first: {component: dev.coda.agent.cli, preset: claude, enabled: false}\n");
  ASSERT_EQ(config.tools.size(), 2u);
  EXPECT_EQ(config.tools[0].name, "b");
  EXPECT_EQ(config.tools[0].config_json, "{}");
  EXPECT_EQ(config.tools[1].config_json, R"({"limit":3})");
  ASSERT_EQ(config.agents.backends.size(), 2u);
  EXPECT_EQ(config.agents.backends[1].name, "first");
  EXPECT_FALSE(config.agents.backends[1].enabled);
  // Without agents.order, the backends are tried in file order.
  EXPECT_EQ(config.agents.order, (std::vector<std::string>{"second", "first"}));
}

TEST(ConfigComponents, AnAliasBombIsRefusedNotExpanded) {
  std::string yaml = "transports:\n  t:\n    component: dev.example.t\n";
  yaml += "    l0: &l0 [aaaaaaaaaaaaaaaaaaaa, aaaaaaaaaaaaaaaaaaaa, aaaaaaaaaaaaaaaaaaaa]\n";
  for (int level = 1; level <= 18; ++level) {
    const std::string prev = "*l" + std::to_string(level - 1);
    yaml += "    l" + std::to_string(level) + ": &l" + std::to_string(level) + " [" + prev + ", " +
            prev + ", " + prev + "]\n";
  }
  // 3^19 strings of 20 bytes: about 20 GB as JSON.
  const std::string error = error_of(yaml);
  EXPECT_EQ(error.rfind("t.yaml:3:5: transports.t: settings too large as JSON", 0), 0u) << error;
}

// ---- errors: exact location and key path ----

TEST(ConfigErrors, UnknownKeySuggestsTheClosestKnownOne) {
  EXPECT_EQ(error_of("tasks:\n"
                     "  max_concurrent: 2\n"
                     "  max_concurent: 3\n"),
            "t.yaml:3:3: tasks.max_concurent: unknown key 'max_concurent' "
            "(did you mean 'max_concurrent'?)");
  EXPECT_EQ(error_of("serer:\n  listen: 127.0.0.1:1\n"),
            "t.yaml:1:1: serer: unknown key 'serer' (did you mean 'server'?)");
  EXPECT_EQ(error_of("server:\n  limits:\n    completely_different: 1\n"),
            "t.yaml:3:5: server.limits.completely_different: unknown key "
            "'completely_different'");
}

TEST(ConfigErrors, WrongTypesNameTheExpectedRange) {
  EXPECT_EQ(error_of("server:\n  limits:\n    threads: many\n"),
            "t.yaml:3:14: server.limits.threads: expected an integer from 1 to 1024, got 'many'");
  EXPECT_EQ(error_of("server:\n  limits:\n    threads: 0\n"),
            "t.yaml:3:14: server.limits.threads: expected an integer from 1 to 1024, got '0'");
  EXPECT_EQ(error_of("tasks:\n  max_concurrent: [1]\n"),
            "t.yaml:2:19: tasks.max_concurrent: expected an integer from 1 to 1024, got a list");
  EXPECT_EQ(error_of("agents:\n  policy:\n    yolo_allowed: yes\n"),
            "t.yaml:3:19: agents.policy.yolo_allowed: expected true or false, got 'yes'");
  EXPECT_EQ(error_of("auth:\n  rate_per_s: -1\n"),
            "t.yaml:2:15: auth.rate_per_s: expected a number from 0 to 1000000000, got '-1'");
  EXPECT_EQ(error_of("server: [a]\n"), "t.yaml:1:9: server: expected a mapping, got a list");
  EXPECT_EQ(error_of("agents:\n  order: hermes\n"),
            "t.yaml:2:10: agents.order: expected a list of strings, got 'hermes'");
  EXPECT_EQ(error_of("tasks:\n  events_max_bytes: 10 parsecs\n"),
            "t.yaml:2:21: tasks.events_max_bytes: expected a size in bytes from 4096 to "
            "1099511627776 (a number, optionally with KiB, MiB, GiB, KB, MB or GB), got "
            "'10 parsecs'");
}

TEST(ConfigTasks, OwnerStorageBudgetIsMibPerOwnerAndZeroMeansUnlimited) {
  const Config defaults =
      load_string(kDefaultConfigYaml, "<built-in>", "", env_of({{"HOME", "/h"}}));
  EXPECT_EQ(defaults.tasks.owner_storage_mb, 2048);
  EXPECT_EQ(load_text("tasks:\n  owner_storage_mb: 64\n").tasks.owner_storage_mb, 64);
  EXPECT_EQ(load_text("tasks:\n  owner_storage_mb: 0\n").tasks.owner_storage_mb, 0);
  EXPECT_EQ(load_text("tasks:\n  owner_storage_mb: '${BUDGET:-5}'\n").tasks.owner_storage_mb, 5);
}

TEST(ConfigTasks, BadOwnerStorageBudgetsAreLocatedErrors) {
  EXPECT_EQ(error_of("tasks:\n  owner_storage_mb: -1\n"),
            "t.yaml:2:21: tasks.owner_storage_mb: expected an integer from 0 to 1099511627776, "
            "got '-1'");
  EXPECT_EQ(error_of("tasks:\n  owner_storage_mb: 2GiB\n"),
            "t.yaml:2:21: tasks.owner_storage_mb: expected an integer from 0 to 1099511627776, "
            "got '2GiB'");
  EXPECT_EQ(error_of("tasks:\n  owner_storage_mb: [1]\n"),
            "t.yaml:2:21: tasks.owner_storage_mb: expected an integer from 0 to 1099511627776, "
            "got a list");
  EXPECT_EQ(error_of("tasks:\n  owner_storage: 10\n"),
            "t.yaml:2:3: tasks.owner_storage: unknown key 'owner_storage' (did you mean "
            "'owner_storage_mb'?)");
}

TEST(ConfigErrors, BadChoicesListTheChoices) {
  EXPECT_EQ(error_of("auth:\n  mode: bearr\n"),
            "t.yaml:2:9: auth.mode: expected one of none, bearer, databricks-apps, oauth, got "
            "'bearr' (did you mean 'bearer'?)");
  EXPECT_EQ(error_of("server: {log_level: loud}\n"),
            "t.yaml:1:21: server.log_level: expected one of debug, info, warning, error, got "
            "'loud'");
}

TEST(ConfigErrors, BadValuesSayWhatIsWrong) {
  EXPECT_EQ(error_of("server:\n  listen: localhost\n"),
            "t.yaml:2:11: server.listen: expected HOST:PORT, got 'localhost'");
  EXPECT_EQ(error_of("server:\n  listen: 127.0.0.1:99999\n"),
            "t.yaml:2:11: server.listen: expected a port from 0 to 65535 after the last ':', got "
            "'127.0.0.1:99999'");
  EXPECT_EQ(error_of("agents:\n  backends:\n    claude: {component: dev.coda.agent.cli}\n"
                     "  order: [claude, cladue]\n"),
            "t.yaml:4:10: agents.order: no backend named 'cladue' in agents.backends (did you "
            "mean 'claude'?)");
  EXPECT_EQ(error_of("transports:\n  web:\n    enabled: true\n"),
            "t.yaml:3:5: transports.web: missing key 'component' (the reverse-DNS id of the "
            "plugin component, e.g. dev.coda.transport.mcp-http)");
  EXPECT_EQ(error_of("auth:\n  mode: bearer\n"),
            "t.yaml:2:9: auth.mode: mode bearer needs at least one entry in auth.tokens");
  EXPECT_EQ(error_of("plugins:\n  load: [a, {name: a}]\n"),
            "t.yaml:2:13: plugins.load[1]: plugin 'a' is listed twice (first at t.yaml:2:10)");
}

TEST(ConfigErrors, TheHostOriginPolicyHasOneHomeInServer) {
  const Env env{{"HOME", "/h"}};
  const Config ok = load_string(
      "server:\n  allowed_hosts: [Coda.Internal]\n  allowed_origins: [https://app.example.com]\n",
      "t.yaml", "", env_of(env));
  EXPECT_EQ(ok.server.allowed_hosts, std::vector<std::string>{"coda.internal"});
  EXPECT_EQ(ok.server.allowed_origins, std::vector<std::string>{"https://app.example.com"});
  // "*" admits every page the user visits: only with authentication on.
  EXPECT_EQ(error_of("server:\n  allowed_origins: [\"*\"]\n"),
            "t.yaml:2:20: server.allowed_origins: \"*\" admits every web page the user visits, "
            "and with auth.mode none each would act as the local admin: list the origins, or turn "
            "authentication on");
  const Config star = load_string(
      "server:\n  allowed_origins: [\"*\"]\nauth:\n  mode: databricks-apps\n", "t.yaml", "",
      env_of(env));
  EXPECT_EQ(star.server.allowed_origins, std::vector<std::string>{"*"});
  EXPECT_EQ(error_of("server:\n  allowed_origins: [app.example.com]\n"),
            "t.yaml:2:20: server.allowed_origins: expected origins such as "
            "https://app.example.com (scheme://host[:port]) or \"*\", got 'app.example.com'");
  EXPECT_EQ(error_of("server:\n  allowed_hosts: [\"*.example.com/x\"]\n"),
            "t.yaml:2:18: server.allowed_hosts: expected host names such as coda.example.com, got "
            "'*.example.com/x' (no wildcards, schemes or paths)");
  // The old homes are refused with the new key's name.
  EXPECT_EQ(error_of("auth:\n  allowed_origins: [https://a.example]\n"),
            "t.yaml:2:20: auth.allowed_origins: moved to server.allowed_origins (the listener's one "
            "Host/Origin policy, for every route)");
  EXPECT_EQ(error_of("transports:\n  web-ui:\n    component: dev.coda.transport.web-ui\n"
                     "    allowed_origins: [https://a.example]\n"),
            "t.yaml:4:22: transports.web-ui.allowed_origins: moved to server.allowed_origins (the "
            "listener's one Host/Origin policy, for every route)");
  EXPECT_EQ(error_of("transports:\n  mcp-http:\n    component: dev.coda.transport.mcp-http\n"
                     "    allowed_hosts: [a.example]\n"),
            "t.yaml:4:20: transports.mcp-http.allowed_hosts: moved to server.allowed_hosts (the "
            "listener's one Host/Origin policy, for every route)");
}

TEST(ConfigErrors, DuplicateKeysAreReported) {
  EXPECT_EQ(error_of("tasks:\n  max_queued: 1\n  max_queued: 2\n"),
            "t.yaml:3:3: tasks.max_queued: duplicate key 'max_queued' (first at line 2)");
}

TEST(ConfigErrors, MissingVariableIsReportedAtItsScalar) {
  EXPECT_EQ(error_of("server:\n  listen: 0.0.0.0:${APP_PORT}\n"),
            "t.yaml:2:11: server.listen: environment variable 'APP_PORT' is not set (set it, or "
            "write ${APP_PORT:-default})");
  EXPECT_EQ(error_of("transports:\n  x:\n    component: a.b\n    token: ${SECRET}\n"),
            "t.yaml:4:12: transports.x.token: environment variable 'SECRET' is not set (set it, "
            "or write ${SECRET:-default})");
}

TEST(ConfigErrors, YamlSyntaxErrorsHaveALocation) {
  const std::string error = error_of("server:\n  listen: [127.0.0.1\n");
  EXPECT_EQ(error.rfind("t.yaml:", 0), 0u) << error;
  EXPECT_NE(error.find("t.yaml:3:1: "), std::string::npos) << error;
  EXPECT_EQ(error_of("a: b\n  c: d\n").rfind("t.yaml:2:4: ", 0), 0u) << error_of("a: b\n  c: d\n");
}

TEST(ConfigErrors, EveryErrorIsReportedInFileOrder) {
  const std::vector<std::string> lines = errors_of(
      "tasks:\n"
      "  max_concurent: 1\n"
      "  max_wait_s: forever\n"
      "server:\n"
      "  log_level: loud\n");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("t.yaml:2:3: tasks.max_concurent:", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("t.yaml:3:15: tasks.max_wait_s:", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("t.yaml:5:14: server.log_level:", 0), 0u) << lines[2];
}

TEST(ConfigErrors, ErrorCarriesLocationAndKeyPath) {
  try {
    load_text("mcp:\n  page_size: 0\n");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where().file, "t.yaml");
    EXPECT_EQ(e.where().line, 2);
    EXPECT_EQ(e.where().column, 14);
    EXPECT_EQ(e.key_path(), "mcp.page_size");
  }
}

TEST(ConfigErrors, TheDocumentMustBeOneMapping) {
  EXPECT_EQ(error_of("just text\n"), "t.yaml:1:1: expected a mapping, got 'just text'");
  EXPECT_EQ(error_of("- a\n- b\n"), "t.yaml:1:1: expected a mapping, got a list");
  EXPECT_EQ(error_of("mcp: {}\n---\nmcp: {}\n"),
            "t.yaml:2:1: a configuration is one YAML document, found more (remove the '---' "
            "separators and anything after the first document)");
}

// fuzz_config found that yaml-cpp's LoadAll never returns on a stray ']' after a mapping.
TEST(ConfigErrors, StrayClosingBracketEndsWithAnError) {
  EXPECT_NE(error_of("serve:\n  listen: x\n]\n"), "");
}

TEST(ConfigErrors, SuggestionsAreOnlyMadeForNearMisses) {
  EXPECT_EQ(closest_match("max_concurent", {"max_queued", "max_concurrent"}), "max_concurrent");
  EXPECT_EQ(closest_match("Listen", {"listen", "data_dir"}), "listen");
  EXPECT_EQ(closest_match("colour", {"listen", "data_dir"}), std::nullopt);
  EXPECT_EQ(closest_match("ab", {"xy"}), std::nullopt);
}

// ---- files and lookup ----

TEST(ConfigFiles, LoadFileResolvesPathsNextToTheFile) {
  test::TempDir dir;
  const std::string path = dir.write("etc/coda.yaml", "tasks: {envelope_template: env.md}\n");
  const Config config = load_file(path);
  EXPECT_EQ(config.source, path);
  EXPECT_EQ(config.tasks.envelope_template, dir.path() + "/etc/env.md");
}

TEST(ConfigFiles, MissingFileIsAClearError) {
  test::TempDir dir;
  try {
    load_file(dir.path() + "/nope.yaml");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), dir.path() + "/nope.yaml: no such file");
  }
  EXPECT_THROW(load_file(dir.path()), ConfigError);
}

TEST(ConfigFiles, ErrorsInAFileNameTheFile) {
  test::TempDir dir;
  const std::string path = dir.write("bad.yaml", "\n\nmcp: {pagesize: 3}\n");
  try {
    load_file(path);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), path + ":3:7: mcp.pagesize: unknown key 'pagesize' (did you "
                                            "mean 'page_size'?)");
  }
}

// Restores an environment variable on scope exit.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(ConfigFiles, CodaConfigVariableComesFirstInTheLookup) {
  test::TempDir dir;
  const std::string path = dir.write("mine.yaml", "tasks: {max_concurrent: 9}\n");
  {
    ScopedEnv env("CODA_CONFIG", path.c_str());
    EXPECT_EQ(default_config_path(), path);
    EXPECT_EQ(load("").tasks.max_concurrent, 9);
  }
  {
    ScopedEnv env("CODA_CONFIG", nullptr);
    const std::string expected = std::filesystem::exists("/etc/coda/coda.yaml")
                                     ? "/etc/coda/coda.yaml"
                                     : "";
    EXPECT_EQ(default_config_path(), expected);
    if (expected.empty()) {
      EXPECT_EQ(load("").source, "<built-in>");
    }
  }
  EXPECT_EQ(load(path).source, path);
}

}  // namespace
}  // namespace coda::config
