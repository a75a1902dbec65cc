#include "core/mcp/engine.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <Poco/JSON/Array.h>

#include "core/metrics/text_writer.hpp"
#include "tests/unit/mcp/test_sink.hpp"

namespace coda::mcp {
namespace {

using test::parse_object;
using test::RecordingSink;

// A tool defined by a lambda, for the tests.
class LambdaTool : public Tool {
 public:
  using Fn = std::function<void(std::shared_ptr<ToolCall>)>;
  LambdaTool(std::string name, Fn fn, std::string schema = R"({"type":"object"})")
      : name_(std::move(name)), fn_(std::move(fn)), schema_(std::move(schema)) {}
  Poco::JSON::Object::Ptr definition() const override {
    Poco::JSON::Object::Ptr def = new Poco::JSON::Object;
    def->set("name", name_);
    def->set("description", "test tool " + name_);
    def->set("inputSchema", parse_object(schema_));
    return def;
  }
  void call(std::shared_ptr<ToolCall> call) override { fn_(std::move(call)); }

 private:
  std::string name_;
  Fn fn_;
  std::string schema_;
};

std::shared_ptr<Tool> echo_tool(const std::string& name = "echo") {
  return std::make_shared<LambdaTool>(
      name,
      [](std::shared_ptr<ToolCall> call) {
        call->finish(ToolResult::text(call->arguments()->optValue<std::string>("text", "")));
      },
      R"({"type":"object","properties":{"text":{"type":"string","maxLength":5}},"required":["text"],
         "additionalProperties":false})");
}

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() : engine_(make_config()) {}
  static config::McpConfig make_config() {
    config::McpConfig config;
    config.page_size = 2;
    return config;
  }
  // Dispatches and waits for the final reply.
  std::string metrics_text() const {
    metrics::TextWriter out;
    engine_.write_metrics(out);
    return out.take();
  }
  std::string call(const std::string& message, RequestContext ctx = {}) {
    auto sink = std::make_shared<RecordingSink>();
    engine_.dispatch(ctx, message, sink);
    std::string reply = sink->wait();
    EXPECT_EQ(sink->finish_count(), 1);
    return reply;
  }
  Engine engine_;
};

TEST_F(EngineTest, PingEchoesIdsOfEveryAllowedType) {
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":7,"method":"ping"})"),
            R"({"jsonrpc":"2.0","id":7,"result":{}})");
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":"s","method":"ping"})"),
            R"({"jsonrpc":"2.0","id":"s","result":{}})");
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":0,"method":"ping"})"),
            R"({"jsonrpc":"2.0","id":0,"result":{}})");
  // Every integer width, negative numbers, fractions and strings that need escapes.
  for (const char* id : {"-5", "2147483648", "-9223372036854775808", "18446744073709551615", "1.5",
                         R"("a\"b\\c\n\u0001")", R"("")"}) {
    EXPECT_EQ(call(std::string(R"({"jsonrpc":"2.0","method":"ping","id":)") + id + "}"),
              std::string(R"({"jsonrpc":"2.0","id":)") + id + R"(,"result":{}})")
        << id;
  }
}

TEST_F(EngineTest, DeeplyNestedMessagesAreRefusedWithTheLimitNamed) {
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  auto error = parse_object(call(deep))->getObject("error");
  EXPECT_EQ(error->getValue<int>("code"), -32700);
  EXPECT_NE(error->getValue<std::string>("message").find("deeper than 64 levels"),
            std::string::npos);
  // The same inside an otherwise well-formed request (tool arguments), and unclosed.
  std::string in_params =
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call",)"
      R"("params":{"name":"echo","arguments":{"text":)" + std::string(65, '[') + std::string(65, ']') + "}}}";
  EXPECT_EQ(parse_object(call(in_params))->getObject("error")->getValue<int>("code"), -32700);
  EXPECT_EQ(parse_object(call(std::string(100000, '{')))->getObject("error")->getValue<int>("code"),
            -32700);
  // Brackets inside strings are not nesting; 64 levels are still fine.
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":2,"method":"ping","params":{"_meta":{"x":")" +
                 std::string(1000, '[') + R"(\"[["}}})"),
            R"({"jsonrpc":"2.0","id":2,"result":{}})");
  std::string at_limit = R"({"jsonrpc":"2.0","id":3,"method":"ping","params":{"_meta":{"x":)" +
                         std::string(61, '[') + std::string(61, ']') + "}}}";
  EXPECT_EQ(call(at_limit), R"({"jsonrpc":"2.0","id":3,"result":{}})");
}

