//===- GpuPipeline.h - attn.attention to PTX --------------------*- C++ -*-===//
//
// The GPU paths, both registered in C++ so that attn-opt replays exactly what
// the compile API runs:
//   attn-to-ptx       the Hopper kernel: --attn-tile{target=sm_90a},
//                     --attn-warp-specialize (plan, TMA producer warpgroup and
//                     wgmma consumers, modifier narrowing), outlining,
//                     NVVM -> PTX for sm_90a;
//   attn-to-ptx-simt  the bring-up path: one thread per query row
//                     (--attn-online-softmax, --attn-map-to-gpu).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_COMPILER_GPUPIPELINE_H
#define FLASHMLIR_COMPILER_GPUPIPELINE_H

#include "flashmlir/Compiler/KernelOptions.h"

#include "flashmlir/Target/NVPTX.h"

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

/// The pipelines' options: the kernel options are declared from their one
/// definition, KernelOptions.def (flags, types, defaults, descriptions);
/// `assign` sets them from a KernelOptions (attn-compile, the C API).
#define FLASHMLIR_PIPELINE_OPTION(FIELD, FLAG, KEY, TYPE, DEFAULT, MIN, MAX,   \
                                  VALUES, DESC)                                \
  Option<TYPE> FIELD{*this, FLAG, llvm::cl::desc(DESC),                        \
                     llvm::cl::init(DEFAULT)};

struct AttnToPtxSimtOptions
    : mlir::PassPipelineOptions<AttnToPtxSimtOptions> {
#define FLASHMLIR_CODEGEN_OPTION FLASHMLIR_PIPELINE_OPTION
#include "flashmlir/Compiler/KernelOptions.def"
  // The SIMT kernel's own tile defaults (the table's 0 = the heuristic is
  // the Hopper kernel's).
  Option<int64_t> blockM{*this, "block-m",
                         llvm::cl::desc("Query rows (= threads) per block"),
                         llvm::cl::init(64)};
  Option<int64_t> blockN{*this, "block-n",
                         llvm::cl::desc("Keys per KV block"),
                         llvm::cl::init(32)};

  /// The codegen and tile options of `kernel` (block sizes 0: 64 and 32).
  void assign(const KernelOptions &kernel) {
    chip = kernel.chip;
    optLevel = kernel.optLevel;
    blockM = kernel.blockM ? kernel.blockM : 64;
    blockN = kernel.blockN ? kernel.blockN : 32;
  }
};

/// The Hopper plan's options (attn-plan-hopper), shared by `attn-to-ptx` and
/// `attn-warp-specialize`.
template <typename Derived>
struct HopperPlanPipelineOptions : mlir::PassPipelineOptions<Derived> {
  template <typename T>
  using Option = mlir::detail::PassOptions::Option<T>;

#define FLASHMLIR_PLAN_OPTION FLASHMLIR_PIPELINE_OPTION
#include "flashmlir/Compiler/KernelOptions.def"

  /// The plan options as a KernelOptions (the others at their defaults).
  KernelOptions planOptions() const {
    KernelOptions kernel;
#define FLASHMLIR_PLAN_OPTION(FIELD, ...) kernel.FIELD = FIELD;
#include "flashmlir/Compiler/KernelOptions.def"
    return kernel;
  }
};

/// Options of the Hopper pipeline (`attn-to-ptx`).
struct AttnToPtxOptions : HopperPlanPipelineOptions<AttnToPtxOptions> {
#define FLASHMLIR_CODEGEN_OPTION FLASHMLIR_PIPELINE_OPTION
#define FLASHMLIR_TILE_OPTION FLASHMLIR_PIPELINE_OPTION
#include "flashmlir/Compiler/KernelOptions.def"
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("What the gpu.binary holds: isa (PTX), bin (a cubin: "
                     "ptxas from the CUDA toolkit, CUDA_ROOT or "
                     "/usr/local/cuda) or fatbin"),
      llvm::cl::init("isa")};
  Option<bool> testDropDelta{
      *this, "test-drop-delta",
      llvm::cl::desc("(dev only) attn-online-softmax's test-drop-delta: a "
                     "backward without D, which the GPU numerics must "
                     "reject"),
      llvm::cl::init(false)};

  /// Every pipeline option of `kernel` (the plan, tile and codegen rows).
  void assign(const KernelOptions &kernel) {
#define FLASHMLIR_DRIVER_OPTION(...)
#define FLASHMLIR_KERNEL_OPTION(FIELD, ...) FIELD = kernel.FIELD;
#include "flashmlir/Compiler/KernelOptions.def"
  }
};
#undef FLASHMLIR_PIPELINE_OPTION

/// attn.attention on static memrefs -> gpu.binary holding PTX through the
/// warp-specialized Hopper lowering: attn-tile{target=sm_90a},
/// attn-online-softmax, attn-warp-specialize, attn-convert-to-nvgpu,
/// outlining, register caps for setmaxnreg, NVVM. Kernels take bare
/// pointers: the memref arguments and the tensor-map arguments
/// attn-convert-to-nvgpu adds (marked attn.tensor_map).
void buildAttnToPtxPipeline(mlir::OpPassManager &pm,
                            const AttnToPtxOptions &options);

