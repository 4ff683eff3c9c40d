//===- bindings.cpp - the flashmlir._flashmlir Python extension -----------===//
//
// Binds the narrow compile-and-run API of include/flashmlir/Compiler, never
// an MLIR object: source text and pass-pipeline text go in, a CpuKernel comes
// out, and numpy arrays are passed to it as strided memref descriptors.
//
// Errors keep the C++ message and become, by CpuErrorKind:
//   Compile                           -> flashmlir.CompileError (RuntimeError)
//   InvalidOption, ArgumentValue      -> ValueError
//   ArgumentType                      -> TypeError
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Compiler/CpuKernel.h"
#include "flashmlir/Compiler/CpuPipeline.h"

#include "mlir/Transforms/Passes.h"
#ifdef FLASHMLIR_PYTHON_HAS_ATTN_PASSES
#include "flashmlir/Transforms/Passes.h"
#endif

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Error.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace flashmlir;

namespace {

/// Raised for CpuErrorKind::Compile; Python sees flashmlir.CompileError.
struct CompileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A uint16 numpy array whose elements are bf16 bit patterns (numpy has no
/// bfloat16 dtype). Built by flashmlir.bf16(array).
struct BF16Bits {
  py::array array;
};
/// A uint8 numpy array whose elements are f8E4M3FN bit patterns. Built by
/// flashmlir.f8e4m3(array).
struct F8E4M3Bits {
  py::array array;
};

/// Throws the Python exception for `err`, which must be a failure.
[[noreturn]] void throwError(llvm::Error err) {
  CpuErrorKind kind = CpuErrorKind::Compile;
  std::string message;
  llvm::handleAllErrors(
      std::move(err),
      [&](const CpuKernelError &error) {
        kind = error.getKind();
        message = error.getMessage();
      },
      [&](const llvm::ErrorInfoBase &error) { message = error.message(); });
  switch (kind) {
  case CpuErrorKind::Compile:
    throw CompileError(message);
  case CpuErrorKind::ArgumentType:
    throw py::type_error(message);
  case CpuErrorKind::InvalidOption:
  case CpuErrorKind::ArgumentValue:
    throw py::value_error(message);
  }
  throw CompileError(message);
}

template <typename T> T unwrap(llvm::Expected<T> value) {
  if (!value)
    throwError(value.takeError());
  return std::move(*value);
}

/// Describes the numpy array (or BF16Bits) `object`, the run() argument of
/// index `index`, as a MemRefArg.
MemRefArg toMemRefArg(py::handle object, size_t index) {
  std::string name = "argument #" + std::to_string(index);
  bool isBF16 = py::isinstance<BF16Bits>(object);
  bool isF8 = py::isinstance<F8E4M3Bits>(object);
  if (!isBF16 && !isF8 && !py::isinstance<py::array>(object))
    throw py::type_error(name + ": expected a numpy array, got " +
                         py::str(py::type::handle_of(object).attr("__name__"))
                             .cast<std::string>());
  py::array array = isBF16 ? object.cast<BF16Bits &>().array
                    : isF8 ? object.cast<F8E4M3Bits &>().array
                           : py::reinterpret_borrow<py::array>(object);
  py::dtype dtype = array.dtype();
  std::string dtypeName = py::str(dtype).cast<std::string>();
  if (!dtype.attr("isnative").cast<bool>())
    throw py::type_error(name + ": dtype " + dtypeName +
                         " is not in native byte order");

  MemRefArg arg;
  char kind = dtype.kind();
  py::ssize_t itemSize = dtype.itemsize();
  if (isBF16)
    arg.kind = ElementKind::BF16; // BF16Bits checked it holds uint16.
  else if (isF8)
    arg.kind = ElementKind::F8E4M3FN; // F8E4M3Bits checked it holds uint8.
  else if (kind == 'f' && itemSize == 2)
    arg.kind = ElementKind::F16;
  else if (kind == 'f' && itemSize == 4)
    arg.kind = ElementKind::F32;
  else if (kind == 'f' && itemSize == 8)
    arg.kind = ElementKind::F64;
  else if (kind == 'i' && itemSize == 4)
    arg.kind = ElementKind::I32;
  else if (kind == 'i' && itemSize == 8)
    arg.kind = ElementKind::I64;
  else
    throw py::type_error(
        name + ": unsupported dtype " + dtypeName +
        " (supported: float16, float32, float64, int32, int64, bf16 bit "
        "patterns as flashmlir.bf16(<uint16 array>) and f8E4M3FN bit patterns "
        "as flashmlir.f8e4m3(<uint8 array>))");

  for (py::ssize_t dim = 0; dim < array.ndim(); ++dim) {
    py::ssize_t stride = array.strides(dim);
    if (stride % itemSize != 0)
      throw py::value_error(name + ": stride " + std::to_string(stride) +
                            " bytes of dimension " + std::to_string(dim) +
                            " is not a multiple of the element size");
    arg.sizes.push_back(array.shape(dim));
    arg.strides.push_back(stride / itemSize);
  }
  arg.data = const_cast<void *>(array.data());
  arg.readOnly = !array.writeable();
  return arg;
}

/// Binds `Bits` (a struct holding one py::array) as class `name`: built from
/// a numpy uint array of `bytes`-byte `element` bit patterns by
/// flashmlir.<maker>(array), which checks the dtype.
template <typename Bits>
void bindBitPatterns(py::module_ &m, const char *name, const std::string &maker,
                     const std::string &element, int bytes) {
  std::string uint = "uint" + std::to_string(8 * bytes);
  py::class_<Bits>(m, name,
                   ("A " + uint + " numpy array read as " + element +
                    " bit patterns; made by flashmlir." + maker + "(array).")
                       .c_str())
      .def(py::init([=](py::handle object) {
             if (!py::isinstance<py::array>(object))
               throw py::type_error(maker + "() takes a numpy " + uint +
                                    " array");
             auto array = py::reinterpret_borrow<py::array>(object);
             py::dtype dtype = array.dtype();
             if (dtype.kind() != 'u' || dtype.itemsize() != bytes)
               throw py::type_error(maker + "() takes a numpy " + uint +
                                    " array of " + element +
                                    " bit patterns, got dtype " +
                                    py::str(dtype).cast<std::string>());
             return Bits{array};
           }),
           py::arg("array"))
      .def_property_readonly(
          "array", [](const Bits &bits) { return bits.array; },
          ("The wrapped " + uint + " array.").c_str());
}

} // namespace

PYBIND11_MODULE(_flashmlir, m) {
  m.doc() =
      "flashmlir's compile-and-run API (CPU path); see flashmlir/__init__.py";

  // Passes that cpu_compile(front_end=...) may name: the core ones
  // (canonicalize, cse, ...) and the CPU lowering itself.
  mlir::registerTransformsPasses();
  registerCpuLoweringPipeline();
#ifdef FLASHMLIR_PYTHON_HAS_ATTN_PASSES
  // The attn transformation passes (attn-tile, attn-online-softmax, ...).
  registerAttnPasses();
#endif
  m.attr("HAS_ATTN_PASSES") =
#ifdef FLASHMLIR_PYTHON_HAS_ATTN_PASSES
      true;
#else
      false;
#endif

  py::register_exception<CompileError>(m, "CompileError", PyExc_RuntimeError);

  bindBitPatterns<BF16Bits>(m, "BF16Bits", "bf16", "bf16", 2);
  bindBitPatterns<F8E4M3Bits>(m, "F8E4M3Bits", "f8e4m3", "f8E4M3FN", 1);

  py::class_<CpuKernel>(m, "CpuKernel",
                        "A JIT-compiled entry function; made by cpu_compile.")
      .def(
          "run",
          [](const CpuKernel &kernel, const py::args &args) {
            std::vector<MemRefArg> memrefs;
            memrefs.reserve(args.size());
            for (auto [index, object] : llvm::enumerate(args))
              memrefs.push_back(toMemRefArg(object, index));
            // `args` keeps the arrays alive while the kernel runs unlocked.
            llvm::Error err = [&] {
              py::gil_scoped_release unlocked;
              return kernel.run(memrefs);
            }();
            if (err)
              throwError(std::move(err));
          },
          "Runs the kernel on numpy arrays (one per memref argument, in "
          "order; any strides the memref layout admits). The kernel writes "
          "its outputs into them in place.")
      .def(
          "stage_ir",
          [](const CpuKernel &kernel, const std::string &name) {
            std::optional<CpuStage> stage = parseCpuStage(name);
            if (!stage) {
              std::string names;
              for (CpuStage s : allCpuStages())
                names +=
                    (names.empty() ? "'" : ", '") + cpuStageName(s).str() + "'";
              throw py::value_error("unknown stage '" + name +
                                    "' (stages: " + names + ")");
            }
            llvm::StringRef text = kernel.stageIR(*stage);
            if (text.empty())
              throw py::value_error("stage '" + name +
                                    "' was not recorded: compile with "
                                    "dump_stages=True");
            return text.str();
          },
          py::arg("name"),
          "The IR text after a stage: 'input', 'front-end', 'lowered' (LLVM "
          "dialect) or 'llvm-ir' (optimized LLVM IR).")
      .def_property_readonly(
          "entry",
          [](const CpuKernel &kernel) { return kernel.getEntry().str(); })
      .def_property_readonly(
          "arg_types",
          [](const CpuKernel &kernel) {
            std::vector<std::string> types;
            for (const MemRefParam &param : kernel.getParams())
              types.push_back(param.type);
            return types;
          },
          "The entry's memref argument types, as MLIR prints them.")
      .def_property_readonly(
          "arg_may_write",
          [](const CpuKernel &kernel) {
            std::vector<bool> writes;
            for (const MemRefParam &param : kernel.getParams())
              writes.push_back(param.mayWrite);
            return writes;
          },
          "Per argument: whether the kernel may write it (read-only arrays "
          "are rejected there).");

  m.def(
      "cpu_compile",
      [](const std::string &source, const std::string &entry,
         const std::string &frontEnd, bool dumpStages, int optLevel) {
        CpuCompileOptions options;
        options.frontEnd = unwrap(parseFrontEndPipeline(frontEnd));
        options.dumpStages = dumpStages;
        options.optLevel = optLevel;
        llvm::Expected<std::unique_ptr<CpuKernel>> kernel = [&] {
          py::gil_scoped_release unlocked;
          return CpuKernel::compile(source, entry, options);
        }();
        return unwrap(std::move(kernel));
      },
      py::arg("source"), py::arg("entry"), py::arg("front_end") = "",
      py::arg("dump_stages") = false, py::arg("opt_level") = 2,
      "Compiles the function `entry` of the MLIR module `source` for this "
      "CPU: the textual pass pipeline `front_end` (e.g. "
      "'builtin.module(func.func(canonicalize))'), then the attn-lower-to-cpu "
      "lowering, then LLVM at `opt_level`. Raises CompileError with the MLIR "
      "diagnostics, ValueError for an unknown entry or pipeline.");
}
