#include "hermes_gateway.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/URI.h>

#include <atomic>
#include <cstdlib>
#include <istream>
#include <sstream>
#include <thread>

#include "support/text_parser.hpp"

namespace coda::agents::hermes {
namespace {

constexpr std::size_t kAnswerBytes = 64 * 1024;
constexpr std::size_t kMaxResponseBytes = 4 << 20;

std::unique_ptr<Poco::Net::HTTPClientSession> make_session(const Poco::URI& uri, int timeout_s) {
  std::unique_ptr<Poco::Net::HTTPClientSession> session;
  if (uri.getScheme() == "https") {
    session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort());
  } else {
    session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
  }
  session->setTimeout(Poco::Timespan(timeout_s, 0));
  return session;
}

std::string read_bounded(std::istream& in) {
  std::string body;
  char buffer[8192];
  while (body.size() < kMaxResponseBytes && in.read(buffer, sizeof buffer).gcount() > 0) {
    body.append(buffer, static_cast<std::size_t>(in.gcount()));
  }
  return body;
}

}  // namespace

// One run on the gateway: its event-stream thread and the single finished() report.
class GatewayRun {
 public:
  GatewayRun(const coda_host_t* host, const HermesConfig& config, std::string api_key, TaskInfo task,
             const coda_task_events_t& events)
      : host_(host), config_(config), api_key_(std::move(api_key)), task_(std::move(task)),
        events_(events), base_(config.url) {}

  ~GatewayRun() { join(); }

  // Waits for the stream thread (never from the thread itself). The client calls it before it lets
  // go of a run, so no thread of a run outlives the client.
  void join() {
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  }

  // POST /v1/runs. Throws AgentError when the gateway refuses or is unreachable.
  void create() {
    JsonObject body = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    body->set("input", task_.prompt);
    if (!task_.resume_session.empty()) body->set("session_id", task_.resume_session);
    if (!config_.instructions.empty()) body->set("instructions", config_.instructions);
    const std::string model = task_.model.empty() ? config_.model : task_.model;
    if (!model.empty()) body->set("model", model);
    auto [status, text] = request("POST", "/v1/runs", to_json(body));
    auto reply = parse_object(text);
    run_id_ = get_string(reply, "run_id").value_or("");
    if (status >= 300 || run_id_.empty()) {
      throw AgentError("hermes gateway " + config_.url + " refused the run (HTTP " +
                       std::to_string(status) + "): " + text.substr(0, 300));
    }
    session_ = get_string(reply, "session_id").value_or(task_.resume_session);
  }

  void run_async(std::function<void()> on_done) {
    on_done_ = std::move(on_done);
    // `this`, not a shared_ptr: the run is owned by the client's tables, and the last reference must
    // never be the thread's own, or ~GatewayRun would join itself and the thread could still be
    // running plugin code after ~GatewayClient returned and the plugin was unloaded. The owner's
    // ~GatewayRun joins the thread.
    thread_ = std::thread([this] { stream(); });
  }

  void cancel() {
    if (cancelled_.exchange(true)) return;
    try {
      request("POST", "/v1/runs/" + run_id_ + "/stop", "{}");
    } catch (const std::exception& e) {
      sdk::log(host_, CODA_LOG_WARN, std::string("hermes gateway stop: ") + e.what());
    }
    // The stop normally ends the event stream; closing our side makes sure it does.
    std::lock_guard lock(stream_mutex_);
    if (stream_session_ != nullptr) stream_session_->abort();
  }

  bool done() const { return done_; }

 private:
  std::pair<int, std::string> request(const std::string& method, const std::string& path,
                                      const std::string& body) {
    auto session = make_session(base_, config_.connect_timeout_s);
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setContentType("application/json");
    req.setContentLength(static_cast<std::streamsize>(body.size()));
    if (!api_key_.empty()) req.set("Authorization", "Bearer " + api_key_);
    try {
      session->sendRequest(req) << body;
      Poco::Net::HTTPResponse resp;
      std::istream& in = session->receiveResponse(resp);
      return {static_cast<int>(resp.getStatus()), read_bounded(in)};
    } catch (const Poco::Exception& e) {
      throw AgentError("hermes gateway " + config_.url + ": " + e.displayText());
    }
  }

  void emit(int32_t kind, std::string_view data) {
    if (events_.event != nullptr) events_.event(events_.ctx, task_.handle, kind, sdk::str(data));
  }

