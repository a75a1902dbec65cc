#include "core/log/logging.hpp"

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/FormattingChannel.h>
#include <Poco/SimpleFileChannel.h>
#include <Poco/UTF8String.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "core/util/redact.hpp"

namespace coda::log {
namespace {

// The request a thread is handling (RequestScope): per-thread context, not shared state.
thread_local std::string t_request_id;

// Message parameters that carry Fields from write() to the formatter.
const std::string kJsonFieldsParam = "coda.fields.json";
const std::string kTextFieldsParam = "coda.fields.text";

const char* level_name(Poco::Message::Priority priority) {
  switch (priority) {
    case Poco::Message::PRIO_FATAL:
      return "fatal";
    case Poco::Message::PRIO_CRITICAL:
      return "critical";
    case Poco::Message::PRIO_ERROR:
      return "error";
    case Poco::Message::PRIO_WARNING:
      return "warning";
    case Poco::Message::PRIO_NOTICE:
      return "notice";
    case Poco::Message::PRIO_INFORMATION:
      return "info";
    case Poco::Message::PRIO_DEBUG:
      return "debug";
    case Poco::Message::PRIO_TRACE:
      return "trace";
  }
  return "info";
}

std::string json_string(const std::string& text) {
  return "\"" + Poco::UTF8::escape(text, true) + "\"";
}

// Text values with spaces or quotes are quoted, so "key=value" pairs stay parsable.
std::string text_value(std::string_view value) {
  bool plain = !value.empty() && value.find_first_of(" \"=\\\r\n\t") == std::string_view::npos;
  if (plain) return std::string(value);
  return json_string(std::string(value));
}

// Text lines stay one line: control characters are escaped the way JSON does.
std::string one_line(const std::string& text) {
  if (text.find_first_of("\r\n") == std::string::npos) return text;
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

int parse_level(std::string_view level) {
  if (level == "trace") return Poco::Message::PRIO_TRACE;
  if (level == "debug") return Poco::Message::PRIO_DEBUG;
  if (level == "info") return Poco::Message::PRIO_INFORMATION;
  if (level == "notice") return Poco::Message::PRIO_NOTICE;
  if (level == "warning" || level == "warn") return Poco::Message::PRIO_WARNING;
  if (level == "error") return Poco::Message::PRIO_ERROR;
  if (level == "critical") return Poco::Message::PRIO_CRITICAL;
  if (level == "fatal") return Poco::Message::PRIO_FATAL;
  throw std::invalid_argument("unknown log level '" + std::string(level) +
                              "' (expected debug, info, warning or error)");
}

void LineFormatter::format(const Poco::Message& message, std::string& text) {
  std::string time = Poco::DateTimeFormatter::format(message.getTime(), "%Y-%m-%dT%H:%M:%S.%iZ");
  const std::string& request_id = t_request_id;
  if (format_ == Format::kJson) {
    text = "{\"time\":\"" + time + "\",\"level\":\"" + level_name(message.getPriority()) +
           "\",\"logger\":" + json_string(message.getSource()) +
           ",\"message\":" + json_string(util::redact_secrets(message.getText()));
    if (!request_id.empty()) text += ",\"request_id\":" + json_string(request_id);
    if (message.has(kJsonFieldsParam)) text += util::redact_secrets(message.get(kJsonFieldsParam));
    text += "}";
    return;
  }
  std::string level = level_name(message.getPriority());
  level.resize(8, ' ');
  text = time + " " + level + message.getSource() + ": " +
         one_line(util::redact_secrets(message.getText()));
  if (message.has(kTextFieldsParam)) text += util::redact_secrets(message.get(kTextFieldsParam));
  if (!request_id.empty()) text += " request_id=" + request_id;
}

void configure(const Options& options) {
  int level = parse_level(options.level);
  Format format;
  if (options.format == "text") {
    format = Format::kText;
  } else if (options.format == "json") {
    format = Format::kJson;
  } else {
    throw std::invalid_argument("unknown log format '" + options.format +
                                "' (expected text or json)");
  }
  Poco::AutoPtr<Poco::Channel> sink;
  if (options.file.empty()) {
    sink = new Poco::ConsoleChannel(std::cerr);
  } else {
    // Fail early with a clear message rather than on the first log line.
    std::ofstream probe(options.file, std::ios::app);
    if (!probe) throw std::runtime_error("cannot open log file '" + options.file + "'");
    sink = new Poco::SimpleFileChannel(options.file);
  }
  Poco::AutoPtr<Poco::FormattingChannel> channel =
      new Poco::FormattingChannel(new LineFormatter(format), sink);
  Poco::Logger::root().setChannel(channel);
  Poco::Logger::root().setLevel(level);
  Poco::Logger::setChannel("", channel);  // every existing logger too
  Poco::Logger::setLevel("", level);
}

Poco::Logger& get(const std::string& area) {
  // Poco::Logger::get takes a process-wide lock; request paths ask for their loggers on every
  // request. Loggers live until the process ends, so each thread remembers the ones it used.
  thread_local std::unordered_map<std::string, Poco::Logger*> known;
  auto it = known.find(area);
  if (it == known.end()) it = known.emplace(area, &Poco::Logger::get("coda." + area)).first;
  return *it->second;
}

void log_abi_level(Poco::Logger& logger, int level, const std::string& message) noexcept {
  // The CODA_LOG_* values of sdk/include/coda/plugin.h.
  const Poco::Message::Priority priority = level <= 0   ? Poco::Message::PRIO_DEBUG
                                           : level == 1 ? Poco::Message::PRIO_INFORMATION
                                           : level == 2 ? Poco::Message::PRIO_WARNING
                                                        : Poco::Message::PRIO_ERROR;
  try {
    if (logger.getLevel() < priority) return;
    logger.log(Poco::Message(logger.name(), message, priority));
  } catch (...) {
    // Logging never fails its caller.
  }
}

RequestScope::RequestScope(std::string request_id) : previous_(std::move(t_request_id)) {
  t_request_id = std::move(request_id);
}

RequestScope::~RequestScope() { t_request_id = std::move(previous_); }

const std::string& current_request_id() { return t_request_id; }

Fields& Fields::add(std::string_view key, std::string_view value) {
  json_ += "," + json_string(std::string(key)) + ":" + json_string(std::string(value));
  text_ += " " + std::string(key) + "=" + text_value(value);
  return *this;
}

Fields& Fields::add(std::string_view key, int64_t value) {
  json_ += "," + json_string(std::string(key)) + ":" + std::to_string(value);
  text_ += " " + std::string(key) + "=" + std::to_string(value);
  return *this;
}

Fields& Fields::add(std::string_view key, double value) {
  char buffer[32];
  if (std::isfinite(value)) {
    std::snprintf(buffer, sizeof buffer, "%.3f", value);
  } else {
    std::snprintf(buffer, sizeof buffer, "null");
  }
  json_ += "," + json_string(std::string(key)) + ":" + buffer;
  text_ += " " + std::string(key) + "=" + buffer;
  return *this;
}

void write(Poco::Logger& logger, Poco::Message::Priority priority, const std::string& text,
           const Fields& fields) {
  if (!logger.is(priority)) return;
  Poco::Message message(logger.name(), text, priority);
  message.set(kJsonFieldsParam, fields.json());
  message.set(kTextFieldsParam, fields.text());
  logger.log(message);
}

}  // namespace coda::log
