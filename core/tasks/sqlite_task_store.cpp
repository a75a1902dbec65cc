// The SQLite implementation of TaskStore (Poco::Data::SQLite): one file, WAL, ordered migrations.
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <sstream>

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Nullable.h>

#include "core/tasks/task_store.hpp"

namespace coda::tasks {
namespace {

using Poco::Data::Session;
using Poco::Data::Statement;
using Poco::Data::Keywords::bind;
using Poco::Data::Keywords::into;
using Poco::Data::Keywords::now;

// Ordered migrations: entry i brings the schema from version i to i + 1. Append only.
const char* const kMigrations[] = {
    // 1: tasks, events, processes.
    R"SQL(
CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  previous_session_id TEXT NOT NULL DEFAULT '',
  owner TEXT NOT NULL,
  email TEXT NOT NULL DEFAULT '',
  prompt TEXT NOT NULL,
  context_json TEXT NOT NULL DEFAULT '{}',
  permissions TEXT NOT NULL DEFAULT 'smart',
  timeout_s INTEGER NOT NULL,
  agent_requested TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL DEFAULT '',
  agent_notes_json TEXT NOT NULL DEFAULT '[]',
  agent_session TEXT NOT NULL DEFAULT '',
  workspace TEXT NOT NULL,
  runner TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  started_ms INTEGER NOT NULL DEFAULT 0,
  finished_ms INTEGER NOT NULL DEFAULT 0,
  exit_code INTEGER,
  summary TEXT NOT NULL DEFAULT '',
  progress TEXT NOT NULL DEFAULT '',
  feedback TEXT NOT NULL DEFAULT '',
  files_changed_json TEXT NOT NULL DEFAULT '[]',
  artifacts_json TEXT NOT NULL DEFAULT '[]',
  errors_json TEXT NOT NULL DEFAULT '[]',
  usage_json TEXT NOT NULL DEFAULT '{}',
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  events_next_seq INTEGER NOT NULL DEFAULT 1,
  events_head_bytes INTEGER NOT NULL DEFAULT 0,
  events_tail_bytes INTEGER NOT NULL DEFAULT 0,
  events_dropped_bytes INTEGER NOT NULL DEFAULT 0,
  events_dropped_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tasks_owner_created ON tasks (owner, created_ms);
CREATE INDEX tasks_owner_started ON tasks (owner, started_ms);
CREATE INDEX tasks_created ON tasks (created_ms);
CREATE INDEX tasks_state_created ON tasks (state, created_ms);
CREATE INDEX tasks_session ON tasks (session_id, created_ms);
CREATE INDEX tasks_finished ON tasks (finished_ms);
CREATE TABLE task_events (
  task_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  time_ms INTEGER NOT NULL,
  stream TEXT NOT NULL,
  data BLOB NOT NULL,
  tail INTEGER NOT NULL,
  PRIMARY KEY (task_id, seq)
);
CREATE TABLE task_processes (
  task_id TEXT NOT NULL,
  process_id INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  pgid INTEGER NOT NULL,
  start_time INTEGER NOT NULL,
  PRIMARY KEY (task_id, process_id)
);
)SQL",
    // 2: the measured size of each workspace, for the per-owner storage budget.
    R"SQL(
CREATE TABLE workspace_usage (
  workspace TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  bytes INTEGER NOT NULL
);
CREATE INDEX workspace_usage_owner ON workspace_usage (owner);
)SQL",
};
constexpr int kSchemaVersion = static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));

constexpr const char* kTaskColumns =
    "id, session_id, previous_session_id, owner, email, prompt, context_json, permissions, "
    "timeout_s, agent_requested, agent, agent_notes_json, agent_session, workspace, runner, state, "
    "created_ms, started_ms, finished_ms, exit_code, summary, progress, feedback, "
    "files_changed_json, artifacts_json, errors_json, usage_json, cancel_requested, "
    "events_dropped_bytes, events_dropped_count";

std::vector<std::string> split_statements(const std::string& script) {
  std::vector<std::string> out;
  std::string current;
  for (char c : script) {
    current.push_back(c);
    if (c == ';') {
      out.push_back(current);
      current.clear();
    }
  }
  return out;
}

