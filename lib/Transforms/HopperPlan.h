//===- HopperPlan.h - The decisions of the Hopper kernel --------*- C++ -*-===//
//
// What --attn-plan-hopper decides for a program grid and --attn-lower-to-hopper
// emits: the warpgroups, the K/V ring, ping-pong, the deferred P·V, the
// persistent tile loop and the register budgets. The decisions travel as the
// attn.hopper_plan attribute on the grid, so they can be read, tested and
// edited between the two passes; every read checks them again.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_TRANSFORMS_HOPPERPLAN_H
#define FLASHMLIR_TRANSFORMS_HOPPERPLAN_H

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Support/LLVM.h"

namespace flashmlir::hopper {

/// On an attn.program_grid: {stages, ping_pong, defer_pv, persistent_ctas,
/// producer_registers, consumer_registers}.
inline constexpr llvm::StringLiteral kHopperPlanAttrName = "attn.hopper_plan";

/// The kernel's static shape and the decisions taken for it.
struct KernelPlan {
  // Derived from the tiled IR.
  int64_t blockM = 0, blockN = 0, headDim = 0, headDimV = 0;
  int64_t consumers = 0;
  mlir::Type element;
  // Decisions (attn.hopper_plan).
  int64_t stages = 0;
  bool pingPong = false;
  /// Leave a block's P·V in flight until the next block's Q·Kᵀ is issued.
  bool deferPv = false;
  /// Persistent kernel: `ctas` CTAs loop over `tiles` tiles (0 = off).
  int64_t ctas = 0, tiles = 0;
  int64_t producerRegisters = 0, consumerRegisters = 0;
  // Shared-memory layout: byte offsets from the 1024-aligned base.
  int64_t qOffset = 0, kOffset = 0, vOffset = 0;
  int64_t kStageBytes = 0, vStageBytes = 0, bytes = 0;

  int64_t threads() const { return 128 * (1 + consumers); }
  int64_t qBytes() const { return blockM * headDim * 2; }
  /// Dynamic shared memory to request: the layout plus alignment slack.
  int64_t sharedMemory() const { return bytes + 1024; }
};

struct PlanOptions {
  int64_t stages = 0; // 0 = as many as fit, at most 4
  int64_t maxSharedMemory = 232448;
  bool pingPong = true;
  int64_t persistentCtas = 132; // 0 = one CTA per tile
};

/// Decides the plan of `grid` (heuristics: the most stages that fit, ping-pong
/// with two or more consumers, deferred P·V at Dv <= 128, persistent for
/// unmasked unguarded static grids, FA3's register budgets). Diagnoses what
/// the kernel cannot do (dtype, tile sizes, head dims, modifiers, fit).
/// Diagnostics start with `pass`.
mlir::FailureOr<KernelPlan> planKernel(mlir::scf::ParallelOp grid,
                                       const PlanOptions &options,
                                       llvm::StringRef pass);

/// The decisions of `plan` as an attn.hopper_plan dictionary.
mlir::DictionaryAttr planToAttr(mlir::Builder &b, const KernelPlan &plan);

/// The plan of `grid` from its attn.hopper_plan, checked again (a plan may
/// have been edited): every key present and in range, the ring fits, the
/// register budgets fit 64K registers, ping-pong needs two consumers, the
/// deferred P·V two stages, persistence an unguarded static grid.
mlir::FailureOr<KernelPlan> planFromAttr(mlir::scf::ParallelOp grid,
                                         mlir::DictionaryAttr attr,
                                         int64_t maxSharedMemory,
                                         llvm::StringRef pass);

} // namespace flashmlir::hopper

#endif // FLASHMLIR_TRANSFORMS_HOPPERPLAN_H
