# Warnings and sanitizers shared by every target of the project.
add_library(coda_warnings INTERFACE)
target_compile_options(coda_warnings INTERFACE -Wall -Wextra -Wpedantic
  $<$<BOOL:${CODA_WERROR}>:-Werror>)

add_library(coda_sanitizers INTERFACE)
if(CODA_SANITIZE)
  target_compile_options(coda_sanitizers INTERFACE -fsanitize=${CODA_SANITIZE}
    -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(coda_sanitizers INTERFACE -fsanitize=${CODA_SANITIZE})
endif()
