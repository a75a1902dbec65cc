#pragma once

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

// Formats one message per line. Text: "2026-01-01T12:00:00.000Z info    coda.http: message".
// JSON: {"time":"...","level":"info","logger":"coda.http","message":"..."}. Newlines inside a text
// message are escaped, so one message is always one line. Thread-safe (stateless).
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

}  // namespace coda::log
