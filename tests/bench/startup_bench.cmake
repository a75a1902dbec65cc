# Start-up benchmark: `cmake --build build --target bench_startup` starts `coda serve` on its embedded
# defaults (every bundled plugin) ten times and prints start-to-ready and idle RSS against their bars.
add_executable(startup_bench ${CMAKE_CURRENT_LIST_DIR}/startup_bench.cpp)
target_link_libraries(startup_bench PRIVATE coda_warnings)
add_custom_target(bench_startup
  COMMAND $<TARGET_FILE:startup_bench> $<TARGET_FILE:coda> 10
  DEPENDS coda startup_bench transport-mcp-http transport-stdio transport-web-ui agent-hermes agent-cli
  USES_TERMINAL
  COMMENT "Start-up benchmark: start to ready and idle RSS of coda serve")
# In the suite, two starts guard the command itself (not the figures).
add_test(NAME bench_startup_smoke COMMAND startup_bench $<TARGET_FILE:coda> 2)
set_tests_properties(bench_startup_smoke PROPERTIES LABELS "bench" TIMEOUT 120)
