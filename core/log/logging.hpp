#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <Poco/Formatter.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>

// Logging for the whole process: Poco loggers named "coda.<area>" (and "plugin.<id>" for plugins),
// one line per message, text or JSON, to stderr or a file.
namespace coda::log {

enum class Format { kText, kJson };

struct Options {
  std::string level = "info";   // debug | info | warning | error
  std::string format = "text";  // text | json
  std::string file;             // empty: stderr
};

// Poco priority for a level name (debug, info, notice, warning/warn, error, critical, fatal, trace).
// Throws std::invalid_argument naming the level and the accepted ones.
int parse_level(std::string_view level);

// Formats one message per line, with credentials redacted (util::redact_secrets: bearer and basic
// credentials, token/secret/password values, JWTs), whoever logged it — the core or a plugin.
// Text: "2026-01-01T12:00:00.000Z info    coda.http: message".
// JSON: {"time":"...","level":"info","logger":"coda.http","message":"..."}. Newlines inside a text
// message are escaped, so one message is always one line. A message logged on a thread inside a
// RequestScope also carries the request id (JSON "request_id"; text " request_id=ID"), and one
// written with log::write() its Fields (JSON members; text " key=value"). Thread-safe (stateless).
class LineFormatter : public Poco::Formatter {
 public:
  explicit LineFormatter(Format format) : format_(format) {}
  void format(const Poco::Message& message, std::string& text) override;

 private:
  Format format_;
};

// Sends every logger (existing and future) to one channel with the given level and format. Call it
// once at start-up from the main thread before other threads log; calling it again replaces the
// channel. Throws std::invalid_argument for an unknown level or format and std::runtime_error when the
// file cannot be opened.
void configure(const Options& options);

// The logger of an area: get("http") is "coda.http". Thread-safe.
Poco::Logger& get(const std::string& area);

// Logs `message` at a CODA_LOG_* level of the plugin ABI (0 debug, 1 info, 2 warning, 3 and above
// error), when `logger` lets that level through. Never throws.
void log_abi_level(Poco::Logger& logger, int level, const std::string& message) noexcept;

// Marks the calling thread as handling one request until destroyed: every line logged on this
// thread meanwhile (by the core or by a plugin through the host's log service) carries `request_id`.
// Scopes nest (the inner one wins, the outer one is restored). The id must already be safe to print
// (the listener validates X-Request-Id).
class RequestScope {
 public:
  explicit RequestScope(std::string request_id);
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

 private:
  std::string previous_;
};

// The request id of the calling thread's innermost RequestScope; "" outside one.
const std::string& current_request_id();

// Structured fields of one log line, in the order added: separate JSON members in the JSON format
// (numbers stay numbers), " key=value" pairs in the text format. Keys are plain identifiers chosen
// by the caller; the reserved keys time, level, logger, message and request_id are not allowed.
class Fields {
 public:
  Fields& add(std::string_view key, std::string_view value);
  Fields& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
  Fields& add(std::string_view key, int64_t value);
  Fields& add(std::string_view key, int value) { return add(key, static_cast<int64_t>(value)); }
  Fields& add(std::string_view key, double value);

  const std::string& json() const { return json_; }  // ,"k":v,... (leading comma)
  const std::string& text() const { return text_; }  // " k=v ..." (leading space)

 private:
  std::string json_;
  std::string text_;
};

// Logs `text` with `fields` at `priority` on `logger` (nothing when the level is disabled).
void write(Poco::Logger& logger, Poco::Message::Priority priority, const std::string& text,
           const Fields& fields);

}  // namespace coda::log
