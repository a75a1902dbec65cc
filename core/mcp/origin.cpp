#include "core/mcp/origin.hpp"

#include <stdexcept>

#include <Poco/Exception.h>
#include <Poco/JSON/Handler.h>
#include <Poco/JSON/Parser.h>

#include "coda/plugin.hpp"

namespace coda::mcp {
namespace {

// Reads an origin straight into a RequestContext while Poco's parser walks the text: every message
// crosses the ABI with one, so it builds no DOM. Members it does not know are skipped, whatever their
// type; a known member of the wrong type is an error.
class OriginReader : public Poco::JSON::Handler {
 public:
  explicit OriginReader(RequestContext& ctx) : ctx_(ctx) {}

  bool saw_object() const { return saw_object_; }
  bool saw_identity() const { return saw_identity_; }

  void reset() override {}
  void startObject() override {
    if (depth_ == 0) saw_object_ = true;
    if (depth_ == 1 && key_ == "identity" && !in_array_) {
      in_identity_ = true;
      saw_identity_ = true;
    } else if (depth_ == 1) {
      expect_scalar("an object");
    }
    ++depth_;
    key_.clear();
  }
  void endObject() override {
    --depth_;
    if (depth_ == 1) in_identity_ = false;
  }
  void startArray() override {
    if (depth_ == 0) throw std::invalid_argument("origin: not a JSON object");
    if (depth_ == 1 || (depth_ == 2 && in_identity_)) expect_scalar("an array");
    ++array_depth_;
    in_array_ = true;
  }
  void endArray() override { in_array_ = --array_depth_ > 0; }
  void key(const std::string& k) override { key_ = k; }

  void null() override {}  // a null member keeps its default
  void value(int v) override { integer(v < 0, static_cast<uint64_t>(v)); }
  void value(unsigned v) override { integer(false, v); }
  void value(Poco::Int64 v) override { integer(v < 0, static_cast<uint64_t>(v)); }
  void value(Poco::UInt64 v) override { integer(false, v); }
  void value(double) override { expect_scalar("a number"); }
  void value(const std::string& v) override {
    if (std::string* field = string_field()) {
      *field = v;
    } else {
      expect_scalar("a string");
    }
  }
  void value(bool b) override {
    if (in_array_) return;
    if (depth_ == 2 && in_identity_ && key_ == "admin") {
      ctx_.identity.admin = b;
    } else if (depth_ == 2 && in_identity_ && key_ == "authenticated") {
      ctx_.identity.authenticated = b;
    } else {
      expect_scalar("a boolean");
    }
  }

 private:
  // The string member the current key names, if any.
  std::string* string_field() {
    if (in_array_) return nullptr;
    if (depth_ == 1) {
      if (key_ == "transport") return &ctx_.transport;
      if (key_ == "session_id") return &ctx_.session_id;
      if (key_ == "protocol_version") return &ctx_.protocol_version;
      if (key_ == "request_id") return &ctx_.request_id;
      if (key_ == "base_url") return &ctx_.base_url;
    } else if (depth_ == 2 && in_identity_) {
      if (key_ == "subject") return &ctx_.identity.subject;
      if (key_ == "email") return &ctx_.identity.email;
      if (key_ == "name") return &ctx_.identity.display_name;
    }
    return nullptr;
  }
  void integer(bool negative, uint64_t v) {
    if (!in_array_ && depth_ == 1 && key_ == "conn") {
      if (negative) throw std::invalid_argument("origin: 'conn' must be a connection number >= 0");
      ctx_.connection = v;
    } else {
      expect_scalar("a number");
    }
  }
  // A value of type `what` where the current key expects something else: an error for known members.
  void expect_scalar(const char* what) {
    if (in_array_) return;
    if (depth_ == 1) {
      if (key_ == "conn") throw std::invalid_argument("origin: 'conn' must be an integer");
      if (key_ == "identity") throw std::invalid_argument("origin: 'identity' must be an object");
      if (key_ == "transport" || key_ == "session_id" || key_ == "protocol_version" ||
          key_ == "request_id" || key_ == "base_url") {
        throw std::invalid_argument("origin: '" + key_ + "' must be a string, not " + what);
      }
    } else if (depth_ == 2 && in_identity_) {
      if (key_ == "subject" || key_ == "email" || key_ == "name") {
        throw std::invalid_argument("origin: identity '" + key_ + "' must be a string, not " + what);
      }
      if (key_ == "admin" || key_ == "authenticated") {
        throw std::invalid_argument("origin: identity '" + key_ + "' must be a boolean, not " +
                                    what);
      }
    }
  }

  RequestContext& ctx_;
  std::string key_;
  int depth_ = 0;
  int array_depth_ = 0;
  bool in_array_ = false;
  bool in_identity_ = false;
  bool saw_object_ = false;
  bool saw_identity_ = false;
};

}  // namespace

RequestContext context_from_origin_json(std::string_view origin_json, bool default_local_user) {
  RequestContext ctx;
  if (origin_json.empty()) {
    if (default_local_user) ctx.identity = auth::Identity::local_user();
    return ctx;
  }
  Poco::SharedPtr<OriginReader> reader = new OriginReader(ctx);
  try {
    Poco::JSON::Parser parser(reader);
    parser.parse(std::string(origin_json));
  } catch (const Poco::Exception& e) {
    throw std::invalid_argument("origin: not a JSON object: " + e.displayText());
  }
  if (!reader->saw_object()) throw std::invalid_argument("origin: not a JSON object");
  if (!reader->saw_identity() && default_local_user) ctx.identity = auth::Identity::local_user();
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
