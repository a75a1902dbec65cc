#include "core/util/random.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace coda::util {
namespace {

TEST(RandomHex, HasTwoLowercaseHexDigitsPerByteAndDoesNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = random_hex(16);
    ASSERT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    EXPECT_TRUE(seen.insert(id).second) << "repeated " << id;
  }
  EXPECT_EQ(random_hex(0), "");
}

TEST(UniqueHex128, IsUniqueWithinAndAcrossThreads) {
  std::mutex mutex;
  std::set<std::string> seen;
  auto draw = [&] {
    std::vector<std::string> mine;
    for (int i = 0; i < 20000; ++i) mine.push_back(unique_hex128());
    std::lock_guard lock(mutex);
    for (auto& id : mine) {
      ASSERT_EQ(id.size(), 32u);
      ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
      ASSERT_TRUE(seen.insert(id).second) << "repeated " << id;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back(draw);
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen.size(), 80000u);
}

}  // namespace
}  // namespace coda::util
