#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace coda::bridge {

// An incremental parser of a text/event-stream body (the WHATWG "server-sent events" format), fed
// line by line. Each complete event with a non-empty data field is handed to the callback with its
// data lines joined by '\n'; events without data (keep-alives, priming events that only carry an id)
// and comments are skipped. Not thread-safe: one parser per stream.
class SseParser {
 public:
  // Receives (event type, data); the type is "message" when the stream names none.
  using EventFn = std::function<void(const std::string& type, const std::string& data)>;
  explicit SseParser(EventFn on_event) : on_event_(std::move(on_event)) {}

  // One line without its terminator (a trailing '\r' is removed). An empty line ends the event.
  void feed_line(std::string_view line);
  // The stream ended: an event that was not terminated by an empty line is dropped, as the format says.
  void finish();
  // The id of the last event that carried one ("" when none did): for a Last-Event-ID header.
  const std::string& last_event_id() const { return last_event_id_; }

 private:
  EventFn on_event_;
  std::string type_;
  std::string data_;
  bool has_data_ = false;
  std::string last_event_id_;
};

}  // namespace coda::bridge
