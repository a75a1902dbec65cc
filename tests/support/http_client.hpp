#pragma once

#include <map>
#include <string>
#include <vector>

namespace coda::test {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased; the last value wins
  std::string body;
  std::string header(const std::string& lower_name) const;
};

// One HTTP/1.1 request over a fresh connection (Poco HTTPClientSession). Throws on a connection
// failure. `headers` are sent as given (name, value) and may repeat.
HttpResponse http_request(const std::string& method, const std::string& url,
                          const std::string& body = "",
                          const std::vector<std::pair<std::string, std::string>>& headers = {},
                          int timeout_s = 30);

// POST of a JSON-RPC message to an MCP endpoint with the headers a 2025-11-25 client sends
// (Content-Type JSON, Accept JSON + SSE, MCP-Protocol-Version), plus `extra`.
HttpResponse mcp_post(const std::string& url, const std::string& json,
                      const std::vector<std::pair<std::string, std::string>>& extra = {});

}  // namespace coda::test