TEST_F(EngineTest, MalformedMessagesGetTheRightErrorCode) {
  auto code = [&](const std::string& msg) {
    return parse_object(call(msg))->getObject("error")->getValue<int>("code");
  };
  EXPECT_EQ(code("{not json"), -32700);
  EXPECT_EQ(code(R"("just a string")"), -32600);
  EXPECT_EQ(code(R"({"jsonrpc":"1.0","id":1,"method":"ping"})"), -32600);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":null,"method":"ping"})"), -32600);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":{"a":1},"method":"ping"})"), -32600);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":1,"method":5})"), -32600);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":3})"), -32600);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":1,"method":"nope/nope"})"), -32601);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":1,"method":"resources/list"})"), -32601);
}

TEST_F(EngineTest, ErrorsEchoTheIdAndNeverSendANullId) {
  auto reply = parse_object(call(R"({"jsonrpc":"2.0","id":"abc","method":"nope"})"));
  EXPECT_EQ(reply->getValue<std::string>("id"), "abc");
  EXPECT_EQ(reply->getObject("error")->getValue<std::string>("message"), "Method not found: nope");
  auto unreadable = parse_object(call(R"({"jsonrpc":"2.0","id":null,"method":"ping"})"));
  EXPECT_FALSE(unreadable->has("id"));
}

TEST_F(EngineTest, NotificationsAndResponsesGetNoReply) {
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"), "");
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","method":"notifications/whatever","params":{}})"), "");
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":4,"result":{}})"), "");
}

TEST_F(EngineTest, InitializeNegotiatesTheVersion) {
  for (const auto& version : supported_protocol_versions()) {
    auto result = parse_object(call(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
      "protocolVersion":")" + version + R"(","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})"))
                      ->getObject("result");
    EXPECT_EQ(result->getValue<std::string>("protocolVersion"), version);
  }
  auto result = parse_object(call(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
      "protocolVersion":"1999-01-01","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})"))
                    ->getObject("result");
  EXPECT_EQ(result->getValue<std::string>("protocolVersion"), "2025-11-25");
  EXPECT_TRUE(result->getObject("capabilities")->getObject("tools")->getValue<bool>("listChanged"));
  EXPECT_FALSE(result->getObject("capabilities")->getObject("logging").isNull());
  EXPECT_EQ(result->getObject("serverInfo")->getValue<std::string>("name"), "coda");
  EXPECT_FALSE(result->has("instructions"));
  auto missing = parse_object(call(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{}})"));
  EXPECT_EQ(missing->getObject("error")->getValue<int>("code"), -32602);
}

TEST_F(EngineTest, InstructionsComeFromConfigElseTheDefaultHook) {
  const std::string init = R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
      "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})";
  engine_.set_default_instructions("use coda_run");
  EXPECT_EQ(parse_object(call(init))->getObject("result")->getValue<std::string>("instructions"),
            "use coda_run");
  config::McpConfig config;
  config.instructions = "from config";
  Engine configured(config);
  configured.set_default_instructions("use coda_run");
  auto sink = std::make_shared<RecordingSink>();
  configured.dispatch({}, init, sink);
  EXPECT_EQ(parse_object(sink->wait())->getObject("result")->getValue<std::string>("instructions"),
            "from config");
}

TEST_F(EngineTest, ToolsListPaginatesWithOpaqueCursors) {
  for (const char* name : {"c", "a", "b"}) engine_.add_tool(echo_tool(name));
  auto first = parse_object(call(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})"))
                   ->getObject("result");
  ASSERT_EQ(first->getArray("tools")->size(), 2u);
  EXPECT_EQ(first->getArray("tools")->getObject(0)->getValue<std::string>("name"), "a");
  EXPECT_EQ(first->getArray("tools")->getObject(1)->getValue<std::string>("name"), "b");
  std::string cursor = first->getValue<std::string>("nextCursor");
  auto second = parse_object(call(R"({"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":")" +
                                  cursor + R"("}})"))
                    ->getObject("result");
  ASSERT_EQ(second->getArray("tools")->size(), 1u);
  EXPECT_EQ(second->getArray("tools")->getObject(0)->getValue<std::string>("name"), "c");
  EXPECT_FALSE(second->has("nextCursor"));
  auto bad = parse_object(
      call(R"({"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"cursor":"garbage!"}})"));
  EXPECT_EQ(bad->getObject("error")->getValue<int>("code"), -32602);
}

