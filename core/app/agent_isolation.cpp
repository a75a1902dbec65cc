#include "core/app/agent_isolation.hpp"

#include <Poco/JSON/Parser.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "core/process/agent_account.hpp"
#include "core/process/landlock.hpp"

namespace coda::app {
namespace {

// The agents' policy with the files the host read that may hold secrets — the config file, bearer
// token files, the TLS key, the OAuth JWKS file — hidden from sandboxed agents.
config::AgentPolicy policy_with_hidden_files(const config::Config& config) {
  config::AgentPolicy policy = config.agents.policy;
  auto hide = [&policy](const std::string& path) {
    std::error_code error;
    if (path.empty() || !std::filesystem::exists(path, error)) return;
    policy.sandbox.hidden.push_back(std::filesystem::absolute(path, error).string());
  };
  if (config.source != "<built-in>") hide(config.source);
  for (const auto& token : config.auth.tokens) hide(token.file);
  hide(config.server.tls.key_file);
  try {
    auto oauth =
        Poco::JSON::Parser().parse(config.auth.oauth_json).extract<Poco::JSON::Object::Ptr>();
    if (oauth->has("jwks_file")) hide(oauth->getValue<std::string>("jwks_file"));
  } catch (const std::exception&) {
    // No usable oauth section: nothing to hide (the authenticator refuses a bad one).
  }
  return policy;
}

// agents.policy.run_as, looked up into policy.account. Returns the summary's note on it ("" without
// run_as); throws IsolationRefused.
std::string choose_account(config::AgentPolicy& policy) {
  if (policy.run_as.empty()) return "";
  const std::string key = policy.run_as_where.to_string() + ": agents.policy.run_as: ";
  if (const uid_t uid = ::geteuid(); uid != 0) {
    throw IsolationRefused(key + "the host runs as uid " + std::to_string(uid) +
                           ", and only root can start agents as another user: remove run_as, or "
                           "start the host as root");
  }
  try {
    policy.account = process::lookup_agent_account(policy.run_as);
  } catch (const std::runtime_error& e) {
    throw IsolationRefused(key + e.what());
  }
  return "; agents run as " + policy.account.name + " (uid " + std::to_string(policy.account.uid) +
         "), apart from the host's root";
}

// The summary for the log; sets policy.landlock_enforced; throws IsolationRefused.
std::string choose(const config::Config& config, config::AgentPolicy& policy) {
  const bool several_users = config.auth.mode != "none";
  if (policy.sandbox.enabled) {
    return "bubblewrap sandbox (own pid namespace, data dir and secret files hidden, the rest "
           "read-only)";
  }
  if (policy.landlock == "on" || (policy.landlock == "auto" && several_users)) {
    if (const int abi = process::landlock_abi(); abi > 0) {
      policy.landlock_enforced = true;
      return "Landlock ABI " + std::to_string(abi) +
             " (data dir and secret files closed but for the task's own workspace; one domain "
             "per agent)";
    }
    if (policy.landlock == "on") {
      throw IsolationRefused(
          "agents.policy.landlock is on, but this kernel has no Landlock (Linux "
          ">= 5.13 with lsm=landlock); enable agents.policy.sandbox instead, or set "
          "landlock: off");
    }
  }
  if (several_users && !policy.allow_unisolated) {
    throw IsolationRefused(
        "auth.mode " + config.auth.mode +
        " lets several users run agents, but nothing would keep one user's agents out of "
        "another's workspaces and the task store: enable agents.policy.sandbox (bubblewrap), "
        "use a kernel with Landlock (agents.policy.landlock: auto), or set "
        "agents.policy.allow_unisolated: true to accept that (docs/security.md)");
  }
  return several_users ? "none (agents.policy.allow_unisolated: agents can read each other's "
                         "workspaces and the store)"
                       : "none needed for one user (auth.mode none); the host's own files are "
                         "protected by PR_SET_DUMPABLE only";
}

}  // namespace

AgentIsolation decide_agent_isolation(const config::Config& config) {
  AgentIsolation isolation;
  isolation.policy = policy_with_hidden_files(config);
  const std::string account = choose_account(isolation.policy);
  auto& policy = isolation.policy;
  policy.per_owner_home =
      policy.home == "per_owner" || (policy.home == "auto" && config.auth.mode != "none");
  isolation.summary = choose(config, policy) + account +
                      (policy.per_owner_home ? "; one HOME per owner" : "; HOME shared");
  if (isolation.policy.landlock_enforced && ::geteuid() == 0 && isolation.policy.account.uid == 0) {
    isolation.warnings.push_back(
        "agents run as root under Landlock only: root passes the ptrace check on the host's "
        "/proc/<pid>/environ and mem; set agents.policy.run_as to an unprivileged user, or enable "
        "agents.policy.sandbox, on a root host");
  }
  return isolation;
}

void prepare_data_dir(const std::string& data_dir, const config::AgentPolicy& policy) {
  if (policy.account.uid == 0) {
    ::chmod(data_dir.c_str(), 0700);  // tasks, prompts and workspaces are private to the host
    return;
  }
  ::umask(077);
  ::chmod(data_dir.c_str(), 0711);
  std::error_code error;
  for (const char* passable : {"workspaces", "homes", "tmp"}) {
    std::filesystem::create_directory(std::filesystem::path(data_dir) / passable, error);
  }
  for (const auto& entry : std::filesystem::directory_iterator(data_dir, error)) {
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) != 0 || S_ISLNK(st.st_mode)) continue;
    const auto name = entry.path().filename();
    const mode_t mode =
        name == "workspaces" || name == "homes" || name == "tmp" ? 0711 : (st.st_mode & 07700);
    ::chmod(entry.path().c_str(), mode);
  }
}

}  // namespace coda::app
