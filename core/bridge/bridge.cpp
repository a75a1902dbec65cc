#include "core/bridge/bridge.hpp"

#include <future>
#include <list>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

namespace coda::bridge {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr int kBridgeErrorCode = -32000;
constexpr std::size_t kMaxRequestsInFlight = 64;

std::optional<Var> parse_json(const std::string& text) {
  try {
    Poco::JSON::Parser parser(new Poco::JSON::ParseHandler(/*preserveObjectOrder=*/true));
    return parser.parse(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string to_json(const Var& value) {
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(value, out, 0, -1);
  return out.str();
}

Object::Ptr as_object(const Var& value) {
  if (value.type() == typeid(Object::Ptr)) return value.extract<Object::Ptr>();
  return nullptr;
}

Array::Ptr as_array(const Var& value) {
  if (value.type() == typeid(Array::Ptr)) return value.extract<Array::Ptr>();
  return nullptr;
}

bool is_request(const Object::Ptr& obj) {
  return obj && obj->has("method") && obj->has("id") && !obj->isNull("id");
}

// The messages in a single message or a batch.
std::vector<Object::Ptr> messages_of(const Var& json) {
  std::vector<Object::Ptr> out;
  if (auto obj = as_object(json)) {
    out.push_back(obj);
  } else if (auto arr = as_array(json)) {
    for (std::size_t i = 0; i < arr->size(); ++i) {
      if (auto item = arr->getObject(static_cast<unsigned>(i))) out.push_back(item);
    }
  }
  return out;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// One message per line: a text that spans lines is re-serialised compactly.
std::string one_line(const std::string& text, const Var& parsed) {
  std::string trimmed = trim(text);
  if (trimmed.find_first_of("\r\n") == std::string::npos) return trimmed;
  return to_json(parsed);
}

}  // namespace

struct Bridge::Message {
  Kind kind = Kind::kInvalid;
  Var json;
  std::vector<Var> ids;           // of the requests in it, in order
  std::vector<std::string> keys;  // the same ids as JSON text, to match responses
};

struct Bridge::Sent {
  HttpReply reply;
  bool sent_session = false;
  std::uint64_t session_generation = 0;
  std::uint64_t token_generation = 0;
};

Bridge::Bridge(Options options, LineWriter out, LogWriter log)
    : options_(std::move(options)),
      out_(std::move(out)),
      log_(std::move(log)),
      endpoint_(options_.url, options_.timeout),
      tokens_(options_.token_command) {}

Bridge::Kind Bridge::classify(const std::string& line) {
  auto json = parse_json(line);
  if (!json) return Kind::kInvalid;
  if (as_array(*json)) return Kind::kBatch;
  auto obj = as_object(*json);
  if (!obj) return Kind::kInvalid;
  if (is_request(obj)) {
    return obj->optValue<std::string>("method", "") == "initialize" ? Kind::kInitialize
                                                                     : Kind::kRequest;
  }
  if (obj->has("method")) return Kind::kNotification;
  return Kind::kResponse;
}

void Bridge::write(const std::string& line) {
  std::lock_guard lock(write_mutex_);
  out_(line);
}

void Bridge::handle(const std::string& raw_line) {
  const std::string line = trim(raw_line);
  if (line.empty()) return;
  Message message;
  message.kind = classify(line);
  if (message.kind == Kind::kInvalid) {
    write(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: the line is not a JSON-RPC message"}})");
    return;
  }
  message.json = *parse_json(line);
  for (const auto& obj : messages_of(message.json)) {
    if (!is_request(obj)) continue;
    message.ids.push_back(obj->get("id"));
    message.keys.push_back(to_json(obj->get("id")));
  }
  const bool is_initialize = message.kind == Kind::kInitialize;
  if (is_initialize) {
    std::lock_guard lock(state_mutex_);
    initialize_message_ = line;
    session_id_.clear();
    protocol_version_.clear();
  }

  std::vector<bool> answered(message.ids.size(), false);
  auto all_answered = [&] {
    for (bool a : answered) {
      if (!a) return false;
    }
    return !answered.empty();
  };
  HttpEndpoint::EventFn on_event = [&](const std::string& data) {
    deliver(message, data, answered);
    return all_answered();
  };

  bool refreshed = false;
  bool reinitialized = false;
  HttpReply reply;
  while (true) {
    Sent sent;
    try {
      sent = send(line, is_initialize, on_event);
    } catch (const TokenError& e) {
      fail(message, answered, FailureKind::kToken, e.what());
      return;
    } catch (const ForwardError& e) {
      fail(message, answered, e.kind(), e.what(), e.http_status());
      return;
    } catch (const std::exception& e) {
      fail(message, answered, FailureKind::kConnection, std::string("request failed: ") + e.what());
      return;
    }
    reply = std::move(sent.reply);
    const bool auth_refused =
        reply.status == 401 || reply.status == 403 || (reply.status >= 300 && reply.status < 400);
    if (auth_refused && tokens_.enabled() && !refreshed) {
      refreshed = true;
      log_("HTTP " + std::to_string(reply.status) + " from " + options_.url.text +
           ": refreshing the token and retrying once");
      tokens_.invalidate(sent.token_generation);
      continue;
    }
    if (reply.status == 404 && sent.sent_session && !is_initialize && !reinitialized) {
      reinitialized = true;
      log_("the session expired (HTTP 404): re-initializing");
      if (reinitialize(sent.session_generation)) continue;
      fail(message, answered, FailureKind::kHttp,
           "the session expired (HTTP 404 from " + options_.url.text +
               ") and could not be re-initialized",
           404);
      return;
    }
    break;
  }

  if (reply.event_stream && reply.status / 100 == 2) {
    if (!all_answered() && !message.ids.empty()) {
      fail(message, answered, FailureKind::kProtocol,
           "the event stream from " + options_.url.text + " ended before the response");
    }
    return;
  }
  if (reply.status / 100 == 2) {
    if (!trim(reply.body).empty()) deliver(message, reply.body, answered);
    if (!all_answered() && !message.ids.empty()) {
      fail(message, answered, FailureKind::kProtocol,
           "HTTP " + std::to_string(reply.status) + " from " + options_.url.text +
               " carried no response to the request");
    }
    return;
  }
  // An error status: forward a JSON-RPC error the server wrote for our request, else say what failed.
  if (!message.ids.empty() && !trim(reply.body).empty()) {
    if (auto json = parse_json(trim(reply.body))) {
      for (const auto& obj : messages_of(*json)) {
        if (!obj->has("id") || obj->has("method")) continue;
        std::string key = to_json(obj->get("id"));
        for (std::size_t i = 0; i < message.keys.size(); ++i) {
          if (message.keys[i] == key && !answered[i]) {
            answered[i] = true;
            write(to_json(obj));
          }
        }
      }
    }
  }
  if (!all_answered()) fail(message, answered, FailureKind::kHttp, describe_status(reply), reply.status);
}

Bridge::Sent Bridge::send(const std::string& body, bool is_initialize,
                          const HttpEndpoint::EventFn& on_event) {
  Sent sent;
  auto token = tokens_.token();
  sent.token_generation = token.generation;
  Headers headers = options_.headers;
  if (!token.value.empty()) headers.emplace_back("Authorization", "Bearer " + token.value);
  {
    std::lock_guard lock(state_mutex_);
    if (!is_initialize && !session_id_.empty()) {
      headers.emplace_back("Mcp-Session-Id", session_id_);
      sent.sent_session = true;
    }
    if (!is_initialize && !protocol_version_.empty()) {
      headers.emplace_back("MCP-Protocol-Version", protocol_version_);
    }
    sent.session_generation = session_generation_;
  }
  sent.reply = endpoint_.post(body, headers, on_event);
  if (is_initialize && sent.reply.status / 100 == 2) {
    std::lock_guard lock(state_mutex_);
    session_id_ = sent.reply.session_id;
    ++session_generation_;
  }
  return sent;
}

bool Bridge::reinitialize(std::uint64_t failed_generation) {
  std::lock_guard reinit(reinit_mutex_);
  std::string replay;
  {
    std::lock_guard lock(state_mutex_);
    if (session_generation_ != failed_generation) return true;  // another request already did it
    if (!initialize_message_) return false;
    auto obj = as_object(*parse_json(*initialize_message_));
    obj->set("id", "coda-bridge-replay-" + std::to_string(++replay_count_));
    replay = to_json(obj);
    session_id_.clear();
  }
  const std::string replay_id = to_json(as_object(*parse_json(replay))->get("id"));
  bool answered = false;
  auto take = [&](const std::string& text) {
    auto json = parse_json(trim(text));
    if (!json) return;
    for (const auto& obj : messages_of(*json)) {
      if (obj->has("id") && !obj->has("method") && to_json(obj->get("id")) == replay_id) {
        answered = obj->has("result");
        if (answered) remember_initialize_result(obj);
      }
    }
  };
  try {
    Sent sent = send(replay, /*is_initialize=*/true, [&](const std::string& data) {
      take(data);
      return answered;
    });
    if (!sent.reply.event_stream) take(sent.reply.body);
    if (sent.reply.status / 100 != 2 || !answered) {
      log_("re-initialization failed: HTTP " + std::to_string(sent.reply.status));
      return false;
    }
    send(R"({"jsonrpc":"2.0","method":"notifications/initialized"})", false,
         [](const std::string&) { return false; });
  } catch (const std::exception& e) {
    log_(std::string("re-initialization failed: ") + e.what());
    return false;
  }
  log_("re-initialized the session");
  return true;
}

void Bridge::remember_initialize_result(const Var& reply) {
  auto obj = as_object(reply);
  if (!obj) return;
  auto result = obj->getObject("result");
  if (!result) return;
  std::lock_guard lock(state_mutex_);
  protocol_version_ = result->optValue<std::string>("protocolVersion", "");
}

void Bridge::deliver(const Message& message, const std::string& text, std::vector<bool>& answered) {
  auto json = parse_json(trim(text));
  if (!json || messages_of(*json).empty()) {
    log_("skipped a message from " + options_.url.text + " that is not JSON-RPC");
    return;
  }
  for (const auto& obj : messages_of(*json)) {
    if (!obj->has("id") || obj->has("method")) continue;  // a notification or server request
    std::string key = to_json(obj->get("id"));
    for (std::size_t i = 0; i < message.keys.size(); ++i) {
      if (message.keys[i] != key) continue;
      answered[i] = true;
      if (message.kind == Kind::kInitialize) remember_initialize_result(obj);
    }
  }
  write(one_line(text, *json));
}

void Bridge::fail(const Message& message, const std::vector<bool>& answered, FailureKind kind,
                  const std::string& what, int http_status) {
  log_(what);
  for (std::size_t i = 0; i < message.ids.size(); ++i) {
    if (answered[i]) continue;
    Object::Ptr data = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    data->set("reason", failure_reason(kind));
    data->set("url", options_.url.text);
    if (http_status != 0) data->set("status", http_status);
    Object::Ptr error = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    error->set("code", kBridgeErrorCode);
    error->set("message", "coda bridge: " + what);
    error->set("data", data);
    Object::Ptr reply = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    reply->set("jsonrpc", "2.0");
    reply->set("id", message.ids[i]);
    reply->set("error", error);
    write(to_json(reply));
  }
}

std::string Bridge::describe_status(const HttpReply& reply) const {
  std::string status = "HTTP " + std::to_string(reply.status) +
                       (reply.reason.empty() ? "" : " " + reply.reason) + " from " +
                       options_.url.text;
  const std::string fix = tokens_.enabled()
                              ? " (also after refreshing the token with '" + tokens_.program() + "')"
                              : " (pass --token-command or set DATABRICKS_PROFILE)";
  if (reply.status >= 300 && reply.status < 400) {
    return status + ": redirected to " + (reply.location.empty() ? "?" : reply.location) +
           ", a login page: the token was not accepted" + fix;
  }
  if (reply.status == 401 || reply.status == 403) return status + ": the token was not accepted" + fix;
  std::string body = trim(reply.body);
  if (body.empty() || reply.content_type.rfind("text/html", 0) == 0) return status;
  for (auto& c : body) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (body.size() > 200) body = body.substr(0, 200) + "...";
  return status + ": " + body;
}

void Bridge::close() {
  Headers headers = options_.headers;
  {
    std::lock_guard lock(state_mutex_);
    if (session_id_.empty()) return;
    headers.emplace_back("Mcp-Session-Id", session_id_);
    if (!protocol_version_.empty()) headers.emplace_back("MCP-Protocol-Version", protocol_version_);
  }
  try {
    auto token = tokens_.token();
    if (!token.value.empty()) headers.emplace_back("Authorization", "Bearer " + token.value);
    endpoint_.send_delete(headers);
  } catch (const std::exception&) {
    // Best effort: the server expires the session anyway.
  }
}

int run_bridge(const Options& options, std::istream& in, LineWriter out, LogWriter log) {
  Bridge bridge(options, std::move(out), log);
  std::list<std::future<void>> in_flight;
  auto prune = [&] {
    in_flight.remove_if([](std::future<void>& f) {
      return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
    });
  };
  std::string line;
  while (std::getline(in, line)) {
    if (trim(line).empty()) continue;
    Bridge::Kind kind = Bridge::classify(line);
    if (kind == Bridge::Kind::kRequest || kind == Bridge::Kind::kBatch) {
      prune();
      while (in_flight.size() >= kMaxRequestsInFlight) {
        in_flight.front().wait();
        prune();
      }
      in_flight.push_back(std::async(std::launch::async, [&bridge, line] { bridge.handle(line); }));
    } else {
      bridge.handle(line);
    }
  }
  in_flight.clear();  // waits for every request in flight
  bridge.close();
  return 0;
}

}  // namespace coda::bridge
