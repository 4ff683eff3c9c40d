//===- Passes.h - flashmlir transformation passes ---------------*- C++ -*-===//

#ifndef FLASHMLIR_TRANSFORMS_PASSES_H
#define FLASHMLIR_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

#include "flashmlir/Compiler/KernelOptions.h"

namespace flashmlir {

/// On the loops --attn-tiles-to-loops emits over the rows of a program's
/// tiles: each iteration is independent (one query row), so a GPU mapping
/// gives each row its own thread.
inline constexpr llvm::StringLiteral kRowLoopAttrName = "attn.row_loop";

/// On a function argument that --attn-convert-to-nvgpu adds: the argument is
/// the device address of a TMA tensor map (CUtensorMap) the host encodes for
/// the operand `operand` (a function-argument index) as the 4-D tensor
/// (D, H, S, B) with box `box` (innermost first) and `swizzle` (bytes: 128,
/// 64 or 32, the span of one box row).
inline constexpr llvm::StringLiteral kTensorMapAttrName = "attn.tensor_map";
/// On the ops --attn-convert-to-nvgpu clones from score_mod / mask_mod bodies
/// (unit attribute): the ops --attn-narrow-modifier-arith narrows, and then
/// strips of the attribute.
inline constexpr llvm::StringLiteral kModifierOpAttrName = "attn.modifier";
/// On the gpu.launch of a lowered attention: the tile sizes it runs with, a
/// dictionary {block_m, block_n[, stages, consumer_warpgroups]} of i64, read
/// back into the launch metadata.
inline constexpr llvm::StringLiteral kLaunchTilesAttrName = "attn.tiles";

#define GEN_PASS_DECL
#include "flashmlir/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "flashmlir/Transforms/Passes.h.inc"

/// --attn-plan-hopper with the plan rows of `kernel` (stages, ping-pong,
/// pv-schedule, ...: include/flashmlir/Compiler/KernelOptions.def, the one
/// definition of them) and the pass's own options.
std::unique_ptr<mlir::Pass>
createAttnPlanHopperPass(const KernelOptions &kernel,
                         AttnPlanHopperPassOptions own = {});

/// Registers every flashmlir transformation pass (for attn-opt and the
/// textual pipelines of the compile API).
inline void registerAttnPasses() { registerFlashMLIRTransformsPasses(); }

} // namespace flashmlir

#endif // FLASHMLIR_TRANSFORMS_PASSES_H
