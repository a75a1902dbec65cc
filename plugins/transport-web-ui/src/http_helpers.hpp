#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <coda/plugin.h>
#include <coda/plugin.hpp>

namespace coda::webui {

// Read access to a coda_http_request_t. Valid while the request is (inside the route's handle()).
class RequestView {
 public:
  explicit RequestView(const coda_http_request_t* req) : req_(req) {}
  std::string_view method() const;
  std::string_view path() const;
  std::string_view body() const;
  std::string_view identity_json() const;  // "" when the host gave none
  std::string_view remote_addr() const;
  std::string_view request_id() const;
  std::string_view base_url() const;  // "" from a host older than the field
  // The first header with this name (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
  // A query parameter, percent-decoded ('+' as space), or nullopt.
  std::optional<std::string> query_param(std::string_view name) const;

 private:
  const coda_http_request_t* req_;
};

// Writes one response through the host's functions. Valid inside handle() only.
class ResponseWriter {
 public:
  ResponseWriter(const coda_host_t* host, coda_http_response_t* resp) : host_(host), resp_(resp) {}
  void status(int code);
  void header(std::string_view name, std::string_view value);
  // The headers every UI response carries: a CSP that allows nothing outside this host,
  // frame-ancestors from config, nosniff, no referrer, no framing, same-origin opener.
  void security_headers(std::string_view frame_ancestors);
  // Status, Content-Type and body in one go (an empty body writes nothing).
  void send(int code, std::string_view content_type, std::string_view body);
  // {"error": message} with Cache-Control: no-store.
  void send_json_error(int code, std::string_view message);

 private:
  const coda_host_t* host_;
  coda_http_response_t* resp_;
};

// A JSON string literal of text (one home: the SDK).
using sdk::json_quote;

}  // namespace coda::webui
