#include "core/bridge/sse_parser.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace coda::bridge {
namespace {

struct Collected {
  std::vector<std::pair<std::string, std::string>> events;
  SseParser parser{[this](const std::string& type, const std::string& data) {
    events.emplace_back(type, data);
  }};
  void feed(const std::vector<std::string>& lines) {
    for (const auto& l : lines) parser.feed_line(l);
  }
};

TEST(SseParser, DeliversEachEventAtTheBlankLine) {
  Collected c;
  c.feed({"event: message", "data: {\"a\":1}"});
  EXPECT_TRUE(c.events.empty());
  c.feed({""});
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0], (std::pair<std::string, std::string>{"message", "{\"a\":1}"}));
}

TEST(SseParser, JoinsDataLinesAndStripsCarriageReturns) {
  Collected c;
  c.feed({"data: {\"a\":\r", "data:1}\r", "\r"});
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].first, "message");
  EXPECT_EQ(c.events[0].second, "{\"a\":\n1}");
}

TEST(SseParser, SkipsCommentsPrimingEventsAndKeepsTheLastId) {
  Collected c;
  c.feed({": keep-alive", "", "id: 7", "data:", "", "id: 8", "data: x", ""});
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].second, "x");
  EXPECT_EQ(c.parser.last_event_id(), "8");
}

TEST(SseParser, DropsAnUnterminatedEventAtTheEnd) {
  Collected c;
  c.feed({"data: half"});
  c.parser.finish();
  c.feed({""});
  EXPECT_TRUE(c.events.empty());
}

}  // namespace
}  // namespace coda::bridge
