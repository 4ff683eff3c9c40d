# Run at every build (lib/CAPI): writes BUILD_ID_HEADER with the commit the
# sources are at, "-dirty-<hash of the diff>" with local changes, or, outside
# a git checkout, "src-<hash of the sources>". configure_file rewrites the
# header only when the text changes, so an unchanged tree recompiles nothing.
execute_process(
  COMMAND git describe --always --dirty --abbrev=12
  WORKING_DIRECTORY "${SOURCE_DIR}"
  OUTPUT_VARIABLE FLASHMLIR_GIT_COMMIT
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT FLASHMLIR_GIT_COMMIT)
  # No git (a source tarball, pip's copy of the tree): the id is a hash of the
  # compiler's sources, so two different trees never share JIT-cache entries.
  file(GLOB_RECURSE FLASHMLIR_SOURCES LIST_DIRECTORIES false
    RELATIVE "${SOURCE_DIR}"
    "${SOURCE_DIR}/CMakeLists.txt" "${SOURCE_DIR}/cmake/*" "${SOURCE_DIR}/dialects/*"
    "${SOURCE_DIR}/include/*" "${SOURCE_DIR}/lib/*")
  list(SORT FLASHMLIR_SOURCES)
  set(FLASHMLIR_SOURCE_DIGESTS "")
  foreach(source IN LISTS FLASHMLIR_SOURCES)
    file(SHA256 "${SOURCE_DIR}/${source}" digest)
    string(APPEND FLASHMLIR_SOURCE_DIGESTS "${source} ${digest}\n")
  endforeach()
  string(SHA256 FLASHMLIR_SOURCES_HASH "${FLASHMLIR_SOURCE_DIGESTS}")
  string(SUBSTRING "${FLASHMLIR_SOURCES_HASH}" 0 16 FLASHMLIR_SOURCES_HASH)
  set(FLASHMLIR_GIT_COMMIT "src-${FLASHMLIR_SOURCES_HASH}")
endif()
# Two different sets of local changes must not share an id (the JIT cache is
# keyed by it): "-dirty" gains a hash of the diff.
if(FLASHMLIR_GIT_COMMIT MATCHES "-dirty$")
  execute_process(
    COMMAND git diff HEAD
    WORKING_DIRECTORY "${SOURCE_DIR}"
    OUTPUT_VARIABLE FLASHMLIR_GIT_DIFF ERROR_QUIET)
  string(SHA1 FLASHMLIR_DIFF_HASH "${FLASHMLIR_GIT_DIFF}")
  string(SUBSTRING "${FLASHMLIR_DIFF_HASH}" 0 8 FLASHMLIR_DIFF_HASH)
  string(APPEND FLASHMLIR_GIT_COMMIT "-${FLASHMLIR_DIFF_HASH}")
endif()
file(WRITE "${BUILD_ID_HEADER}.tmp"
  "#define FLASHMLIR_GIT_COMMIT \"${FLASHMLIR_GIT_COMMIT}\"\n")
configure_file("${BUILD_ID_HEADER}.tmp" "${BUILD_ID_HEADER}" COPYONLY)