std::string text_of(const Poco::Data::RecordSet& rs, std::size_t col, std::size_t row) {
  if (rs.isNull(col, row)) return "";
  return rs.value(col, row).convert<std::string>();
}

int64_t int_of(const Poco::Data::RecordSet& rs, std::size_t col, std::size_t row) {
  if (rs.isNull(col, row)) return 0;
  return rs.value(col, row).convert<Poco::Int64>();
}

std::vector<Task> read_tasks(Statement& statement) {
  Poco::Data::RecordSet rs(statement);
  std::vector<Task> tasks;
  tasks.reserve(rs.rowCount());
  for (std::size_t row = 0; row < rs.rowCount(); ++row) {
    Task t;
    std::size_t c = 0;
    t.id = text_of(rs, c++, row);
    t.session_id = text_of(rs, c++, row);
    t.previous_session_id = text_of(rs, c++, row);
    t.owner = text_of(rs, c++, row);
    t.email = text_of(rs, c++, row);
    t.prompt = text_of(rs, c++, row);
    t.context_json = text_of(rs, c++, row);
    t.permissions = text_of(rs, c++, row);
    t.timeout_s = static_cast<int>(int_of(rs, c++, row));
    t.agent_requested = text_of(rs, c++, row);
    t.agent = text_of(rs, c++, row);
    t.agent_notes_json = text_of(rs, c++, row);
    t.agent_session = text_of(rs, c++, row);
    t.workspace = text_of(rs, c++, row);
    t.runner = text_of(rs, c++, row);
    t.state = parse_state(text_of(rs, c++, row)).value_or(TaskState::kFailed);
    t.created_ms = int_of(rs, c++, row);
    t.started_ms = int_of(rs, c++, row);
    t.finished_ms = int_of(rs, c++, row);
    if (!rs.isNull(c, row)) t.exit_code = static_cast<int>(int_of(rs, c, row));
    ++c;
    t.summary = text_of(rs, c++, row);
    t.progress = text_of(rs, c++, row);
    t.feedback = text_of(rs, c++, row);
    t.files_changed_json = text_of(rs, c++, row);
    t.artifacts_json = text_of(rs, c++, row);
    t.errors_json = text_of(rs, c++, row);
    t.usage_json = text_of(rs, c++, row);
    t.cancel_requested = int_of(rs, c++, row) != 0;
    t.events_dropped_bytes = int_of(rs, c++, row);
    t.events_dropped_count = int_of(rs, c++, row);
    tasks.push_back(std::move(t));
  }
  return tasks;
}

class SqliteTaskStore : public TaskStore {
 public:
  explicit SqliteTaskStore(const std::string& path) : path_(path), session_(open(path)) {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    exec("PRAGMA busy_timeout=10000");
    exec("PRAGMA foreign_keys=ON");
    migrate();
  }

  InsertResult insert_queued_checked(const Task& task, int max_queued,
                                     int max_queued_per_owner) override {
    return guarded("insert a task", [&] {
      Transaction tx(*this);
      Poco::Int64 queued = 0;
      session_ << "SELECT COUNT(*) FROM tasks WHERE state = 'queued'", into(queued), now;
      if (queued >= max_queued) return InsertResult::kQueueFull;
      Poco::Int64 owner_queued = 0;
      std::string owner = task.owner;
      session_ << "SELECT COUNT(*) FROM tasks WHERE state = 'queued' AND owner = ?", bind(owner),
          into(owner_queued), now;
      if (owner_queued >= max_queued_per_owner) return InsertResult::kOwnerQueueFull;
      session_ << "INSERT INTO tasks (id, session_id, previous_session_id, owner, email, prompt, "
                  "context_json, permissions, timeout_s, agent_requested, workspace, state, "
                  "created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)",
          bind(task.id), bind(task.session_id), bind(task.previous_session_id), bind(task.owner),
          bind(task.email), bind(task.prompt), bind(task.context_json), bind(task.permissions),
          bind(task.timeout_s), bind(task.agent_requested), bind(task.workspace),
          bind(static_cast<Poco::Int64>(task.created_ms)), now;
      tx.commit();
      return InsertResult::kInserted;
    });
  }

