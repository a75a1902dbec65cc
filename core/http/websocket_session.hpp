#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <Poco/Net/WebSocket.h>

namespace coda::http {

class WebSocketSession;

// Receives the messages of one WebSocket. Called on the socket's reader thread, never concurrently.
class WebSocketListener {
 public:
  virtual ~WebSocketListener() = default;
  // One complete text message (fragments already joined).
  virtual void on_message(WebSocketSession& session, std::string_view text) = 0;
  // The last call: the socket is closed; send() fails from now on.
  virtual void on_close(WebSocketSession& session) = 0;
};

// One upgraded connection. run() is the reader loop (on the request's worker thread); send() and
// close() are thread-safe and may be called from any thread until on_close() returns — the session
// object lives until run() returns.
class WebSocketSession {
 public:
  struct Limits {
    std::size_t max_message_bytes = 4u << 20;
    int idle_timeout_s = 30;  // a ping after this much silence; closed after twice this
    int send_timeout_s = 60;
  };

  WebSocketSession(Poco::Net::WebSocket socket, Limits limits);
  WebSocketSession(const WebSocketSession&) = delete;
  WebSocketSession& operator=(const WebSocketSession&) = delete;

  // Reads frames until the socket closes, answering pings, joining fragments and handing complete
  // text messages to `listener`; then calls listener.on_close(). A binary message closes the socket
  // with 1003, a message over the limit with 1009.
  void run(WebSocketListener& listener);

  // Sends one text frame. Returns false once the socket is closed or the send failed.
  bool send(std::string_view text);
  // Sends a close frame with `code` and stops the reader loop. Idempotent.
  void close(int code, std::string_view reason = "");
  bool closed() const;

 private:
  bool send_frame(std::string_view payload, int flags);

  Poco::Net::WebSocket socket_;
  Limits limits_;
  mutable std::mutex send_mutex_;
  bool closed_ = false;       // under send_mutex_: no more sends
  bool close_sent_ = false;   // under send_mutex_
};

}  // namespace coda::http
