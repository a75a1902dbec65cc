#include "core/util/random.hpp"

#include <gtest/gtest.h>

#include <set>

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

}  // namespace
}  // namespace coda::util
