//===- CpuPipeline.h - memref-level IR to host LLVM dialect -----*- C++ -*-===//
//
// The CPU execution path lowers what flashmlir's transformation passes leave
// (func.func on memrefs, scf, memref, arith, math, index) to the LLVM dialect
// for the host, so the MLIR ExecutionEngine can run it. attn-opt exposes the
// same pipeline as -attn-lower-to-cpu, so every JIT compile can be replayed.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_COMPILER_CPUPIPELINE_H
#define FLASHMLIR_COMPILER_CPUPIPELINE_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace flashmlir {

/// Appends to `pm` (anchored on builtin.module) the passes that lower
/// memref-level IR made of func, scf, memref, arith, math, index and cf ops to
/// the LLVM dialect only:
///
///  0. a function whose stack allocations (the tiles) exceed 2 MiB is refused
///     with a diagnostic (attn-cpu-check-stack);
///  1. public function definitions get `llvm.emit_c_interface`, so the JIT
///     exports `_mlir_ciface_<name>` taking memref descriptors by pointer;
///  2. `memref.alloca_scope` bodies are inlined between llvm.intr.stacksave and
///     llvm.intr.stackrestore (scf-to-cf would otherwise leave a multi-block
///     scope, which the memref verifier rejects);
///  3. bf16 arithmetic and f16/bf16 math are computed in f32 (there are no
///     half-precision libm functions and no bf16 arithmetic on most hosts);
///  4. expand-strided-metadata and lower-affine (subviews), scf-to-cf,
///     arith-expand (bf16 conversions as integer code, floordivsi, ...);
///  5. memref, math (LLVM intrinsics, then libm calls for what has none),
///     arith, index, cf and func to LLVM, then reconcile-unrealized-casts.
void buildCpuLoweringPipeline(mlir::OpPassManager &pm);

/// Options of the whole CPU pipeline (`attn-to-cpu`).
struct AttnToCpuOptions : mlir::PassPipelineOptions<AttnToCpuOptions> {
  Option<int64_t> blockM{*this, "block-m",
                         llvm::cl::desc("Query rows per program; 0 = heuristic"),
                         llvm::cl::init(0)};
  Option<int64_t> blockN{*this, "block-n",
                         llvm::cl::desc("Keys per KV block; 0 = heuristic"),
                         llvm::cl::init(0)};
  Option<bool> testDropAlpha{
      *this, "test-drop-alpha",
      llvm::cl::desc("(dev only) attn-online-softmax's test-drop-alpha: a "
                     "deliberately wrong kernel the numerical tests reject"),
      llvm::cl::init(false)};
  Option<bool> testDropDelta{
      *this, "test-drop-delta",
      llvm::cl::desc("(dev only) attn-online-softmax's test-drop-delta: a "
                     "deliberately wrong backward the numerical tests reject"),
      llvm::cl::init(false)};
};

/// The CPU front end on every func.func (`attn-to-cpu-loops`): attn-tile
/// {target=cpu}, attn-score-mod-grad (the backward's score_mod derivatives),
/// attn-online-softmax, attn-bufferize-tiles and attn-tiles-to-loops —
/// attn.attention and attn.attention_grad on memrefs to loop nests over
/// per-program tile buffers.
void buildAttnToCpuLoopsPipeline(mlir::OpPassManager &pm,
                                 const AttnToCpuOptions &options);

/// The whole CPU path from attn.attention on memrefs: the front end above,
/// then buildCpuLoweringPipeline. No canonicalization runs before the
/// lowering inlines the programs' alloca scopes (it would dissolve them).
void buildAttnToCpuPipeline(mlir::OpPassManager &pm,
                            const AttnToCpuOptions &options);

/// Registers buildCpuLoweringPipeline as the textual pipeline
/// `attn-lower-to-cpu`, and its two flashmlir-specific steps as the passes
/// `attn-cpu-emit-c-interface` and `attn-cpu-inline-alloca-scopes`,
/// buildAttnToCpuLoopsPipeline as `attn-to-cpu-loops` and
/// buildAttnToCpuPipeline as `attn-to-cpu`.
/// Idempotent.
void registerCpuLoweringPipeline();

} // namespace flashmlir

#endif // FLASHMLIR_COMPILER_CPUPIPELINE_H