  std::optional<Task> get(const std::string& task_id) override {
    return guarded("read a task", [&] { return get_unlocked(task_id); });
  }

  std::optional<Task> find_by_session(const std::string& session_id) override {
    return guarded("find a session", [&]() -> std::optional<Task> {
      Statement st(session_);
      st << "SELECT " << kTaskColumns
         << " FROM tasks WHERE session_id = ? ORDER BY created_ms DESC LIMIT 1",
          bind(session_id);
      st.execute();
      auto tasks = read_tasks(st);
      if (tasks.empty()) return std::nullopt;
      return tasks.front();
    });
  }

  std::vector<Task> list(const TaskQuery& query) override {
    return guarded("list tasks", [&] {
      Statement st(session_);
      st << "SELECT " << kTaskColumns << " FROM tasks WHERE created_ms >= ?",
          bind(static_cast<Poco::Int64>(query.created_after_ms));
      add_filters(st, query, true);
      st << " ORDER BY created_ms DESC LIMIT ?", bind(query.limit);
      st.execute();
      return read_tasks(st);
    });
  }

  std::map<std::string, int64_t> count_by_state(const TaskQuery& query) override {
    return guarded("count tasks", [&] {
      Statement st(session_);
      st << "SELECT state, COUNT(*) FROM tasks WHERE created_ms >= ?",
          bind(static_cast<Poco::Int64>(query.created_after_ms));
      add_filters(st, query, false);
      st << " GROUP BY state";
      st.execute();
      Poco::Data::RecordSet rs(st);
      std::map<std::string, int64_t> counts;
      for (std::size_t row = 0; row < rs.rowCount(); ++row) {
        counts[text_of(rs, 0, row)] = int_of(rs, 1, row);
      }
      return counts;
    });
  }

  int64_t count_in_state(TaskState state) override {
    return guarded("count tasks", [&] {
      Poco::Int64 n = 0;
      session_ << "SELECT COUNT(*) FROM tasks WHERE state = ?", bind(std::string(to_string(state))),
          into(n), now;
      return static_cast<int64_t>(n);
    });
  }

  std::optional<Task> claim_next(const ClaimLimits& limits, const std::string& runner,
                                 int64_t now_ms) override {
    return guarded("claim a task", [&]() -> std::optional<Task> {
      Transaction tx(*this);
      Poco::Int64 running = 0;
      session_ << "SELECT COUNT(*) FROM tasks WHERE state = 'running'", into(running), now;
      if (running >= limits.max_concurrent) return std::nullopt;
      std::vector<std::string> ids;
      session_ << "SELECT t.id FROM tasks t WHERE t.state = 'queued' "
                  "AND (SELECT COUNT(*) FROM tasks r WHERE r.state = 'running' AND r.owner = t.owner) < ? "
                  "AND NOT EXISTS (SELECT 1 FROM tasks w WHERE w.state = 'running' "
                  "  AND w.workspace = t.workspace) "
                  "ORDER BY (SELECT COUNT(*) FROM tasks r WHERE r.state = 'running' "
                  "  AND r.owner = t.owner), "
                  "(SELECT COALESCE(MAX(s.started_ms), 0) FROM tasks s WHERE s.owner = t.owner), "
                  "t.created_ms, t.rowid LIMIT 1",
          bind(limits.max_per_owner), into(ids), now;
      if (ids.empty()) return std::nullopt;
      session_ << "UPDATE tasks SET state = 'running', runner = ?, started_ms = ? "
                  "WHERE id = ? AND state = 'queued'",
          bind(runner), bind(static_cast<Poco::Int64>(now_ms)), bind(ids.front()), now;
      tx.commit();
      return get_unlocked(ids.front());
    });
  }

  void set_agent(const std::string& task_id, const std::string& agent,
                 const std::string& notes_json) override {
    guarded("record the agent", [&] {
      session_ << "UPDATE tasks SET agent = ?, agent_notes_json = ? WHERE id = ?", bind(agent),
          bind(notes_json), bind(task_id), now;
      return 0;
    });
  }

