# Run at every build (lib/CAPI): writes BUILD_ID_HEADER with the commit the
# sources are at, "-dirty" with local changes. configure_file rewrites the
# header only when the text changes, so an unchanged tree recompiles nothing.
execute_process(
  COMMAND git describe --always --dirty --abbrev=12
  WORKING_DIRECTORY "${SOURCE_DIR}"
  OUTPUT_VARIABLE FLASHMLIR_GIT_COMMIT
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT FLASHMLIR_GIT_COMMIT)
  set(FLASHMLIR_GIT_COMMIT "unknown")
endif()
file(WRITE "${BUILD_ID_HEADER}.tmp"
  "#define FLASHMLIR_GIT_COMMIT \"${FLASHMLIR_GIT_COMMIT}\"\n")
configure_file("${BUILD_ID_HEADER}.tmp" "${BUILD_ID_HEADER}" COPYONLY)
