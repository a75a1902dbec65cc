#include "core/bridge/token_source.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <regex>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "core/bridge/run_command.hpp"

namespace coda::bridge {
namespace {

// Far-future times are clamped here: system_clock counts nanoseconds and ends in 2262.
constexpr std::int64_t kLatestEpochSeconds = 7258118400;  // 2200-01-01T00:00:00Z

std::chrono::system_clock::time_point from_epoch_seconds(std::int64_t seconds) {
  return std::chrono::system_clock::time_point(
      std::chrono::seconds(std::clamp<std::int64_t>(seconds, 0, kLatestEpochSeconds)));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string first_line(std::string_view text) {
  text = trim(text);
  auto nl = text.find('\n');
  std::string line(trim(text.substr(0, nl)));
  if (line.size() > 200) line = line.substr(0, 200) + "...";
  return line;
}

std::optional<std::chrono::system_clock::time_point> expiry_of(const Poco::JSON::Object& obj,
                                                               std::chrono::system_clock::time_point now) {
  if (obj.has("expiry")) {
    auto v = obj.get("expiry");
    if (v.isString()) return parse_rfc3339(v.extract<std::string>());
    if (v.isNumeric()) {
      return from_epoch_seconds(static_cast<std::int64_t>(v.convert<double>()));
    }
  }
  if (obj.has("expires_in")) {
    auto v = obj.get("expires_in");
    if (v.isNumeric() || v.isString()) {
      try {
        auto in = std::clamp<double>(v.convert<double>(), 0, 10 * 365 * 86400.0);
        return now + std::chrono::seconds(static_cast<std::int64_t>(in));
      } catch (const Poco::Exception&) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
  static const std::regex pattern(
      R"(^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$)");
  std::string s(trim(text));
  std::smatch m;
  if (!std::regex_match(s, m, pattern)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  std::int64_t seconds = static_cast<std::int64_t>(::timegm(&tm));
  std::string zone = m[8];
  if (zone != "Z" && zone != "z") {
    int sign = zone[0] == '-' ? -1 : 1;
    std::string digits;
    for (char c : zone.substr(1)) {
      if (c != ':') digits += c;
    }
    int offset = std::stoi(digits.substr(0, 2)) * 3600 + std::stoi(digits.substr(2, 2)) * 60;
    seconds -= sign * offset;
  }
  auto point = from_epoch_seconds(seconds);
  if (m[7].matched && seconds < kLatestEpochSeconds) {
    std::string frac = std::string(m[7]).substr(1, 6);
    while (frac.size() < 6) frac += '0';
    point += std::chrono::microseconds(std::stoi(frac));
  }
  return point;
}

ParsedToken parse_token_output(std::string_view output, std::chrono::system_clock::time_point now) {
  std::string_view text = trim(output);
  if (text.empty()) throw TokenError("printed nothing");
  if (text.front() == '{') {
    Poco::JSON::Object::Ptr obj;
    try {
      Poco::JSON::Parser parser;
      obj = parser.parse(std::string(text)).extract<Poco::JSON::Object::Ptr>();
    } catch (const std::exception&) {
      throw TokenError("printed JSON that could not be parsed");
    }
    if (!obj || !obj->has("access_token") || !obj->get("access_token").isString()) {
      throw TokenError("printed JSON without an \"access_token\" string");
    }
    ParsedToken token;
    token.value = obj->getValue<std::string>("access_token");
    if (trim(token.value).empty()) throw TokenError("printed an empty \"access_token\"");
    token.expiry = expiry_of(*obj, now);
    return token;
  }
  ParsedToken token;
  token.value = std::string(trim(text.substr(0, text.find('\n'))));
  if (token.value.find_first_of(" \t") != std::string::npos) {
    throw TokenError("printed text that is not a token (a token has no blanks)");
  }
  return token;
}

TokenSource::TokenSource(std::vector<std::string> argv) : argv_(std::move(argv)) {}

TokenSource::Token TokenSource::token() {
  std::lock_guard lock(mutex_);
  if (argv_.empty()) return {};
  auto now = std::chrono::steady_clock::now();
  if (!cached_.empty() && now < valid_until_) return {cached_, generation_};

  CommandResult result;
  const std::string what = "token command '" + argv_.front() + "'";
  try {
    result = run_command(argv_, kCommandTimeout);
  } catch (const CommandError& e) {
    throw TokenError(what + " failed: " + e.what());
  }
  if (result.exit_code != 0) {
    std::string reason = result.term_signal != 0
                             ? "was killed by signal " + std::to_string(result.term_signal)
                             : "exited with status " + std::to_string(result.exit_code);
    std::string detail = first_line(result.err.empty() ? result.out : result.err);
    // A failing command may still have echoed a token-like JSON; show only stderr's first line.
    if (result.err.empty()) detail.clear();
    throw TokenError(what + " " + reason + (detail.empty() ? "" : ": " + detail));
  }
  ParsedToken parsed;
  try {
    parsed = parse_token_output(result.out);
  } catch (const TokenError& e) {
    throw TokenError(what + " " + e.what());
  }
  std::chrono::seconds lifetime = kDefaultLifetime;
  if (parsed.expiry) {
    // In seconds and capped, so that a far-future expiry cannot overflow the clock's duration.
    auto left = std::chrono::duration_cast<std::chrono::seconds>(*parsed.expiry -
                                                                 std::chrono::system_clock::now());
    lifetime = std::min(left, kMaxLifetime) - kExpiryMargin;
  }
  cached_ = std::move(parsed.value);
  valid_until_ = now + lifetime;  // in the past when it expires within the margin: used once
  ++generation_;
  return {cached_, generation_};
}

void TokenSource::invalidate(std::uint64_t generation) {
  std::lock_guard lock(mutex_);
  if (generation == generation_) {
    cached_.clear();
    valid_until_ = {};
  }
}

}  // namespace coda::bridge
