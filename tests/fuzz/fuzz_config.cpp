// libFuzzer target: the YAML configuration loader. Any input either loads or throws ConfigError —
// never crashes, hangs or throws anything else. ${VAR} references see a small fixed environment.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "core/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view yaml(reinterpret_cast<const char*>(data), size);
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") return std::string("/home/fuzz");
    if (name == "CODA_LISTEN") return std::string("127.0.0.1:0");
    return std::nullopt;
  };
  try {
    coda::config::load_string(yaml, "fuzz.yaml", "/nonexistent-fuzz-dir", env);
  } catch (const coda::config::ConfigError&) {
    // The expected answer to bad input.
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unexpected exception from the loader: %s\n", e.what());
    std::abort();
  }
  return 0;
}
