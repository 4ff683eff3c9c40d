#===- SelfContainedLLVM.cmake - link LLVM statically ---------------------===#
#
# Debian's LLVM/MLIR packages link every MLIR library against the libLLVM.so
# monolith (LLVM_LINK_LLVM_DYLIB is forced ON and each exported MLIR target
# names `LLVM` among its interface libraries). For the GPU machine, which has
# no LLVM, libflashmlir_jit.so must hold all of LLVM it uses: this replaces
# `LLVM` in the imported targets' interfaces by the static component
# archives, linked as one rescanned group (so their order does not matter;
# the linker still takes only the objects it needs).
#
# Included from the top level right after find_package(MLIR) when
# FLASHMLIR_SELF_CONTAINED is ON (tools/build-jit-library.sh). Facts behind
# the skip list: ../shared/notes/toolchain.md, "Linking".
#
#===----------------------------------------------------------------------===#

if(CMAKE_VERSION VERSION_LESS 3.24)
  message(FATAL_ERROR "FLASHMLIR_SELF_CONTAINED needs CMake >= 3.24 "
    "(LINK_GROUP); found ${CMAKE_VERSION}")
endif()

set(LLVM_LINK_LLVM_DYLIB OFF)

# Archives that need libraries the target machine lacks (curl, libxml2,
# libedit, libpfm) or reference archives that are not shipped (libPolly.a).
file(GLOB FLASHMLIR_LLVM_ARCHIVES "${LLVM_LIBRARY_DIR}/libLLVM*.a")
list(FILTER FLASHMLIR_LLVM_ARCHIVES EXCLUDE REGEX
  "/libLLVM(Debuginfod|WindowsManifest|LineEditor|Extensions|LTO|DTLTO|OptDriver|CFIVerify|Diff|Exegesis[A-Za-z0-9]*)\\.a$")

# libzstd-dev is not installed: name the runtime library itself.
if(NOT TARGET zstd::libzstd_shared)
  find_library(FLASHMLIR_ZSTD NAMES zstd libzstd.so.1 REQUIRED)
  add_library(zstd::libzstd_shared SHARED IMPORTED)
  set_target_properties(zstd::libzstd_shared PROPERTIES
    IMPORTED_LOCATION "${FLASHMLIR_ZSTD}")
endif()

add_library(FlashMLIRStaticLLVM INTERFACE)
target_link_libraries(FlashMLIRStaticLLVM INTERFACE
  "$<LINK_GROUP:RESCAN,${FLASHMLIR_LLVM_ARCHIVES}>"
  zstd::libzstd_shared z rt dl m pthread)

# Every imported target (MLIR's and LLVM's components) that names the
# monolith now names the static group instead.
get_property(FLASHMLIR_IMPORTED_TARGETS DIRECTORY PROPERTY IMPORTED_TARGETS)
foreach(target IN LISTS FLASHMLIR_IMPORTED_TARGETS)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "EXECUTABLE")
    continue()
  endif()
  get_target_property(interface ${target} INTERFACE_LINK_LIBRARIES)
  if(NOT interface)
    continue()
  endif()
  list(TRANSFORM interface REPLACE "^LLVM$" FlashMLIRStaticLLVM)
  set_target_properties(${target} PROPERTIES
    INTERFACE_LINK_LIBRARIES "${interface}")
endforeach()
message(STATUS "Self-contained: LLVM linked statically "
  "(${CMAKE_CURRENT_LIST_FILE})")