  void set_progress(const std::string& task_id, const std::string& message) override {
    guarded("record progress", [&] {
      session_ << "UPDATE tasks SET progress = ? WHERE id = ?", bind(message), bind(task_id), now;
      return 0;
    });
  }

  bool finish(const std::string& task_id, const TaskOutcome& o) override {
    return guarded("finish a task", [&] {
      Poco::Nullable<int> exit_code;
      if (o.exit_code) exit_code = *o.exit_code;
      Statement st(session_);
      st << "UPDATE tasks SET state = ?, finished_ms = ?, exit_code = ?, summary = ?, feedback = ?, "
            "files_changed_json = ?, artifacts_json = ?, errors_json = ?, usage_json = ?, "
            "agent_session = CASE WHEN ? = '' THEN agent_session ELSE ? END "
            "WHERE id = ? AND state = 'running'",
          bind(std::string(to_string(o.state))), bind(static_cast<Poco::Int64>(o.finished_ms)),
          bind(exit_code), bind(o.summary), bind(o.feedback), bind(o.files_changed_json),
          bind(o.artifacts_json), bind(o.errors_json), bind(o.usage_json), bind(o.agent_session),
          bind(o.agent_session), bind(task_id);
      return st.execute() > 0;
    });
  }

  bool cancel_queued(const std::string& task_id, int64_t now_ms) override {
    return guarded("cancel a task", [&] {
      Statement st(session_);
      st << "UPDATE tasks SET state = 'cancelled', finished_ms = ?, cancel_requested = 1 "
            "WHERE id = ? AND state = 'queued'",
          bind(static_cast<Poco::Int64>(now_ms)), bind(task_id);
      return st.execute() > 0;
    });
  }

  void request_cancel(const std::string& task_id) override {
    guarded("request a cancel", [&] {
      session_ << "UPDATE tasks SET cancel_requested = 1 WHERE id = ? AND state = 'running'",
          bind(task_id), now;
      return 0;
    });
  }

  std::vector<std::string> cancel_requests(const std::string& runner) override {
    return guarded("read cancel requests", [&] {
      std::vector<std::string> ids;
      session_ << "SELECT id FROM tasks WHERE state = 'running' AND runner = ? "
                  "AND cancel_requested = 1",
          bind(runner), into(ids), now;
      return ids;
    });
  }

  std::vector<Task> running_tasks(const std::string& runner) override {
    return guarded("list running tasks", [&] {
      Statement st(session_);
      st << "SELECT " << kTaskColumns
         << " FROM tasks WHERE state = 'running' AND (? = '' OR runner = ?) ORDER BY created_ms",
          bind(runner), bind(runner);
      st.execute();
      return read_tasks(st);
    });
  }

  bool requeue(const std::string& task_id) override {
    return guarded("requeue a task", [&] {
      Statement st(session_);
      st << "UPDATE tasks SET state = 'queued', runner = '', started_ms = 0, agent = '', "
            "progress = '' WHERE id = ? AND state = 'running'",
          bind(task_id);
      return st.execute() > 0;
    });
  }

