//===- NVPTX.h - the NVPTX back half ----------------------------*- C++ -*-===//
//
// What the GPU pipelines (lib/Compiler/GpuPipeline.cpp) share after their
// front halves, which end at gpu.launch: outlining, the chips and their PTX
// ISA versions, the lowering to the LLVM and NVVM dialects and the
// serialization to a gpu.binary. lib/Target/NVPTX/BackHalf.cpp; the passes
// of our own it runs are in Passes.td.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_TARGET_NVPTX_H
#define FLASHMLIR_TARGET_NVPTX_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace flashmlir {

/// The chips a kernel is built for. The Hopper kernel needs sm_90a (wgmma,
/// TMA, setmaxnreg); the SIMT kernel (and hand-written gpu.module input) runs
/// on any chip of the table in BackHalf.cpp (sm_80 and later). Fails with a
/// message naming the chips there are; the compile entry points and the
/// pipelines check it before any code generation.
llvm::Error checkChip(llvm::StringRef chip, bool hopper);

/// The PTX ISA version the NVPTX backend targets for `chip` (the "+ptxNN"
/// feature): the first one that has the chip, and at least 8.0 on sm_90a.
/// Empty for a chip checkChip refuses.
llvm::StringRef ptxFeatureForChip(llvm::StringRef chip);

/// gpu.launch bodies to gpu.module kernels: dynamically shaped memrefs as
/// pointers and sizes, outlining, the tensor-map parameters listed.
void addKernelOutlining(mlir::OpPassManager &pm);

/// Outlined kernels (and their host) to a gpu.binary of `format` ("isa":
/// PTX, "bin": cubin, "fatbin") for `chip` at LLVM -O`optLevel`.
void addNVPTXBackHalf(mlir::OpPassManager &pm, llvm::StringRef chip,
                      int optLevel, llvm::StringRef format = "isa");

} // namespace flashmlir

#endif // FLASHMLIR_TARGET_NVPTX_H
