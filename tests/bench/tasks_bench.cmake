# The task store benchmark (owner: tasks): coda_inbox with 1k vs 1M stored tasks, coda_run → commit.
# Run: cmake --build BUILD --target tasks_inbox_bench && BUILD/tasks_inbox_bench
add_executable(tasks_inbox_bench ${CMAKE_CURRENT_LIST_DIR}/tasks_inbox_bench.cpp)
target_link_libraries(tasks_inbox_bench PRIVATE coda_tasks Poco::DataSQLite)
add_test(NAME bench_tasks_inbox_small COMMAND tasks_inbox_bench --large 20000 --small 1000 --calls 50)
set_tests_properties(bench_tasks_inbox_small PROPERTIES LABELS "bench" TIMEOUT 300)
