#include "core/mcp/engine.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>

#include "coda/json_depth.hpp"
#include "coda/version.hpp"
#include "core/mcp/json_schema.hpp"
#include "core/mcp/jsonrpc.hpp"
#include "core/mcp/log_level.hpp"
#include "core/log/logging.hpp"
#include "core/mcp/mcp_metrics.hpp"

namespace coda::mcp {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

const std::vector<std::string> kVersions = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};
constexpr LogLevel kDefaultLogThreshold = LogLevel::kInfo;
const char kCursorPrefix[] = "after:";

std::string base64(const std::string& text) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
  encoder << text;
  encoder.close();
  return out.str();
}

std::optional<std::string> unbase64(const std::string& text) {
  try {
    std::istringstream in(text);
    Poco::Base64Decoder decoder(in, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
    std::string out((std::istreambuf_iterator<char>(decoder)), std::istreambuf_iterator<char>());
    return out;
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

bool valid_tool_name(const std::string& name) {
  static const std::regex pattern("[A-Za-z0-9_.-]{1,128}");
  return std::regex_match(name, pattern);
}

// Where logging levels and cancellations are scoped: a session, else a connection, else the caller.
std::string scope_of(const RequestContext& ctx) {
  if (!ctx.session_id.empty()) return "s:" + ctx.session_id;
  if (ctx.connection != 0) return "c:" + std::to_string(ctx.connection);
  return "i:" + ctx.transport + ":" + ctx.identity.subject;
}

// One dispatch(): collects the responses of its request(s) and sends the single final reply.
class Exchange {
 public:
  Exchange(std::shared_ptr<ReplySink> sink, bool batch, std::size_t expected)
      : sink_(std::move(sink)), batch_(batch), pending_(expected) {}

  void notify(std::string_view json) {
    std::lock_guard lock(mutex_);
    if (!finished_) sink_->notify(json);
  }

  // One member of the exchange is answered (`json` empty: it needs no response). The last one sends
  // the final reply. Returns true when that happened.
  bool respond(std::string json) {
    std::lock_guard lock(mutex_);
    if (finished_ || pending_ == 0) return false;
    if (!json.empty()) responses_.push_back(std::move(json));
    if (--pending_ > 0) return false;
    finished_ = true;
    if (!batch_) {
      sink_->finish(responses_.empty() ? std::string_view{} : std::string_view{responses_[0]});
    } else if (responses_.empty()) {
      sink_->finish({});
    } else {
      std::string array = "[";
      for (std::size_t i = 0; i < responses_.size(); ++i) {
        if (i > 0) array += ',';
        array += responses_[i];
      }
      array += ']';
      sink_->finish(array);
    }
    sink_.reset();
    return true;
  }

 private:
  std::mutex mutex_;
  std::shared_ptr<ReplySink> sink_;
  bool batch_;
  std::size_t pending_;
  bool finished_ = false;
  std::vector<std::string> responses_;
};

struct ToolEntry {
  std::shared_ptr<Tool> tool;
  Object::Ptr definition;
  Object::Ptr input_schema;
};

}  // namespace

// ---- the engine's state ----------------------------------------------------------------------------

class ToolCallImpl;

class Engine::Impl : public std::enable_shared_from_this<Engine::Impl> {
 public:
  explicit Impl(Options options) : options_(std::move(options)) {
    if (options_.server_name.empty()) options_.server_name = kProductName;
    if (options_.server_version.empty()) options_.server_version = kVersion;
    if (options_.config.page_size <= 0) options_.config.page_size = 100;
    if (options_.config.tool_threads <= 0) options_.config.tool_threads = 8;
    tool_pool_ = std::make_unique<boost::asio::thread_pool>(
        static_cast<std::size_t>(options_.config.tool_threads));
  }
  ~Impl() {
    // shutdown() has drained the pool, or released it to a tool that never returned.
    if (tool_pool_) tool_pool_->join();
  }

  CallId dispatch(const RequestContext& ctx, std::string_view message,
                  std::shared_ptr<ReplySink> sink);
  void cancel(CallId call);
  void shutdown();

  ConnectionId open_connection(const RequestContext& ctx, std::shared_ptr<ReplySink> push);
  void close_connection(ConnectionId id);
  void add_tool(std::shared_ptr<Tool> tool);
  bool remove_tool(const std::string& name);
  std::vector<Object::Ptr> tool_definitions() const;

  void set_default_instructions(std::string text) {
    std::lock_guard lock(mutex_);
    default_instructions_ = std::move(text);
  }
  ToolCallTable& tool_calls() { return tool_calls_; }
  McpMetrics& metrics() { return metrics_; }

  LogLevel log_threshold(const std::string& scope) const {
    std::lock_guard lock(mutex_);
    auto it = log_levels_.find(scope);
    return it == log_levels_.end() ? kDefaultLogThreshold : it->second;
  }
  void call_finished(const std::string& key, CallId id);

 private:
  struct Connection {
    std::shared_ptr<ReplySink> push;
    std::mutex push_mutex;  // held while pushing; close_connection takes it to wait for pushes
    bool closed = false;
  };

  // Answers a request of `method` ("" before the message was known to be a valid request) and
  // counts it.
  void answer(const std::shared_ptr<Exchange>& exchange, std::string_view method, bool error,
              std::string json) {
    metrics_.request(method, error);
    exchange->respond(std::move(json));
  }
  void answer_error(const std::shared_ptr<Exchange>& exchange, std::string_view method,
                    std::string json) {
    answer(exchange, method, true, std::move(json));
  }
  void answer_result(const std::shared_ptr<Exchange>& exchange, std::string_view method,
                     std::string json) {
    answer(exchange, method, false, std::move(json));
  }

  // Handles one parsed message; answers through `exchange` (exactly one respond()).
  void handle(const RequestContext& ctx, const Var& message, const std::shared_ptr<Exchange>& exchange,
              CallId call_id);
  void handle_request(const RequestContext& ctx, const Object::Ptr& msg, const std::string& method,
                      const std::string& id_text, const std::shared_ptr<Exchange>& exchange,
                      CallId call_id);
  void handle_notification(const RequestContext& ctx, const std::string& method,
                           const Object::Ptr& params);
  std::string initialize_result(const Object::Ptr& params) const;
  // The result text of a tools/list page, shared with the cache; null (and `error` set) for a bad
  // cursor.
  std::shared_ptr<const std::string> tools_list_result(const Object::Ptr& params,
                                                       std::string& error) const;
  void tools_call(const RequestContext& ctx, const Object::Ptr& params, const std::string& id_text,
                  const std::shared_ptr<Exchange>& exchange, CallId call_id);
  void push_to_connections(const std::string& json);
  void cancel_calls(const std::vector<std::shared_ptr<ToolCallImpl>>& calls);

  Options options_;
  mutable std::mutex mutex_;
  std::condition_variable calls_done_;
  std::string default_instructions_;
  std::map<std::string, ToolEntry> tools_;
  // cursor -> tools/list result text
  mutable std::map<std::string, std::shared_ptr<const std::string>> list_cache_;
  std::map<ConnectionId, std::shared_ptr<Connection>> connections_;
  std::map<std::string, LogLevel> log_levels_;  // by scope_of()
  // In-flight tools/call by "scope \n request id" (notifications/cancelled) and by dispatch id.
  std::unordered_map<std::string, std::weak_ptr<ToolCallImpl>> calls_by_request_;
  // Strong references: a tool need not keep its call alive while it works on it.
  std::unordered_multimap<CallId, std::shared_ptr<ToolCallImpl>> calls_by_dispatch_;
  ToolCallTable tool_calls_;
  McpMetrics metrics_;
  // Where tools/call runs: dispatch() returns at once, so a transport's reader is never held by a
  // tool (a ping or a cancel behind a long call is answered at once). Tools that wait (coda_get_result
  // wait_s) hold no thread of it while they wait.
  std::unique_ptr<boost::asio::thread_pool> tool_pool_;
  CallId next_call_ = 1;
  ConnectionId next_connection_ = 1;
  bool shut_down_ = false;
};

// ---- one tools/call in flight ----------------------------------------------------------------------

class ToolCallImpl : public ToolCall, public std::enable_shared_from_this<ToolCallImpl> {
 public:
  ToolCallImpl(std::weak_ptr<Engine::Impl> engine, RequestContext ctx, std::string tool,
               Object::Ptr arguments, std::string id_text, Var progress_token,
               std::shared_ptr<Exchange> exchange, std::string key, CallId dispatch_id)
      : engine_(std::move(engine)),
        ctx_(std::move(ctx)),
        tool_(std::move(tool)),
        arguments_(std::move(arguments)),
        id_text_(std::move(id_text)),
        progress_token_(std::move(progress_token)),
        exchange_(std::move(exchange)),
        key_(std::move(key)),
        dispatch_id_(dispatch_id) {}

  const RequestContext& context() const override { return ctx_; }
  const Object::Ptr& arguments() const override { return arguments_; }

  void progress(double progress, std::optional<double> total, const std::string& message) override {
    if (progress_token_.isEmpty() || finished_.load()) return;
    {
      std::lock_guard lock(mutex_);
      if (last_progress_ && progress <= *last_progress_) return;  // must increase
      last_progress_ = progress;
    }
    Object::Ptr params = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    params->set("progressToken", progress_token_);
    params->set("progress", progress);
    if (total && *total > 0) params->set("total", *total);
    if (!message.empty()) params->set("message", message);
    exchange_->notify(jsonrpc::notification("notifications/progress", params));
  }

  void log(LogLevel level, const Var& data, const std::string& logger) override {
    if (finished_.load()) return;
    auto engine = engine_.lock();
    LogLevel threshold = engine ? engine->log_threshold(scope_of(ctx_)) : kDefaultLogThreshold;
    if (level < threshold) return;
    Object::Ptr params = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    params->set("level", std::string(log_level_name(level)));
    if (!logger.empty()) params->set("logger", logger);
    params->set("data", data);
    exchange_->notify(jsonrpc::notification("notifications/message", params));
  }

  bool cancelled() const override { return cancelled_.load(); }

  void on_cancel(std::function<void()> fn) override {
    {
      std::lock_guard lock(mutex_);
      if (!cancelled_.load()) {
        cancel_hooks_.push_back(std::move(fn));
        return;
      }
    }
    fn();
  }

  void cancel() {
    std::vector<std::function<void()>> hooks;
    {
      std::lock_guard lock(mutex_);
      if (cancelled_.exchange(true) || finished_.load()) return;
      hooks.swap(cancel_hooks_);
    }
    for (auto& hook : hooks) {
      try {
        hook();
      } catch (...) {
        // A cancel hook must not stop the others; the tool still finishes the call.
      }
    }
  }

  void finish(ToolResult result) override {
    if (finished_.exchange(true)) return;
    {
      std::lock_guard lock(mutex_);
      cancel_hooks_.clear();
    }
    std::string text;
    bool error = false;
    try {
      text = jsonrpc::result(id_text_, jsonrpc::to_text(result.to_json()));
    } catch (const std::exception& e) {
      error = true;
      text = jsonrpc::error(id_text_, jsonrpc::kInternalError,
                            std::string("the tool's result could not be serialised: ") + e.what());
    }
    auto engine = engine_.lock();
    if (engine) {
      using Outcome = McpMetrics::ToolOutcome;
      engine->metrics().request("tools/call", error);
      engine->metrics().tool_call(tool_,
                                  cancelled_.load()    ? Outcome::kCancelled
                                  : result.is_error || error ? Outcome::kToolError
                                                             : Outcome::kOk,
                                  std::chrono::steady_clock::now() - started_);
    }
    exchange_->respond(std::move(text));
    if (engine) engine->call_finished(key_, dispatch_id_);
  }

  bool finished() const { return finished_.load(); }

 private:
  std::weak_ptr<Engine::Impl> engine_;
  RequestContext ctx_;
  std::string tool_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  Object::Ptr arguments_;
  std::string id_text_;
  Var progress_token_;
  std::shared_ptr<Exchange> exchange_;
  std::string key_;
  CallId dispatch_id_;
  std::mutex mutex_;
  std::optional<double> last_progress_;
  std::vector<std::function<void()>> cancel_hooks_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> finished_{false};
};

// ---- dispatch --------------------------------------------------------------------------------------

CallId Engine::Impl::dispatch(const RequestContext& ctx, std::string_view message,
                              std::shared_ptr<ReplySink> sink) {
  CallId id;
  {
    std::lock_guard lock(mutex_);
    id = next_call_++;
  }
  if (sdk::json_nesting_exceeds(message)) {
    // Before any parser: every transport's messages (HTTP, stdio, WebSocket) come through here.
    metrics_.request("", true);
    Exchange(std::move(sink), false, 1)
        .respond(jsonrpc::error("", jsonrpc::kParseError,
                                "Parse error: the message nests arrays and objects deeper than " +
                                    std::to_string(sdk::kMaxJsonDepth) + " levels"));
    return id;
  }
  Var parsed;
  try {
    Poco::JSON::Parser parser;
    parsed = parser.parse(std::string(message));
  } catch (const std::exception&) {
    // Poco's parser takes only objects and arrays at the top: a lone scalar is valid JSON but no
    // JSON-RPC message.
    bool scalar = false;
    try {
      Poco::JSON::Parser parser;
      parser.parse("[" + std::string(message) + "]");
      scalar = true;
    } catch (const std::exception&) {
    }
    metrics_.request("", true);
    Exchange(std::move(sink), false, 1)
        .respond(scalar ? jsonrpc::error("", jsonrpc::kInvalidRequest,
                                         "Invalid Request: a JSON-RPC message must be an object")
                        : jsonrpc::error("", jsonrpc::kParseError,
                                         "Parse error: the message is not valid JSON"));
    return id;
  }
  if (parsed.type() == typeid(Array::Ptr)) {
    auto batch = parsed.extract<Array::Ptr>();
    const std::string& version =
        ctx.protocol_version.empty() ? std::string(kDefaultProtocolVersion) : ctx.protocol_version;
    if (version != "2025-03-26") {
      metrics_.request("", true);
      Exchange(std::move(sink), false, 1)
          .respond(jsonrpc::error("", jsonrpc::kInvalidRequest,
                                  "Invalid Request: JSON-RPC batches are only allowed with protocol "
                                  "version 2025-03-26 (this request uses " + version + ")"));
      return id;
    }
    if (batch->size() == 0) {
      metrics_.request("", true);
      Exchange(std::move(sink), false, 1)
          .respond(jsonrpc::error("", jsonrpc::kInvalidRequest, "Invalid Request: empty batch"));
      return id;
    }
    auto exchange = std::make_shared<Exchange>(std::move(sink), true, batch->size());
    for (std::size_t i = 0; i < batch->size(); ++i) handle(ctx, batch->get(i), exchange, id);
    return id;
  }
  auto exchange = std::make_shared<Exchange>(std::move(sink), false, 1);
  handle(ctx, parsed, exchange, id);
  return id;
}

void Engine::Impl::handle(const RequestContext& ctx, const Var& message,
                          const std::shared_ptr<Exchange>& exchange, CallId call_id) {
  if (message.type() != typeid(Object::Ptr)) {
    answer_error(exchange, "", jsonrpc::error("", jsonrpc::kInvalidRequest,
                                     "Invalid Request: a JSON-RPC message must be an object"));
    return;
  }
  auto msg = message.extract<Object::Ptr>();
  // An id we can echo: a string or a number. null, or any other type, cannot be echoed.
  std::string id_text;
  bool has_id = msg->has("id");
  if (has_id) {
    Var id = msg->get("id");
    if (id.isString() || (id.isNumeric() && id.type() != typeid(bool))) id_text = jsonrpc::to_text(id);
  }
  std::string method;  // "" until known
  try {
    if (!msg->has("jsonrpc") || msg->get("jsonrpc").toString() != "2.0") {
      answer_error(exchange, "", jsonrpc::error(id_text, jsonrpc::kInvalidRequest,
                                       "Invalid Request: \"jsonrpc\" must be \"2.0\""));
      return;
    }
    if (has_id && id_text.empty()) {
      answer_error(exchange, "", jsonrpc::error("", jsonrpc::kInvalidRequest,
                                       "Invalid Request: \"id\" must be a string or a number"));
      return;
    }
    if (!msg->has("method")) {
      // A response to a request of ours (we send none yet) or garbage.
      if (has_id && (msg->has("result") || msg->has("error"))) {
        exchange->respond("");
      } else {
        answer_error(exchange, "", jsonrpc::error(id_text, jsonrpc::kInvalidRequest,
                                         "Invalid Request: \"method\" is missing"));
      }
      return;
    }
    Var method_var = msg->get("method");
    if (!method_var.isString()) {
      answer_error(exchange, "", jsonrpc::error(id_text, jsonrpc::kInvalidRequest,
                                       "Invalid Request: \"method\" must be a string"));
      return;
    }
    method = method_var.extract<std::string>();
    if (msg->has("params") && !msg->isNull("params") && msg->getObject("params").isNull() &&
        msg->getArray("params").isNull()) {
      answer_error(exchange, method, jsonrpc::error(id_text, jsonrpc::kInvalidRequest,
                                       "Invalid Request: \"params\" must be an object"));
      return;
    }
    if (!has_id) {
      metrics_.notification(method);
      handle_notification(ctx, method, msg->getObject("params"));
      exchange->respond("");
      return;
    }
    handle_request(ctx, msg, method, id_text, exchange, call_id);
  } catch (const std::exception& e) {
    answer_error(exchange, method, jsonrpc::error(id_text, jsonrpc::kInternalError,
                                     std::string("Internal error: ") + e.what()));
  }
}

void Engine::Impl::handle_notification(const RequestContext& ctx, const std::string& method,
                                       const Object::Ptr& params) {
  if (method != "notifications/cancelled" || params.isNull() || !params->has("requestId")) return;
  std::string key = scope_of(ctx) + "\n" + jsonrpc::to_text(params->get("requestId"));
  std::shared_ptr<ToolCallImpl> call;
  {
    std::lock_guard lock(mutex_);
    auto it = calls_by_request_.find(key);
    if (it != calls_by_request_.end()) call = it->second.lock();
  }
  if (call) call->cancel();
}

void Engine::Impl::handle_request(const RequestContext& ctx, const Object::Ptr& msg,
                                  const std::string& method, const std::string& id_text,
                                  const std::shared_ptr<Exchange>& exchange, CallId call_id) {
  Object::Ptr params = msg->getObject("params");
  if (method == "initialize") {
    if (params.isNull() || !params->has("protocolVersion") ||
        !params->get("protocolVersion").isString()) {
      answer_error(exchange, method, jsonrpc::error(id_text, jsonrpc::kInvalidParams,
                                       "Invalid params: initialize needs params.protocolVersion "
                                       "(a string such as \"2025-11-25\")"));
      return;
    }
    answer_result(exchange, method, jsonrpc::result(id_text, initialize_result(params)));
  } else if (method == "ping") {
    answer_result(exchange, method, jsonrpc::result(id_text, "{}"));
  } else if (method == "tools/list") {
    std::string error;
    auto result = tools_list_result(params, error);
    answer(exchange, method, result == nullptr,
           result ? jsonrpc::result(id_text, *result)
                  : jsonrpc::error(id_text, jsonrpc::kInvalidParams, error));
  } else if (method == "tools/call") {
    tools_call(ctx, params, id_text, exchange, call_id);
  } else if (method == "logging/setLevel") {
    std::optional<LogLevel> level;
    if (!params.isNull() && params->has("level") && params->get("level").isString()) {
      level = parse_log_level(params->get("level").extract<std::string>());
    }
    if (!level) {
      answer_error(exchange, method, jsonrpc::error(
          id_text, jsonrpc::kInvalidParams,
          "Invalid params: level must be one of debug, info, notice, warning, error, critical, "
          "alert, emergency"));
      return;
    }
    {
      std::lock_guard lock(mutex_);
      log_levels_[scope_of(ctx)] = *level;
    }
    answer_result(exchange, method, jsonrpc::result(id_text, "{}"));
  } else {
    answer_error(exchange, method, jsonrpc::error(id_text, jsonrpc::kMethodNotFound,
                                     "Method not found: " + method));
  }
}

std::string Engine::Impl::initialize_result(const Object::Ptr& params) const {
  std::string requested = params->get("protocolVersion").extract<std::string>();
  std::string version = is_supported_protocol_version(requested) ? requested : kVersions.front();
  Object result(Poco::JSON_PRESERVE_KEY_ORDER);
  result.set("protocolVersion", version);
  Object::Ptr capabilities = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  Object::Ptr tools = new Object;
  tools->set("listChanged", true);
  capabilities->set("tools", tools);
  capabilities->set("logging", Object::Ptr(new Object));
  result.set("capabilities", capabilities);
  Object::Ptr info = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  info->set("name", options_.server_name);
  info->set("version", options_.server_version);
  if (!options_.server_title.empty()) info->set("title", options_.server_title);
  result.set("serverInfo", info);
  std::string instructions = options_.config.instructions;
  if (instructions.empty()) {
    std::lock_guard lock(mutex_);
    instructions = default_instructions_;
  }
  if (!instructions.empty()) result.set("instructions", instructions);
  return jsonrpc::to_text(Var(result));
}

std::shared_ptr<const std::string> Engine::Impl::tools_list_result(const Object::Ptr& params,
                                                                   std::string& error) const {
  std::string cursor;
  if (!params.isNull() && params->has("cursor") && !params->isNull("cursor")) {
    if (!params->get("cursor").isString()) {
      error = "Invalid params: cursor must be a string returned as nextCursor by tools/list";
      return nullptr;
    }
    cursor = params->get("cursor").extract<std::string>();
  }
  std::lock_guard lock(mutex_);
  if (auto cached = list_cache_.find(cursor); cached != list_cache_.end()) return cached->second;
  auto it = tools_.begin();
  if (!cursor.empty()) {
    auto decoded = unbase64(cursor);
    if (!decoded || decoded->rfind(kCursorPrefix, 0) != 0) {
      error = "Invalid params: unknown cursor (send a nextCursor returned by tools/list)";
      return nullptr;
    }
    it = tools_.upper_bound(decoded->substr(sizeof(kCursorPrefix) - 1));
  }
  std::string text = R"({"tools":[)";
  int count = 0;
  for (; it != tools_.end() && count < options_.config.page_size; ++it, ++count) {
    if (count > 0) text += ',';
    text += jsonrpc::to_text(Var(it->second.definition));
  }
  text += ']';
  if (it != tools_.end()) {
    text += R"(,"nextCursor":)" + jsonrpc::quote(base64(kCursorPrefix + std::prev(it)->first));
  }
  text += '}';
  auto shared = std::make_shared<const std::string>(std::move(text));
  if (list_cache_.size() < 1024) list_cache_[cursor] = shared;
  return shared;
}

void Engine::Impl::tools_call(const RequestContext& ctx, const Object::Ptr& params,
                              const std::string& id_text, const std::shared_ptr<Exchange>& exchange,
                              CallId call_id) {
  if (params.isNull() || !params->has("name") || !params->get("name").isString()) {
    answer_error(exchange, "tools/call", jsonrpc::error(id_text, jsonrpc::kInvalidParams,
                                     "Invalid params: tools/call needs params.name (a tool name "
                                     "from tools/list)"));
    return;
  }
  std::string name = params->get("name").extract<std::string>();
  Object::Ptr arguments;
  if (params->has("arguments") && !params->isNull("arguments")) {
    arguments = params->getObject("arguments");
    if (arguments.isNull()) {
      answer_error(exchange, "tools/call", jsonrpc::error(id_text, jsonrpc::kInvalidParams,
                                       "Invalid params: arguments must be an object"));
      return;
    }
  } else {
    arguments = new Object;
  }
  ToolEntry entry;
  {
    std::lock_guard lock(mutex_);
    auto it = tools_.find(name);
    if (it == tools_.end() || shut_down_) {
      answer_error(exchange, "tools/call", jsonrpc::error(id_text, jsonrpc::kInvalidParams,
                                       "Invalid params: unknown tool '" + name +
                                           "' (tools/list shows the available tools)"));
      return;
    }
    entry = it->second;
  }
  if (auto problem = validate_json_schema(Var(arguments), entry.input_schema, "arguments")) {
    metrics_.tool_call(name, McpMetrics::ToolOutcome::kInvalidArguments, {});
    answer_result(exchange, "tools/call", jsonrpc::result(
        id_text, jsonrpc::to_text(Var(ToolResult::error("Invalid arguments for tool '" + name +
                                                        "': " + *problem)
                                          .to_json()))));
    return;
  }
  Var progress_token;
  if (Object::Ptr meta = params->getObject("_meta"); !meta.isNull() && meta->has("progressToken")) {
    Var token = meta->get("progressToken");
    if (token.isString() || (token.isNumeric() && token.type() != typeid(bool))) progress_token = token;
  }
  std::string key = scope_of(ctx) + "\n" + id_text;
  auto call = std::make_shared<ToolCallImpl>(weak_from_this(), ctx, name, arguments, id_text,
                                             progress_token, exchange, key, call_id);
  {
    std::lock_guard lock(mutex_);
    calls_by_request_[key] = call;
    calls_by_dispatch_.emplace(call_id, call);
  }
  boost::asio::post(*tool_pool_, [call, tool = std::move(entry.tool), name] {
    if (call->cancelled()) {
      // Cancelled (or the engine shut down) while it waited for a thread: it never starts.
      call->finish(ToolResult::error("Tool '" + name + "' was cancelled before it started"));
      return;
    }
    try {
      tool->call(call);
    } catch (const std::exception& e) {
      call->finish(ToolResult::error("Tool '" + name + "' failed: " + e.what()));
    } catch (...) {
      call->finish(ToolResult::error("Tool '" + name + "' failed with an unknown error"));
    }
  });
}

void Engine::Impl::call_finished(const std::string& key, CallId id) {
  std::lock_guard lock(mutex_);
  if (auto it = calls_by_request_.find(key); it != calls_by_request_.end()) {
    auto live = it->second.lock();
    if (!live || live->finished()) calls_by_request_.erase(it);
  }
  auto [begin, end] = calls_by_dispatch_.equal_range(id);
  for (auto it = begin; it != end;) {
    it = it->second->finished() ? calls_by_dispatch_.erase(it) : std::next(it);
  }
  calls_done_.notify_all();
}

void Engine::Impl::cancel_calls(const std::vector<std::shared_ptr<ToolCallImpl>>& calls) {
  for (const auto& call : calls) call->cancel();
}

void Engine::Impl::cancel(CallId call) {
  std::vector<std::shared_ptr<ToolCallImpl>> calls;
  {
    std::lock_guard lock(mutex_);
    auto [begin, end] = calls_by_dispatch_.equal_range(call);
    for (auto it = begin; it != end; ++it) calls.push_back(it->second);
  }
  cancel_calls(calls);
}

void Engine::Impl::shutdown() {
  std::vector<std::shared_ptr<ToolCallImpl>> calls;
  {
    std::lock_guard lock(mutex_);
    shut_down_ = true;
    for (auto& [id, live] : calls_by_dispatch_) calls.push_back(live);
  }
  cancel_calls(calls);
  calls.clear();
  std::unique_lock lock(mutex_);
  bool all_done = calls_done_.wait_for(lock, std::chrono::seconds(5), [this] {
    for (auto& [id, live] : calls_by_dispatch_) {
      if (!live->finished()) return false;
    }
    return true;
  });
  lock.unlock();
  if (!tool_pool_) return;
  if (all_done) {
    tool_pool_->join();  // only calls that were cancelled before they started are left: quick
    tool_pool_.reset();
    return;
  }
  // A tool that ignores its cancel keeps its thread: the pool stays with it until the process exits
  // (as its plugin's library stays loaded), rather than a shutdown that never ends.
  log::get("mcp").warning("a tool call did not finish within 5 s of its cancel: its thread is left "
                          "running until exit");
  (void)tool_pool_.release();
}

// ---- connections and the registry ------------------------------------------------------------------

ConnectionId Engine::Impl::open_connection(const RequestContext&, std::shared_ptr<ReplySink> push) {
  auto connection = std::make_shared<Connection>();
  connection->push = std::move(push);
  std::lock_guard lock(mutex_);
  ConnectionId id = next_connection_++;
  connections_[id] = std::move(connection);
  return id;
}

void Engine::Impl::close_connection(ConnectionId id) {
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(mutex_);
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    connection = std::move(it->second);
    connections_.erase(it);
    log_levels_.erase("c:" + std::to_string(id));
  }
  std::lock_guard push_lock(connection->push_mutex);
  connection->closed = true;
  connection->push.reset();
}

void Engine::Impl::push_to_connections(const std::string& json) {
  std::vector<std::shared_ptr<Connection>> targets;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, connection] : connections_) targets.push_back(connection);
  }
  for (auto& connection : targets) {
    std::lock_guard push_lock(connection->push_mutex);
    if (connection->closed || !connection->push) continue;
    try {
      connection->push->notify(json);
    } catch (...) {
      // A failing push sink is the transport's problem; the other connections still get theirs.
    }
  }
}

