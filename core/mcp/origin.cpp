#include "core/mcp/origin.hpp"

#include <cstdint>
#include <stdexcept>

#include "coda/plugin.hpp"

namespace coda::mcp {
namespace {

// Reads an origin straight into a RequestContext: every message crosses the ABI with one, so this is
// a small strict JSON reader (RFC 8259) rather than a DOM. Members it does not know are skipped,
// whatever their shape; a known member of the wrong type is an error, as is anything that is not one
// JSON object.
class OriginReader {
 public:
  OriginReader(std::string_view text, RequestContext& ctx) : in_(text), ctx_(ctx) {}

  // Returns whether an "identity" object was present.
  bool read() {
    space();
    if (!eat('{')) fail("expected a JSON object");
    members([this](const std::string& key) { top_member(key); });
    space();
    if (pos_ != in_.size()) fail("unexpected text after the object");
    return saw_identity_;
  }

 private:
  static constexpr int kMaxDepth = 64;

  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument("origin: not a JSON object: " + what + " at offset " +
                                std::to_string(pos_));
  }
  [[noreturn]] static void wrong_type(const std::string& what) {
    throw std::invalid_argument("origin: " + what);
  }
  void space() {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool eat(char c) {
    if (pos_ < in_.size() && in_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  char peek() {
    space();
    return pos_ < in_.size() ? in_[pos_] : '\0';
  }
  bool literal(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  // The members of an object whose '{' was read: calls on_member(key) with the position at the value.
  template <class F>
  void members(F&& on_member) {
    if (peek() == '}') {
      ++pos_;
      return;
    }
    while (true) {
      if (peek() != '"') fail("expected a member name");
      std::string key = string();
      if (peek() != ':') fail("expected ':'");
      ++pos_;
      space();
      on_member(key);
      char c = peek();
      ++pos_;
      if (c == '}') return;
      if (c != ',') fail("expected ',' or '}'");
    }
  }

  void top_member(const std::string& key) {
    if (key == "transport") return string_or_null(ctx_.transport, "'transport'");
    if (key == "session_id") return string_or_null(ctx_.session_id, "'session_id'");
    if (key == "protocol_version") return string_or_null(ctx_.protocol_version, "'protocol_version'");
    if (key == "request_id") return string_or_null(ctx_.request_id, "'request_id'");
    if (key == "base_url") return string_or_null(ctx_.base_url, "'base_url'");
    if (key == "conn") return connection();
    if (key == "identity") {
      if (literal("null")) return;
      if (!eat('{')) wrong_type("'identity' must be an object");
      saw_identity_ = true;
      return members([this](const std::string& k) { identity_member(k); });
    }
    skip_value(0);
  }

  void identity_member(const std::string& key) {
    auto& id = ctx_.identity;
    if (key == "subject") return string_or_null(id.subject, "identity '" + key + "'");
    if (key == "email") return string_or_null(id.email, "identity '" + key + "'");
    if (key == "name") return string_or_null(id.display_name, "identity '" + key + "'");
    if (key == "admin" || key == "authenticated") {
      bool& flag = key == "admin" ? id.admin : id.authenticated;
      if (literal("true")) {
        flag = true;
      } else if (literal("false")) {
        flag = false;
      } else if (!literal("null")) {
        wrong_type("identity '" + key + "' must be a boolean");
      }
      return;
    }
    skip_value(1);
  }

  // `what` names the member in messages: "'transport'", "identity 'subject'".
  void string_or_null(std::string& out, const std::string& what) {
    if (peek() == '"') {
      out = string();
    } else if (!literal("null")) {
      wrong_type(what + " must be a string");
    }
  }

  void connection() {
    if (literal("null")) return;
    char first = peek();
    if (first != '-' && (first < '0' || first > '9')) wrong_type("'conn' must be an integer");
    std::size_t start = pos_;
    number();
    std::string_view text = in_.substr(start, pos_ - start);
    if (text.find_first_of(".eE") != std::string_view::npos) {
      wrong_type("'conn' must be an integer");
    }
    if (text.front() == '-') wrong_type("'conn' must be a connection number >= 0");
    uint64_t value = 0;
    for (char d : text) {
      auto digit = static_cast<uint64_t>(d - '0');
      if (value > (UINT64_MAX - digit) / 10) wrong_type("'conn' is too large");
      value = value * 10 + digit;
    }
    ctx_.connection = value;
  }

  // A JSON string at pos_ ('"' included), decoded to UTF-8.
  std::string string() {
    if (!eat('"')) fail("expected a string");
    std::string out;
    while (true) {
      if (pos_ >= in_.size()) fail("unterminated string");
      char c = in_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("a control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= in_.size()) fail("unterminated string");
      switch (char e = in_[pos_++]) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (!literal("\\u")) fail("a lone surrogate in a string");
            uint32_t low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) fail("a lone surrogate in a string");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("a lone surrogate in a string");
          }
          utf8(cp, out);
          break;
        }
        default:
          (void)e;
          fail("an invalid escape in a string");
      }
    }
  }
  uint32_t hex4() {
    if (pos_ + 4 > in_.size()) fail("a short \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char h = in_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9') {
        v |= static_cast<uint32_t>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        v |= static_cast<uint32_t>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        v |= static_cast<uint32_t>(h - 'A' + 10);
      } else {
        fail("a bad \\u escape");
      }
    }
    return v;
  }
  static void utf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // Skips any JSON value, checking its syntax.
  void skip_value(int depth) {
    if (depth > kMaxDepth) fail("nested too deeply");
    char c = peek();
    if (c == '"') {
      string();
    } else if (c == '{') {
      ++pos_;
      members([&](const std::string&) { skip_value(depth + 1); });
    } else if (c == '[') {
      ++pos_;
      if (peek() == ']') {
        ++pos_;
        return;
      }
      while (true) {
        skip_value(depth + 1);
        char next = peek();
        ++pos_;
        if (next == ']') return;
        if (next != ',') fail("expected ',' or ']'");
      }
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      number();
    } else if (!literal("true") && !literal("false") && !literal("null")) {
      fail("expected a value");
    }
  }
  void number() {
    eat('-');
    auto digits = [&] {
      std::size_t from = pos_;
      while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    std::size_t from = pos_;
    std::size_t n = digits();
    if (n == 0) fail("expected a digit");
    if (in_[from] == '0' && n > 1) fail("a number with a leading zero");
    if (eat('.') && digits() == 0) fail("expected a digit after '.'");
    if (eat('e') || eat('E')) {
      if (!eat('+')) eat('-');
      if (digits() == 0) fail("expected an exponent");
    }
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  RequestContext& ctx_;
  bool saw_identity_ = false;
};

}  // namespace

RequestContext context_from_origin_json(std::string_view origin_json, bool default_local_user) {
  RequestContext ctx;
  if (origin_json.empty()) {
    if (default_local_user) ctx.identity = auth::Identity::local_user();
    return ctx;
  }
  bool saw_identity = OriginReader(origin_json, ctx).read();
  if (!saw_identity && default_local_user) ctx.identity = auth::Identity::local_user();
  return ctx;
}

std::string origin_json_of(const RequestContext& ctx) {
  using sdk::json_quote;
  std::string out = R"({"transport":)" + json_quote(ctx.transport);
  if (ctx.connection != 0) out += R"(,"conn":)" + std::to_string(ctx.connection);
  out += R"(,"identity":)" + ctx.identity.to_json_text();
  if (!ctx.session_id.empty()) out += R"(,"session_id":)" + json_quote(ctx.session_id);
  if (!ctx.protocol_version.empty()) {
    out += R"(,"protocol_version":)" + json_quote(ctx.protocol_version);
  }
  if (!ctx.request_id.empty()) out += R"(,"request_id":)" + json_quote(ctx.request_id);
  if (!ctx.base_url.empty()) out += R"(,"base_url":)" + json_quote(ctx.base_url);
  out += '}';
  return out;
}

}  // namespace coda::mcp
