#include "core/log/logging.hpp"

#include <gtest/gtest.h>

#include <Poco/JSON/Parser.h>

#include <stdexcept>

namespace coda::log {
namespace {

Poco::Message message(const std::string& text, Poco::Message::Priority priority) {
  return Poco::Message("coda.test", text, priority);
}

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
