#include "core/http/websocket_session.hpp"

#include <Poco/Buffer.h>
#include <Poco/Net/NetException.h>

#include "core/log/logging.hpp"

namespace coda::http {

using Poco::Net::WebSocket;

namespace {
constexpr int frame(WebSocket::FrameOpcodes opcode) {
  return static_cast<int>(WebSocket::FRAME_FLAG_FIN) | static_cast<int>(opcode);
}
}  // namespace

WebSocketSession::WebSocketSession(WebSocket socket, Limits limits)
    : socket_(std::move(socket)), limits_(limits) {
  socket_.setReceiveTimeout(Poco::Timespan(limits_.idle_timeout_s, 0));
  socket_.setSendTimeout(Poco::Timespan(limits_.send_timeout_s, 0));
  socket_.setMaxPayloadSize(static_cast<int>(limits_.max_message_bytes));
}

bool WebSocketSession::send_frame(std::string_view payload, int flags) {
  try {
    socket_.sendFrame(payload.data(), static_cast<int>(payload.size()), flags);
    return true;
  } catch (const Poco::Exception& e) {
    log::get("http").debug("websocket send failed: " + e.displayText());
    closed_ = true;
    return false;
  }
}

bool WebSocketSession::send(std::string_view text) {
  std::lock_guard lock(send_mutex_);
  if (closed_ || close_sent_) return false;
  return send_frame(text, WebSocket::FRAME_TEXT);
}

void WebSocketSession::close(int code, std::string_view reason) {
  std::lock_guard lock(send_mutex_);
  if (closed_ || close_sent_) return;
  close_sent_ = true;
  std::string payload;
  payload.push_back(static_cast<char>((code >> 8) & 0xff));
  payload.push_back(static_cast<char>(code & 0xff));
  payload.append(reason.substr(0, 120));
  send_frame(payload, frame(WebSocket::FRAME_OP_CLOSE));
  try {
    socket_.shutdownReceive();  // the reader loop ends now instead of waiting for the peer's reply
  } catch (const Poco::Exception&) {
  }
}

bool WebSocketSession::closed() const {
  std::lock_guard lock(send_mutex_);
  return closed_ || close_sent_;
}

void WebSocketSession::run(WebSocketListener& listener) {
  std::string message;
  bool in_message = false;
  bool binary = false;
  int silent_periods = 0;
  Poco::Buffer<char> buffer(0);
  while (true) {
    int flags = 0;
    int n = 0;
    buffer.resize(0);
    try {
      n = socket_.receiveFrame(buffer, flags);
    } catch (const Poco::TimeoutException&) {
      if (++silent_periods >= 2) {
        close(1001, "idle");
        break;
      }
      std::lock_guard lock(send_mutex_);
      if (closed_ || close_sent_) break;
      send_frame("", frame(WebSocket::FRAME_OP_PING));
      continue;
    } catch (const Poco::Net::WebSocketException& e) {
      if (e.code() == WebSocket::WS_ERR_PAYLOAD_TOO_BIG) close(1009, "message too big");
      break;
    } catch (const Poco::Exception&) {
      break;  // reset, shut down, or closed by close()
    }
    silent_periods = 0;
    if (n == 0 && flags == 0) break;  // orderly TCP close
    int opcode = flags & WebSocket::FRAME_OP_BITMASK;
    std::string_view payload(buffer.begin(), buffer.size());
    if (opcode == WebSocket::FRAME_OP_CLOSE) {
      close(1000);
      break;
    }
    if (opcode == WebSocket::FRAME_OP_PING) {
      std::lock_guard lock(send_mutex_);
      if (!closed_ && !close_sent_) {
        send_frame(payload, frame(WebSocket::FRAME_OP_PONG));
      }
      continue;
    }
    if (opcode == WebSocket::FRAME_OP_PONG) continue;
    if (opcode == WebSocket::FRAME_OP_TEXT || opcode == WebSocket::FRAME_OP_BINARY) {
      if (in_message) {
        close(1002, "new message inside a fragmented one");
        break;
      }
      in_message = true;
      binary = opcode == WebSocket::FRAME_OP_BINARY;
      message.clear();
    } else if (opcode != WebSocket::FRAME_OP_CONT || !in_message) {
      close(1002, "unexpected frame");
      break;
    }
    if (message.size() + payload.size() > limits_.max_message_bytes) {
      close(1009, "message too big");
      break;
    }
    message.append(payload);
    if ((flags & WebSocket::FRAME_FLAG_FIN) == 0) continue;
    in_message = false;
    if (binary) {
      close(1003, "only text messages are accepted");
      break;
    }
    listener.on_message(*this, message);
  }
  {
    std::lock_guard lock(send_mutex_);
    closed_ = true;
  }
  listener.on_close(*this);
  try {
    socket_.close();
  } catch (const Poco::Exception&) {
  }
}

}  // namespace coda::http
