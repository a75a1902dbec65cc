#include "core/util/utf8.hpp"

#include <gtest/gtest.h>

namespace coda::util {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(ValidUtf8, KeepsValidTextAsItIs) {
  for (std::string text : {"", "plain ascii\n", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"}) {
    EXPECT_EQ(valid_utf8(text), text);
  }
}

TEST(ValidUtf8, ReplacesEachMalformedSequence) {
  EXPECT_EQ(valid_utf8("a\xFF\xFE"
                       "b"),
            "a" + kFffd + kFffd + "b");
  EXPECT_EQ(valid_utf8("\x80x"), kFffd + "x");                   // stray continuation byte
  EXPECT_EQ(valid_utf8("\xC0\xAF"), kFffd + kFffd);              // overlong '/'
  EXPECT_EQ(valid_utf8("\xED\xA0\x80"), kFffd + kFffd + kFffd);  // a surrogate half
  EXPECT_EQ(valid_utf8("\xF4\x90\x80\x80z"), kFffd + kFffd + kFffd + kFffd + "z");  // > U+10FFFF
  EXPECT_EQ(valid_utf8("end\xE2\x82"), "end" + kFffd + kFffd);  // cut off at the end
  EXPECT_EQ(valid_utf8("\xE2\x82y"), kFffd + kFffd + "y") << "the byte after a bad one is kept";
}

TEST(Utf8Stream, KeepsACharacterSplitBetweenChunksWhole) {
  Utf8Stream stream;
  EXPECT_EQ(stream.feed("caf\xC3"), "caf");
  EXPECT_EQ(stream.feed("\xA9 \xF0\x9F"), "\xC3\xA9 ");
  EXPECT_EQ(stream.feed("\x98"), "");
  EXPECT_EQ(stream.feed("\x80!"), "\xF0\x9F\x98\x80!");
  EXPECT_EQ(stream.finish(), "");
}

TEST(Utf8Stream, ReplacesWhatNeverCompletes) {
  Utf8Stream stream;
  EXPECT_EQ(stream.feed("x\xE2\x82"), "x");
  EXPECT_EQ(stream.feed("y"), kFffd + kFffd + "y");  // the held bytes were not followed by the rest
  EXPECT_EQ(stream.feed("\xC3"), "");
  EXPECT_EQ(stream.finish(), kFffd);
  EXPECT_EQ(stream.feed("\xFF"), kFffd);  // a byte that can start nothing is never held
}

}  // namespace
}  // namespace coda::util
