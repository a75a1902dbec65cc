#pragma once
// What a test does when the mechanism it tests is missing on this machine (no bubblewrap, no
// Landlock, no cgroup delegation): under CI=true that is a failure — CI installs what the tests need,
// so a missing mechanism means a broken image, never a silent skip; elsewhere the test is skipped
// with the reason.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string_view>

namespace coda::test {

inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && *ci != '\0' && std::string_view(ci) != "false";
}

}  // namespace coda::test

// Ends the current test: FAIL in CI, SKIP elsewhere. `reason` is streamed (<<) like any message.
#define CODA_MECHANISM_UNAVAILABLE(reason)                                                  \
  do {                                                                                      \
    if (::coda::test::running_in_ci()) {                                                    \
      GTEST_FAIL() << "CI=true but the mechanism under test is unavailable: " << reason;    \
    }                                                                                       \
    GTEST_SKIP() << reason;                                                                 \
  } while (false)
