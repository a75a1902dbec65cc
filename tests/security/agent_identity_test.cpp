// The attack suite: an agent tries to act as a user of its own host. A task's agent (the fake CLI in
// mode fake:script) connects to the host's listener — over loopback and over the machine's own
// interface address — with forged Databricks proxy headers, with the victim's bearer token and with
// a valid OAuth token, and asks for the victim's inbox. Every attempt must be refused (403: the
// listener attributes the connection to a process the host started) and the victim's prompt must
// not appear anywhere in the agent's output. The same requests from the test (not a descendant of
// the host) are let in, so the refusal is the agent's alone.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "core/auth/secrets.hpp"
#include "tests/security/security_support.hpp"
#include "tests/unit/auth/jwt_fixture.hpp"

namespace coda::test::security {
namespace {

using namespace std::chrono_literals;

constexpr const char* kVictimSecret = "victim-secret-plan-7f3a9c";
constexpr const char* kVictimToken = "victim-token-5d4c3b2a19087f6e";
constexpr const char* kAgentOwnerToken = "agent-owner-token-a1b2c3d4e5f6";

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t len = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &len);
  ::close(fd);
  return ntohs(address.sin_port);
}

// The machine's first non-loopback IPv4 address; "" when it has none.
std::string interface_address() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* it = list; it != nullptr && found.empty(); it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
    if ((ntohl(in4->sin_addr.s_addr) >> 24) == 127) continue;
    char text[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &in4->sin_addr, text, sizeof text);
    found = text;
  }
  ::freeifaddrs(list);
  return found;
}

// `yaml` with the agents' environment given FAKE_SCRIPT, the only change.
std::string with_fake_script(std::string text, const std::string& script) {
  const std::string env = "    env: {FAKE_SCRIPT: " + script + "}\n";
  if (const auto existing = text.find("    env: {}\n"); existing != std::string::npos) {
    text.replace(existing, 12, env);
  } else if (const auto policy = text.find("\n  policy:\n"); policy != std::string::npos) {
    text.insert(policy + 11, env);
  } else if (const auto agents = text.find("\nagents:\n"); agents != std::string::npos) {
    text.insert(agents + 9, "  policy:\n" + env);
  } else {
    ADD_FAILURE() << "no agents section in:\n" << text;
  }
  return text;
}

// A shipped config file with FAKE_SCRIPT for the agents.
std::string shipped_config(const std::string& name, const std::string& script) {
  return with_fake_script(read_file(std::string(CODA_SOURCE_DIR) + "/" + name), script);
}

// What the agent sends: `headers` (curl -H arguments) on a coda_inbox call to every target.
std::string attack_script(const std::vector<std::string>& targets,
                          const std::vector<std::string>& headers) {
  std::string script = "set -u\n";
  for (const auto& target : targets) {
    script += "curl -s -m 10 -w '\\nATTACK-STATUS " + target + " %{http_code}\\n' -X POST '" +
              target + "/mcp' -H 'Content-Type: application/json' "
              "-H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2025-11-25'";
    for (const auto& header : headers) script += " -H '" + header + "'";
    script += " --data '{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":"
              "{\"name\":\"coda_inbox\",\"arguments\":{}}}'"
              " || echo \"ATTACK-STATUS " + target + " curl-failed-$?\"\n";
  }
  return script;
}

// Polls coda_get_result until the task is no longer queued or running; returns every event's data.
std::string finished_output(const std::string& mcp_url, const std::string& task_id,
                            const Headers& caller) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto result = call_tool_at(mcp_url, "coda_get_result",
                            R"({"task_id":")" + task_id + R"(","wait_s":5,"events_after":0})",
                            caller);
    EXPECT_FALSE(result.is_error) << result.text;
    if (result.is_error || result.structured.isNull()) return "";
    const auto status = result.structured->getValue<std::string>("status");
    if (status == "queued" || status == "running") continue;
    std::string out = "status " + status + "\n";
    auto events = result.structured->getArray("events");
    for (std::size_t i = 0; events && i < events->size(); ++i) {
      out += events->getObject(i)->optValue<std::string>("data", "") + "\n";
    }
    return out;
  }
  ADD_FAILURE() << "task " << task_id << " did not finish";
  return "";
}

struct Scenario {
  std::string name;
  std::string config_yaml;
  std::string listen;                  // --listen
  Headers victim;                      // how the victim authenticates
  Headers agent_owner;                 // who submits the attacking task
  std::vector<std::string> forged;     // what the agent sends
};

class AgentIdentity : public ::testing::Test {
 protected:
  // Runs one scenario: the victim's secret task, then the agent's attack, then the checks.
  void attack(Scenario scenario, const std::vector<std::string>& hosts) {
    SCOPED_TRACE(scenario.name);
    const int port = free_port();
    std::vector<std::string> targets;
    for (const auto& host : hosts) targets.push_back("http://" + host + ":" + std::to_string(port));
    const std::string script = dir_.write("attack.sh", attack_script(targets, scenario.forged));
    auto options = server_options(scenario.config_yaml);
    options.args = {"serve", "--listen", scenario.listen + ":" + std::to_string(port)};
    CodaServer server(options);

    // The victim's task holds the secret in its prompt.
    const std::string mcp = targets.front() + "/mcp";
    auto victim_run = call_tool_at(mcp, "coda_run",
                                std::string(R"({"prompt":"fake:ok )") + kVictimSecret + "\"}",
                                scenario.victim);
    ASSERT_EQ(victim_run.http_status, 200);
    ASSERT_FALSE(victim_run.is_error) << victim_run.text;
    // The same request the agent will forge, made from outside the host's process tree, is let in:
    // the refusal below is about who connects, not about the request.
    for (const auto& target : targets) {
      auto direct = mcp_post(target + "/mcp",
                             R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})", scenario.victim);
      EXPECT_EQ(direct.status, 200) << target;
    }

