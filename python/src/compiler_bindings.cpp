//===- compiler_bindings.cpp - flashmlir._compiler: the compiler for Python -===//
//
// A thin pybind11 layer over the C API of libflashmlir_jit.so
// (include/flashmlir-c/Compiler.h): no MLIR or LLVM header is needed, so the
// module builds in seconds against any CPython >= 3.10 — on the GPU machine,
// next to the self-contained library from tools/build-jit-library.sh:
//
//   g++ -std=c++17 -O2 -shared -fPIC $(python3 -m pybind11 --includes) \
//       -I include python/src/compiler_bindings.cpp \
//       -L python/flashmlir -lflashmlir_jit -Wl,-rpath,'$ORIGIN' \
//       -o python/flashmlir/_compiler$(python3-config --extension-suffix)
//
// Strings in, strings out (JSON); flashmlir/jit.py gives them meaning. The
// GIL is released while a kernel compiles, so threads compile in parallel.
//
//===----------------------------------------------------------------------===//

#include "flashmlir-c/Compiler.h"

#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <utility>

namespace py = pybind11;

namespace {
struct FreeText {
  void operator()(char *text) const { flashmlirFree(text); }
};

/// (ok, text): the result JSON, or the error text with MLIR's diagnostics.
std::pair<bool, std::string> compile(const std::string &source,
                                     const std::string &options) {
  char *raw = nullptr;
  int status;
  {
    py::gil_scoped_release unlocked;
    status = flashmlirCompile(source.c_str(), options.c_str(), &raw);
  }
  std::unique_ptr<char, FreeText> text(raw);
  if (!text)
    throw std::runtime_error("flashmlirCompile returned no result (status " +
                             std::to_string(status) + ")");
  return {status == 0, std::string(text.get())};
}
} // namespace

PYBIND11_MODULE(_compiler, m) {
  m.doc() = "flashmlir's compiler (libflashmlir_jit.so): MLIR -> PTX + "
            "launch metadata";
  if (flashmlirApiVersion() != FLASHMLIR_C_API_VERSION)
    throw std::runtime_error(
        "libflashmlir_jit.so implements C API version " +
        std::to_string(flashmlirApiVersion()) + ", this module was built for " +
        std::to_string(FLASHMLIR_C_API_VERSION) + ": rebuild one of them");
  m.def("build_id", [] { return std::string(flashmlirBuildId()); },
        "Identifies the compiler build (a JIT-cache key component).");
  m.def("kernel_options",
        [] { return std::string(flashmlirKernelOptions()); },
        "The kernel options' table as JSON (flashmlirKernelOptions): names, "
        "types, defaults, allowed values.");
  m.def("compile", &compile, py::arg("source"), py::arg("options") = "{}",
        "Compiles MLIR text; returns (ok, JSON result or error text).");
}