void Engine::Impl::add_tool(std::shared_ptr<Tool> tool) {
  if (!tool) throw std::invalid_argument("add_tool: null tool");
  Object::Ptr definition = tool->definition();
  if (definition.isNull()) throw std::invalid_argument("add_tool: the tool has no definition");
  std::string name = definition->optValue<std::string>("name", "");
  if (!valid_tool_name(name)) {
    throw std::invalid_argument("add_tool: invalid tool name '" + name +
                                "' (1-128 characters of A-Z a-z 0-9 _ . -)");
  }
  if (definition->optValue<std::string>("description", "").empty()) {
    throw std::invalid_argument("add_tool: tool '" + name + "' has no description");
  }
  Object::Ptr schema = definition->getObject("inputSchema");
  if (schema.isNull() || schema->optValue<std::string>("type", "") != "object") {
    throw std::invalid_argument("add_tool: tool '" + name +
                                "' needs an inputSchema with \"type\": \"object\"");
  }
  {
    std::lock_guard lock(mutex_);
    if (tools_.count(name) != 0) {
      throw std::invalid_argument("add_tool: a tool named '" + name + "' is already registered");
    }
    tools_[name] = ToolEntry{std::move(tool), definition, schema};
    list_cache_.clear();
  }
  push_to_connections(jsonrpc::notification("notifications/tools/list_changed", nullptr));
}

