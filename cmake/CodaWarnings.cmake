# Warnings and sanitizers shared by every target of the project.
add_library(coda_warnings INTERFACE)
target_compile_options(coda_warnings INTERFACE -Wall -Wextra -Wpedantic
  $<$<BOOL:${CODA_WERROR}>:-Werror>)

add_library(coda_sanitizers INTERFACE)
if(CODA_SANITIZE)
  target_compile_options(coda_sanitizers INTERFACE -fsanitize=${CODA_SANITIZE}
    -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(coda_sanitizers INTERFACE -fsanitize=${CODA_SANITIZE})
  if(CODA_SANITIZE MATCHES "thread")
    # ThreadSanitizer does not model std::atomic_thread_fence; Boost.Asio's handler fences are
    # redundant with the mutex of its queues (the tool pool, the task watches), so they go in every
    # translation unit of a TSan build alike.
    target_compile_definitions(coda_sanitizers INTERFACE BOOST_ASIO_DISABLE_FENCED_BLOCK)
  endif()
endif()
