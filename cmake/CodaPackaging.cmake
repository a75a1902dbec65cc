# Packages and the Databricks Apps bundle (docs/packaging.md).
#
#   cmake --build build --target package   writes, in build/:
#     coda_<version>_amd64.deb       /usr/bin/coda, /usr/lib/coda/plugins/*.so, /etc/coda/coda.yaml,
#                                    /etc/default/coda, the systemd unit, the maintainer scripts
#     coda-sdk_<version>_all.deb     /usr/include/coda, /usr/lib/cmake/CodaSDK, the plugin template
#     coda_<version>_amd64.tar.gz    the files of both, same layout (tar -C / -xzf; no scripts run)
#   cmake --build build --target bundle    writes coda-<version>-linux-x86_64.tar.gz, the relocatable
#                                    bundle (packaging/bundle/make-bundle.sh)
#
# The version is the project version (CMakeLists.txt); nothing here repeats it.
#
# Install components: `runtime` (bin/coda and the plugins, relative to the prefix), `sdk`, and
# `system` — /etc/coda/coda.yaml, /etc/default/coda and the systemd unit, at absolute paths for the
# package prefix /usr. `system` is excluded from a plain `cmake --install` (it would write into the
# real /etc); only the packages carry it.

set(CODA_PACKAGE_PREFIX /usr)
set(CODA_PACKAGE_PLUGIN_DIR ${CODA_PACKAGE_PREFIX}/${CODA_INSTALL_PLUGIN_DIR})
set(CODA_PACKAGE_DATA_DIR /var/lib/coda)
set(CODA_PACKAGE_CONFIG /etc/coda/coda.yaml)
set(CODA_PACKAGE_DOC_DIR ${CODA_PACKAGE_PREFIX}/share/doc/coda)
set(CODA_PACKAGE_UNIT_DIR ${CODA_PACKAGE_PREFIX}/lib/systemd/system)
set(coda_packaging_dir ${PROJECT_SOURCE_DIR}/packaging)
set(coda_packaging_out ${CMAKE_BINARY_DIR}/packaging)

# /etc/coda/coda.yaml is config/coda.yaml (the one source of the defaults) with the two values a
# package install differs in. A changed line in config/coda.yaml fails the configure step here
# instead of shipping a config that silently points elsewhere.
function(coda_packaged_config out)
  file(READ ${PROJECT_SOURCE_DIR}/config/coda.yaml text)
  set(replacements
    "  data_dir: \${CODA_DATA_DIR:-}\n"
    "  data_dir: \${CODA_DATA_DIR:-${CODA_PACKAGE_DATA_DIR}}\n"
    "  search_paths: []\n"
    "  search_paths: [${CODA_PACKAGE_PLUGIN_DIR}]\n")
  while(replacements)
    list(POP_FRONT replacements from to)
    string(FIND "${text}" "${from}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "config/coda.yaml has no line '${from}'; update cmake/CodaPackaging.cmake")
    endif()
    string(REPLACE "${from}" "${to}" text "${text}")
  endwhile()
  string(CONCAT text
    "# /etc/coda/coda.yaml, installed by the coda package (a conffile: your changes survive\n"
    "# upgrades). It is the built-in default configuration (config/coda.yaml) with the package's\n"
    "# plugin directory (plugins.search_paths) and data directory (server.data_dir, the coda\n"
    "# service's StateDirectory). The comments below describe the built-in defaults.\n#\n"
    "${text}")
  file(WRITE ${out}.new "${text}")
  file(COPY_FILE ${out}.new ${out} ONLY_IF_DIFFERENT)
endfunction()
coda_packaged_config(${coda_packaging_out}/coda.yaml)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/config/coda.yaml)

configure_file(${coda_packaging_dir}/systemd/coda.service.in ${coda_packaging_out}/coda.service @ONLY)
foreach(script postinst prerm postrm conffiles)
  configure_file(${coda_packaging_dir}/debian/${script}.in ${coda_packaging_out}/debian/${script}
    @ONLY FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ
    WORLD_EXECUTE)
endforeach()
file(CHMOD ${coda_packaging_out}/debian/conffiles PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
  WORLD_READ)

install(FILES ${coda_packaging_out}/coda.yaml DESTINATION /etc/coda COMPONENT system EXCLUDE_FROM_ALL)
install(FILES ${coda_packaging_dir}/debian/coda.default DESTINATION /etc/default RENAME coda
  COMPONENT system EXCLUDE_FROM_ALL)
install(FILES ${coda_packaging_out}/coda.service DESTINATION ${CODA_PACKAGE_UNIT_DIR}
  COMPONENT system EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CODA_PACKAGE_DOC_DIR}
  COMPONENT system EXCLUDE_FROM_ALL)

