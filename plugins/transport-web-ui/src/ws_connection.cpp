#include "ws_connection.hpp"

#include <sstream>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <coda/json_depth.hpp>
#include <coda/plugin.hpp>

#include "http_helpers.hpp"

namespace coda::webui {

void CallTracker::begin() {
  std::lock_guard lock(mutex_);
  ++active_;
}

void CallTracker::end() {
  std::lock_guard lock(mutex_);
  if (--active_ == 0) idle_.notify_all();
}

void CallTracker::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return active_ == 0; });
}

// One dispatched message: the reply sink the host answers through. Deleted by its final reply.
struct WsConnection::Call {
  std::shared_ptr<WsConnection> conn;
  uint64_t seq = 0;
  coda_reply_sink_t sink{};
};

WsConnection::WsConnection(const coda_host_t* host, CallTracker& tracker, std::string identity_json,
                           std::string remote_addr, std::string base_url, Limits limits)
    : host_(host),
      tracker_(tracker),
      identity_json_(std::move(identity_json)),
      remote_addr_(std::move(remote_addr)),
      base_url_(std::move(base_url)),
      limits_(limits) {}

coda_status_t WsConnection::run(coda_http_response_t* resp) {
  push_sink_ = sdk::make<coda_reply_sink_t>();
  push_sink_.ctx = this;
  push_sink_.send = &WsConnection::on_push;
  const std::string origin = origin_json();
  if (host_->open_connection(host_, sdk::str(origin), &push_sink_, &conn_) != CODA_OK) {
    // Without a push connection requests still work; only engine-initiated messages are lost.
    sdk::log(host_, CODA_LOG_WARN,
             "web-ui: no push connection for a WebSocket: " +
                 sdk::copy(host_->last_error(host_)));
    conn_ = 0;
  }
  handler_ = sdk::make<coda_ws_handler_t>();
  handler_.ctx = this;
  handler_.on_message = &WsConnection::on_message;
  handler_.on_close = &WsConnection::on_close;
  const coda_status_t status = host_->http_upgrade(resp, &handler_);
  if (status != CODA_OK) handle_close();  // no on_close comes after a failed upgrade
  if (conn_ != 0) host_->close_connection(host_, conn_);
  return status;
}

void WsConnection::close(int32_t code) {
  std::lock_guard lock(mutex_);
  if (closed_) return;
  if (ws_ != nullptr) {
    host_->ws_close(ws_, code);
  } else {
    close_requested_ = code;
  }
}

void WsConnection::on_message(void* ctx, coda_ws_t* ws, coda_str_t text) {
  auto* self = static_cast<WsConnection*>(ctx);
  sdk::barrier_void(self->host_, [&] { self->handle_message(ws, sdk::view(text)); });
}

void WsConnection::on_close(void* ctx, coda_ws_t* ws) {
  (void)ws;
  auto* self = static_cast<WsConnection*>(ctx);
  sdk::barrier_void(self->host_, [&] { self->handle_close(); });
}

void WsConnection::on_push(void* ctx, coda_str_t json, uint32_t flags) {
  (void)flags;
  auto* self = static_cast<WsConnection*>(ctx);
  sdk::barrier_void(self->host_, [&] {
    if (json.len > 0) self->send_frame(sdk::view(json));
  });
}

void WsConnection::on_reply(void* ctx, coda_str_t json, uint32_t flags) {
  auto* call = static_cast<Call*>(ctx);
  WsConnection& conn = *call->conn;
  sdk::barrier_void(conn.host_, [&] {
    if (json.len == 0) return;
    if (flags == CODA_SEND_FINAL) conn.note_protocol_version(sdk::view(json));
    conn.send_frame(sdk::view(json));
  });
  if (flags != CODA_SEND_FINAL) return;
  {
    std::lock_guard lock(conn.mutex_);
    conn.calls_.erase(call->seq);
  }
  CallTracker& tracker = conn.tracker_;
  delete call;  // may destroy the connection: nothing of it is used below
  tracker.end();
}