  void progress(std::string_view text) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_progress_ < std::chrono::milliseconds(500)) return;
    last_progress_ = now;
    auto line = trim(text);
    if (line.size() > 200) line.erase(0, line.size() - 200);
    for (char& c : line) if (c == '\n') c = ' ';
    if (!line.empty()) emit(CODA_TASK_PROGRESS, line);
  }

  void on_sse(const std::string& event_name, const std::string& data) {
    auto event = parse_object(data);
    std::string type = get_string(event, "type").value_or(event_name);
    if (event && !event->has("type") && !type.empty()) event->set("type", type);
    if (event) {
      emit(CODA_TASK_EVENT_JSON, to_json(event));
    } else if (!data.empty()) {
      emit(CODA_TASK_TEXT, data + "\n");
    }
    if (type == "message.delta") {
      auto delta = get_string(event, "delta");
      if (!delta) delta = get_string(event, "text");
      answer_.append(delta.value_or(""));
      progress(answer_.str());
    } else if (type.rfind("tool", 0) == 0) {
      auto name = get_string(event, "name");
      if (!name) name = get_string(event, "tool");
      progress(type + ": " + name.value_or("?"));
    }
    if (auto session = get_string(event, "session_id")) session_ = *session;
  }

  // Reads the SSE stream until it ends (run over, stop, or abort).
  void read_events() {
    auto session = make_session(base_, config_.connect_timeout_s);
    // Events may be minutes apart while the agent thinks; the stream is ended by cancel() instead.
    session->setTimeout(Poco::Timespan(config_.connect_timeout_s, 0),
                        Poco::Timespan(config_.connect_timeout_s, 0), Poco::Timespan(24 * 3600, 0));
    {
      std::lock_guard lock(stream_mutex_);
      stream_session_ = session.get();
    }
    struct Clear {
      GatewayRun* run;
      ~Clear() {
        std::lock_guard lock(run->stream_mutex_);
        run->stream_session_ = nullptr;
      }
    } clear{this};
    if (cancelled_) return;
    Poco::Net::HTTPRequest req("GET", "/v1/runs/" + run_id_ + "/events",
                               Poco::Net::HTTPMessage::HTTP_1_1);
    req.set("Accept", "text/event-stream");
    if (!api_key_.empty()) req.set("Authorization", "Bearer " + api_key_);
    session->sendRequest(req);
    Poco::Net::HTTPResponse resp;
    std::istream& in = session->receiveResponse(resp);
    if (resp.getStatus() >= 300) {
      errors_.push_back("hermes gateway: events: HTTP " + std::to_string(resp.getStatus()));
      return;
    }
    std::string line, event_name, data;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) {
        if (!data.empty() || !event_name.empty()) on_sse(event_name, data);
        event_name.clear();
        data.clear();
        continue;
      }
      if (line.rfind("event:", 0) == 0) {
        event_name = trim(line.substr(6));
      } else if (line.rfind("data:", 0) == 0) {
        if (data.size() < kMaxResponseBytes) data += (data.empty() ? "" : "\n") + trim(line.substr(5));
      }
      if (line.size() > kMaxResponseBytes) break;
    }
  }

  void stream() {
    Outcome out;
    try {
      try {
        read_events();
      } catch (const Poco::Exception& e) {
        if (!cancelled_) errors_.push_back("hermes gateway: event stream: " + e.displayText());
      }
      // The run's own record decides the outcome.
      auto [status, text] = request("GET", "/v1/runs/" + run_id_, "");
      auto run = parse_object(text);
      const std::string state = get_string(run, "status").value_or("");
      if (status >= 300 || !run) {
        out.status = cancelled_ ? "cancelled" : "failed";
        errors_.push_back("hermes gateway: run " + run_id_ + ": HTTP " + std::to_string(status));
      } else if (state == "completed") {
        out.status = "completed";
      } else if (state == "cancelled" || state == "stopped") {
        out.status = "cancelled";
      } else if (state == "failed") {
        out.status = "failed";
        if (auto error = get_string(run, "error")) errors_.push_back("hermes: " + *error);
      } else {
        out.status = cancelled_ ? "cancelled" : "failed";
        errors_.push_back("hermes gateway: run " + run_id_ + " ended in state '" + state + "'");
      }
      auto output = get_string(run, "output");
      out.summary = trim(output ? *output : answer_.str());
      if (auto usage = get_object(run, "usage")) {
        out.usage = make_usage(get_number(usage, "input_tokens"), get_number(usage, "output_tokens"),
                               get_number(usage, "estimated_cost_usd"), usage);
      }
      if (auto session = get_string(run, "session_id")) session_ = *session;
    } catch (const std::exception& e) {
      out.status = cancelled_ ? "cancelled" : "failed";
      errors_.push_back(e.what());
    }
    out.agent_session = session_;
    out.errors = errors_;
    if (out.summary.empty() && !out.errors.empty()) out.summary = out.errors.front();
    const std::string result = out.to_json();
    // The client files the run as finished before the host hears of it: once `finished` is
    // delivered the host may destroy the client, so nothing of it is touched after that.
    if (on_done_) on_done_();
    done_ = true;
    if (events_.finished != nullptr) events_.finished(events_.ctx, task_.handle, sdk::str(result));
  }

  const coda_host_t* host_;
  const HermesConfig& config_;
  std::string api_key_;
  TaskInfo task_;
  coda_task_events_t events_;
  Poco::URI base_;
  std::string run_id_, session_;
  std::thread thread_;
  std::function<void()> on_done_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> done_{false};
  std::mutex stream_mutex_;
  Poco::Net::HTTPClientSession* stream_session_ = nullptr;
  std::vector<std::string> errors_;
  BoundedText answer_{kAnswerBytes, BoundedText::Keep::kTail};
  std::chrono::steady_clock::time_point last_progress_{};
};