  void append_event(const std::string& task_id, const std::string& stream, const std::string& data,
                    int64_t time_ms, std::size_t max_bytes) override {
    guarded("store output", [&] {
      Transaction tx(*this);
      Poco::Int64 next_seq = 0, head = 0, tail = 0;
      std::vector<Poco::Int64> row_seq, row_head, row_tail;
      session_ << "SELECT events_next_seq, events_head_bytes, events_tail_bytes FROM tasks "
                  "WHERE id = ?",
          bind(task_id), into(row_seq), into(row_head), into(row_tail), now;
      if (row_seq.empty()) return 0;  // the task is gone (purged): nothing to keep
      next_seq = row_seq[0];
      head = row_head[0];
      tail = row_tail[0];
      const auto half = static_cast<Poco::Int64>(max_bytes / 2);
      std::string kept = data;
      Poco::Int64 dropped_bytes = 0, dropped_count = 0;
      bool in_tail = head + static_cast<Poco::Int64>(kept.size()) > half;
      if (in_tail && static_cast<Poco::Int64>(kept.size()) > half) {
        // One piece larger than the tail: keep its end.
        dropped_bytes += static_cast<Poco::Int64>(kept.size()) - half;
        kept.erase(0, kept.size() - static_cast<std::size_t>(half));
      }
      if (in_tail) {
        tail += static_cast<Poco::Int64>(kept.size());
        while (tail > half) {
          std::vector<Poco::Int64> seqs, sizes;
          session_ << "SELECT seq, length(CAST(data AS BLOB)) FROM task_events WHERE task_id = ? "
                      "AND tail = 1 ORDER BY seq LIMIT 64",
              bind(task_id), into(seqs), into(sizes), now;
          if (seqs.empty()) break;
          std::size_t i = 0;
          for (; i < seqs.size() && tail > half; ++i) {
            tail -= sizes[i];
            dropped_bytes += sizes[i];
            ++dropped_count;
          }
          session_ << "DELETE FROM task_events WHERE task_id = ? AND tail = 1 AND seq <= ?",
              bind(task_id), bind(seqs[i - 1]), now;
        }
      } else {
        head += static_cast<Poco::Int64>(kept.size());
      }
      session_ << "INSERT INTO task_events (task_id, seq, time_ms, stream, data, tail) "
                  "VALUES (?, ?, ?, ?, ?, ?)",
          bind(task_id), bind(next_seq), bind(static_cast<Poco::Int64>(time_ms)), bind(stream),
          bind(kept), bind(in_tail ? 1 : 0), now;
      session_ << "UPDATE tasks SET events_next_seq = ?, events_head_bytes = ?, "
                  "events_tail_bytes = ?, events_dropped_bytes = events_dropped_bytes + ?, "
                  "events_dropped_count = events_dropped_count + ? WHERE id = ?",
          bind(next_seq + 1), bind(head), bind(tail), bind(dropped_bytes), bind(dropped_count),
          bind(task_id), now;
      tx.commit();
      return 0;
    });
  }

  std::vector<TaskEvent> events(const std::string& task_id, int64_t after_seq,
                                int limit) override {
    return guarded("read output", [&] {
      std::vector<Poco::Int64> seqs, times;
      std::vector<std::string> streams, datas;
      session_ << "SELECT seq, time_ms, stream, data FROM task_events WHERE task_id = ? "
                  "AND seq > ? ORDER BY seq LIMIT ?",
          bind(task_id), bind(static_cast<Poco::Int64>(after_seq)), bind(limit), into(seqs),
          into(times), into(streams), into(datas), now;
      std::vector<TaskEvent> out(seqs.size());
      for (std::size_t i = 0; i < seqs.size(); ++i) {
        out[i] = TaskEvent{seqs[i], times[i], std::move(streams[i]), std::move(datas[i])};
      }
      return out;
    });
  }

  OwnerStorage owner_storage(const std::string& owner) override {
    return guarded("sum an owner's storage", [&] {
      Poco::Int64 events = 0, workspaces = 0;
      session_ << "SELECT COALESCE(SUM(events_head_bytes + events_tail_bytes), 0) FROM tasks "
                  "WHERE owner = ?",
          bind(owner), into(events), now;
      session_ << "SELECT COALESCE(SUM(bytes), 0) FROM workspace_usage WHERE owner = ?",
          bind(owner), into(workspaces), now;
      return OwnerStorage{events, workspaces};
    });
  }

  void record_workspace_bytes(const std::string& owner, const std::string& workspace,
                              int64_t bytes) override {
    guarded("record a workspace's size", [&] {
      session_ << "INSERT OR REPLACE INTO workspace_usage (workspace, owner, bytes) "
                  "VALUES (?, ?, ?)",
          bind(workspace), bind(owner), bind(static_cast<Poco::Int64>(bytes)), now;
      return 0;
    });
  }

  void record_process(const std::string& task_id, const ProcessRecord& r) override {
    guarded("record a process", [&] {
      session_ << "INSERT OR REPLACE INTO task_processes (task_id, process_id, pid, pgid, "
                  "start_time) VALUES (?, ?, ?, ?, ?)",
          bind(task_id), bind(static_cast<Poco::Int64>(r.process_id)),
          bind(static_cast<Poco::Int64>(r.pid)), bind(static_cast<Poco::Int64>(r.pgid)),
          bind(static_cast<Poco::Int64>(r.start_time)), now;
      return 0;
    });
  }