TEST_F(EngineTest, RegistryRefusesBadAndDuplicateTools) {
  engine_.add_tool(echo_tool("dup"));
  EXPECT_THROW(engine_.add_tool(echo_tool("dup")), std::invalid_argument);
  EXPECT_THROW(engine_.add_tool(echo_tool("bad name")), std::invalid_argument);
  EXPECT_THROW(engine_.add_tool(std::make_shared<LambdaTool>("x", nullptr, R"({"type":"string"})")),
               std::invalid_argument);
  EXPECT_TRUE(engine_.remove_tool("dup"));
  EXPECT_FALSE(engine_.remove_tool("dup"));
  EXPECT_TRUE(engine_.tool_definitions().empty());
}

TEST_F(EngineTest, ToolsCallValidatesArgumentsAsToolErrors) {
  engine_.add_tool(echo_tool());
  auto ok = parse_object(call(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}})"));
  EXPECT_EQ(ok->getObject("result")->getArray("content")->getObject(0)->getValue<std::string>("text"),
            "hi");
  auto too_long = parse_object(call(
      R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"toolong"}}})"))
                      ->getObject("result");
  EXPECT_TRUE(too_long->getValue<bool>("isError"));
  EXPECT_EQ(too_long->getArray("content")->getObject(0)->getValue<std::string>("text"),
            "Invalid arguments for tool 'echo': arguments.text: must be at most 5 characters long");
  auto missing = parse_object(call(
      R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo"}})"))
                     ->getObject("result");
  EXPECT_TRUE(missing->getValue<bool>("isError"));
  auto unknown = parse_object(call(
      R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"nope","arguments":{}}})"));
  EXPECT_EQ(unknown->getObject("error")->getValue<int>("code"), -32602);
  auto no_name = parse_object(call(R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{}})"));
  EXPECT_EQ(no_name->getObject("error")->getValue<int>("code"), -32602);
}

TEST_F(EngineTest, AThrowingToolBecomesAnErrorResult) {
  engine_.add_tool(std::make_shared<LambdaTool>(
      "boom", [](std::shared_ptr<ToolCall>) { throw std::runtime_error("disk full"); }));
  auto result = parse_object(call(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"boom"}})"))
                    ->getObject("result");
  EXPECT_TRUE(result->getValue<bool>("isError"));
  EXPECT_EQ(result->getArray("content")->getObject(0)->getValue<std::string>("text"),
            "Tool 'boom' failed: disk full");
}

TEST_F(EngineTest, ProgressAndLogsPrecedeTheResponseFromAnotherThread) {
  std::thread worker;
  engine_.add_tool(std::make_shared<LambdaTool>("slow", [&worker](std::shared_ptr<ToolCall> call) {
    worker = std::thread([call] {
      call->progress(1, 3, "one");
      call->progress(1, 3, "not increasing: dropped");
      call->progress(2, 3, "");
      call->log(LogLevel::kInfo, Poco::Dynamic::Var("hello"), "t");
      call->log(LogLevel::kDebug, Poco::Dynamic::Var("below the default threshold"));
      call->finish(ToolResult::text("done"));
      call->progress(3, 3, "after the end: dropped");
    });
  }));
  auto sink = std::make_shared<RecordingSink>();
  engine_.dispatch({}, R"({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"slow",
      "_meta":{"progressToken":"tok"}}})", sink);
  std::string reply = sink->wait();
  worker.join();
  auto notes = sink->notifications();
  ASSERT_EQ(notes.size(), 3u);
  EXPECT_EQ(notes[0],
            R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"tok","progress":1,"total":3,"message":"one"}})");
  EXPECT_EQ(parse_object(notes[1])->getObject("params")->getValue<double>("progress"), 2);
  EXPECT_EQ(notes[2],
            R"({"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","logger":"t","data":"hello"}})");
  EXPECT_EQ(parse_object(reply)->getValue<int>("id"), 9);
  EXPECT_FALSE(sink->overlapped());
}

