// The task engine end to end: the real `coda` binary, the Streamable HTTP transport, the fixture agent
// plugin (tests/fixtures/plugins/agent-fixture) spawning its script through the host's process
// service, and the coda_* tools over HTTP. Also kill -9 recovery and the admin CLI.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/security/security_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace coda::test {
namespace {

using namespace std::chrono_literals;
using security::call_tool;

std::string tasks_config(const std::string& tasks_section = "") {
  return R"(server: {log_level: info}
plugins:
  search_paths: [")" + std::string(CODA_PLUGIN_DIR) + R"(", ")" +
         std::string(CODA_FIXTURE_PLUGIN_DIR) + R"("]
  load: [{name: transport-mcp-http, required: true}, {name: agent-fixture, required: true}]
transports:
  mcp-http: {component: dev.coda.transport.mcp-http, path: /mcp}
tasks:
  max_wait_s: 30
)" + tasks_section + R"(agents:
  order: [fixture]
  policy: {kill_grace_s: 1}
  backends:
    fixture: {component: dev.coda.test.agent-fixture}
)";
}

std::unique_ptr<CodaServer> start(const std::string& config, const std::string& data_dir = "") {
  CodaServer::Options options;
  options.config_yaml = config;
  options.data_dir = data_dir;
  return std::make_unique<CodaServer>(options);
}

std::string args_json(const std::string& prompt, const std::string& extra = "") {
  Poco::JSON::Object args;
  args.set("prompt", prompt);
  return security::json_text(args).insert(1, extra.empty() ? "" : extra + ",");
}

Poco::JSON::Object::Ptr run_ok(CodaServer& server, const std::string& prompt,
                               const std::string& extra = "") {
  auto run = call_tool(server, "coda_run", args_json(prompt, extra), {});
  EXPECT_FALSE(run.is_error) << run.text;
  EXPECT_FALSE(run.structured.isNull()) << run.text;
  return run.structured;
}

Poco::JSON::Object::Ptr result(CodaServer& server, const std::string& task_id, int wait_s = 0) {
  auto got = call_tool(server, "coda_get_result",
                       R"({"task_id":")" + task_id + R"(","wait_s":)" + std::to_string(wait_s) + "}",
                       {});
  EXPECT_FALSE(got.is_error) << got.text;
  return got.structured;
}

std::string status_of(const Poco::JSON::Object::Ptr& obj) {
  return obj.isNull() ? "" : obj->optValue<std::string>("status", "");
}

// The workspace's task directory of `task_id` (where the fixture writes agent.pid).
std::string task_dir(const CodaServer& server, const std::string& session_id,
                     const std::string& task_id) {
  return server.data_dir() + "/workspaces/" + session_id + "/.coda/tasks/" + task_id;
}

// A pid from a file the fixture wrote, waiting for it to appear.
pid_t read_pid(const std::string& path, std::chrono::seconds timeout = 10s) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    std::ifstream in(path);
    pid_t pid = 0;
    if (in >> pid && pid > 0) return pid;
    std::this_thread::sleep_for(50ms);
  }
  return 0;
}

// Alive and not a zombie.
bool alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  auto close = line.rfind(')');
  return close != std::string::npos && line.size() > close + 2 && line[close + 2] != 'Z';
}

bool gone_within(pid_t pid, std::chrono::seconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (!alive(pid)) return true;
    std::this_thread::sleep_for(50ms);
  }
  return !alive(pid);
}