  void remove_process(const std::string& task_id, uint64_t process_id) override {
    guarded("forget a process", [&] {
      session_ << "DELETE FROM task_processes WHERE task_id = ? AND process_id = ?",
          bind(task_id), bind(static_cast<Poco::Int64>(process_id)), now;
      return 0;
    });
  }

  std::vector<ProcessRecord> processes(const std::string& runner) override {
    return guarded("list processes", [&] {
      std::vector<Poco::Int64> ids, pids, pgids, starts;
      session_ << "SELECT p.process_id, p.pid, p.pgid, p.start_time FROM task_processes p "
                  "JOIN tasks t ON t.id = p.task_id WHERE (? = '' OR t.runner = ?)",
          bind(runner), bind(runner), into(ids), into(pids), into(pgids), into(starts), now;
      std::vector<ProcessRecord> out(ids.size());
      for (std::size_t i = 0; i < ids.size(); ++i) {
        out[i] = ProcessRecord{static_cast<uint64_t>(ids[i]), static_cast<pid_t>(pids[i]),
                               static_cast<pid_t>(pgids[i]), static_cast<uint64_t>(starts[i])};
      }
      return out;
    });
  }

  void clear_processes(const std::string& runner) override {
    guarded("forget processes", [&] {
      session_ << "DELETE FROM task_processes WHERE task_id IN "
                  "(SELECT id FROM tasks WHERE ? = '' OR runner = ?)",
          bind(runner), bind(runner), now;
      return 0;
    });
  }

  int64_t purge_finished_before(int64_t before_ms,
                                std::vector<std::string>* orphaned_workspaces) override {
    return guarded("purge old tasks", [&] {
      Transaction tx(*this);
      auto n = delete_final_tasks("finished_ms > 0 AND finished_ms < ?",
                                  static_cast<Poco::Int64>(before_ms), orphaned_workspaces);
      tx.commit();
      return n;
    });
  }

  bool delete_finished(const std::string& task_id,
                       std::vector<std::string>* orphaned_workspaces) override {
    return guarded("delete a task", [&] {
      Transaction tx(*this);
      auto n = delete_final_tasks("id = ?", task_id, orphaned_workspaces);
      tx.commit();
      return n > 0;
    });
  }

  std::string integrity_check() override {
    return guarded("check integrity", [&] {
      std::vector<std::string> rows;
      session_ << "PRAGMA integrity_check", into(rows), now;
      std::string out;
      for (const auto& r : rows) out += (out.empty() ? "" : "; ") + r;
      return out;
    });
  }

 private:
  // BEGIN IMMEDIATE ... COMMIT, rolled back when not committed. Caller holds mutex_.
  class Transaction {
   public:
    explicit Transaction(SqliteTaskStore& store) : store_(store) {
      store_.session_ << "BEGIN IMMEDIATE", now;
    }
    void commit() {
      store_.session_ << "COMMIT", now;
      done_ = true;
    }
    ~Transaction() {
      if (done_) return;
      try {
        store_.session_ << "ROLLBACK", now;
      } catch (...) {
      }
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

   private:
    SqliteTaskStore& store_;
    bool done_ = false;
  };

  static Session open(const std::string& path) {
    Poco::Data::SQLite::Connector::registerConnector();
    std::error_code ec;
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    // Fail fast: Poco retries a failing open for a long time.
    if (ec || ::access(parent.empty() ? "." : parent.c_str(), W_OK | X_OK) != 0) {
      throw StoreError("cannot open the task store " + path + ": its directory " +
                       parent.string() + " cannot be created or written" +
                       (ec ? " (" + ec.message() + ")" : ""));
    }
    try {
      return Session("SQLite", path);
    } catch (const Poco::Exception& e) {
      throw StoreError("cannot open the task store " + path + ": " + e.displayText());
    }
  }

  void exec(const std::string& sql) {
    try {
      session_ << sql, now;
    } catch (const Poco::Exception& e) {
      throw StoreError("task store " + path_ + ": " + sql + ": " + e.displayText());
    }
  }

