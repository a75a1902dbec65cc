#include "core/bridge/command_line.hpp"

#include <gtest/gtest.h>

namespace coda::bridge {
namespace {

using Words = std::vector<std::string>;

TEST(SplitCommandLine, SplitsOnBlanksWithoutAShell) {
  EXPECT_EQ(split_command_line("databricks auth token -p DEFAULT"),
            (Words{"databricks", "auth", "token", "-p", "DEFAULT"}));
  EXPECT_EQ(split_command_line("  a\t b  "), (Words{"a", "b"}));
}

TEST(SplitCommandLine, KeepsQuotedTextTogether) {
  EXPECT_EQ(split_command_line(R"(tool -p 'my profile' "x y")"),
            (Words{"tool", "-p", "my profile", "x y"}));
  EXPECT_EQ(split_command_line(R"(a"b c"d)"), (Words{"ab cd"}));
  EXPECT_EQ(split_command_line(R"('')"), (Words{""}));
}

TEST(SplitCommandLine, HandlesBackslashesLikeAShell) {
  EXPECT_EQ(split_command_line(R"(a\ b)"), (Words{"a b"}));
  EXPECT_EQ(split_command_line(R"("say \"hi\" \n")"), (Words{R"(say "hi" \n)"}));
  EXPECT_EQ(split_command_line(R"('no \escape')"), (Words{R"(no \escape)"}));
}

TEST(SplitCommandLine, ExpandsNothing) {
  EXPECT_EQ(split_command_line("echo $HOME ~ *.txt | cat; rm"),
            (Words{"echo", "$HOME", "~", "*.txt", "|", "cat;", "rm"}));
}

TEST(SplitCommandLine, RejectsUnterminatedAndEmptyLines) {
  EXPECT_THROW(split_command_line("a 'b"), CommandLineError);
  EXPECT_THROW(split_command_line("a \"b"), CommandLineError);
  EXPECT_THROW(split_command_line("a \\"), CommandLineError);
  EXPECT_THROW(split_command_line("   "), CommandLineError);
}

}  // namespace
}  // namespace coda::bridge
