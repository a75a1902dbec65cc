#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <coda/plugin.h>

namespace coda::webui {

// Counts the messages this transport has dispatched and not yet seen answered, so that stop() can
// return only once no call into the host runs or will start. Thread-safe.
class CallTracker {
 public:
  void begin();
  void end();
  void wait_idle();

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  std::size_t active_ = 0;
};

// One MCP-over-WebSocket connection: every text frame is one JSON-RPC message, dispatched to the
// engine with this connection's origin; every reply (notifications, then the response) and every
// push the engine sends on the connection goes back as one text frame.
//
// Lifetime: created by the /ws route's handle(), which calls run() and keeps the object alive
// (shared_ptr) until run() returns; calls still in flight keep it alive until their final reply.
// Thread-safety: close() and the host's callbacks may run on any thread.
class WsConnection : public std::enable_shared_from_this<WsConnection> {
 public:
  struct Limits {
    int max_calls = 16;
    std::size_t max_message_bytes = 1u << 20;
  };

  // identity_json: who the ticket was issued to ("" when the host gave no identity: the engine then
  // applies its default); remote_addr: for the logs; base_url: how the client reached the host.
  WsConnection(const coda_host_t* host, CallTracker& tracker, std::string identity_json,
               std::string remote_addr, std::string base_url, Limits limits);
  WsConnection(const WsConnection&) = delete;
  WsConnection& operator=(const WsConnection&) = delete;

  // Opens the engine connection, completes the upgrade and serves the socket until it closes (blocks
  // the calling thread, as http_upgrade does), then cancels calls still running and closes the engine
  // connection. Returns the upgrade's status (CODA_E_INVALID: the request was no upgrade).
  coda_status_t run(coda_http_response_t* resp);

  // Asks the socket to close with `code` (1001 when the host stops). Safe at any time; a socket that
  // has not yet sent a frame is closed when its first frame arrives.
  void close(int32_t code);

 private:
  struct Call;
  static void on_message(void* ctx, coda_ws_t* ws, coda_str_t text);
  static void on_close(void* ctx, coda_ws_t* ws);
  static void on_push(void* ctx, coda_str_t json, uint32_t flags);
  static void on_reply(void* ctx, coda_str_t json, uint32_t flags);

  void handle_message(coda_ws_t* ws, std::string_view text);
  void handle_close();
  void send_frame(std::string_view text);
  // An error response for `message` (its id read if possible) without dispatching it.
  void refuse(std::string_view message, int code, std::string_view why);
  std::string origin_json();
  // Remembers the protocol version from an initialize result, so later messages carry it.
  void note_protocol_version(std::string_view reply);

  const coda_host_t* host_;
  CallTracker& tracker_;
  const std::string identity_json_;
  const std::string remote_addr_;
  const std::string base_url_;
  const Limits limits_;
  coda_ws_handler_t handler_{};
  coda_reply_sink_t push_sink_{};
  uint64_t conn_ = 0;

  // Guards everything below. Recursive because a host may report on_close from inside ws_close on
  // the same thread; the lock is held across ws_send/ws_close so that ws_ cannot dangle.
  std::recursive_mutex mutex_;
  coda_ws_t* ws_ = nullptr;      // known from the first frame; null again once closed
  bool closed_ = false;
  int32_t close_requested_ = 0;  // a close() that came before the socket was known
  uint64_t next_seq_ = 1;
  std::map<uint64_t, uint64_t> calls_;  // seq -> host call id (0 until dispatch returned)
  std::string protocol_version_;  // negotiated by the initialize answer that passed through
};

}  // namespace coda::webui
