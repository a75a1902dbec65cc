#include "core/http/exchange.hpp"

#include <strings.h>

#include <stdexcept>

#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/UTF8String.h>


namespace coda::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool contains_token(const std::string& value, std::string_view token) {
  std::string lower = Poco::UTF8::toLower(value);
  return lower.find(token) != std::string::npos;
}

}  // namespace

void send_json_error(Poco::Net::HTTPServerResponse& response, int status,
                     std::string_view message) {
  if (response.sent()) return;
  std::string body = "{\"error\":\"" + Poco::UTF8::escape(std::string(message), true) + "\"}\n";
  response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  response.setContentType("application/json");
  response.setChunkedTransferEncoding(false);
  response.setContentLength(static_cast<std::streamsize>(body.size()));
  response.sendBuffer(body.data(), body.size());
}

Exchange::Exchange(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                   RequestInfo info, WebSocketSession::Limits ws_limits)
    : request_(request), response_(response), info_(std::move(info)), ws_limits_(ws_limits) {}

std::string Exchange::header(std::string_view name) const {
  for (const auto& [n, v] : info_.headers) {
    if (iequals(n, name)) return v;
  }
  return "";
}

bool Exchange::set_status(int status) {
  if (headers_sent() || status < 100 || status > 999) return false;
  response_.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  return true;
}

bool Exchange::add_header(std::string_view name, std::string_view value) {
  if (headers_sent()) return false;
  if (name.empty() || name.find_first_of(":\r\n ") != std::string_view::npos ||
      value.find_first_of("\r\n") != std::string_view::npos) {
    return false;  // header injection
  }
  if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding")) return true;
  if (iequals(name, "Connection")) {
    if (contains_token(std::string(value), "close")) response_.setKeepAlive(false);
    return true;
  }
  if (iequals(name, "Content-Type")) {
    response_.setContentType(std::string(value));
  } else {
    response_.add(std::string(name), std::string(value));
  }
  return true;
}

bool Exchange::start_streaming() {
  if (streaming_) return !failed_;
  streaming_ = true;
  response_.setChunkedTransferEncoding(true);
  try {
    stream_ = &response_.send();
    if (!buffer_.empty()) stream_->write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
    buffer_.shrink_to_fit();
    stream_->flush();
  } catch (const Poco::Exception&) {
    failed_ = true;
  }
  if (stream_ == nullptr || !stream_->good()) failed_ = true;
  return !failed_;
}

bool Exchange::write(std::string_view bytes) {
  if (upgraded_ || failed_) return false;
  if (!streaming_) {
    buffer_.append(bytes);
    if (buffer_.size() > kStreamThreshold) return start_streaming();
    return true;
  }
  stream_->write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!stream_->good()) failed_ = true;
  return !failed_;
}

bool Exchange::flush() {
  if (upgraded_ || failed_) return false;
  if (!start_streaming()) return false;
  stream_->flush();
  if (!stream_->good()) failed_ = true;
  return !failed_;
}

bool Exchange::is_websocket_upgrade() const {
  return contains_token(header("Connection"), "upgrade") &&
         iequals(header("Upgrade"), "websocket");
}

void Exchange::run_websocket(WebSocketListener& listener) {
  if (!is_websocket_upgrade()) throw std::logic_error("the request is no WebSocket upgrade");
  if (headers_sent()) throw std::logic_error("a response was already started");
  Poco::Net::WebSocket socket(request_, response_);  // sends 101 Switching Protocols
  upgraded_ = true;
  WebSocketSession session(std::move(socket), ws_limits_);
  session.run(listener);
}

void Exchange::finish() {
  if (upgraded_ || failed_) return;
  try {
    if (streaming_) {
      stream_->flush();
      return;  // Poco ends the chunked body when the response is destroyed
    }
    if (response_.sent() || completed_) return;
    send_complete();
  } catch (const std::exception&) {
    failed_ = true;
    response_.setKeepAlive(false);
  }
}

void Exchange::send_complete() {
  response_.setChunkedTransferEncoding(false);
  response_.setContentLength(static_cast<std::streamsize>(buffer_.size()));
  auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request_);
  if (impl == nullptr) {
    response_.sendBuffer(buffer_.data(), buffer_.size());
    return;
  }
  // Status line, headers and body in one send: Poco's sendBuffer() goes through a 4 KiB stream
  // buffer, which costs a system call (and a TCP segment) per 4 KiB.
  std::string out;
  out.reserve(512 + buffer_.size());
  out.append(response_.getVersion()).append(" ");
  out.append(std::to_string(static_cast<int>(response_.getStatus()))).append(" ");
  out.append(response_.getReason()).append("\r\n");
  for (const auto& [name, value] : response_) out.append(name).append(": ").append(value).append("\r\n");
  out.append("\r\n");
  if (request_.getMethod() != Poco::Net::HTTPRequest::HTTP_HEAD) out += buffer_;
  completed_ = true;
  Poco::Net::StreamSocket& socket = impl->socket();
  for (std::size_t sent = 0; sent < out.size();) {
    int n = socket.sendBytes(out.data() + sent, static_cast<int>(out.size() - sent));
    if (n <= 0) throw Poco::Net::NetException("the client stopped reading the response");
    sent += static_cast<std::size_t>(n);
  }
}

void Exchange::send_error(int status, std::string_view message) {
  if (headers_sent() || upgraded_) return;
  buffer_.clear();
  try {
    send_json_error(response_, status, message);
  } catch (const Poco::Exception&) {
    failed_ = true;
  }
}

}  // namespace coda::http