/// attn.attention on static memrefs -> gpu.binary holding PTX (the host side
/// is lowered too, as MLIR's NVVM pipeline does). Kernels take bare pointers:
/// one per memref argument of the launch, in launch order.
void buildAttnToPtxSimtPipeline(mlir::OpPassManager &pm,
                                const AttnToPtxSimtOptions &options);

// checkChip and ptxFeatureForChip: flashmlir/Target/NVPTX.h.

/// Registers the pipelines `attn-to-ptx` and `attn-to-ptx-simt`. Idempotent.
void registerGpuPipelines();

/// Adds what the NVVM lowering and PTX serialization need to a registry
/// (dialects, LLVM translations, ConvertToLLVM and NVVM target interfaces).
void registerGpuCompilationInterfaces(mlir::DialectRegistry &registry);

/// One kernel of a compiled module and how to launch it.
struct GpuKernelInfo {
  /// A kernel parameter that is the device address of a TMA tensor map the
  /// host encodes: the 4-D tensor (D, H, S, B) of function argument
  /// `operand`, box `box` (innermost first), swizzle span `swizzle` bytes.
  struct TensorMap {
    int parameter = 0;
    int operand = 0;
    std::vector<int64_t> box;
    std::string element;
    int64_t swizzle = 0;
  };
  std::string name;
  /// For each kernel parameter: the index of the function argument it is (a
  /// bare pointer), or -1 for an index the host computes from the arguments'
  /// shapes (dynamic sizes): its expression in `sizes` (JSON text, see
  /// formatLaunchMetadata).
  std::vector<int> arguments;
  std::vector<std::string> sizes;
  std::array<int64_t, 3> grid{}, block{};
  /// A grid size that depends on dynamic shapes: its expression (else empty).
  std::array<std::string, 3> gridSizes;
  int64_t dynamicSharedMemory = 0;
  std::vector<TensorMap> tensorMaps;
  /// The tile sizes the lowering chose (attn.tiles): block_m, block_n,
  /// stages, consumer_warpgroups (Hopper) or block_m (SIMT).
  std::vector<std::pair<std::string, int64_t>> tiles;
  /// One argument of the function the kernel was outlined from: what a
  /// launcher must pass for it (the kernel reads and writes within exactly
  /// these shapes).
  struct Argument {
    /// The memref type as MLIR prints it, e.g. "memref<2x?x16x128xbf16>".
    std::string type;
    /// The element type ("bf16", "f16", "f32", "i32", "f8E4M3FN", ...).
    std::string element;
    /// The sizes, ShapedType::kDynamic (-1 in JSON) where dynamic.
    std::vector<int64_t> shape;
    /// What attn.attention uses it as: q, k, v, cu_seqlens_q, cu_seqlens_k,
    /// q_descale, k_descale, v_descale, block_mask, out, lse (written), and
    /// captured (read by score_mod / mask_mod). Several when one argument
    /// has several uses.
    std::vector<std::string> roles;
  };
  /// Every argument of that function, in order (kernel parameters refer to
  /// them by index, see `arguments`).
  std::vector<Argument> signature;
};

/// One stage of a compile: the module as printed after the pass `name`
/// ("input" for the parsed source, "nvvm" for the NVVM/LLVM-dialect module
/// just before PTX serialization).
struct CompileStage {
  std::string name;
  std::string ir;
};

struct GpuCompileResult {
  std::string ptx;
  std::vector<GpuKernelInfo> kernels;
  /// Filled when GpuCompileControl::captureStages is set, in pipeline order.
  std::vector<CompileStage> stages;
};

/// What a compile records besides the PTX.
struct GpuCompileControl {
  /// Keep the module after each main stage (attn passes, outlining, NVVM);
  /// costs a print of the module per stage, and runs single-threaded.
  bool captureStages = false;
};

/// The launch metadata of `result` as JSON text: {"chip", "kernels": [{name,
/// arguments, grid, block, dynamic_shared_memory, tensor_maps, tiles,
/// signature: [{type, element, shape, roles}]}]} — the format of
/// `attn-compile --json` and of the C API (include/flashmlir-c/Compiler.h).
std::string formatLaunchMetadata(const GpuCompileResult &result,
                                 llvm::StringRef chip);

/// Compiles the functions of `source` (attn.attention on static memrefs) to
/// PTX. Errors carry the MLIR diagnostics.
llvm::Expected<GpuCompileResult>
compileAttentionToPtx(llvm::StringRef source,
                      const AttnToPtxSimtOptions &options,
                      const GpuCompileControl &control = {});

/// The same through the warp-specialized Hopper pipeline (attn-to-ptx).
llvm::Expected<GpuCompileResult>
compileAttentionToHopperPtx(llvm::StringRef source,
                            const AttnToPtxOptions &options,
                            const GpuCompileControl &control = {});

/// Lowers and serializes a module that already holds gpu.module kernels
/// (hand-written building blocks of the Hopper kernel). No launch metadata.
llvm::Expected<GpuCompileResult>
compileGpuModulesToPtx(llvm::StringRef source,
                       const AttnToPtxSimtOptions &options,
                       const GpuCompileControl &control = {});

} // namespace flashmlir

#endif // FLASHMLIR_COMPILER_GPUPIPELINE_H
