#pragma once

// Helpers of the attack suite (tests/security/*_test.cpp): MCP tool calls over the real
// HTTP transport with chosen credentials, and reading their answers (JSON or SSE).
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <Poco/JSON/Parser.h>

#include "tests/support/coda_server.hpp"
#include "tests/support/http_client.hpp"

namespace coda::test::security {

using Headers = std::vector<std::pair<std::string, std::string>>;

inline Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

inline Headers operator+(Headers a, const Headers& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The JSON-RPC message of a response: the body, or the last `data:` line of an SSE stream.
inline Poco::JSON::Object::Ptr rpc_message(const HttpResponse& response) {
  std::string json = response.body;
  if (response.header("content-type").find("text/event-stream") != std::string::npos) {
    std::istringstream lines(response.body);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind("data:", 0) == 0) json = line.substr(line[5] == ' ' ? 6 : 5);
    }
  }
  return Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
}

// The outcome of one tools/call.
struct ToolOutcome {
  int http_status = 0;
  bool is_error = false;
  std::string text;                     // the first text block
  Poco::JSON::Object::Ptr structured;   // structuredContent, may be null
};

inline std::string json_text(const Poco::JSON::Object& object) {
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

// tools/call `name` with `arguments_json` on the MCP endpoint `mcp_url`, as the caller `headers` make.
inline ToolOutcome call_tool_at(const std::string& mcp_url, const std::string& name,
                                const std::string& arguments_json, const Headers& headers) {
  static int next_id = 1;
  std::string request = R"({"jsonrpc":"2.0","id":)" + std::to_string(next_id++) +
                        R"(,"method":"tools/call","params":{"name":")" + name +
                        R"(","arguments":)" + arguments_json + "}}";
  auto response = mcp_post(mcp_url, request, headers);
  ToolOutcome outcome;
  outcome.http_status = response.status;
  if (response.status != 200) return outcome;
  auto message = rpc_message(response);
  auto result = message->getObject("result");
  if (result.isNull()) {
    outcome.is_error = true;
    outcome.text = message->has("error") ? json_text(*message->getObject("error")) : response.body;
    return outcome;
  }
  outcome.is_error = result->optValue<bool>("isError", false);
  auto content = result->getArray("content");
  if (!content.isNull() && content->size() > 0) {
    outcome.text = content->getObject(0)->optValue<std::string>("text", "");
  }
  outcome.structured = result->getObject("structuredContent");
  return outcome;
}

// The same on the server's /mcp.
inline ToolOutcome call_tool(const CodaServer& server, const std::string& name,
                             const std::string& arguments_json, const Headers& headers) {
  return call_tool_at(server.mcp_url(), name, arguments_json, headers);
}

// A tools/list round trip: the HTTP status (200 when the caller is let in).
inline int list_tools_status(const CodaServer& server, const Headers& headers) {
  return mcp_post(server.mcp_url(), R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})", headers)
      .status;
}

// The config of a host with the MCP HTTP transport and the fake `claude` agent (tests/fixtures/agents),
// with the given auth section (YAML, indented by two spaces under `auth:`).
inline std::string host_config(const std::string& auth_section) {
  return R"(plugins:
  load: [transport-mcp-http, agent-cli]
transports:
  mcp-http: {component: dev.coda.transport.mcp-http, path: /mcp}
agents:
  order: [claude]
  backends:
    claude: {component: dev.coda.agent.cli, preset: claude}
auth:
)" + auth_section;
}

// Options for a server whose agents find the fake CLIs first on PATH.
inline CodaServer::Options server_options(const std::string& config_yaml,
                                          std::map<std::string, std::string> env = {}) {
  CodaServer::Options options;
  options.config_yaml = config_yaml;
  env["PATH"] = std::string(CODA_FIXTURE_AGENT_DIR) + ":" + (getenv("PATH") ? getenv("PATH") : "");
  options.env = std::move(env);
  return options;
}

// `yaml` with the agents' environment (agents.policy.env) given FAKE_SCRIPT, the only change.
inline std::string with_fake_script(std::string text, const std::string& script) {
  const std::string env = "    env: {FAKE_SCRIPT: " + script + "}\n";
  if (const auto existing = text.find("    env: {}\n"); existing != std::string::npos) {
    text.replace(existing, 12, env);
  } else if (const auto map = text.find("    env: {"); map != std::string::npos) {
    text.insert(map + 10, "FAKE_SCRIPT: " + script + ", ");  // beside the entries already there
  } else if (const auto policy = text.find("\n  policy:\n"); policy != std::string::npos) {
    text.insert(policy + 11, env);
  } else if (const auto agents = text.find("\nagents:\n"); agents != std::string::npos) {
    text.insert(agents + 9, "  policy:\n" + env);
  } else {
    ADD_FAILURE() << "no agents section in:\n" << text;
  }
  return text;
}

// Polls coda_get_result until the task is no longer queued or running; returns "status <status>"
// and then every event's data (all pages), one per line.
inline std::string finished_output(const std::string& mcp_url, const std::string& task_id,
                                   const Headers& caller) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    auto result = call_tool_at(mcp_url, "coda_get_result",
                               R"({"task_id":")" + task_id + R"(","wait_s":5,"events_after":0})",
                               caller);
    EXPECT_FALSE(result.is_error) << result.text;
    if (result.is_error || result.structured.isNull()) return "";
    const auto status = result.structured->getValue<std::string>("status");
    if (status == "queued" || status == "running") continue;
    std::string out = "status " + status + "\n";
    while (true) {
      auto events = result.structured->getArray("events");
      for (std::size_t i = 0; events && i < events->size(); ++i) {
        out += events->getObject(i)->optValue<std::string>("data", "") + "\n";
      }
      if (!result.structured->optValue<bool>("has_more", false)) return out;
      const auto after = result.structured->getValue<int64_t>("next_seq") - 1;
      result = call_tool_at(
          mcp_url, "coda_get_result",
          R"({"task_id":")" + task_id + R"(","events_after":)" + std::to_string(after) + "}",
          caller);
      EXPECT_FALSE(result.is_error) << result.text;
      if (result.is_error || result.structured.isNull()) return out;
    }
  }
  ADD_FAILURE() << "task " << task_id << " did not finish";
  return "";
}

}  // namespace coda::test::security
