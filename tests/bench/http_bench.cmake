# HTTP benchmark (tests/bench/run_http_bench.sh): `cmake --build build --target bench_http` prints
# coda's tools/list throughput against a bare Poco HTTPServer and the official TypeScript SDK.
add_executable(bench_bare_poco_server ${CMAKE_CURRENT_LIST_DIR}/bare_poco_server.cpp)
target_link_libraries(bench_bare_poco_server PRIVATE Poco::Net Poco::Util Poco::Foundation
  coda_warnings)
add_custom_target(bench_http
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_http_bench.sh $<TARGET_FILE:coda> ${CODA_PLUGIN_OUTPUT_DIR}
          $<TARGET_FILE:bench_bare_poco_server> ${PROJECT_SOURCE_DIR}/tests/node 10
  DEPENDS coda transport-mcp-http bench_bare_poco_server
  USES_TERMINAL
  COMMENT "HTTP tools/list benchmark: coda vs bare Poco vs TypeScript SDK")
# In the suite, a 2-second run of each server guards the command itself (not the figures).
add_test(NAME bench_http_smoke
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_http_bench.sh $<TARGET_FILE:coda> ${CODA_PLUGIN_OUTPUT_DIR}
          $<TARGET_FILE:bench_bare_poco_server> ${PROJECT_SOURCE_DIR}/tests/node 2)
set_tests_properties(bench_http_smoke PROPERTIES LABELS "bench" TIMEOUT 180
  PASS_REGULAR_EXPRESSION "coda p99: +[0-9.]+ ms" FAIL_REGULAR_EXPRESSION "non-2xx [1-9]")
