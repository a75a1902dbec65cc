#include "core/bridge/options.hpp"

#include <cstdlib>

#include "core/bridge/command_line.hpp"

namespace coda::bridge {
namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

bool valid_header_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c <= 32 || c >= 127 || c == ':' || c == '(' || c == ')' || c == ',' || c == ';' ||
        c == '"' || c == '/' || c == '[' || c == ']' || c == '?' || c == '=' || c == '{' ||
        c == '}' || c == '\\' || c == '<' || c == '>' || c == '@') {
      return false;
    }
  }
  return true;
}

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Options resolve_options(const RawOptions& raw, const EnvLookup& env) {
  Options options;
  std::string url = raw.url;
  if (url.empty()) url = env("CODA_MCP_URL").value_or("");
  if (url.empty()) {
    throw UsageError("no MCP endpoint: pass --url https://HOST/mcp or set CODA_MCP_URL");
  }
  try {
    options.url = Url::parse(url);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--url: ") + e.what());
  }

  if (!raw.token_command.empty()) {
    try {
      options.token_command = split_command_line(raw.token_command);
    } catch (const CommandLineError& e) {
      throw UsageError(std::string("--token-command: ") + e.what());
    }
  } else if (auto profile = env("DATABRICKS_PROFILE"); profile && !profile->empty()) {
    options.token_command = {"databricks", "auth", "token", "-p", *profile};
  }

  for (const auto& header : raw.headers) {
    auto colon = header.find(':');
    std::string name = colon == std::string::npos ? std::string() : trim(header.substr(0, colon));
    if (colon == std::string::npos || !valid_header_name(name)) {
      // The value is not echoed: headers often carry secrets.
      throw UsageError("--header: expected 'Name: value' with a valid header name");
    }
    options.headers.emplace_back(name, trim(header.substr(colon + 1)));
  }

  if (!(raw.timeout_s > 0) || raw.timeout_s > 86400) {
    throw UsageError("--timeout: expected seconds between 0 and 86400, got " +
                     std::to_string(raw.timeout_s));
  }
  options.timeout = std::chrono::milliseconds(static_cast<long>(raw.timeout_s * 1000));
  return options;
}

}  // namespace coda::bridge
