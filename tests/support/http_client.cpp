#include "tests/support/http_client.hpp"

#include <algorithm>
#include <sstream>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

namespace coda::test {

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

HttpResponse http_request(const std::string& method, const std::string& url, const std::string& body,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          int timeout_s) {
  Poco::URI uri(url);
  Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
  session.setTimeout(Poco::Timespan(timeout_s, 0));
  std::string target = uri.getPathAndQuery();
  if (target.empty()) target = "/";
  Poco::Net::HTTPRequest request(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [name, value] : headers) request.add(name, value);
  if (!body.empty() || method == "POST" || method == "PUT") request.setContentLength(body.size());
  std::ostream& out = session.sendRequest(request);
  out << body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  HttpResponse result;
  result.status = static_cast<int>(response.getStatus());
  for (const auto& [name, value] : response) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    result.headers[lower] = value;
  }
  std::ostringstream content;
  Poco::StreamCopier::copyStream(in, content);
  result.body = content.str();
  return result;
}

HttpResponse mcp_post(const std::string& url, const std::string& json,
                      const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", "application/json"},
      {"Accept", "application/json, text/event-stream"},
      {"MCP-Protocol-Version", "2025-11-25"}};
  headers.insert(headers.end(), extra.begin(), extra.end());
  return http_request("POST", url, json, headers);
}

}  // namespace coda::test
