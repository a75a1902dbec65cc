// The Hermes backend in its three modes, through the real plugin.
#include <gtest/gtest.h>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "tests/support/temp_dir.hpp"
#include "tests/unit/agents/agent_harness.hpp"

namespace coda::agents::test {
namespace {

std::unique_ptr<AgentHarness> hermes(const std::string& config_json) {
  auto harness = std::make_unique<AgentHarness>();
  harness->load(CODA_AGENT_HERMES_PLUGIN, config_json);
  return harness;
}

TEST(HermesStreamJson, TheResultEventGivesAnswerUsageAndSession) {
  auto h = hermes(R"({"mode":"stream-json","model":"anthropic/claude-sonnet-4","toolsets":["terminal","file"]})");
  EXPECT_EQ(h->probe(), "");
  auto r = h->run({});
  EXPECT_EQ(r->status(), "completed") << r->result_json();
  EXPECT_EQ(r->summary(), "Hermes finished the task (model anthropic/claude-sonnet-4, yolo 0).");
  auto usage = r->result()->getObject("usage");
  ASSERT_TRUE(usage);
  EXPECT_EQ(usage->getValue<int>("input_tokens"), 900);
  EXPECT_EQ(usage->getValue<int>("output_tokens"), 120);
  const auto session = r->result()->getValue<std::string>("agent_session");
  EXPECT_NE(session.find("_fake"), std::string::npos);
  EXPECT_TRUE(r->argv_has("--query-file"));
  EXPECT_TRUE(r->argv_has("terminal,file"));
  EXPECT_FALSE(r->argv_has("--yolo"));
  EXPECT_GE(r->event_json_count(), 6u);
  EXPECT_FALSE(r->progress().empty());

  // The next task of the session chain resumes Hermes' own session.
  auto resumed = h->run({.resume_session = session});
  EXPECT_TRUE(resumed->argv_has("--resume"));
  EXPECT_EQ(resumed->result()->getValue<std::string>("agent_session"), session);
  EXPECT_NE(resumed->summary().find("resumed " + session), std::string::npos);

  // A session id that could be read as an option never reaches argv: a fresh session, with a note.
  auto refused = h->run({.resume_session = "--yolo"});
  EXPECT_EQ(refused->status(), "completed") << refused->result_json();
  EXPECT_FALSE(refused->argv_has("--resume"));
  EXPECT_FALSE(refused->argv_has("--yolo"));
  EXPECT_NE(refused->text().find("not a valid id"), std::string::npos);
}

TEST(HermesStreamJson, YoloFlagOnlyWhenAllowed) {
  auto h = hermes(R"({"mode":"stream-json"})");
  EXPECT_FALSE(h->run({.permissions = "yolo"})->argv_has("--yolo"));
  EXPECT_TRUE(h->run({.permissions = "yolo", .yolo_allowed = true})->argv_has("--yolo"));
}

TEST(HermesStreamJson, FailuresAndMissingFinalEvent) {
  auto h = hermes(R"({"mode":"stream-json"})");
  auto failed = h->run({.prompt = "fake:fail"});
  EXPECT_EQ(failed->status(), "failed");
  EXPECT_NE(failed->result_json().find("429 rate limited"), std::string::npos);
  auto no_final = h->run({.prompt = "fake:no_final"});
  EXPECT_EQ(no_final->status(), "failed");
  auto late = h->run({.prompt = "fake:fail_after_success"});
  EXPECT_EQ(late->status(), "completed");
}

TEST(HermesOneshot, ExitCodesAndTheUsageFile) {
  auto h = hermes(R"({"mode":"oneshot","model":"m","provider":"openrouter"})");
  const TaskOptions yolo{.permissions = "yolo", .yolo_allowed = true};
  auto r = h->run(yolo);
  EXPECT_EQ(r->status(), "completed") << r->result_json();
  EXPECT_EQ(r->summary(), "Hermes finished the task (model m, yolo 0).");
  EXPECT_TRUE(r->argv_has("-z"));
  EXPECT_TRUE(r->argv_has("--usage-file"));
  auto usage = r->result()->getObject("usage");
  ASSERT_TRUE(usage) << r->result_json();
  EXPECT_EQ(usage->getValue<int>("input_tokens"), 900);
  EXPECT_DOUBLE_EQ(usage->getValue<double>("cost_usd"), 0.0031);
  EXPECT_FALSE(r->result()->getValue<std::string>("agent_session").empty());

  TaskOptions partial = yolo;
  partial.prompt = "fake:partial";
  auto p = h->run(partial);
  EXPECT_EQ(p->status(), "failed");
  EXPECT_EQ(p->result()->getValue<int>("exit_code"), 2);
  EXPECT_NE(p->result_json().find("partial"), std::string::npos);
  EXPECT_EQ(p->summary(), "Partial answer: half done.");

  TaskOptions fail = yolo;
  fail.prompt = "fake:fail";
  auto f = h->run(fail);
  EXPECT_EQ(f->status(), "failed");
  EXPECT_NE(f->result_json().find("provider error"), std::string::npos);
}

TEST(HermesOneshot, RefusesTasksThatMayNotRunYolo) {
  // One-shot runs bypass approvals: a smart task (or yolo not allowed) must not run this way.
  auto h = hermes(R"({"mode":"oneshot"})");
  auto recorder = std::make_shared<TaskRecorder>();
  std::string error;
  EXPECT_NE(h->start({.permissions = "yolo", .yolo_allowed = false}, recorder, &error), CODA_OK);
  EXPECT_NE(error.find("stream-json"), std::string::npos) << error;
  EXPECT_FALSE(recorder->wait(std::chrono::milliseconds(100)));
}

TEST(HermesConfig, PerOwnerHomeAndBadConfig) {
  auto h = hermes(R"({"mode":"stream-json","hermes_home":")" + std::string("/tmp") +
                  R"(/coda-hermes-test/{owner}","env":{"HERMES_INFERENCE_PROVIDER":"openrouter"}})");
  auto r = h->run({.prompt = "x", .owner = "bob@example.com"});
  EXPECT_EQ(r->status(), "completed");
  const auto names = r->env_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "HERMES_HOME"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "HERMES_INFERENCE_PROVIDER"), names.end());
  EXPECT_TRUE(std::filesystem::is_directory("/tmp/coda-hermes-test/bob@example.com"));
  std::filesystem::remove_all("/tmp/coda-hermes-test");
  EXPECT_NE(h->try_create(R"({"mode":"batch"})").find("oneshot, stream-json or gateway"),
            std::string::npos);
  EXPECT_NE(h->try_create(R"({"provider":"openrouter"})").find("`model`"), std::string::npos);
  EXPECT_NE(h->try_create(R"({"mdoel":"x"})").find("mdoel"), std::string::npos);
}

