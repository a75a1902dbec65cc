#include "http_helpers.hpp"

#include <algorithm>
#include <cctype>

#include <coda/plugin.hpp>

namespace coda::webui {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

std::string_view RequestView::method() const { return sdk::view(req_->method); }
std::string_view RequestView::path() const { return sdk::view(req_->path); }
std::string_view RequestView::body() const { return sdk::view(req_->body); }
std::string_view RequestView::remote_addr() const { return sdk::view(req_->remote_addr); }
std::string_view RequestView::request_id() const { return sdk::view(req_->request_id); }
std::string_view RequestView::base_url() const {
  return CODA_HAS(req_, coda_http_request_t, base_url) ? sdk::view(req_->base_url)
                                                       : std::string_view();
}

std::string_view RequestView::identity_json() const { return sdk::view(req_->identity_json); }

std::optional<std::string_view> RequestView::header(std::string_view name) const {
  for (std::size_t i = 0; i < req_->header_count; ++i) {
    if (iequals(sdk::view(req_->headers[i].name), name)) return sdk::view(req_->headers[i].value);
  }
  return std::nullopt;
}

std::optional<std::string> RequestView::query_param(std::string_view name) const {
  std::string_view query = sdk::view(req_->query);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

void ResponseWriter::status(int code) { host_->http_status(resp_, code); }

void ResponseWriter::header(std::string_view name, std::string_view value) {
  host_->http_header(resp_, sdk::str(name), sdk::str(value));
}

void ResponseWriter::security_headers(std::string_view frame_ancestors) {
  std::string csp =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
      "form-action 'self'; frame-ancestors ";
  csp += frame_ancestors;
  header("Content-Security-Policy", csp);
  header("X-Content-Type-Options", "nosniff");
  header("Referrer-Policy", "no-referrer");
  if (frame_ancestors == "'none'") header("X-Frame-Options", "DENY");
  header("Cross-Origin-Opener-Policy", "same-origin");
  header("Cross-Origin-Resource-Policy", "same-origin");
  header("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
}

void ResponseWriter::send(int code, std::string_view content_type, std::string_view body) {
  status(code);
  if (!content_type.empty()) header("Content-Type", content_type);
  if (!body.empty()) host_->http_write(resp_, sdk::str(body));
}

void ResponseWriter::send_json_error(int code, std::string_view message) {
  header("Cache-Control", "no-store");
  send(code, "application/json", "{\"error\":" + json_quote(message) + "}");
}


}  // namespace coda::webui
