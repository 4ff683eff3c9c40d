//===- GpuPipeline.h - attn.attention to PTX (SIMT bring-up) ----*- C++ -*-===//
//
// The first GPU path: --attn-tile, --attn-online-softmax, --attn-map-to-gpu
// (one thread per query row), kernel outlining and MLIR's NVVM lowering, to
// PTX for sm_90a. It brings up PTX emission, the CUDA runtime and device
// numerics; the warp-specialized Hopper lowering (wgmma, TMA) replaces the
// kernel body, not this interface.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_COMPILER_GPUPIPELINE_H
#define FLASHMLIR_COMPILER_GPUPIPELINE_H

#include "mlir/Pass/PassOptions.h"
#include "llvm/Support/Error.h"

#include <array>
#include <string>
#include <vector>

namespace mlir {
class DialectRegistry;
class OpPassManager;
} // namespace mlir

namespace flashmlir {

struct AttnToPtxSimtOptions
    : mlir::PassPipelineOptions<AttnToPtxSimtOptions> {
  Option<std::string> chip{*this, "chip", llvm::cl::desc("Target chip"),
                           llvm::cl::init("sm_90a")};
  Option<int64_t> blockM{*this, "block-m",
                         llvm::cl::desc("Query rows (= threads) per block"),
                         llvm::cl::init(64)};
  Option<int64_t> blockN{*this, "block-n",
                         llvm::cl::desc("Keys per KV block"),
                         llvm::cl::init(32)};
  Option<int> optLevel{*this, "opt-level",
                       llvm::cl::desc("LLVM optimization level of the kernel"),
                       llvm::cl::init(3)};
};

/// attn.attention on static memrefs -> gpu.binary holding PTX (the host side
/// is lowered too, as MLIR's NVVM pipeline does). Kernels take bare pointers:
/// one per memref argument of the launch, in launch order.
void buildAttnToPtxSimtPipeline(mlir::OpPassManager &pm,
                                const AttnToPtxSimtOptions &options);

/// Registers the pipeline as `attn-to-ptx-simt`. Idempotent.
void registerGpuPipelines();

/// Adds what the NVVM lowering and PTX serialization need to a registry
/// (dialects, LLVM translations, ConvertToLLVM and NVVM target interfaces).
void registerGpuCompilationInterfaces(mlir::DialectRegistry &registry);

/// One kernel of a compiled module and how to launch it.
struct GpuKernelInfo {
  std::string name;
  /// For each kernel parameter (a bare pointer), the index of the function
  /// argument it is.
  std::vector<int> arguments;
  std::array<int64_t, 3> grid{}, block{};
  int64_t dynamicSharedMemory = 0;
};

struct GpuCompileResult {
  std::string ptx;
  std::vector<GpuKernelInfo> kernels;
};

/// Compiles the functions of `source` (attn.attention on static memrefs) to
/// PTX. Errors carry the MLIR diagnostics.
llvm::Expected<GpuCompileResult>
compileAttentionToPtx(llvm::StringRef source,
                      const AttnToPtxSimtOptions &options);

/// Lowers and serializes a module that already holds gpu.module kernels
/// (hand-written building blocks of the Hopper kernel). No launch metadata.
llvm::Expected<GpuCompileResult>
compileGpuModulesToPtx(llvm::StringRef source,
                       const AttnToPtxSimtOptions &options);

} // namespace flashmlir

#endif // FLASHMLIR_COMPILER_GPUPIPELINE_H
