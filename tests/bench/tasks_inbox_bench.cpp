// Benchmark: coda_inbox latency with 1 000 vs 1 000 000 stored tasks, and the coda_run → row committed
// path. Usage: tasks_inbox_bench [--large N] [--small N] [--dir DIR]. Prints figures and the ratio
// large/small (the design bar: ≤ 2). The tasks are spread over 30 days among N/1000 owners (1000
// tasks each, ~33 in the 24 h inbox window), so the measured owner sees the same inbox in both runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>

#include "core/tasks/task_engine.hpp"

using namespace coda;
using Clock = std::chrono::steady_clock;

namespace {

// Fills the store file with `n` finished tasks in one transaction (the engine's insert path is
// measured separately below; bulk loading through it would take minutes).
void fill(const std::string& db, int n) {
  { tasks::open_sqlite_store(db); }  // creates the schema
  Poco::Data::SQLite::Connector::registerConnector();
  Poco::Data::Session session("SQLite", db);
  using namespace Poco::Data::Keywords;
  session << "PRAGMA journal_mode=WAL", now;
  session << "BEGIN", now;
  const int64_t now_ms = tasks::now_ms();
  const int64_t span = 30LL * 86400 * 1000;
  const int owners = std::max(1, n / 1000);
  for (int i = 0; i < n; ++i) {
    std::string id = "task_" + std::to_string(i);
    std::string session_id = "sess_" + std::to_string(i);
    std::string owner = "user" + std::to_string(i % owners);
    Poco::Int64 created = now_ms - (span * (i / owners)) / 1000 - 1000;
    std::string state = (i % 10 == 0) ? "failed" : "completed";
    std::string prompt = "benchmark task number " + std::to_string(i) + " with a prompt of some length";
    std::string workspace = "/ws/" + session_id;
    session << "INSERT INTO tasks (id, session_id, owner, prompt, timeout_s, workspace, state, "
               "created_ms, started_ms, finished_ms, summary) VALUES (?, ?, ?, ?, 3600, ?, ?, ?, ?, ?, "
               "'done')",
        use(id), use(session_id), use(owner), use(prompt), use(workspace), use(state), use(created),
        bind(created + 10), bind(created + 1000), now;
  }
  session << "COMMIT", now;
  session << "ANALYZE", now;
}

struct Figures {
  double p50_us = 0, p99_us = 0;
  std::size_t tasks_in_inbox = 0;
};

Figures measure_inbox(tasks::TaskEngine& engine, int calls) {
  auth::Identity who;
  who.subject = "user0";
  who.authenticated = true;
  std::vector<double> us;
  std::size_t seen = 0;
  for (int i = 0; i < calls + 20; ++i) {
    auto t0 = Clock::now();
    auto result = engine.inbox(who, {});
    auto t1 = Clock::now();
    seen = result.tasks.size();
    if (i >= 20) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[us.size() * 99 / 100], seen};
}

Figures run_size(const std::string& dir, int n, int calls) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto t0 = Clock::now();
  fill(dir + "/tasks.db", n);
  std::printf("  loaded %d tasks in %.1f s\n", n,
              std::chrono::duration<double>(Clock::now() - t0).count());
  config::TasksConfig tasks_cfg;
  config::AgentsConfig agents_cfg;
  tasks::TaskEngine engine(tasks_cfg, agents_cfg, dir, nullptr);
  return measure_inbox(engine, calls);
}

}  // namespace

int main(int argc, char** argv) {
  int large = 1000000, small = 1000, calls = 500;
  std::string dir = std::filesystem::temp_directory_path().string() + "/coda-tasks-bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--large")) large = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--small")) small = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--calls")) calls = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
  }
  std::printf("coda_inbox latency (TaskEngine::inbox: list + counts, one owner's 24 h window)\n");
  auto s = run_size(dir + "/small", small, calls);
  std::printf("  %8d tasks: p50 %.0f us, p99 %.0f us (%zu tasks in the inbox)\n", small, s.p50_us,
              s.p99_us, s.tasks_in_inbox);
  auto l = run_size(dir + "/large", large, calls);
  std::printf("  %8d tasks: p50 %.0f us, p99 %.0f us (%zu tasks in the inbox)\n", large, l.p50_us,
              l.p99_us, l.tasks_in_inbox);
  std::printf("  ratio large/small: p50 %.2f, p99 %.2f (bar: <= 2)\n", l.p50_us / s.p50_us,
              l.p99_us / s.p99_us);

  // coda_run → row committed: TaskEngine::submit validates, inserts (one transaction, WAL) and
  // returns; measured on the large store.
  {
    config::TasksConfig tasks_cfg;
    tasks_cfg.max_queued = 1000000;
    tasks_cfg.max_queued_per_owner = 1000000;
    config::AgentsConfig agents_cfg;
    tasks::TaskEngine engine(tasks_cfg, agents_cfg, dir + "/large", nullptr);
    auth::Identity who;
    who.subject = "bench";
    tasks::RunRequest request;
    request.prompt = "write hello.txt";
    request.context_json = R"({"catalog":"main","schema":"sales"})";
    std::vector<double> us;
    for (int i = 0; i < 500; ++i) {
      auto t0 = Clock::now();
      engine.submit(who, request);
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    std::sort(us.begin(), us.end());
    std::printf("coda_run -> row committed (TaskEngine::submit, %d stored tasks): p50 %.0f us, "
                "p99 %.0f us\n",
                large, us[us.size() / 2], us[us.size() * 99 / 100]);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
