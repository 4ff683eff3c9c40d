//===- CpuKernel.h - compile and run memref IR on the host ------*- C++ -*-===//
//
// A narrow API over the MLIR ExecutionEngine: compile a module's entry
// function (front-end passes, then the CPU lowering), and call it on strided
// buffers described by plain values. No MLIR object crosses this API, so the
// Python bindings and later tools bind it as it is.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_COMPILER_CPUKERNEL_H
#define FLASHMLIR_COMPILER_CPUKERNEL_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace mlir {
class ExecutionEngine;
class OpPassManager;
} // namespace mlir

namespace flashmlir {

/// Element types a CPU kernel's memref arguments may have.
enum class ElementKind { F16, BF16, F32, F64, I32, I64, F8E4M3FN };

/// "f16", "bf16", "f32", "f64", "i32", "i64", "f8E4M3FN" (the MLIR spelling).
llvm::StringRef elementKindName(ElementKind kind);
/// Size of one element in bytes.
unsigned elementKindSize(ElementKind kind);

/// What went wrong, so that bindings can map it to the right exception type.
enum class CpuErrorKind {
  /// Parsing, verification, a pass, translation or JIT linking failed.
  Compile,
  /// A compile option is invalid (unknown entry, bad pipeline, opt level).
  InvalidOption,
  /// A run argument has the wrong count or element type.
  ArgumentType,
  /// A run argument has a wrong rank, size, stride or pointer.
  ArgumentValue,
};

/// The llvm::Error payload of every failure of this API: a kind and a message
/// that carries the MLIR diagnostics verbatim.
class CpuKernelError : public llvm::ErrorInfo<CpuKernelError> {
public:
  static char ID;
  CpuKernelError(CpuErrorKind kind, std::string message)
      : kind(kind), message(std::move(message)) {}

  CpuErrorKind getKind() const { return kind; }
  const std::string &getMessage() const { return message; }
  void log(llvm::raw_ostream &os) const override;
  std::error_code convertToErrorCode() const override;

private:
  CpuErrorKind kind;
  std::string message;
};

/// The IR texts CpuKernel can keep (CpuCompileOptions::dumpStages).
enum class CpuStage {
  /// The parsed and verified input module.
  Input,
  /// After the front-end passes (the input again when there are none).
  FrontEnd,
  /// After buildCpuLoweringPipeline: LLVM dialect only.
  Lowered,
  /// The LLVM IR the JIT compiled, after LLVM's optimizations.
  LLVMIR,
};
/// "input", "front-end", "lowered", "llvm-ir".
llvm::StringRef cpuStageName(CpuStage stage);
/// Inverse of cpuStageName; std::nullopt for an unknown name.
std::optional<CpuStage> parseCpuStage(llvm::StringRef name);
/// Every stage, in pipeline order.
std::array<CpuStage, 4> allCpuStages();

struct CpuCompileOptions {
  /// Passes run on the parsed module BEFORE the CPU lowering (the attn
  /// transformation passes go here); the pass manager is anchored on
  /// builtin.module. Empty: none.
  std::function<void(mlir::OpPassManager &)> frontEnd;
  /// Keep the IR text of every CpuStage (costs a print per stage).
  bool dumpStages = false;
  /// LLVM optimization level, 0 to 3.
  int optLevel = 2;
};

/// Returns a CpuCompileOptions::frontEnd callback that adds the textual pass
/// pipeline `pipeline` ("builtin.module(func.func(cse))", or its body
/// "func.func(cse)"), or an InvalidOption error naming what failed to parse.
/// An empty pipeline gives an empty callback.
llvm::Expected<std::function<void(mlir::OpPassManager &)>>
parseFrontEndPipeline(llvm::StringRef pipeline);

/// One buffer handed to CpuKernel::run: the layout of an MLIR strided memref
/// descriptor, with `data` pointing at the element of index (0, ..., 0).
struct MemRefArg {
  void *data = nullptr;
  ElementKind kind = ElementKind::F32;
  llvm::SmallVector<int64_t> sizes;
  /// In elements, not bytes; may be negative or zero (broadcast) where the
  /// memref's layout has dynamic strides.
  llvm::SmallVector<int64_t> strides;
  /// The memory must not be written (run() rejects it for arguments the
  /// kernel may write).
  bool readOnly = false;
};

/// What compile() recorded of one argument of the entry function.
struct MemRefParam {
  /// The memref type as MLIR prints it, e.g. "memref<?x128xf32>".
  std::string type;
  ElementKind kind;
  /// ShapedType::kDynamic (INT64_MIN) for `?`.
  llvm::SmallVector<int64_t> sizes;
  /// The layout's strides, kDynamic where they are given at run time. Empty
  /// for the identity layout, which requires row-major contiguous strides.
  llvm::SmallVector<int64_t> strides;
  /// The function may write through this argument (conservative: true when
  /// unsure), so callers must not pass read-only memory.
  bool mayWrite = true;
};

/// A JIT-compiled entry function of a memref-level module.
class CpuKernel {
public:
  /// Parses `mlirSource`, verifies it, runs options.frontEnd and the CPU
  /// lowering, and JIT-compiles the module for the host. `entry` names a
  /// public func.func whose arguments are all ranked memrefs of an
  /// ElementKind and which returns nothing. Every failure is an error whose
  /// message holds the MLIR diagnostics; none aborts the process (an LLVM
  /// fatal error or a crash in the compiler becomes an error too:
  /// Recovery.h).
  static llvm::Expected<std::unique_ptr<CpuKernel>>
  compile(llvm::StringRef mlirSource, llvm::StringRef entry,
          const CpuCompileOptions &options = {});

  ~CpuKernel();
  CpuKernel(const CpuKernel &) = delete;
  CpuKernel &operator=(const CpuKernel &) = delete;

  /// Checks every argument against the entry's signature (count, element
  /// kind, rank, static sizes and strides), then calls the kernel. Safe to
  /// call from several threads at once on disjoint outputs.
  llvm::Error run(llvm::ArrayRef<MemRefArg> args) const;

  llvm::StringRef getEntry() const { return entry; }
  llvm::ArrayRef<MemRefParam> getParams() const { return params; }

  /// The IR text of `stage`; empty unless compiled with dumpStages.
  llvm::StringRef stageIR(CpuStage stage) const;

private:
  CpuKernel();
  /// compile() without the crash-recovery backstop around it.
  static llvm::Expected<std::unique_ptr<CpuKernel>>
  compileUnguarded(llvm::StringRef mlirSource, llvm::StringRef entry,
                   const CpuCompileOptions &options);

  std::string entry;
  llvm::SmallVector<MemRefParam> params;
  std::array<std::string, 4> stages;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  /// The packed `_mlir__mlir_ciface_<entry>` wrapper, looked up at compile
  /// time so missing symbols are compile errors.
  void (*packedEntry)(void **) = nullptr;
};

} // namespace flashmlir

#endif // FLASHMLIR_COMPILER_CPUKERNEL_H