// {owner} is escaped one-to-one: owners that a lossy mapping would merge get separate homes, and no
// owner can name `..` or a path with `/`.
TEST(HermesConfig, OwnerHomesNeverCollideOrEscape) {
  const std::string base = "/tmp/coda-hermes-owner-test";
  std::filesystem::remove_all(base);
  auto h = hermes(R"({"mode":"stream-json","hermes_home":")" + base + R"(/{owner}"})");
  const std::vector<std::pair<std::string, std::string>> owners = {
      {"a+b@x", "a_2bb@x"}, {"a_b@x", "a_5fb@x"},     {"A@x", "_41@x"}, {"a@x", "a@x"},
      {"..", "_2e."},       {"../etc", "_2e._2fetc"}, {"x/y", "x_2fy"}, {"a_2bb@x", "a_5f2bb@x"}};
  for (const auto& [owner, dir] : owners) {
    auto r = h->run({.prompt = "x", .owner = owner});
    EXPECT_EQ(r->status(), "completed") << owner;
    EXPECT_TRUE(std::filesystem::is_directory(base + "/" + dir)) << owner << " -> " << dir;
  }
  std::size_t homes = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(base)) ++homes;
  EXPECT_EQ(homes, owners.size());
  EXPECT_FALSE(std::filesystem::exists("/tmp/etc"));
  std::filesystem::remove_all(base);
}

