#include "stdio_transport.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <coda/plugin.hpp>

namespace coda::stdio {

// One dispatched message: the reply sink the host answers through. Kept alive by calls_ until its
// final send, and by the reader while it dispatches.
struct StdioTransport::Call {
  StdioTransport* owner = nullptr;
  coda_reply_sink_t sink{};
  uint64_t host_call = 0;
  bool is_initialize = false;
};

namespace {

constexpr auto kStopGrace = std::chrono::seconds(5);
constexpr auto kEofGrace = std::chrono::seconds(30);

Poco::JSON::Object::Ptr parse_object(std::string_view text) {
  try {
    Poco::JSON::Parser parser;
    auto value = parser.parse(std::string(text));
    if (value.type() == typeid(Poco::JSON::Object::Ptr)) {
      return value.extract<Poco::JSON::Object::Ptr>();
    }
  } catch (const std::exception&) {
  }
  return nullptr;
}

std::string trim_line(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  return std::string(line);
}

// The local user, as the host names it when authentication is off ($USER, else "local").
Poco::JSON::Object::Ptr local_identity() {
  const char* user = std::getenv("USER");
  std::string subject = user != nullptr && *user != '\0' ? user : "local";
  Poco::JSON::Object::Ptr id = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  id->set("subject", subject);
  id->set("email", "");
  id->set("name", subject);
  id->set("admin", true);  // the user who started the host owns everything on it
  id->set("authenticated", false);
  return id;
}

}  // namespace

StdioConfig StdioConfig::parse(std::string_view json) {
  StdioConfig config;
  auto obj = parse_object(json.empty() ? std::string_view("{}") : json);
  if (!obj) throw std::invalid_argument("the stdio transport's config is not a JSON object");
  for (const auto& [key, value] : *obj) {
    if (key == "shutdown_on_eof") {
      if (!value.isBoolean()) throw std::invalid_argument("shutdown_on_eof: expected true or false");
      config.shutdown_on_eof = value.extract<bool>();
    } else if (key == "max_line_bytes") {
      if (!value.isInteger() || value.convert<long long>() < 1024) {
        throw std::invalid_argument("max_line_bytes: expected an integer of at least 1024");
      }
      config.max_line_bytes = static_cast<std::size_t>(value.convert<long long>());
    } else {
      throw std::invalid_argument("unknown key '" + key +
                                  "' (known: shutdown_on_eof, max_line_bytes)");
    }
  }
  return config;
}

StdioTransport::StdioTransport(const coda_host_t* host, StdioConfig config)
    : host_(host), config_(config) {}

StdioTransport::~StdioTransport() {
  stop();
  for (int& fd : wake_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  if (out_fd_ >= 0) ::close(out_fd_);
}

coda_status_t StdioTransport::start() {
  if (started_) return CODA_OK;
  if (::pipe2(wake_, O_CLOEXEC) != 0) {
    host_->set_error(host_, sdk::str(std::string("pipe: ") + std::strerror(errno)));
    return CODA_E_IO;
  }
  // The protocol gets its own descriptor; descriptor 1 becomes stderr.
  out_fd_ = ::fcntl(1, F_DUPFD_CLOEXEC, 3);
  if (out_fd_ < 0 || ::dup2(2, 1) < 0) {
    host_->set_error(host_, sdk::str(std::string("stdout: ") + std::strerror(errno)));
    return CODA_E_IO;
  }

  push_sink_ = sdk::make<coda_reply_sink_t>();
  push_sink_.ctx = this;
  push_sink_.send = &StdioTransport::push_send;
  std::string origin = origin_json();
  coda_status_t status = host_->open_connection(host_, sdk::str(origin), &push_sink_, &conn_);
  if (status != CODA_OK) {
    std::string why = sdk::copy(host_->last_error(host_));
    host_->set_error(host_, sdk::str("cannot open the stdio connection: " + why));
    return status;
  }
  started_ = true;
  reader_ = std::thread([this] { read_loop(); });
  sdk::log(host_, CODA_LOG_INFO, "stdio transport: reading MCP messages on stdin");
  return CODA_OK;
}

coda_status_t StdioTransport::stop() {
  if (!started_) return CODA_OK;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  calls_done_.notify_all();
  if (wake_[1] >= 0) {
    char byte = 1;
    (void)!::write(wake_[1], &byte, 1);
  }
  if (reader_.joinable()) reader_.join();
  wait_for_calls(kStopGrace);
  host_->close_connection(host_, conn_);
  started_ = false;
  return CODA_OK;
}

std::string StdioTransport::origin_json() const {
  Poco::JSON::Object origin(Poco::JSON_PRESERVE_KEY_ORDER);
  origin.set("transport", "stdio");
  if (conn_ != 0) origin.set("conn", conn_);
  origin.set("identity", local_identity());
  std::string version;
  {
    std::lock_guard lock(mutex_);
    version = protocol_version_;
  }
  if (!version.empty()) origin.set("protocol_version", version);
  std::ostringstream out;
  origin.stringify(out);
  return out.str();
}

void StdioTransport::read_loop() {
  std::string pending;
  bool discarding = false;  // inside a line that exceeded max_line_bytes
  char buffer[65536];
  std::string why = "end of input";
  while (true) {
    pollfd fds[2] = {{in_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    int n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (fds[1].revents & POLLIN) != 0) return;  // stop() woke us
    ssize_t got = ::read(in_fd_, buffer, sizeof buffer);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) {
      if (got < 0) why = std::string("stdin: ") + std::strerror(errno);
      break;
    }
    std::size_t start = 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(got); ++i) {
      if (buffer[i] != '\n') continue;
      if (!discarding) {
        pending.append(buffer + start, i - start);
        handle_line(pending);
      }
      pending.clear();
      discarding = false;
      start = i + 1;
    }
    if (!discarding) pending.append(buffer + start, static_cast<std::size_t>(got) - start);
    if (!discarding && pending.size() > config_.max_line_bytes) {
      write_line(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: the message exceeds )" +
                 std::to_string(config_.max_line_bytes) + R"( bytes"}})");
      pending.clear();
      discarding = true;
    }
  }
  if (!discarding && !trim_line(pending).empty()) handle_line(pending);  // a last line without \n
  input_ended(why);
}

