#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <Poco/JSON/Parser.h>

#include "core/mcp/engine.hpp"
#include "core/mcp/reply_sink.hpp"

// Shared by the fuzz targets: an engine with a tool whose schema exercises the argument validator,
// and a sink that checks every reply is well-formed JSON.
namespace coda::fuzz {

// Crashes (a finding) when `json` is not a JSON value: everything the engine says must be parseable.
inline void require_json(std::string_view json) {
  try {
    Poco::JSON::Parser parser;
    parser.parse(std::string(json));
  } catch (...) {
    std::fprintf(stderr, "engine produced invalid JSON: %.*s\n", static_cast<int>(json.size()),
                 json.data());
    std::abort();
  }
}

class CheckingSink final : public mcp::ReplySink {
 public:
  void notify(std::string_view json) override { require_json(json); }
  void finish(std::string_view json) override {
    if (!json.empty()) require_json(json);
    std::lock_guard lock(mutex_);
    if (finished_) {
      std::fprintf(stderr, "finish() called twice\n");
      std::abort();
    }
    finished_ = true;
    done_.notify_all();
  }
  // The final reply came within `timeout` (tools/call answers from the engine's tool threads).
  bool wait_finished(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return done_.wait_for(lock, timeout, [this] { return finished_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  bool finished_ = false;
};

// echo {text: string (1..100), times: integer 1..3, mode: "a"|"b", tags: [string]} -> text.
class EchoTool final : public mcp::Tool {
 public:
  Poco::JSON::Object::Ptr definition() const override {
    static const char* kDefinition = R"({"name":"echo","description":"Echoes its text.",
      "inputSchema":{"type":"object","additionalProperties":false,"required":["text"],
      "properties":{"text":{"type":"string","minLength":1,"maxLength":100},
      "times":{"type":"integer","minimum":1,"maximum":3},"mode":{"enum":["a","b"]},
      "tags":{"type":"array","items":{"type":"string"}}}}})";
    return Poco::JSON::Parser().parse(kDefinition).extract<Poco::JSON::Object::Ptr>();
  }
  void call(std::shared_ptr<mcp::ToolCall> call) override {
    call->progress(1, 2, "half");
    call->log(mcp::LogLevel::kInfo, std::string("echo"));
    call->finish(mcp::ToolResult::text(call->arguments()->optValue<std::string>("text", "")));
  }
};

// One engine for the whole run (as in the host: it lives as long as the process).
inline mcp::Engine& engine() {
  static mcp::Engine* instance = [] {
    auto* e = new mcp::Engine(config::McpConfig{});
    e->add_tool(std::make_shared<EchoTool>());
    return e;
  }();
  return *instance;
}

// Dispatches `message` and requires exactly one final reply: at once for everything but tools/call,
// from a tool thread for it (the echo tool finishes at once).
inline void dispatch_checked(const mcp::RequestContext& ctx, std::string_view message) {
  auto sink = std::make_shared<CheckingSink>();
  engine().dispatch(ctx, message, sink);
  if (!sink->wait_finished(std::chrono::seconds(10))) {
    std::fprintf(stderr, "no final reply for a message\n");
    std::abort();
  }
}

}  // namespace coda::fuzz