bool Engine::Impl::remove_tool(const std::string& name) {
  {
    std::lock_guard lock(mutex_);
    if (tools_.erase(name) == 0) return false;
    list_cache_.clear();
  }
  push_to_connections(jsonrpc::notification("notifications/tools/list_changed", nullptr));
  return true;
}

std::vector<Object::Ptr> Engine::Impl::tool_definitions() const {
  std::lock_guard lock(mutex_);
  std::vector<Object::Ptr> out;
  for (const auto& [name, entry] : tools_) out.push_back(entry.definition);
  return out;
}

// ---- Engine ----------------------------------------------------------------------------------------

const std::vector<std::string>& supported_protocol_versions() { return kVersions; }

bool is_supported_protocol_version(std::string_view version) {
  return std::find(kVersions.begin(), kVersions.end(), version) != kVersions.end();
}

Engine::Engine(Options options) : impl_(std::make_shared<Impl>(std::move(options))) {}

Engine::Engine(const config::McpConfig& config) : Engine(Options{config, "", "", ""}) {}

Engine::~Engine() { impl_->shutdown(); }

void Engine::set_default_instructions(std::string text) {
  impl_->set_default_instructions(std::move(text));
}

CallId Engine::dispatch(const RequestContext& ctx, std::string_view message,
                        std::shared_ptr<ReplySink> sink) {
  return impl_->dispatch(ctx, message, std::move(sink));
}

void Engine::cancel(CallId call) { impl_->cancel(call); }

ConnectionId Engine::open_connection(const RequestContext& ctx, std::shared_ptr<ReplySink> push) {
  return impl_->open_connection(ctx, std::move(push));
}

void Engine::close_connection(ConnectionId connection) { impl_->close_connection(connection); }

void Engine::add_tool(std::shared_ptr<Tool> tool) { impl_->add_tool(std::move(tool)); }

bool Engine::remove_tool(const std::string& name) { return impl_->remove_tool(name); }

std::vector<Object::Ptr> Engine::tool_definitions() const { return impl_->tool_definitions(); }

ToolCallTable& Engine::tool_calls() { return impl_->tool_calls(); }

void Engine::write_metrics(metrics::TextWriter& out) const { impl_->metrics().write(out); }

}  // namespace coda::mcp