set(CPACK_PACKAGE_NAME coda)
set(CPACK_PACKAGE_VENDOR "CoDA Host")
set(CPACK_PACKAGE_CONTACT "CoDA Host maintainers <coda-maintainers@localhost>")
set(CPACK_GENERATOR DEB TGZ)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CODA_PACKAGE_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL runtime system sdk)
set(CPACK_COMPONENT_RUNTIME_GROUP coda)
set(CPACK_COMPONENT_SYSTEM_GROUP coda)
set(CPACK_COMPONENT_SDK_GROUP sdk)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_CODA_PACKAGE_NAME coda)
# Descriptions: the synopsis, then the long description (CPack indents and wraps it).
set(CPACK_DEBIAN_CODA_DESCRIPTION "${PROJECT_DESCRIPTION}
A plugin host that lets MCP clients (Databricks Genie Code, Claude Desktop, Claude Code, Cursor) \
delegate long-running coding tasks to coding agents (Hermes Agent, Claude Code, Codex, Gemini CLI, \
OpenCode, Aider). Runs as the coda systemd service, configured in /etc/coda/coda.yaml.")
set(CPACK_DEBIAN_CODA_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_CODA_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_CODA_PACKAGE_SUGGESTS "bubblewrap, git")
set(CPACK_DEBIAN_CODA_PACKAGE_CONTROL_EXTRA ${coda_packaging_out}/debian/postinst
  ${coda_packaging_out}/debian/prerm ${coda_packaging_out}/debian/postrm
  ${coda_packaging_out}/debian/conffiles)
set(CPACK_DEBIAN_SDK_PACKAGE_NAME coda-sdk)
set(CPACK_DEBIAN_SDK_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_SDK_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_SDK_PACKAGE_RECOMMENDS "coda (= ${PROJECT_VERSION}), cmake, gcc | c-compiler")
set(CPACK_DEBIAN_SDK_DESCRIPTION "CoDA Host plugin SDK
The C ABI header (coda/plugin.h) and C++ helpers, the CMake package (find_package(CodaSDK)) and \
a plugin template (/usr/share/coda/sdk/template) for building CoDA Host plugins out of tree.")

# Generator-specific settings. DEB: each description above starts with its own synopsis (without
# this, CPack puts the project's summary in front of both). TGZ: everything in one tar.gz at
# absolute paths.
set(CPACK_PROJECT_CONFIG_FILE ${coda_packaging_out}/cpack_options.cmake)
file(CONFIGURE OUTPUT ${coda_packaging_out}/cpack_options.cmake CONTENT [[
if(CPACK_GENERATOR STREQUAL "DEB")
  unset(CPACK_PACKAGE_DESCRIPTION_SUMMARY)
endif()
if(CPACK_GENERATOR STREQUAL "TGZ")
  set(CPACK_ARCHIVE_COMPONENT_INSTALL ON)
  set(CPACK_SET_DESTDIR ON)
  set(CPACK_INSTALL_PREFIX @CODA_PACKAGE_PREFIX@)
  set(CPACK_PACKAGING_INSTALL_PREFIX "")
  set(CPACK_INCLUDE_TOPLEVEL_DIRECTORY OFF)
  set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
  set(CPACK_PACKAGE_FILE_NAME coda_@PROJECT_VERSION@_amd64)
  set(CPACK_ARCHIVE_FILE_NAME coda_@PROJECT_VERSION@_amd64)
endif()
]] @ONLY)
include(CPack)

# The relocatable bundle for Databricks Apps and other machines without our libraries. The oldest
# glibc it supports is the Apps runtime's (Ubuntu 22.04); the test checks every file against it.
set(CODA_BUNDLE_NAME coda-${PROJECT_VERSION}-linux-${CMAKE_SYSTEM_PROCESSOR})
set(CODA_BUNDLE_MAX_GLIBC GLIBC_2.35)
add_library(coda-glibc-compat SHARED EXCLUDE_FROM_ALL ${coda_packaging_dir}/bundle/glibc_compat.c)
set_target_properties(coda-glibc-compat PROPERTIES C_VISIBILITY_PRESET hidden
  LIBRARY_OUTPUT_DIRECTORY ${coda_packaging_out})
target_link_libraries(coda-glibc-compat PRIVATE coda_warnings)
add_executable(retarget_glibc_versions EXCLUDE_FROM_ALL
  ${coda_packaging_dir}/bundle/retarget_glibc_versions.c)
set_target_properties(retarget_glibc_versions PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${coda_packaging_out})
target_link_libraries(retarget_glibc_versions PRIVATE coda_warnings)

get_property(coda_plugin_targets GLOBAL PROPERTY CODA_PLUGIN_TARGETS)
set(coda_bundle_plugins)
foreach(plugin IN LISTS coda_plugin_targets)
  get_target_property(plugin_dir ${plugin} LIBRARY_OUTPUT_DIRECTORY)
  if(plugin_dir STREQUAL CODA_PLUGIN_OUTPUT_DIR AND NOT plugin STREQUAL "template-plugin")
    list(APPEND coda_bundle_plugins ${plugin})
  endif()
endforeach()
set(coda_bundle_plugin_files)
foreach(plugin IN LISTS coda_bundle_plugins)
  list(APPEND coda_bundle_plugin_files $<TARGET_FILE:${plugin}>)
endforeach()
add_custom_target(bundle
  COMMAND ${coda_packaging_dir}/bundle/make-bundle.sh --name ${CODA_BUNDLE_NAME}
    --out ${CMAKE_BINARY_DIR} --coda $<TARGET_FILE:coda>
    --compat $<TARGET_FILE:coda-glibc-compat> --retarget $<TARGET_FILE:retarget_glibc_versions>
    --max-glibc ${CODA_BUNDLE_MAX_GLIBC}
    --extra ${coda_packaging_dir}/databricks/app.yaml --extra ${coda_packaging_dir}/databricks/coda.yaml
    ${coda_bundle_plugin_files}
  COMMENT "Bundling ${CODA_BUNDLE_NAME}.tar.gz"
  VERBATIM)
add_dependencies(bundle coda coda-glibc-compat retarget_glibc_versions ${coda_bundle_plugins})
