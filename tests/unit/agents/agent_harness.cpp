#include "tests/unit/agents/agent_harness.hpp"

#include <dlfcn.h>

#include <Poco/JSON/Parser.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/process/proc_table.hpp"

// The harness's stand-in for host_core.cpp's per-thread error slot, which host_process.cpp reports
// through (the rest of core/plugins is not linked into this test).
namespace coda::plugins {
namespace {
thread_local std::string t_error;
}
void set_thread_error(std::string message) { t_error = std::move(message); }
std::string take_thread_error() {
  std::string out = std::move(t_error);
  t_error.clear();
  return out;
}
}  // namespace coda::plugins

namespace coda::agents::test {
namespace {

std::mutex g_log_mutex;
std::vector<std::string> g_logs;
std::mutex g_recorders_mutex;

void host_log(const coda_host_t*, int32_t level, coda_str_t message) {
  std::lock_guard lock(g_log_mutex);
  g_logs.push_back(std::to_string(level) + ": " + std::string(message.ptr, message.len));
}
coda_str_t host_last_error(const coda_host_t*) {
  static thread_local std::string copy;
  copy = plugins::take_thread_error();
  plugins::set_thread_error(copy);
  return coda_str_t{copy.data(), copy.size()};
}
void host_set_error(const coda_host_t*, coda_str_t message) {
  plugins::set_thread_error(std::string(message.ptr == nullptr ? "" : message.ptr, message.len));
}

std::vector<std::string> lines_with_prefix(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) out.push_back(line.substr(prefix.size()));
  }
  return out;
}

std::atomic<uint64_t> g_next_handle{100};

}  // namespace

void TaskRecorder::event(int kind, std::string_view data) {
  std::lock_guard lock(mutex_);
  if (kind == CODA_TASK_TEXT) {
    text_bytes_ += data.size();
    if (text_.size() < (1u << 20)) text_.append(data.substr(0, (1u << 20) - text_.size()));
  } else if (kind == CODA_TASK_PROGRESS) {
    progress_.emplace_back(data);
  } else if (kind == CODA_TASK_EVENT_JSON) {
    ++event_json_;
  }
}

void TaskRecorder::finished(std::string_view result_json) {
  std::lock_guard lock(mutex_);
  ++finished_calls_;
  result_ = std::string(result_json);
  cv_.notify_all();
}

bool TaskRecorder::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [this] { return finished_calls_ > 0; });
}

bool TaskRecorder::is_finished() const {
  std::lock_guard lock(mutex_);
  return finished_calls_ > 0;
}

Poco::JSON::Object::Ptr TaskRecorder::result() const {
  Poco::JSON::Parser parser;
  return parser.parse(result_json()).extract<Poco::JSON::Object::Ptr>();
}
std::string TaskRecorder::result_json() const {
  std::lock_guard lock(mutex_);
  return result_;
}
std::string TaskRecorder::status() const { return result()->optValue<std::string>("status", ""); }
std::string TaskRecorder::summary() const { return result()->optValue<std::string>("summary", ""); }
std::string TaskRecorder::text() const {
  std::lock_guard lock(mutex_);
  return text_;
}
std::vector<std::string> TaskRecorder::progress() const {
  std::lock_guard lock(mutex_);
  return progress_;
}
std::size_t TaskRecorder::event_json_count() const {
  std::lock_guard lock(mutex_);
  return event_json_;
}
std::size_t TaskRecorder::text_bytes() const {
  std::lock_guard lock(mutex_);
  return text_bytes_;
}
int TaskRecorder::finished_calls() const {
  std::lock_guard lock(mutex_);
  return finished_calls_;
}
std::vector<std::string> TaskRecorder::argv() const { return lines_with_prefix(text(), "fake-argv: "); }
bool TaskRecorder::argv_has(const std::string& arg) const {
  for (const auto& a : argv()) if (a == arg) return true;
  return false;
}
std::vector<std::string> TaskRecorder::env_names() const {
  return lines_with_prefix(text(), "fake-env: ");
}
int TaskRecorder::grandchild() const {
  auto pids = lines_with_prefix(text(), "fake-grandchild: ");
  return pids.empty() ? 0 : std::stoi(pids.front());
}

std::string fake_agent_dir() { return CODA_FIXTURE_AGENT_DIR; }

bool group_alive(int pid) { return !process::group_members(pid, pid).empty(); }

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

config::AgentPolicy AgentHarness::default_policy() {
  config::AgentPolicy policy;
  policy.env_allowlist = {"HOME", "LANG", "LC_*"};
  policy.kill_grace_s = 1;
  return policy;
}