TEST_F(EngineTest, NoProgressWithoutAToken) {
  engine_.add_tool(std::make_shared<LambdaTool>("p", [](std::shared_ptr<ToolCall> call) {
    call->progress(1, std::nullopt, "x");
    call->finish(ToolResult::text("ok"));
  }));
  auto sink = std::make_shared<RecordingSink>();
  engine_.dispatch({}, R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"p"}})", sink);
  sink->wait();
  EXPECT_TRUE(sink->notifications().empty());
}

TEST_F(EngineTest, SetLevelFiltersLogsPerSession) {
  engine_.add_tool(std::make_shared<LambdaTool>("logger", [](std::shared_ptr<ToolCall> call) {
    call->log(LogLevel::kWarning, Poco::Dynamic::Var("warn"));
    call->log(LogLevel::kError, Poco::Dynamic::Var("err"));
    call->finish(ToolResult::text("ok"));
  }));
  RequestContext session;
  session.session_id = "abc";
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"error"}})",
                 session),
            R"({"jsonrpc":"2.0","id":1,"result":{}})");
  auto code = parse_object(call(
      R"({"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"loud"}})"))
                  ->getObject("error")->getValue<int>("code");
  EXPECT_EQ(code, -32602);
  const std::string msg = R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"logger"}})";
  auto in_session = std::make_shared<RecordingSink>();
  engine_.dispatch(session, msg, in_session);
  in_session->wait();
  EXPECT_EQ(in_session->notifications().size(), 1u);
  auto elsewhere = std::make_shared<RecordingSink>();
  engine_.dispatch({}, msg, elsewhere);
  elsewhere->wait();
  EXPECT_EQ(elsewhere->notifications().size(), 2u);
}

// A tool that finishes only when cancelled.
std::shared_ptr<Tool> waiting_tool(std::atomic<bool>& started) {
  return std::make_shared<LambdaTool>("wait", [&started](std::shared_ptr<ToolCall> call) {
    std::weak_ptr<ToolCall> weak = call;
    call->on_cancel([weak] {
      if (auto c = weak.lock()) c->finish(ToolResult::error("cancelled"));
    });
    started = true;
  });
}

TEST_F(EngineTest, NotificationsCancelledAbortsTheMatchingCall) {
  std::atomic<bool> started{false};
  engine_.add_tool(waiting_tool(started));
  RequestContext ctx;
  ctx.identity.subject = "alice";
  auto sink = std::make_shared<RecordingSink>();
  engine_.dispatch(ctx, R"({"jsonrpc":"2.0","id":"r1","method":"tools/call","params":{"name":"wait"}})",
                   sink);
  // dispatch() returned at once; the tool runs on the engine's tool threads.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!started && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_TRUE(started);
  EXPECT_FALSE(sink->finished());
  // Another caller cannot cancel it.
  RequestContext other;
  other.identity.subject = "mallory";
  call(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"r1"}})", other);
  EXPECT_FALSE(sink->finished());
  call(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"r1"}})", ctx);
  auto result = parse_object(sink->wait())->getObject("result");
  EXPECT_TRUE(result->getValue<bool>("isError"));
}

TEST_F(EngineTest, DispatchReturnsWhileAToolBlocksAndOtherRequestsAreAnswered) {
  // A tool that holds its thread until released: dispatch must not run it on the caller's thread.
  std::mutex mutex;
  std::condition_variable cv;
  bool release = false;
  engine_.add_tool(std::make_shared<LambdaTool>("block", [&](std::shared_ptr<ToolCall> call) {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return release; });
    call->finish(ToolResult::text("done"));
  }));
  auto slow = std::make_shared<RecordingSink>();
  engine_.dispatch({}, R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"block"}})",
                   slow);
  EXPECT_FALSE(slow->finished());
  // The same caller's ping and tools/list are answered while the call still runs.
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":2,"method":"ping"})"), R"({"jsonrpc":"2.0","id":2,"result":{}})");
  EXPECT_FALSE(slow->finished());
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  EXPECT_NE(slow->wait().find("done"), std::string::npos);
}