void StdioTransport::input_ended(const std::string& why) {
  sdk::log(host_, CODA_LOG_INFO, "stdio transport: " + why + ": finishing the calls in flight");
  // The client may still read our answers to what it sent before closing its end.
  {
    std::unique_lock lock(mutex_);
    calls_done_.wait_for(lock, kEofGrace, [this] { return calls_.empty() || stopping_; });
    if (stopping_) return;
  }
  if (config_.shutdown_on_eof) {
    sdk::log(host_, CODA_LOG_INFO, "stdio transport: the client is gone: shutting the host down");
    ::kill(::getpid(), SIGTERM);
  }
}

void StdioTransport::handle_line(std::string_view raw) {
  std::string line = trim_line(raw);
  if (line.empty()) return;
  auto call = std::make_shared<Call>();
  call->owner = this;
  call->sink = sdk::make<coda_reply_sink_t>();
  call->sink.ctx = call.get();
  call->sink.send = &StdioTransport::call_send;
  if (line.find("\"initialize\"") != std::string::npos) {
    auto obj = parse_object(line);
    call->is_initialize = obj && obj->optValue<std::string>("method", "") == "initialize";
  }
  {
    std::lock_guard lock(mutex_);
    calls_.emplace(call.get(), call);
  }
  uint64_t host_call = 0;
  std::string origin = origin_json();
  coda_status_t status =
      host_->dispatch(host_, sdk::str(origin), sdk::str(line), &call->sink, &host_call);
  if (status != CODA_OK) {
    // Nothing was dispatched: no reply will come through the sink.
    std::string why = sdk::copy(host_->last_error(host_));
    sdk::log(host_, CODA_LOG_ERROR, "stdio transport: dispatch failed: " + why);
    std::lock_guard lock(mutex_);
    calls_.erase(call.get());
    calls_done_.notify_all();
    return;
  }
  std::lock_guard lock(mutex_);
  call->host_call = host_call;
}

void StdioTransport::call_send(void* ctx, coda_str_t json, uint32_t flags) {
  auto* call = static_cast<Call*>(ctx);
  call->owner->on_reply(call, json, flags);
}

void StdioTransport::push_send(void* ctx, coda_str_t json, uint32_t) {
  auto* self = static_cast<StdioTransport*>(ctx);
  if (!sdk::absent(json) && json.len > 0) self->write_line(sdk::view(json));
}

void StdioTransport::on_reply(Call* call, coda_str_t json, uint32_t flags) {
  try {
    if (!sdk::absent(json) && json.len > 0) {
      if (call->is_initialize && (flags & CODA_SEND_FINAL) != 0) {
        if (auto reply = parse_object(sdk::view(json))) {
          if (auto result = reply->getObject("result")) {
            std::lock_guard lock(mutex_);
            protocol_version_ = result->optValue<std::string>("protocolVersion", "");
          }
        }
      }
      write_line(sdk::view(json));
    }
  } catch (const std::exception& e) {
    sdk::log(host_, CODA_LOG_ERROR, std::string("stdio transport: ") + e.what());
  }
  if ((flags & CODA_SEND_FINAL) != 0) {
    std::shared_ptr<Call> keep;  // destroyed after the lock is released
    std::lock_guard lock(mutex_);
    auto it = calls_.find(call);
    if (it != calls_.end()) {
      keep = std::move(it->second);
      calls_.erase(it);
    }
    calls_done_.notify_all();
  }
}

bool StdioTransport::write_line(std::string_view json) {
  std::lock_guard lock(write_mutex_);
  if (output_broken_) return false;
  std::string line;
  line.reserve(json.size() + 1);
  for (char c : json) {
    if (c != '\n' && c != '\r') line += c;  // JSON needs no raw newline: one message, one line
  }
  line += '\n';
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(out_fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      output_broken_ = true;
      sdk::log(host_, CODA_LOG_WARN,
               std::string("stdio transport: stdout closed (") + std::strerror(errno) +
                   "): the client is gone");
      // Nobody reads our answers any more: there is nothing left to serve.
      if (config_.shutdown_on_eof) ::kill(::getpid(), SIGTERM);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

void StdioTransport::wait_for_calls(std::chrono::milliseconds grace) {
  std::unique_lock lock(mutex_);
  if (calls_done_.wait_for(lock, grace, [this] { return calls_.empty(); })) return;
  std::vector<uint64_t> ids;
  for (const auto& [ptr, call] : calls_) ids.push_back(call->host_call);
  lock.unlock();
  sdk::log(host_, CODA_LOG_WARN,
           "stdio transport: cancelling " + std::to_string(ids.size()) + " call(s) still running");
  for (uint64_t id : ids) {
    if (id != 0) host_->cancel_call(host_, id);
  }
  lock.lock();
  // The host sends every call's final reply after a cancel; the sinks must live until then.
  calls_done_.wait(lock, [this] { return calls_.empty(); });
}

}  // namespace coda::stdio