AgentHarness::AgentHarness(config::AgentPolicy policy) {
  policy.env["PATH"] = fake_agent_dir() + ":/usr/local/bin:/usr/bin:/bin";
  workspace_ = dir_.path() + "/workspace";
  task_dir_ = dir_.path() + "/task";
  std::filesystem::create_directories(workspace_);
  std::filesystem::create_directories(task_dir_);
  service_ = process::ProcessService::create(policy, dir_.path() + "/data");
  services_.processes = service_.get();
  context_.plugin_id = "test";
  context_.services = &services_;
  coda_host_t& table = context_.table;
  table.struct_size = sizeof(coda_host_t);
  table.abi_major = CODA_ABI_MAJOR;
  table.abi_minor = CODA_ABI_MINOR;
  table.host_data = &context_;
  table.log = host_log;
  table.last_error = host_last_error;
  table.set_error = host_set_error;
  plugins::fill_process_services(table);

  events_.struct_size = sizeof(events_);
  events_.ctx = this;
  events_.event = [](void* ctx, uint64_t handle, int32_t kind, coda_str_t data) {
    auto* self = static_cast<AgentHarness*>(ctx);
    std::shared_ptr<TaskRecorder> recorder;
    {
      std::lock_guard lock(g_recorders_mutex);
      auto it = self->recorders_.find(handle);
      if (it != self->recorders_.end()) recorder = it->second;
    }
    if (recorder) recorder->event(kind, std::string_view(data.ptr, data.len));
  };
  events_.finished = [](void* ctx, uint64_t handle, coda_str_t result) {
    auto* self = static_cast<AgentHarness*>(ctx);
    std::shared_ptr<TaskRecorder> recorder;
    {
      std::lock_guard lock(g_recorders_mutex);
      auto it = self->recorders_.find(handle);
      if (it != self->recorders_.end()) recorder = it->second;
    }
    if (recorder) recorder->finished(std::string_view(result.ptr, result.len));
  };
}

AgentHarness::~AgentHarness() {
  // Live tasks end first (their finished() still arrives), then the component and the library.
  service_->shutdown();
  if (instance_ != nullptr) vtbl_->destroy(instance_);
  if (plugin_ != nullptr && plugin_->deinit != nullptr) plugin_->deinit();
  if (library_ != nullptr) dlclose(library_);
}

void AgentHarness::load(const std::string& plugin_file, const std::string& config_json) {
  library_ = dlopen(plugin_file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library_ == nullptr) throw std::runtime_error(std::string("dlopen: ") + dlerror());
  using Entry = const coda_plugin_t* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(library_, CODA_PLUGIN_ENTRY_SYMBOL));
  if (entry == nullptr) throw std::runtime_error("no entry symbol in " + plugin_file);
  plugin_ = entry();
  if (plugin_->init(&context_.table) != CODA_OK) throw std::runtime_error("init refused");
  const coda_component_t* component = plugin_->component_at(0);
  if (component == nullptr || component->kind != CODA_KIND_AGENT) {
    throw std::runtime_error("no agent component");
  }
  vtbl_ = static_cast<const coda_agent_vtbl_t*>(component->vtbl);
  const std::string error = try_create(config_json);
  if (!error.empty() || instance_ == nullptr) throw std::runtime_error("create: " + error);
}

std::string AgentHarness::try_create(const std::string& config_json) {
  plugins::take_thread_error();
  void* instance = vtbl_->create(&context_.table, coda_str_t{config_json.data(), config_json.size()});
  if (instance == nullptr) return plugins::take_thread_error();
  if (instance_ != nullptr) vtbl_->destroy(instance_);
  instance_ = instance;
  return {};
}

std::string AgentHarness::probe() {
  plugins::take_thread_error();
  if (vtbl_->probe(instance_) == CODA_OK) return {};
  return plugins::take_thread_error();
}

coda_status_t AgentHarness::start(const TaskOptions& options, std::shared_ptr<TaskRecorder> recorder,
                                  std::string* error) {
  handle_ = g_next_handle++;
  {
    std::lock_guard lock(g_recorders_mutex);
    recorders_[handle_] = recorder;
  }
  const std::string prompt_file = task_dir_ + "/prompt.txt";
  std::ofstream(prompt_file) << options.prompt;
  Poco::JSON::Object opts;
  opts.set("permissions", options.permissions);
  opts.set("yolo_allowed", options.yolo_allowed);
  opts.set("timeout_s", 600);
  Poco::JSON::Object::Ptr owner = new Poco::JSON::Object;
  owner->set("subject", options.owner);
  opts.set("owner", owner);
  if (options.resume_session.empty()) {
    opts.set("resume_session", Poco::Dynamic::Var());
  } else {
    opts.set("resume_session", options.resume_session);
  }
  std::ostringstream options_json;
  opts.stringify(options_json);
  const std::string task_id = "task_" + std::to_string(handle_), session_id = "sess_1";
  const std::string options_text = options_json.str();
  auto str = [](const std::string& s) { return coda_str_t{s.data(), s.size()}; };
  coda_task_t task{};
  task.struct_size = sizeof task;
  task.handle = handle_;
  task.task_id = str(task_id);
  task.session_id = str(session_id);
  task.prompt = str(options.prompt);
  task.prompt_file = str(prompt_file);
  task.workspace = str(workspace_);
  task.task_dir = str(task_dir_);
  task.options_json = str(options_text);
  plugins::take_thread_error();
  const coda_status_t status = vtbl_->start(instance_, &task, &events_);
  if (status != CODA_OK && error != nullptr) *error = plugins::take_thread_error();
  return status;
}

std::shared_ptr<TaskRecorder> AgentHarness::run(const TaskOptions& options) {
  auto recorder = std::make_shared<TaskRecorder>();
  std::string error;
  if (start(options, recorder, &error) != CODA_OK) throw std::runtime_error("start: " + error);
  if (!recorder->wait()) throw std::runtime_error("the task did not finish");
  return recorder;
}

void AgentHarness::cancel() { vtbl_->cancel(instance_, handle_); }

std::vector<std::string> AgentHarness::logs() const {
  std::lock_guard lock(g_log_mutex);
  return g_logs;
}

}  // namespace coda::agents::test