void WsConnection::handle_message(coda_ws_t* ws, std::string_view text) {
  uint64_t seq = 0;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    ws_ = ws;
    if (close_requested_ != 0) {
      host_->ws_close(ws_, close_requested_);
      return;
    }
    if (text.size() > limits_.max_message_bytes) {
      sdk::log(host_, CODA_LOG_WARN,
               "web-ui: closing a WebSocket from " + remote_addr_ + ": a " +
                   std::to_string(text.size()) + "-byte message is over the limit of " +
                   std::to_string(limits_.max_message_bytes));
      host_->ws_close(ws_, 1009);
      return;
    }
    if (calls_.size() >= static_cast<std::size_t>(limits_.max_calls)) {
      seq = 0;
    } else {
      seq = next_seq_++;
      calls_.emplace(seq, 0);
    }
  }
  if (seq == 0) {
    refuse(text, -32000,
           "too many requests in flight on this WebSocket (limit " +
               std::to_string(limits_.max_calls) + "); wait for an answer and retry");
    return;
  }
  tracker_.begin();
  auto* call = new Call{shared_from_this(), seq, sdk::make<coda_reply_sink_t>()};
  call->sink.ctx = call;
  call->sink.send = &WsConnection::on_reply;
  std::string origin = origin_json();
  uint64_t call_id = 0;
  const coda_status_t status =
      host_->dispatch(host_, sdk::str(origin), sdk::str(text), &call->sink, &call_id);
  std::unique_lock lock(mutex_);
  auto it = calls_.find(seq);
  if (status == CODA_OK) {
    if (it != calls_.end()) it->second = call_id;
    return;
  }
  // Not dispatched: no reply will come through the sink, so answer here.
  const std::string why = sdk::copy(host_->last_error(host_));
  if (it == calls_.end()) return;  // the host did answer after all
  calls_.erase(it);
  lock.unlock();
  delete call;
  tracker_.end();
  refuse(text, -32603, why.empty() ? "the host could not dispatch the message" : why);
}

void WsConnection::handle_close() {
  std::vector<uint64_t> running;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    ws_ = nullptr;
    for (const auto& [seq, call_id] : calls_) {
      if (call_id != 0) running.push_back(call_id);
    }
  }
  // The page is gone: nobody will read these answers. Their final replies still arrive (dropped).
  for (uint64_t call_id : running) host_->cancel_call(host_, call_id);
}

void WsConnection::send_frame(std::string_view text) {
  std::lock_guard lock(mutex_);
  if (ws_ == nullptr) return;
  host_->ws_send(ws_, sdk::str(text));
}

void WsConnection::refuse(std::string_view message, int code, std::string_view why) {
  std::string id = "null";
  // Nested past the shared limit: unreadable, answered with a null id without parsing it.
  if (!sdk::json_nesting_exceeds(message)) {
    try {
      Poco::Dynamic::Var parsed = Poco::JSON::Parser().parse(std::string(message));
      Poco::JSON::Object::Ptr obj = parsed.extract<Poco::JSON::Object::Ptr>();
      if (!obj->has("id")) return;  // a notification gets no answer
      std::ostringstream out;
      Poco::JSON::Stringifier::stringify(obj->get("id"), out);
      id = out.str();
    } catch (...) {
      // Not an object: answer with a null id, as JSON-RPC asks for an unreadable request.
    }
  }
  send_frame("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"error\":{\"code\":" + std::to_string(code) +
             ",\"message\":" + json_quote(why) + "}}");
}

std::string WsConnection::origin_json() {
  std::string out = "{\"transport\":\"ws\"";
  if (conn_ != 0) out += ",\"conn\":" + std::to_string(conn_);
  if (!identity_json_.empty()) out += ",\"identity\":" + identity_json_;
  if (!base_url_.empty()) out += ",\"base_url\":" + json_quote(base_url_);
  {
    std::lock_guard lock(mutex_);
    if (!protocol_version_.empty()) out += ",\"protocol_version\":" + json_quote(protocol_version_);
  }
  return out + "}";
}

void WsConnection::note_protocol_version(std::string_view reply) {
  {
    std::lock_guard lock(mutex_);
    if (!protocol_version_.empty()) return;
  }
  if (reply.find("\"protocolVersion\"") == std::string_view::npos) return;
  try {
    Poco::JSON::Object::Ptr obj =
        Poco::JSON::Parser().parse(std::string(reply)).extract<Poco::JSON::Object::Ptr>();
    Poco::JSON::Object::Ptr result = obj->getObject("result");
    if (result.isNull() || !result->has("protocolVersion")) return;
    const std::string version = result->getValue<std::string>("protocolVersion");
    std::lock_guard lock(mutex_);
    protocol_version_ = version;
  } catch (...) {
    // Not an initialize result after all: nothing to remember.
  }
}

}  // namespace coda::webui
