#include "core/log/logging.hpp"

#include <gtest/gtest.h>

#include <Poco/JSON/Parser.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>

namespace coda::log {
namespace {

Poco::Message message(const std::string& text, Poco::Message::Priority priority) {
  return Poco::Message("coda.test", text, priority);
}

// A channel that keeps what it is given, to format it in the test.
struct Capture : Poco::Channel {
  std::vector<Poco::Message> messages;
  void log(const Poco::Message& m) override { messages.push_back(m); }
};

TEST(LineFormatter, TextIsOneLineWithLevelAndLogger) {
  LineFormatter formatter(Format::kText);
  std::string line;
  formatter.format(message("first\nsecond", Poco::Message::PRIO_WARNING), line);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_NE(line.find(" warning "), std::string::npos) << line;
  EXPECT_NE(line.find("coda.test: first\\nsecond"), std::string::npos) << line;
}

TEST(LineFormatter, JsonIsOneParsableObject) {
  LineFormatter formatter(Format::kJson);
  std::string line;
  formatter.format(message("quote \" and\nnewline", Poco::Message::PRIO_ERROR), line);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  auto obj = Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(obj->getValue<std::string>("level"), "error");
  EXPECT_EQ(obj->getValue<std::string>("logger"), "coda.test");
  EXPECT_EQ(obj->getValue<std::string>("message"), "quote \" and\nnewline");
  EXPECT_EQ(obj->getValue<std::string>("time").back(), 'Z');
}

TEST(LineFormatter, CredentialsAreRedactedInTextJsonAndFields) {
  const std::string jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";
  const std::string text = "calling with Authorization: Bearer tok-123456 and id_token " + jwt;
  for (auto format : {Format::kText, Format::kJson}) {
    LineFormatter formatter(format);
    std::string line;
    Poco::Message m = message(text, Poco::Message::PRIO_INFORMATION);
    formatter.format(m, line);
    EXPECT_EQ(line.find("tok-123456"), std::string::npos) << line;
    EXPECT_EQ(line.find(jwt), std::string::npos) << line;
    EXPECT_NE(line.find("Bearer [redacted]"), std::string::npos) << line;
    EXPECT_NE(line.find("calling with"), std::string::npos) << line;
  }
}

TEST(Fields, CredentialsInFieldsAreRedactedWhenFormatted) {
  Poco::AutoPtr<Capture> capture = new Capture;
  Poco::Logger& logger = Poco::Logger::get("coda.test.redact");
  logger.setChannel(capture);
  logger.setLevel(Poco::Message::PRIO_INFORMATION);
  write(logger, Poco::Message::PRIO_INFORMATION, "callback",
        Fields().add("path", "/cb?access_token=abc987").add("status", 200));
  ASSERT_EQ(capture->messages.size(), 1u);
  for (auto format : {Format::kText, Format::kJson}) {
    std::string line;
    LineFormatter(format).format(capture->messages[0], line);
    EXPECT_EQ(line.find("abc987"), std::string::npos) << line;
    EXPECT_NE(line.find("access_token=[redacted]"), std::string::npos) << line;
  }
}

TEST(Levels, KnownNamesMapAndUnknownOnesAreRefused) {
  EXPECT_EQ(parse_level("debug"), Poco::Message::PRIO_DEBUG);
  EXPECT_EQ(parse_level("info"), Poco::Message::PRIO_INFORMATION);
  EXPECT_EQ(parse_level("warning"), Poco::Message::PRIO_WARNING);
  EXPECT_EQ(parse_level("warn"), Poco::Message::PRIO_WARNING);
  EXPECT_EQ(parse_level("error"), Poco::Message::PRIO_ERROR);
  EXPECT_THROW(parse_level("loud"), std::invalid_argument);
  Options bad;
  bad.format = "xml";
  EXPECT_THROW(configure(bad), std::invalid_argument);
  Options unwritable;
  unwritable.file = "/nonexistent-dir/coda.log";
  EXPECT_THROW(configure(unwritable), std::runtime_error);
}

TEST(Configure, SetsTheLevelOfExistingLoggers) {
  Poco::Logger& existing = get("configure-test");
  Options options;
  options.level = "error";
  configure(options);
  EXPECT_FALSE(existing.warning());
  EXPECT_TRUE(existing.error());
  options.level = "debug";
  configure(options);
  EXPECT_TRUE(existing.debug());
}

}  // namespace
}  // namespace coda::log

namespace coda::log {
namespace {

TEST(RequestScope, LinesCarryTheInnermostRequestIdAndScopesRestore) {
  LineFormatter json(Format::kJson);
  LineFormatter text(Format::kText);
  std::string line;
  EXPECT_EQ(current_request_id(), "");
  {
    RequestScope outer("req-outer");
    {
      RequestScope inner("req-inner");
      json.format(message("m", Poco::Message::PRIO_INFORMATION), line);
      auto obj = Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
      EXPECT_EQ(obj->getValue<std::string>("request_id"), "req-inner");
      text.format(message("m", Poco::Message::PRIO_INFORMATION), line);
      EXPECT_NE(line.find(" request_id=req-inner"), std::string::npos) << line;
    }
    EXPECT_EQ(current_request_id(), "req-outer");
    std::thread([] { EXPECT_EQ(current_request_id(), "") << "per thread"; }).join();
  }
  EXPECT_EQ(current_request_id(), "");
  json.format(message("m", Poco::Message::PRIO_INFORMATION), line);
  EXPECT_EQ(line.find("request_id"), std::string::npos) << line;
}

TEST(Fields, JsonMembersKeepTheirTypesAndTextIsKeyValue) {
  Fields fields;
  fields.add("path", "/mcp").add("status", 200).add("duration_ms", 1.5).add("subject", "a b\"c");
  EXPECT_EQ(fields.json(),
            ",\"path\":\"\\/mcp\",\"status\":200,\"duration_ms\":1.500,\"subject\":\"a b\\\"c\"");
  EXPECT_EQ(fields.text(), " path=/mcp status=200 duration_ms=1.500 subject=\"a b\\\"c\"");
}

TEST(Fields, WriteFormatsThemIntoTheLine) {
  Poco::AutoPtr<Capture> capture = new Capture;
  Poco::Logger& logger = Poco::Logger::get("coda.test.fields");
  logger.setChannel(capture);
  logger.setLevel(Poco::Message::PRIO_INFORMATION);
  write(logger, Poco::Message::PRIO_DEBUG, "hidden", Fields().add("k", 1));
  ASSERT_TRUE(capture->messages.empty()) << "below the level: nothing";
  write(logger, Poco::Message::PRIO_INFORMATION, "GET / 200", Fields().add("status", 200));
  ASSERT_EQ(capture->messages.size(), 1u);
  std::string line;
  LineFormatter(Format::kJson).format(capture->messages[0], line);
  auto obj = Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(obj->getValue<std::string>("message"), "GET / 200");
  EXPECT_EQ(obj->getValue<int>("status"), 200);
  LineFormatter(Format::kText).format(capture->messages[0], line);
  EXPECT_NE(line.find("coda.test.fields: GET / 200 status=200"), std::string::npos) << line;
}

}  // namespace
}  // namespace coda::log