TEST(TasksE2E, RunReturnsAtOnceThenInboxAndResultsShowTheTask) {
  auto server = start(tasks_config());
  auto started = std::chrono::steady_clock::now();
  auto run = run_ok(*server, "make a file\nFIXTURE: lines 2\nFIXTURE: sleep 2\nFIXTURE: write out.txt",
                    R"("context":"{\"catalog\":\"main\"}")");
  auto run_took = std::chrono::steady_clock::now() - started;
  const auto task_id = run->getValue<std::string>("task_id");
  const auto session_id = run->getValue<std::string>("session_id");
  EXPECT_EQ(task_id.size(), 37u);
  EXPECT_EQ(status_of(run), "queued");
  // coda_run never waits for the agent: the agent sleeps 2 s and the task is not final yet.
  auto now = result(*server, task_id);
  EXPECT_TRUE(status_of(now) == "queued" || status_of(now) == "running") << status_of(now);
  EXPECT_EQ(now->optValue<std::string>("message", ""),
            "Result not yet available — task is still in progress.");
  EXPECT_LT(run_took, 2s);

  auto inbox = call_tool(*server, "coda_inbox", "{}", {});
  ASSERT_FALSE(inbox.structured.isNull()) << inbox.text;
  auto tasks = inbox.structured->getArray("tasks");
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ(tasks->getObject(0)->getValue<std::string>("task_id"), task_id);
  EXPECT_EQ(tasks->getObject(0)->getValue<std::string>("prompt_summary").substr(0, 11), "make a file");
  auto text_json = Poco::JSON::Parser().parse(inbox.text).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(security::json_text(*text_json), security::json_text(*inbox.structured))
      << "the same JSON as text";

  auto done = result(*server, task_id, 25);
  ASSERT_EQ(status_of(done), "completed") << security::json_text(*done);
  EXPECT_EQ(done->getValue<std::string>("session_id"), session_id);
  auto files = done->getArray("files_changed");
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ(files->getElement<std::string>(0), "out.txt");
  EXPECT_EQ(done->getValue<std::string>("agent"), "fixture");
  EXPECT_EQ(done->getObject("usage")->getValue<int>("output_tokens"), 2);
  EXPECT_EQ(done->getValue<int>("exit_code"), 0);
  std::ifstream out(server->data_dir() + "/workspaces/" + session_id + "/out.txt");
  EXPECT_TRUE(out.good());
  // The prompt the agent got is the envelope with the context and the safety rules.
  std::ifstream prompt(task_dir(*server, session_id, task_id) + "/prompt.txt");
  std::string text((std::istreambuf_iterator<char>(prompt)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"catalog\": \"main\""), std::string::npos) << text;
  EXPECT_NE(text.find("SAFETY"), std::string::npos);
}

TEST(TasksE2E, ViewerUrlPointsAtTheDashboardOfThisTask) {
  // Without a web UI there is no dashboard to link to.
  auto plain = start(tasks_config());
  EXPECT_FALSE(run_ok(*plain, "FIXTURE: lines 1")->has("viewer_url"));
  plain.reset();

  auto config = tasks_config();
  config.replace(config.find("{name: agent-fixture"), 0, "{name: transport-web-ui}, ");
  config.replace(config.find("tasks:"), 0,
                 "  web-ui: {component: dev.coda.transport.web-ui, path: /dash}\n");
  auto server = start(config);
  auto run = run_ok(*server, "FIXTURE: lines 1");
  const auto task_id = run->getValue<std::string>("task_id");
  // The caller's own address (the Host it used), the web UI's path and the task in the fragment.
  EXPECT_EQ(run->optValue<std::string>("viewer_url", ""),
            server->url() + "/dash/#/tasks/" + task_id);
  // Behind a proxy, the forwarded scheme and host are what the user's browser knows.
  auto proxied = call_tool(*server, "coda_run", args_json("FIXTURE: lines 1"),
                           {{"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "coda.example.com"}});
  ASSERT_FALSE(proxied.structured.isNull()) << proxied.text;
  EXPECT_EQ(proxied.structured->optValue<std::string>("viewer_url", ""),
            "https://coda.example.com/dash/#/tasks/" +
                proxied.structured->getValue<std::string>("task_id"));
  server.reset();

  // server.public_url wins over whatever the request said.
  config.replace(config.find("server: {"), 9, "server: {public_url: \"https://coda.test/\", ");
  server = start(config);
  run = run_ok(*server, "FIXTURE: lines 1");
  EXPECT_EQ(run->optValue<std::string>("viewer_url", ""),
            "https://coda.test/dash/#/tasks/" + run->getValue<std::string>("task_id"));
}

TEST(TasksE2E, EventsAfterPagesTheOutputAndWaitsForNewEvents) {
  auto server = start(tasks_config());
  auto run = run_ok(*server, "FIXTURE: sleep 1\nFIXTURE: lines 3\nFIXTURE: sleep 1");
  const auto task_id = run->getValue<std::string>("task_id");
  auto get = [&](int64_t after, int wait_s) {
    auto got = call_tool(*server, "coda_get_result",
                         R"({"task_id":")" + task_id + R"(","events_after":)" +
                             std::to_string(after) + R"(,"wait_s":)" + std::to_string(wait_s) + "}",
                         {});
    EXPECT_FALSE(got.is_error) << got.text;
    return got.structured;
  };
  // The first output arrives after about a second: a wait for events returns with it, long before
  // the task ends (wait_s 20 would otherwise run to the end of the task). A wait may also end on the
  // change from queued to running, before any output.
  std::string output;
  int64_t after = 0;
  auto page = get(after, 20);
  ASSERT_FALSE(page.isNull());
  for (int i = 0; i < 3 && page->getArray("events")->size() == 0; ++i) page = get(after, 20);
  ASSERT_GT(page->getArray("events")->size(), 0u) << security::json_text(*page);
  EXPECT_NE(status_of(page), "completed") << "returned on the first event, not at the end";
  // Then page through to the end, each page continuing where the last one stopped.
  for (int i = 0; i < 100; ++i) {
    auto events = page->getArray("events");
    for (std::size_t e = 0; e < events->size(); ++e) {
      auto event = events->getObject(static_cast<unsigned>(e));
      EXPECT_GT(event->getValue<int64_t>("seq"), after);
      after = event->getValue<int64_t>("seq");
      output += event->getValue<std::string>("data");
    }
    EXPECT_EQ(page->getValue<int64_t>("next_seq"), after + 1);
    if (status_of(page) == "completed" && !page->getValue<bool>("has_more")) break;
    page = get(after, 5);
    ASSERT_FALSE(page.isNull());
  }
  EXPECT_EQ(status_of(page), "completed");
  for (int i = 1; i <= 3; ++i) {
    EXPECT_NE(output.find("PROGRESS: step " + std::to_string(i)), std::string::npos) << output;
  }
  // Nothing new after the end; a bad events_after says what to send.
  EXPECT_EQ(get(after, 0)->getArray("events")->size(), 0u);
  auto bad = call_tool(*server, "coda_get_result",
                       R"({"task_id":")" + task_id + R"(","events_after":-1})", {});
  EXPECT_TRUE(bad.is_error);
  EXPECT_NE(bad.text.find("events_after"), std::string::npos) << bad.text;
}

TEST(TasksE2E, ResultJsonIsMergedAndFailuresAreReported) {
  auto server = start(tasks_config());
  auto approval = run_ok(*server, "FIXTURE: result needs_approval");
  auto failing = run_ok(*server, "FIXTURE: exit 3");
  auto a = result(*server, approval->getValue<std::string>("task_id"), 20);
  EXPECT_EQ(status_of(a), "needs_approval");
  // The backend's own summary wins; result.json fills what the backend did not report.
  EXPECT_EQ(a->getValue<std::string>("summary"), "fixture agent exited with 0");
  EXPECT_EQ(a->getArray("artifacts")->getElement<std::string>(0), "fixture-artifact");
  auto f = result(*server, failing->getValue<std::string>("task_id"), 20);
  EXPECT_EQ(status_of(f), "failed");
  EXPECT_EQ(f->getValue<int>("exit_code"), 3);
}

TEST(TasksE2E, CancelStopsTheAgentAndItsProcessGroup) {
  auto server = start(tasks_config());
  auto run = run_ok(*server, "FIXTURE: child\nFIXTURE: ignore-term\nFIXTURE: hang");
  const auto task_id = run->getValue<std::string>("task_id");
  const auto dir = task_dir(*server, run->getValue<std::string>("session_id"), task_id);
  pid_t agent = read_pid(dir + "/agent.pid");
  pid_t child = read_pid(dir + "/child.pid");
  ASSERT_GT(agent, 0);
  ASSERT_GT(child, 0);
  ASSERT_TRUE(alive(agent));
  auto cancelled = call_tool(*server, "coda_cancel", R"({"task_id":")" + task_id + R"("})", {});
  ASSERT_FALSE(cancelled.is_error) << cancelled.text;
  EXPECT_EQ(status_of(cancelled.structured), "cancelled") << cancelled.text;
  EXPECT_TRUE(gone_within(agent, 10s)) << "the agent ignored SIGTERM but the group got SIGKILL";
  EXPECT_TRUE(gone_within(child, 10s)) << "the grandchild in the agent's group is gone too";
  EXPECT_EQ(status_of(result(*server, task_id)), "cancelled");
}

TEST(TasksE2E, TimeoutKillsTheAgent) {
  auto server = start(tasks_config());
  auto run = run_ok(*server, "FIXTURE: hang", R"("timeout_s":1)");
  const auto task_id = run->getValue<std::string>("task_id");
  pid_t agent = read_pid(task_dir(*server, run->getValue<std::string>("session_id"), task_id) +
                         "/agent.pid");
  ASSERT_GT(agent, 0);
  auto done = result(*server, task_id, 20);
  EXPECT_EQ(status_of(done), "timed_out") << security::json_text(*done);
  EXPECT_TRUE(gone_within(agent, 10s));
}

TEST(TasksE2E, MaxQueuedAndMaxConcurrentBehaveAsConfigured) {
  auto server = start(tasks_config("  max_concurrent: 1\n  max_queued: 1\n"));
  auto first = run_ok(*server, "FIXTURE: hang");
  // Wait for the first to run before submitting the second: while the first is still queued, the
  // queue (max_queued 1) is full and the second would be refused.
  std::string first_status;
  for (int i = 0; i < 100 && first_status != "running"; ++i) {
    first_status = status_of(result(*server, first->getValue<std::string>("task_id")));
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(first_status, "running");
  // The second stays queued (max_concurrent 1).
  auto second = run_ok(*server, "FIXTURE: lines 1");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(status_of(result(*server, second->getValue<std::string>("task_id"))), "queued");
  auto third = call_tool(*server, "coda_run", args_json("one too many"), {});
  EXPECT_TRUE(third.is_error);
  EXPECT_NE(third.text.find("queue is full"), std::string::npos) << third.text;
  auto inbox = call_tool(*server, "coda_inbox", "{}", {});
  EXPECT_EQ(inbox.structured->getArray("tasks")->size(), 2u) << "nothing half-created";
  // Cancelling the first lets the second run to completion.
  call_tool(*server, "coda_cancel", R"({"task_id":")" + first->getValue<std::string>("task_id") + R"("})", {});
  EXPECT_EQ(status_of(result(*server, second->getValue<std::string>("task_id"), 20)), "completed");
}

TEST(TasksE2E, BadArgumentsAreToolErrorsSayingWhatToSend) {
  auto server = start(tasks_config());
  struct Case {
    std::string args, needle;
  } cases[] = {
      {R"({"prompt":"x","context":"{oops"})", "context is not a JSON object"},
      {R"({"prompt":"x","permissions":"yolo"})", "yolo"},
      {R"({"prompt":"x","timeout_s":0})", "timeout_s"},
      {R"({"prompt":"x","agent":"nope"})", "agent"},
  };
  for (const auto& c : cases) {
    auto out = call_tool(*server, "coda_run", c.args, {});
    EXPECT_TRUE(out.is_error) << c.args;
    EXPECT_NE(out.text.find(c.needle), std::string::npos) << c.args << " → " << out.text;
  }
  auto unknown = call_tool(*server, "coda_get_result", R"({"task_id":"task_nope"})", {});
  EXPECT_TRUE(unknown.is_error);
  EXPECT_NE(unknown.text.find("unknown task_id"), std::string::npos) << unknown.text;
  EXPECT_EQ(call_tool(*server, "coda_inbox", "{}", {}).structured->getArray("tasks")->size(), 0u);
}

TEST(TasksE2E, KillNineRecoveryAccountsForEveryTaskAndLeavesNoAgentAlive) {
  TempDir data;
  const std::string data_dir = data.path() + "/data";
  const std::string config = tasks_config("  max_concurrent: 1\n");
  std::string running_id, queued_id, session;
  pid_t agent = 0, child = 0;
  {
    auto server = start(config, data_dir);
    auto running = run_ok(*server, "FIXTURE: child\nFIXTURE: hang");
    auto queued = run_ok(*server, "FIXTURE: write after.txt");
    running_id = running->getValue<std::string>("task_id");
    queued_id = queued->getValue<std::string>("task_id");
    session = running->getValue<std::string>("session_id");
    const auto dir = task_dir(*server, session, running_id);
    agent = read_pid(dir + "/agent.pid");
    child = read_pid(dir + "/child.pid");
    ASSERT_GT(agent, 0);
    ASSERT_GT(child, 0);
    std::this_thread::sleep_for(300ms);  // the process group is recorded right after the spawn
    server->kill9();
    // The agent dies with its host (PR_SET_PDEATHSIG); what it started is left to the recovery.
    EXPECT_TRUE(gone_within(agent, 10s)) << "the agent outlived its host";
  }
  auto server = start(config, data_dir);
  EXPECT_TRUE(gone_within(child, 10s)) << "recovery killed the surviving member of the agent's group";
  EXPECT_EQ(status_of(result(*server, running_id)), "interrupted");
  EXPECT_EQ(status_of(result(*server, queued_id, 20)), "completed") << "queued tasks run";
  auto check = run_coda({"tasks", "check", "--data-dir", data_dir});
  EXPECT_EQ(check.exit_code, 0) << check.output << check.error;
  EXPECT_NE(check.output.find("ok"), std::string::npos) << check.output;
  if (alive(agent)) ::kill(agent, SIGKILL);
  if (alive(child)) ::kill(child, SIGKILL);
}

TEST(TasksE2E, ASecondHostOnTheSameDataDirIsRefusedAndTheFirstKeepsItsTasks) {
  TempDir data;
  const std::string data_dir = data.path() + "/data";
  auto server = start(tasks_config(), data_dir);
  auto run = run_ok(*server, "FIXTURE: sleep 2");
  const auto task_id = run->getValue<std::string>("task_id");
  // The second host would take the running task for one of a crashed host and interrupt it.
  auto second = run_coda({"serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir});
  EXPECT_EQ(second.exit_code, 1) << second.output << second.error;
  EXPECT_NE(second.error.find("in use by another coda serve"), std::string::npos) << second.error;
  EXPECT_EQ(status_of(result(*server, task_id, 25)), "completed") << "the first host's task ran on";
}

TEST(TasksE2E, RequeueOnRestartRunsInterruptedTasksAgain) {
  TempDir data;
  const std::string data_dir = data.path() + "/data";
  const std::string config = tasks_config("  on_restart: requeue\n");
  std::string task_id;
  pid_t agent = 0;
  {
    auto server = start(config, data_dir);
    auto run = run_ok(*server, "FIXTURE: sleep 2");
    task_id = run->getValue<std::string>("task_id");
    agent = read_pid(task_dir(*server, run->getValue<std::string>("session_id"), task_id) +
                     "/agent.pid");
    ASSERT_GT(agent, 0);
    std::this_thread::sleep_for(300ms);
    server->kill9();
  }
  auto server = start(config, data_dir);
  EXPECT_TRUE(gone_within(agent, 10s));
  EXPECT_EQ(status_of(result(*server, task_id, 25)), "completed");
}

}  // namespace
}  // namespace coda::test