// A fake Hermes gateway: the Runs API with SSE events. A run whose input contains "fake:hang"
// streams until it is stopped.
class FakeGateway {
 public:
  FakeGateway() : socket_(Poco::Net::SocketAddress("127.0.0.1", 0)) {
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(8);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket_, params);
    server_->start();
  }
  ~FakeGateway() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
      cv_.notify_all();
    }
    server_->stopAll(true);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(socket_.address().port()); }
  std::string last_body() {
    std::lock_guard lock(mutex_);
    return last_body_;
  }
  std::string last_auth() {
    std::lock_guard lock(mutex_);
    return last_auth_;
  }
  bool stop_called() {
    std::lock_guard lock(mutex_);
    return stop_called_;
  }

 private:
  class Handler : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(FakeGateway& gw) : gw_(gw) {}
    void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp) override {
      std::string body(std::istreambuf_iterator<char>(req.stream()), {});
      const std::string uri = req.getURI();
      resp.setContentType("application/json");
      if (uri == "/health") {
        resp.send() << R"({"status":"ok"})";
      } else if (req.getMethod() == "POST" && uri == "/v1/runs") {
        std::lock_guard lock(gw_.mutex_);
        gw_.last_body_ = body;
        gw_.last_auth_ = req.get("Authorization", "");
        gw_.hang_ = body.find("fake:hang") != std::string::npos;
        resp.send() << R"({"run_id":"run_1","status":"started"})";
      } else if (uri == "/v1/runs/run_1/events") {
        resp.setContentType("text/event-stream");
        resp.setChunkedTransferEncoding(true);
        auto& out = resp.send();
        out << "event: message.delta\ndata: {\"delta\":\"Working \"}\n\n";
        out << "event: tool.started\ndata: {\"name\":\"terminal\"}\n\n";
        out << "event: message.delta\ndata: {\"delta\":\"on it.\"}\n\n" << std::flush;
        std::unique_lock lock(gw_.mutex_);
        if (gw_.hang_) gw_.cv_.wait(lock, [&] { return gw_.stop_called_ || gw_.stopped_; });
        out << "event: run.completed\ndata: {\"status\":\"done\"}\n\n" << std::flush;
      } else if (uri == "/v1/runs/run_1/stop") {
        std::lock_guard lock(gw_.mutex_);
        gw_.stop_called_ = true;
        gw_.cv_.notify_all();
        resp.send() << R"({"status":"stopping"})";
      } else if (uri == "/v1/runs/run_1") {
        std::lock_guard lock(gw_.mutex_);
        if (gw_.stop_called_) {
          resp.send() << R"({"run_id":"run_1","status":"cancelled","output":""})";
        } else {
          resp.send() << R"({"run_id":"run_1","status":"completed","output":"Gateway run done.",)"
                         R"("session_id":"gw-sess-1","usage":{"input_tokens":70,"output_tokens":9}})";
        }
      } else {
        resp.setStatus(Poco::Net::HTTPResponse::HTTP_NOT_FOUND);
        resp.send() << R"({"error":"not found"})";
      }
    }

   private:
    FakeGateway& gw_;
  };
  class Factory : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(FakeGateway& gw) : gw_(gw) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
      return new Handler(gw_);
    }

   private:
    FakeGateway& gw_;
  };

  Poco::Net::ServerSocket socket_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::string last_body_, last_auth_;
  bool hang_ = false, stop_called_ = false, stopped_ = false;
};

TEST(HermesGateway, CreatesStreamsAndReadsTheFinalRun) {
  FakeGateway gateway;
  auto h = hermes(R"({"mode":"gateway","url":")" + gateway.url() +
                  R"(","api_key":"k-123","instructions":"be brief"})");
  EXPECT_EQ(h->probe(), "");
  auto r = h->run({.resume_session = "gw-prev"});
  EXPECT_EQ(r->status(), "completed") << r->result_json();
  EXPECT_EQ(r->summary(), "Gateway run done.");
  EXPECT_EQ(r->result()->getValue<std::string>("agent_session"), "gw-sess-1");
  EXPECT_EQ(r->result()->getObject("usage")->getValue<int>("input_tokens"), 70);
  EXPECT_GE(r->event_json_count(), 3u);
  EXPECT_EQ(gateway.last_auth(), "Bearer k-123");
  EXPECT_NE(gateway.last_body().find("\"session_id\":\"gw-prev\""), std::string::npos);
  EXPECT_NE(gateway.last_body().find("be brief"), std::string::npos);
}

TEST(HermesGateway, CancelStopsTheRun) {
  FakeGateway gateway;
  auto h = hermes(R"({"mode":"gateway","url":")" + gateway.url() + R"("})");
  auto recorder = std::make_shared<TaskRecorder>();
  ASSERT_EQ(h->start({.prompt = "fake:hang"}, recorder), CODA_OK);
  EXPECT_FALSE(recorder->wait(std::chrono::milliseconds(300)));
  h->cancel();
  ASSERT_TRUE(recorder->wait());
  EXPECT_TRUE(gateway.stop_called());
  EXPECT_EQ(recorder->status(), "cancelled") << recorder->result_json();
}

TEST(HermesGateway, UnreachableGatewayIsNotAvailable) {
  Poco::Net::ServerSocket unused(Poco::Net::SocketAddress("127.0.0.1", 0));
  const std::string url = "http://127.0.0.1:" + std::to_string(unused.address().port());
  unused.close();
  auto h = hermes(R"({"mode":"gateway","url":")" + url + R"(","connect_timeout_s":2})");
  EXPECT_NE(h->probe().find("does not answer"), std::string::npos);
  auto recorder = std::make_shared<TaskRecorder>();
  std::string error;
  EXPECT_NE(h->start({}, recorder, &error), CODA_OK);
  EXPECT_NE(error.find(url), std::string::npos) << error;
}

}  // namespace
}  // namespace coda::agents::test
