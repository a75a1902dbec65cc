// The message services of the host table: plugins (transports) hand JSON-RPC messages to the MCP
// engine and get the replies back through their coda_reply_sink_t.
#include <memory>
#include <string>

#include "coda/plugin.hpp"
#include "core/mcp/engine.hpp"
#include "core/mcp/origin.hpp"
#include "core/plugins/host_context.hpp"

namespace coda::plugins {
namespace {

// A transport's C reply sink seen as an mcp::ReplySink. The transport keeps the struct and its ctx
// alive until the final send returns (or close_connection returns for a push sink), so copying the
// two members is enough.
class CReplySink final : public mcp::ReplySink {
 public:
  explicit CReplySink(const coda_reply_sink_t& sink) : ctx_(sink.ctx), send_(sink.send) {}
  void notify(std::string_view json) override { send_(ctx_, sdk::str(json), CODA_SEND_NOTIFICATION); }
  void finish(std::string_view json) override {
    send_(ctx_, json.empty() ? coda_str_t{nullptr, 0} : sdk::str(json), CODA_SEND_FINAL);
  }

 private:
  void* ctx_;
  void (*send_)(void*, coda_str_t, uint32_t);
};

mcp::Engine* engine_of(const coda_host_t* host) {
  if (host == nullptr) return nullptr;
  HostContext* context = context_of(host);
  return context == nullptr || context->services == nullptr ? nullptr : context->services->engine;
}

bool valid_sink(const coda_reply_sink_t* sink) {
  return CODA_HAS(sink, coda_reply_sink_t, send) && sink->send != nullptr;
}

coda_status_t dispatch(const coda_host_t* host, coda_str_t origin_json, coda_str_t message,
                       const coda_reply_sink_t* sink, uint64_t* out_call) {
  try {
    mcp::Engine* engine = engine_of(host);
    if (engine == nullptr) {
      set_thread_error("dispatch: the MCP engine is not running");
      return CODA_E_UNSUPPORTED;
    }
    if (!valid_sink(sink)) {
      set_thread_error("dispatch: the reply sink is missing or has no send function");
      return CODA_E_INVALID;
    }
    mcp::RequestContext ctx = mcp::context_from_origin_json(sdk::view(origin_json));
    mcp::CallId id = engine->dispatch(ctx, sdk::view(message), std::make_shared<CReplySink>(*sink));
    if (out_call != nullptr) *out_call = id;
    return CODA_OK;
  } catch (const std::invalid_argument& e) {
    set_thread_error(std::string("dispatch: ") + e.what());
    return CODA_E_INVALID;
  } catch (const std::exception& e) {
    set_thread_error(std::string("dispatch: ") + e.what());
    return CODA_E_INTERNAL;
  }
}

void cancel_call(const coda_host_t* host, uint64_t call) {
  try {
    if (mcp::Engine* engine = engine_of(host)) engine->cancel(call);
  } catch (...) {
    // Cancelling is best effort; nothing may cross the ABI.
  }
}

coda_status_t open_connection(const coda_host_t* host, coda_str_t origin_json,
                              const coda_reply_sink_t* push, uint64_t* out_conn) {
  try {
    mcp::Engine* engine = engine_of(host);
    if (engine == nullptr) {
      set_thread_error("open_connection: the MCP engine is not running");
      return CODA_E_UNSUPPORTED;
    }
    if (!valid_sink(push) || out_conn == nullptr) {
      set_thread_error("open_connection: needs a push sink with a send function and out_conn");
      return CODA_E_INVALID;
    }
    mcp::RequestContext ctx = mcp::context_from_origin_json(sdk::view(origin_json));
    *out_conn = engine->open_connection(ctx, std::make_shared<CReplySink>(*push));
    return CODA_OK;
  } catch (const std::invalid_argument& e) {
    set_thread_error(std::string("open_connection: ") + e.what());
    return CODA_E_INVALID;
  } catch (const std::exception& e) {
    set_thread_error(std::string("open_connection: ") + e.what());
    return CODA_E_INTERNAL;
  }
}

void close_connection(const coda_host_t* host, uint64_t conn) {
  try {
    if (mcp::Engine* engine = engine_of(host)) engine->close_connection(conn);
  } catch (...) {
    // Nothing may cross the ABI.
  }
}

}  // namespace

void fill_message_services(coda_host_t& table) {
  table.dispatch = &dispatch;
  table.cancel_call = &cancel_call;
  table.open_connection = &open_connection;
  table.close_connection = &close_connection;
}

}  // namespace coda::plugins
