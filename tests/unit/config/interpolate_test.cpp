#include "core/config/interpolate.hpp"

#include <gtest/gtest.h>

#include <map>

namespace coda::config {
namespace {

EnvLookup env_of(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    const auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Interpolate, TextWithoutReferencesIsUnchanged) {
  EXPECT_EQ(interpolate("plain text: $ 5$ a$b {x}", env_of({})), "plain text: $ 5$ a$b {x}");
}

TEST(Interpolate, ReplacesSetVariables) {
  const auto env = env_of({{"HOST", "0.0.0.0"}, {"PORT", "9000"}});
  EXPECT_EQ(interpolate("${HOST}:${PORT}", env), "0.0.0.0:9000");
  EXPECT_EQ(interpolate("x${PORT}y", env), "x9000y");
}

TEST(Interpolate, DefaultIsUsedWhenUnsetOrEmpty) {
  const auto env = env_of({{"EMPTY", ""}, {"SET", "v"}});
  EXPECT_EQ(interpolate("${UNSET:-8000}", env), "8000");
  EXPECT_EQ(interpolate("${EMPTY:-d}", env), "d");
  EXPECT_EQ(interpolate("${SET:-d}", env), "v");
  EXPECT_EQ(interpolate("${UNSET:-}", env), "");
  EXPECT_EQ(interpolate("${UNSET:-a:b-c}", env), "a:b-c");
}

TEST(Interpolate, DefaultMayReferToAnotherVariable) {
  const auto env = env_of({{"FALLBACK", "f"}});
  EXPECT_EQ(interpolate("${UNSET:-${FALLBACK}}", env), "f");
  EXPECT_EQ(interpolate("${UNSET:-${ALSO_UNSET:-x}}/y", env), "x/y");
}

TEST(Interpolate, SetButEmptyVariableWithoutDefaultIsEmpty) {
  EXPECT_EQ(interpolate("[${EMPTY}]", env_of({{"EMPTY", ""}})), "[]");
}

TEST(Interpolate, DoubleDollarEscapesAReference) {
  EXPECT_EQ(interpolate("$${HOME} and $$x", env_of({{"HOME", "/h"}})), "${HOME} and $$x");
}

TEST(Interpolate, MissingVariableIsAnErrorNamingIt) {
  try {
    interpolate("${DATABRICKS_APP_PORT}", env_of({}));
    FAIL() << "expected an error";
  } catch (const InterpolationError& e) {
    EXPECT_EQ(std::string(e.what()),
              "environment variable 'DATABRICKS_APP_PORT' is not set (set it, or write "
              "${DATABRICKS_APP_PORT:-default})");
  }
}

TEST(Interpolate, MalformedReferencesAreErrors) {
  EXPECT_THROW(interpolate("${UNCLOSED", env_of({})), InterpolationError);
  EXPECT_THROW(interpolate("${}", env_of({})), InterpolationError);
  EXPECT_THROW(interpolate("${1ABC}", env_of({})), InterpolationError);
  EXPECT_THROW(interpolate("${A B}", env_of({{"A", "x"}})), InterpolationError);
  EXPECT_THROW(interpolate("${A-x}", env_of({})), InterpolationError);
}

}  // namespace
}  // namespace coda::config
