# coda_add_plugin(<name> SOURCES ... [LINK ...] [NO_INSTALL] [OUTPUT_DIR dir])
# Builds a CoDA plugin as a shared module <name>.so that exports only coda_plugin_entry_v1.
# Bundled plugins land in build/plugins/ and install to <libdir>/coda/plugins/.
function(coda_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIR" "SOURCES;LINK" ${ARGN})
  add_library(${name} MODULE ${ARG_SOURCES})
  if(NOT ARG_OUTPUT_DIR)
    set(ARG_OUTPUT_DIR ${CODA_PLUGIN_OUTPUT_DIR})
  endif()
  set_target_properties(${name} PROPERTIES PREFIX "" OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR}
    CXX_VISIBILITY_PRESET hidden C_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${name} PRIVATE coda::sdk coda_warnings coda_sanitizers ${ARG_LINK})
  target_link_options(${name} PRIVATE
    -Wl,--version-script=${CODA_SDK_VERSION_SCRIPT} -Wl,--no-undefined)
  set_property(GLOBAL APPEND PROPERTY CODA_PLUGIN_TARGETS ${name})
  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${name} LIBRARY DESTINATION ${CODA_INSTALL_PLUGIN_DIR} COMPONENT runtime)
  endif()
endfunction()
