// One stdio connection, many requests at once: with coda_get_result waiting (wait_s) on a running
// task, a ping, a notifications/cancelled for the waiting call and a coda_cancel sent behind it are
// answered at once, and progress arrives while the call waits — the real `coda serve --stdio` with the
// fixture agent plugin.
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "tests/integration/stdio_pipe_child.hpp"
#include "tests/support/temp_dir.hpp"

namespace coda::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Poco::JSON::Object;

std::string config_yaml() {
  return R"(plugins:
  search_paths: [")" + std::string(CODA_PLUGIN_DIR) + R"(", ")" + std::string(CODA_FIXTURE_PLUGIN_DIR) +
         R"("]
  load: [{name: agent-fixture, required: true}]
tasks:
  max_per_owner: 5
agents:
  order: [fixture]
  policy: {kill_grace_s: 1}
  backends:
    fixture: {component: dev.coda.test.agent-fixture}
)";
}

// Reads the connection's messages, keeping every one with its arrival time.
class Conversation {
 public:
  explicit Conversation(PipeChild& coda) : coda_(coda) {}

  struct Message {
    Object::Ptr json;
    Clock::time_point at;
  };

  // The response to `id` (a number), reading (and keeping) whatever comes first; null on timeout.
  Object::Ptr response(int id, std::chrono::milliseconds timeout = 20s) {
    auto deadline = Clock::now() + timeout;
    while (true) {
      for (const auto& m : seen_) {
        if (m.json->has("id") && !m.json->isNull("id") && m.json->has("method") == false &&
            m.json->getValue<int>("id") == id) {
          return m.json;
        }
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left <= 0ms) return nullptr;
      std::string line = coda_.read_line(left);
      if (line.empty()) return nullptr;
      Poco::JSON::Parser parser;
      seen_.push_back({parser.parse(line).extract<Object::Ptr>(), Clock::now()});
    }
  }
  // Arrival times of notifications/progress for `token`.
  std::vector<Clock::time_point> progress(const std::string& token) const {
    std::vector<Clock::time_point> out;
    for (const auto& m : seen_) {
      if (m.json->optValue<std::string>("method", "") != "notifications/progress") continue;
      if (m.json->getObject("params")->getValue<std::string>("progressToken") == token) {
        out.push_back(m.at);
      }
    }
    return out;
  }
  Object::Ptr structured(int id) {
    auto reply = response(id);
    if (!reply || !reply->getObject("result")) return nullptr;
    return reply->getObject("result")->getObject("structuredContent");
  }

 private:
  PipeChild& coda_;
  std::vector<Message> seen_;
};

std::string call(int id, const std::string& tool, const std::string& args,
                 const std::string& token = "") {
  std::string meta = token.empty() ? "" : R"(,"_meta":{"progressToken":")" + token + "\"}";
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
         R"(,"method":"tools/call","params":{"name":")" + tool + R"(","arguments":)" + args + meta +
         "}}";
}

class StdioConcurrency : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = dir_.write("coda.yaml", config_yaml());
    coda_ = std::make_unique<PipeChild>(
        std::vector<std::string>{"serve", "--stdio", "--config", config_, "--data-dir",
                                 dir_.path() + "/data"});
    talk_ = std::make_unique<Conversation>(*coda_);
    coda_->send_line(
        R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"it","version":"1"}}})");
    ASSERT_TRUE(talk_->response(1)) << coda_->stderr_text();
    coda_->send_line(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  }
  // Starts a task whose agent runs for `seconds`; returns its id.
  std::string run_task(int id, int seconds) {
    coda_->send_line(call(id, "coda_run",
                          R"({"prompt":"FIXTURE: sleep )" + std::to_string(seconds) + R"("})"));
    auto out = talk_->structured(id);
    if (!out) return "";
    return out->getValue<std::string>("task_id");
  }

  TempDir dir_;
  std::string config_;
  std::unique_ptr<PipeChild> coda_;
  std::unique_ptr<Conversation> talk_;
};

TEST_F(StdioConcurrency, APingIsAnsweredAtOnceWhileAWaitIsInFlightAndACancelEndsTheWait) {
  std::string task = run_task(2, 60);
  ASSERT_FALSE(task.empty()) << coda_->stderr_text();
  coda_->send_line(call(3, "coda_get_result", R"({"task_id":")" + task + R"(","wait_s":30})", "w"));
  // The call is waiting: its first progress tick (about 1 s in) shows it is past dispatch.
  ASSERT_TRUE(talk_->response(999, 3s) == nullptr);
  ASSERT_FALSE(talk_->progress("w").empty()) << "no progress while waiting";

  auto sent = Clock::now();
  coda_->send_line(R"({"jsonrpc":"2.0","id":4,"method":"ping"})");
  ASSERT_TRUE(talk_->response(4, 5s));
  EXPECT_LT(Clock::now() - sent, 100ms) << "a ping behind a waiting call must not wait for it";

  sent = Clock::now();
  coda_->send_line(
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3,"reason":"user"}})");
  auto ended = talk_->response(3, 5s);
  ASSERT_TRUE(ended);
  EXPECT_LT(Clock::now() - sent, 1s) << "the cancelled wait must end at once";
  // It answered with the task as it is (still running): the wait ended, not the task.
  EXPECT_EQ(ended->getObject("result")->getObject("structuredContent")->getValue<std::string>("status"),
            "running");
}

TEST_F(StdioConcurrency, ACodaCancelBehindAWaitingCallIsAnsweredAtOnceAndEndsTheWait) {
  std::string task = run_task(2, 60);
  ASSERT_FALSE(task.empty()) << coda_->stderr_text();
  coda_->send_line(call(3, "coda_get_result", R"({"task_id":")" + task + R"(","wait_s":30})"));
  ASSERT_TRUE(talk_->response(999, 500ms) == nullptr);
  auto sent = Clock::now();
  coda_->send_line(call(4, "coda_cancel", R"({"task_id":")" + task + R"("})"));
  auto cancelled = talk_->structured(4);
  ASSERT_TRUE(cancelled);
  EXPECT_LT(Clock::now() - sent, 3s) << "coda_cancel (kill grace 1 s) must not wait behind the wait";
  EXPECT_EQ(cancelled->getValue<std::string>("status"), "cancelled");
  auto waited = talk_->structured(3);
  ASSERT_TRUE(waited);
  EXPECT_EQ(waited->getValue<std::string>("status"), "cancelled");
  EXPECT_LT(Clock::now() - sent, 4s);
}

TEST_F(StdioConcurrency, ProgressOfAWaitArrivesWhileItWaitsNotWithTheAnswer) {
  std::string task = run_task(2, 60);
  ASSERT_FALSE(task.empty()) << coda_->stderr_text();
  auto sent = Clock::now();
  coda_->send_line(call(3, "coda_get_result", R"({"task_id":")" + task + R"(","wait_s":12})", "p"));
  auto answer = talk_->response(3, 30s);
  ASSERT_TRUE(answer);
  auto answered = Clock::now();
  EXPECT_GE(answered - sent, 11s);
  auto times = talk_->progress("p");
  ASSERT_GE(times.size(), 3u);
  // Spread over the wait (about every 5 s from the first second on), not bunched at its end.
  EXPECT_LT(times.front() - sent, 4s);
  EXPECT_GT(times.back() - times.front(), 8s);
  EXPECT_LT(times.back(), answered);
}

}  // namespace
}  // namespace coda::test