    auto run = call_tool_at(mcp, "coda_run", R"({"prompt":"fake:script"})", scenario.agent_owner);
    ASSERT_FALSE(run.is_error) << run.text;
    const std::string output =
        finished_output(mcp, run.structured->getValue<std::string>("task_id"),
                        scenario.agent_owner);
    for (const auto& target : targets) {
      EXPECT_NE(output.find("ATTACK-STATUS " + target + " 403"), std::string::npos)
          << "the agent's request to " << target << " was not refused with 403:\n"
          << output;
    }
    EXPECT_EQ(output.find(kVictimSecret), std::string::npos)
        << "the agent read the victim's task:\n" << output;
    // Refused by the peer attribution (not by some other rule), and logged with the agent's pid.
    EXPECT_NE(server.output().find("a process this host started"), std::string::npos)
        << server.output();
  }

  // Loopback and, where the machine has one, its interface address (a 0.0.0.0 listener).
  static std::vector<std::string> all_addresses() {
    std::vector<std::string> hosts = {"127.0.0.1"};
    const std::string address = interface_address();
    if (!address.empty()) hosts.push_back(address);
    if (address.empty() && std::getenv("CI") != nullptr) {
      ADD_FAILURE() << "CI machine without a non-loopback IPv4 address: the interface-address "
                       "attack cannot run";
    }
    return hosts;
  }

  TempDir dir_;
};

TEST_F(AgentIdentity, DefaultConfigAgentIsNotTheLocalUser) {
  Scenario s;
  s.name = "config/coda.yaml, auth none";
  s.listen = "127.0.0.1";
  s.forged = {"X-Forwarded-Email: victim@example.com"};
  s.config_yaml = shipped_config("config/coda.yaml", dir_.path() + "/attack.sh");
  attack(s, {"127.0.0.1", "localhost"});
}

TEST_F(AgentIdentity, DatabricksAppsAgentCannotForgeTheProxysHeaders) {
  Scenario s;
  s.name = "config/examples/databricks-apps.yaml";
  s.listen = "0.0.0.0";
  s.victim = {{"X-Forwarded-Email", "victim@example.com"}, {"X-Forwarded-User", "1@2"}};
  s.agent_owner = {{"X-Forwarded-Email", "mallory@example.com"}, {"X-Forwarded-User", "3@4"}};
  s.forged = {"X-Forwarded-Email: victim@example.com", "X-Forwarded-User: 1@2",
              "X-Forwarded-Access-Token: forged", "X-Real-Ip: 10.1.2.3"};
  s.config_yaml = shipped_config("config/examples/databricks-apps.yaml", dir_.path() + "/attack.sh");
  attack(s, all_addresses());
}

TEST_F(AgentIdentity, BearerAgentCannotUseTheVictimsToken) {
  std::string auth = "  mode: bearer\n  tokens:\n";
  for (auto [token, who] : {std::pair{kVictimToken, "victim"}, std::pair{kAgentOwnerToken, "mallory"}}) {
    auth += "    - {sha256: " + auth::sha256_hex(token) + ", subject: " + who + ", email: " + who +
            "@example.com}\n";
  }
  Scenario s;
  s.name = "bearer";
  s.listen = "0.0.0.0";
  s.victim = bearer(kVictimToken);
  s.agent_owner = bearer(kAgentOwnerToken);
  // The agent somehow holds the victim's token: it is still refused.
  s.forged = {std::string("Authorization: Bearer ") + kVictimToken,
              "X-Forwarded-Email: victim@example.com"};
  s.config_yaml = with_fake_script(host_config(auth), dir_.path() + "/attack.sh");
  attack(s, all_addresses());
}

TEST_F(AgentIdentity, OAuthAgentCannotUseAValidToken) {
  static const auth::test::TestIssuer issuer("agent-identity-key");
  const std::string jwks = dir_.write("jwks.json", auth::test::TestIssuer::jwks({&issuer}));
  Scenario s;
  s.name = "oauth";
  s.listen = "0.0.0.0";
  s.victim = bearer(issuer.sign({}));
  s.agent_owner = s.victim;
  s.forged = {"Authorization: Bearer " + issuer.sign({})};
  s.config_yaml = with_fake_script(
      host_config("  mode: oauth\n  oauth:\n    issuer: https://issuer.example\n"
                  "    audience: coda\n    jwks_file: " + jwks + "\n    scopes: [coda.tasks]\n"),
      dir_.path() + "/attack.sh");
  attack(s, all_addresses());
}

}  // namespace
}  // namespace coda::test::security