  void migrate() {
    std::lock_guard lock(mutex_);
    try {
      Transaction tx(*this);
      session_ << "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", now;
      std::vector<int> versions;
      session_ << "SELECT version FROM schema_version", into(versions), now;
      int version = versions.empty() ? 0 : versions.front();
      if (versions.empty()) session_ << "INSERT INTO schema_version (version) VALUES (0)", now;
      if (version > kSchemaVersion) {
        throw StoreError("the task store " + path_ + " has schema version " +
                         std::to_string(version) + " but this coda knows up to " +
                         std::to_string(kSchemaVersion) + ": use a newer coda");
      }
      for (int v = version; v < kSchemaVersion; ++v) {
        for (const auto& sql : split_statements(kMigrations[v])) session_ << sql, now;
      }
      session_ << "UPDATE schema_version SET version = ?", bind(kSchemaVersion), now;
      tx.commit();
    } catch (const Poco::Exception& e) {
      throw StoreError("cannot migrate the task store " + path_ + ": " + e.displayText());
    }
  }

  void add_filters(Statement& st, const TaskQuery& query, bool with_state) {
    if (!query.owner.empty()) st << " AND owner = ?", bind(query.owner);
    if (!query.email.empty()) st << " AND email = ?", bind(query.email);
    if (with_state && query.state) st << " AND state = ?", bind(std::string(to_string(*query.state)));
  }

  // Deletes the final tasks matching `condition` (one `?`, bound to `value`) with their events and
  // processes; caller holds mutex_ and a transaction. A workspace still named by any task (queued,
  // running, or a newer finished one of the chain) is kept, and so is its recorded size; the
  // others' records go and they are added to `orphaned_workspaces` when given. Returns how many
  // went.
  template <typename Value>
  int64_t delete_final_tasks(const std::string& condition, const Value& value,
                             std::vector<std::string>* orphaned_workspaces) {
    const std::string final_tasks = "state NOT IN ('queued', 'running') AND " + condition;
    std::vector<std::string> workspaces;
    session_ << "SELECT DISTINCT workspace FROM tasks WHERE " + final_tasks, bind(value),
        into(workspaces), now;
    session_ << "DELETE FROM task_events WHERE task_id IN (SELECT id FROM tasks WHERE " +
                    final_tasks + ")",
        bind(value), now;
    session_ << "DELETE FROM task_processes WHERE task_id IN (SELECT id FROM tasks WHERE " +
                    final_tasks + ")",
        bind(value), now;
    Statement st(session_);
    st << "DELETE FROM tasks WHERE " + final_tasks, bind(value);
    auto n = static_cast<int64_t>(st.execute());
    for (auto& workspace : workspaces) {
      Poco::Int64 users = 0;
      session_ << "SELECT COUNT(*) FROM tasks WHERE workspace = ?", bind(workspace), into(users),
          now;
      if (users != 0) continue;
      session_ << "DELETE FROM workspace_usage WHERE workspace = ?", bind(workspace), now;
      if (orphaned_workspaces && !workspace.empty()) orphaned_workspaces->push_back(workspace);
    }
    return n;
  }

  std::optional<Task> get_unlocked(const std::string& task_id) {
    Statement st(session_);
    st << "SELECT " << kTaskColumns << " FROM tasks WHERE id = ?", bind(task_id);
    st.execute();
    auto tasks = read_tasks(st);
    if (tasks.empty()) return std::nullopt;
    return tasks.front();
  }

  // Runs fn under the mutex and turns Poco errors into StoreError naming the operation.
  template <typename Fn>
  auto guarded(const char* what, Fn&& fn) -> decltype(fn()) {
    std::lock_guard lock(mutex_);
    try {
      return fn();
    } catch (const StoreError&) {
      throw;
    } catch (const Poco::Exception& e) {
      throw StoreError(std::string("task store: cannot ") + what + ": " + e.displayText());
    }
  }

  std::string path_;
  std::mutex mutex_;
  Session session_;
};

}  // namespace

std::unique_ptr<TaskStore> open_sqlite_store(const std::string& path) {
  return std::make_unique<SqliteTaskStore>(path);
}

}  // namespace coda::tasks