TEST_F(EngineTest, CancelByDispatchId) {
  std::atomic<bool> started{false};
  engine_.add_tool(waiting_tool(started));
  auto sink = std::make_shared<RecordingSink>();
  CallId id = engine_.dispatch(
      {}, R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"wait"}})", sink);
  EXPECT_NE(id, 0u);
  EXPECT_FALSE(sink->finished());
  engine_.cancel(id);
  EXPECT_NE(sink->wait(), "<timeout>");
  engine_.cancel(id);  // finished: ignored
  EXPECT_EQ(sink->finish_count(), 1);
  // Counted as a cancelled call of its tool, with its duration.
  std::string metrics = metrics_text();
  for (const char* line : {R"(coda_mcp_tool_calls_total{tool="wait",outcome="cancelled"} 1)",
                           R"(coda_mcp_tool_call_duration_seconds_count{tool="wait"} 1)",
                           R"(coda_mcp_requests_total{method="tools/call",outcome="ok"} 1)"}) {
    EXPECT_NE(metrics.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << metrics;
  }
}

TEST_F(EngineTest, MetricsCountEveryMemberOfABatch) {
  RequestContext batch;
  batch.protocol_version = "2025-03-26";
  call(R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"nope"},)"
       R"({"jsonrpc":"2.0","method":"notifications/whatever"}])",
       batch);
  std::string metrics = metrics_text();
  for (const char* line : {R"(coda_mcp_requests_total{method="ping",outcome="ok"} 1)",
                           R"(coda_mcp_requests_total{method="other",outcome="error"} 1)",
                           R"(coda_mcp_notifications_total{method="other"} 1)"}) {
    EXPECT_NE(metrics.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << metrics;
  }
}

TEST_F(EngineTest, BatchesOnlyFor20250326) {
  const std::string batch =
      R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},)"
      R"({"jsonrpc":"2.0","id":2,"method":"nope"}])";
  RequestContext old;
  old.protocol_version = "2025-03-26";
  std::string reply = call(batch, old);
  Poco::JSON::Parser parser;
  auto array = parser.parse(reply).extract<Poco::JSON::Array::Ptr>();
  ASSERT_EQ(array->size(), 2u);
  EXPECT_EQ(array->getObject(0)->getValue<int>("id"), 1);
  EXPECT_EQ(array->getObject(1)->getObject("error")->getValue<int>("code"), -32601);
  RequestContext current;
  current.protocol_version = "2025-11-25";
  EXPECT_EQ(parse_object(call(batch, current))->getObject("error")->getValue<int>("code"), -32600);
  EXPECT_EQ(call(R"([{"jsonrpc":"2.0","method":"notifications/initialized"}])", old), "");
  EXPECT_EQ(parse_object(call("[]", old))->getObject("error")->getValue<int>("code"), -32600);
}

TEST_F(EngineTest, ListChangedIsPushedToOpenConnections) {
  auto push = std::make_shared<RecordingSink>();
  ConnectionId conn = engine_.open_connection({}, push);
  engine_.add_tool(echo_tool("t1"));
  engine_.remove_tool("t1");
  ASSERT_EQ(push->notifications().size(), 2u);
  EXPECT_EQ(push->notifications()[0],
            R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed"})");
  engine_.close_connection(conn);
  engine_.add_tool(echo_tool("t2"));
  EXPECT_EQ(push->notifications().size(), 2u);
  EXPECT_EQ(push->finish_count(), 0);
}

TEST_F(EngineTest, ConcurrentDispatchesAllGetTheirReply) {
  engine_.add_tool(echo_tool());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto sink = std::make_shared<RecordingSink>();
        std::string id = std::to_string(t * 1000 + i);
        engine_.dispatch({}, R"({"jsonrpc":"2.0","id":)" + id +
                                 R"(,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}})",
                         sink);
        if (parse_object(sink->wait())->getValue<std::string>("id") == id) ++ok;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 1600);
}

}  // namespace
}  // namespace coda::mcp
