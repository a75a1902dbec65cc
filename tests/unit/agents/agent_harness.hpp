#pragma once

#include <coda/plugin.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>

#include "core/plugins/host_context.hpp"
#include "core/process/process_service.hpp"
#include "tests/support/temp_dir.hpp"

// A minimal host for agent plugins: a coda_host_t whose process functions are the real
// host_process.cpp over a real ProcessService, an agent component loaded from its .so with dlopen,
// and a recorder for one task's events.
namespace coda::agents::test {

// What a plugin reported for one task.
class TaskRecorder {
 public:
  void event(int kind, std::string_view data);
  void finished(std::string_view result_json);
  // Waits for finished(); false on timeout.
  bool wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  bool is_finished() const;

  Poco::JSON::Object::Ptr result() const;  // parsed finished() JSON
  std::string result_json() const;
  std::string status() const;
  std::string summary() const;
  std::string text() const;                // TEXT events (first 1 MiB)
  std::vector<std::string> progress() const;
  std::size_t event_json_count() const;
  std::size_t text_bytes() const;
  int finished_calls() const;
  // Values of "fake-argv:" lines the fake CLI printed on stderr.
  std::vector<std::string> argv() const;
  bool argv_has(const std::string& arg) const;
  // Names of "fake-env:" lines.
  std::vector<std::string> env_names() const;
  // The "fake-grandchild: N" pid, or 0.
  int grandchild() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::string text_;
  std::size_t text_bytes_ = 0, event_json_ = 0;
  std::vector<std::string> progress_;
  std::string result_;
  int finished_calls_ = 0;
};

struct TaskOptions {
  std::string prompt = "Fix the bug.";
  std::string permissions = "smart";
  bool yolo_allowed = false;
  std::string resume_session;
  std::string owner = "alice@example.com";
};

class AgentHarness {
 public:
  // `policy` is used as given, except that PATH is set to the fake CLIs' folder first.
  explicit AgentHarness(config::AgentPolicy policy = default_policy());
  ~AgentHarness();

  static config::AgentPolicy default_policy();

  // Loads `plugin_file` and creates its agent component with `config_json`; fails the test (throws)
  // when the plugin or create() refuses, with the plugin's message.
  void load(const std::string& plugin_file, const std::string& config_json);
  // create() with another config on the loaded plugin; returns the plugin's error or "" on success.
  std::string try_create(const std::string& config_json);

  // probe(): "" when available, else the plugin's message.
  std::string probe();
  // start(): the status; on failure `error` gets the message.
  coda_status_t start(const TaskOptions& options, std::shared_ptr<TaskRecorder> recorder,
                      std::string* error = nullptr);
  // start() + wait; throws when start fails.
  std::shared_ptr<TaskRecorder> run(const TaskOptions& options);
  void cancel();  // the last started task

  process::ProcessService& processes() { return *service_; }
  const std::string& workspace() const { return workspace_; }
  const std::string& task_dir() const { return task_dir_; }
  uint64_t last_handle() const { return handle_; }
  std::vector<std::string> logs() const;

 private:
  coda::test::TempDir dir_;
  std::string workspace_, task_dir_;
  std::unique_ptr<process::ProcessService> service_;
  plugins::CoreServices services_;
  plugins::HostContext context_;
  void* library_ = nullptr;
  const coda_plugin_t* plugin_ = nullptr;
  const coda_agent_vtbl_t* vtbl_ = nullptr;
  void* instance_ = nullptr;
  uint64_t handle_ = 0;
  std::map<uint64_t, std::shared_ptr<TaskRecorder>> recorders_;
  coda_task_events_t events_{};
};

// The fake CLIs' directory.
std::string fake_agent_dir();
// True while any process of the group/session led by `pid` exists (zombies excluded).
bool group_alive(int pid);
// VmRSS of this process in KiB.
long rss_kib();

}  // namespace coda::agents::test
