#include "ticket_store.hpp"

#include <chrono>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace coda::webui {
namespace {

TEST(TicketStore, IssuesLongRandomTicketsThatCarryTheIdentity) {
  TicketStore store(std::chrono::seconds(30), 100);
  const std::string a = store.issue(R"({"subject":"ada"})");
  const std::string b = store.issue(R"({"subject":"bob"})");
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
  EXPECT_EQ(store.redeem(b), R"({"subject":"bob"})");
  EXPECT_EQ(store.redeem(a), R"({"subject":"ada"})");
}

TEST(TicketStore, ATicketWorksOnce) {
  TicketStore store(std::chrono::seconds(30), 100);
  const std::string t = store.issue("{}");
  EXPECT_TRUE(store.redeem(t).has_value());
  EXPECT_FALSE(store.redeem(t).has_value());
  EXPECT_EQ(store.outstanding(), 0u);
}

TEST(TicketStore, UnknownTicketsAreRefused) {
  TicketStore store(std::chrono::seconds(30), 100);
  store.issue("{}");
  EXPECT_FALSE(store.redeem("").has_value());
  EXPECT_FALSE(store.redeem(std::string(64, '0')).has_value());
}

TEST(TicketStore, ExpiredTicketsAreRefused) {
  TicketStore store(std::chrono::seconds(1), 100);
  const std::string t = store.issue("{}");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_FALSE(store.redeem(t).has_value());
}

TEST(TicketStore, AFloodEvictsTheOldestInsteadOfGrowing) {
  TicketStore store(std::chrono::seconds(30), 3);
  const std::string first = store.issue("1");
  store.issue("2");
  store.issue("3");
  const std::string fourth = store.issue("4");
  EXPECT_EQ(store.outstanding(), 3u);
  EXPECT_FALSE(store.redeem(first).has_value());
  EXPECT_EQ(store.redeem(fourth), "4");
}

}  // namespace
}  // namespace coda::webui
