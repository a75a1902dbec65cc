// Compiled by ctest as C++17 and C++20 with -Wall -Wextra -pedantic -Werror: plugin.h and plugin.hpp
// (and json_depth.hpp) must be clean C++.
#include <coda/json_depth.hpp>
#include <coda/plugin.h>
#include <coda/plugin.hpp>

#include <string>

int main() {
  auto route = coda::sdk::make<coda_http_route_t>();
  std::string text = coda::sdk::copy(coda::sdk::str("abc"));
  int status = coda::sdk::barrier(nullptr, -1, [&] { return static_cast<int>(text.size()) - 3; });
  // An enumerator as the error value converts to the function's result type.
  coda_status_t thrown = coda::sdk::barrier(nullptr, CODA_E_INTERNAL, []() -> coda_status_t {
    throw 1;
  });
  if (thrown != CODA_E_INTERNAL) return 1;
  // Nesting counts brackets outside strings only.
  if (!coda::sdk::json_nesting_exceeds("[[[]]]", 2) ||
      coda::sdk::json_nesting_exceeds(R"([" [[[ \" {{ "])", 1)) {
    return 1;
  }
  return (route.struct_size == sizeof(coda_http_route_t) && status == 0 &&
          coda::sdk::absent(coda_str_t{nullptr, 0}))
             ? 0
             : 1;
}