GatewayClient::GatewayClient(const coda_host_t* host, const HermesConfig& config)
    : host_(host), config_(config) {
  api_key_ = config.api_key;
  if (api_key_.empty() && !config.api_key_env.empty()) {
    const char* value = std::getenv(config.api_key_env.c_str());
    if (value == nullptr) {
      throw AgentError("dev.coda.agent.hermes: api_key_env names " + config.api_key_env +
                       ", which is not set in the host's environment");
    }
    api_key_ = value;
  }
}

GatewayClient::~GatewayClient() {
  std::map<uint64_t, std::shared_ptr<GatewayRun>> runs;
  std::vector<std::shared_ptr<GatewayRun>> finished;
  {
    std::lock_guard lock(mutex_);
    runs.swap(runs_);
    finished.swap(finished_);
  }
  for (auto& [handle, run] : runs) run->cancel();
  // Every stream thread ends before the client (whose mutex and config they use) is gone.
  for (auto& [handle, run] : runs) run->join();
  for (auto& run : finished) run->join();
}

std::optional<std::string> GatewayClient::probe() const {
  try {
    Poco::URI uri(config_.url);
    auto session = make_session(uri, 2);
    Poco::Net::HTTPRequest req("GET", "/health", Poco::Net::HTTPMessage::HTTP_1_1);
    session->sendRequest(req);
    Poco::Net::HTTPResponse resp;
    session->receiveResponse(resp);
    return std::nullopt;  // any HTTP answer: the gateway is up
  } catch (const Poco::Exception& e) {
    return "the Hermes gateway at " + config_.url + " does not answer (" + e.displayText() +
           "); start it with `hermes gateway run` and API_SERVER_ENABLED=true";
  }
}

void GatewayClient::reap_finished() {
  std::vector<std::shared_ptr<GatewayRun>> finished;
  {
    std::lock_guard lock(mutex_);
    for (auto it = finished_.begin(); it != finished_.end();) {
      if ((*it)->done()) {
        finished.push_back(std::move(*it));
        it = finished_.erase(it);
      } else {
        ++it;
      }
    }
  }
  // Joined here, outside the lock and never on the run's own thread.
  for (auto& run : finished) run->join();
}

void GatewayClient::start(const TaskInfo& task, const coda_task_events_t& events) {
  reap_finished();
  auto run = std::make_shared<GatewayRun>(host_, config_, api_key_, task, events);
  run->create();
  const uint64_t handle = task.handle;
  {
    std::lock_guard lock(mutex_);
    runs_[handle] = run;
  }
  run->run_async([this, handle] {
    std::lock_guard lock(mutex_);
    auto it = runs_.find(handle);
    if (it == runs_.end()) return;
    finished_.push_back(std::move(it->second));
    runs_.erase(it);
  });
}

void GatewayClient::cancel(uint64_t handle) {
  std::shared_ptr<GatewayRun> run;
  {
    std::lock_guard lock(mutex_);
    auto it = runs_.find(handle);
    if (it != runs_.end()) run = it->second;
  }
  if (run) run->cancel();
}

}  // namespace coda::agents::hermes
