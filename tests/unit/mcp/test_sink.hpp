#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "core/mcp/reply_sink.hpp"

namespace coda::mcp::test {

// Records what the engine sends for one message; wait() blocks until the final send.
class RecordingSink : public ReplySink {
 public:
  void notify(std::string_view json) override {
    std::lock_guard lock(mutex_);
    if (finished_) overlapped_ = true;  // nothing may follow the final send
    notifications_.emplace_back(json);
  }
  void finish(std::string_view json) override {
    std::lock_guard lock(mutex_);
    ++finish_count_;
    finished_ = true;
    final_ = std::string(json);
    done_.notify_all();
  }
  // The final reply text ("" for none). Fails the test (returns "<timeout>") after 10 s.
  std::string wait() {
    std::unique_lock lock(mutex_);
    if (!done_.wait_for(lock, std::chrono::seconds(10), [this] { return finished_; })) return "<timeout>";
    return final_;
  }
  bool finished() {
    std::lock_guard lock(mutex_);
    return finished_;
  }
  std::vector<std::string> notifications() {
    std::lock_guard lock(mutex_);
    return notifications_;
  }
  int finish_count() {
    std::lock_guard lock(mutex_);
    return finish_count_;
  }
  bool overlapped() {
    std::lock_guard lock(mutex_);
    return overlapped_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  bool finished_ = false;
  bool overlapped_ = false;
  int finish_count_ = 0;
  std::string final_;
  std::vector<std::string> notifications_;
};

inline Poco::JSON::Object::Ptr parse_object(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
}

}  // namespace coda::mcp::test
