//===- HopperPlan.h - The decisions of the Hopper kernel --------*- C++ -*-===//
//
// What --attn-plan-hopper decides for a program grid and the later stages
// build: the warpgroups, the K/V ring, ping-pong, the P·V schedule, the
// persistent tile loop and the register budgets. The decisions travel as the
// program grid's #attn.hopper_plan, so they can be read, tested and edited
// between the passes; every read checks them against the grid again.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_TRANSFORMS_HOPPERPLAN_H
#define FLASHMLIR_TRANSFORMS_HOPPERPLAN_H

#include "attn/Attn.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <string>

namespace flashmlir::hopper {

/// The P·V schedule and the epilogue kinds are the ODS enums of the plan
/// attribute (AttnAttrs.td), where each is documented.
using mlir::attn::Epilogue;
using mlir::attn::PvSchedule;

/// How a tile of 16-bit elements with rows of `width` columns lives in shared
/// memory, where TMA writes it and wgmma reads it: in chunks of `columns()`
/// columns, chunk after chunk (chunk k of a tile of R rows at k·R·`bytes`),
/// each a run of rows of `bytes` bytes whose 16-byte units are swizzled
/// within a span of `bytes` (the TMA swizzle mode of the same width). The
/// widest span whose columns divide the width (CUTLASS's ss_smem_selector
/// rule): 128 bytes (64 columns) for D = 64, 128, 192, 256; 64 bytes (32
/// columns) for D = 32, 96, 160, 224; 32 bytes (16 columns) for the other
/// multiples of 16. A chunk is then a whole number of swizzle atoms (8 rows
/// x `bytes`): the layout wgmma's descriptors describe and a TMA box of one
/// chunk writes, without padding. A narrower span costs more TMA copies per
/// tile (one per chunk), not bank conflicts: each mode spreads 8 rows' 16-byte
/// units over all banks.
struct SwizzledRows {
  int64_t bytes = 128;

  /// The layout of rows of `width` 16-bit elements (a multiple of 16).
  static SwizzledRows forWidth(int64_t width) {
    return {width % 64 == 0 ? 128 : width % 32 == 0 ? 64 : 32};
  }
  /// Elements of a 16-bit type per row of a chunk (a TMA box's inner extent).
  int64_t columns() const { return bytes / 2; }
  /// 16-byte units per row of a chunk; the swizzle XORs a unit's index with
  /// (row / (8 / units)) mod units (address bits [4, 4 + log2 units) with
  /// bits [7, ...)).
  int64_t units() const { return bytes / 16; }
  /// Bytes of 8 rows: a swizzle atom, the stride between 8-row core matrix
  /// groups (the descriptors' stride byte offset).
  int64_t atomBytes() const { return 8 * bytes; }
  /// The descriptor's layout type (bits 62-63): 1, 2, 3 for 128, 64, 32 bytes.
  int64_t descriptorMode() const {
    return bytes == 128 ? 1 : bytes == 64 ? 2 : 3;
  }
};

/// The columns of dQ each of `consumers` warpgroups computes: D/n where they
/// split dQ by columns (attn-pipeline-mma's split-dq: D/n a whole number of
/// 64-column K chunks), else all D.
inline int64_t dqShareColumns(int64_t headDim, int64_t consumers) {
  return consumers > 1 && headDim % consumers == 0 &&
                 (headDim / consumers) % 64 == 0
             ? headDim / consumers
             : headDim;
}

/// The kernel's static shape and the decisions taken for it.
struct KernelPlan {
  // Derived from the tiled IR.
  int64_t blockM = 0, blockN = 0, headDim = 0, headDimV = 0;
  int64_t consumers = 0;
  mlir::Type element;
  // Decisions (attn.hopper_plan).
  int64_t stages = 0;
  bool pingPong = false;
  PvSchedule pv = PvSchedule::Serial;
  /// Whether block i's stage is released one block late (by block i + 1).
  bool releasesLate() const { return pv != PvSchedule::Serial; }
  /// Persistent kernel: `ctas` CTAs (0 = off) loop over `units` work units,
  /// tiles or (pairedTiles) pairs of tiles: q-blocks j and QB-1-j of one head,
  /// whose causal costs sum to a constant. units = 0 when the grid is dynamic
  /// (the host counts them, the launch takes min(ctas, units) CTAs).
  int64_t ctas = 0;
  bool pairedTiles = false;
  int64_t units = 0;
  Epilogue epilogue = Epilogue::Direct;
  /// Whether O can be a TMA store's destination: a static, contiguous
  /// [B, S, H, Dv] argument of Q's type whose tiles end where its rows do
  /// (not varlen: a packed sequence's last tile would write the next one's).
  bool oStorable = false;
  /// CTAs resident per SM the kernel is built for: the launch's register
  /// budget is 64K / (threads · ctasPerSm) per thread, its shared memory
  /// (228 KB per SM) split as many ways.
  int64_t ctasPerSm = 1;
  int64_t producerRegisters = 0, consumerRegisters = 0;
  // Shared-memory layout: byte offsets from the 1024-aligned base.
  int64_t qOffset = 0, kOffset = 0, vOffset = 0, oOffset = 0;
  int64_t kStageBytes = 0, vStageBytes = 0, bytes = 0;
  /// The backward's main grid (grad_kv): K and V [blockN, D|Dv] stay (K, V
  /// loaded once: kStageBytes, vStageBytes at kOffset, vOffset), blockM is
  /// the rows of a q-block and blockN the program's keys (the grid's
  /// block_m), 64 per consumer warpgroup; `stages` is the depth of the
  /// q-block ring at qOffset (Q, dO, LSE, D: qStageBytes each), followed by
  /// every consumer's staged P and dS (attn.tile_stage: stagedBytes at
  /// stagedOffset).
  bool backward = false;
  int64_t qStageBytes = 0, stagedBytes = 0, stagedOffset = 0;
  /// The backward's q-block ring, part by part: Q's slots at qOffset, then
  /// dO's, LSE's and D's, each part's `stages` slots one after another.
  int64_t doOffset = 0, lseOffset = 0, deltaOffset = 0;
  /// The backward's dQ shares, staged for a TMA reduce-add into the f32
  /// accumulator where they fit after the rest (0 bytes: reds from the
  /// registers): consumer c's [blockM, dqShareColumns()] f32 at dqOffset +
  /// c·blockM·dqShareColumns()·4, in chunks of 32 columns (128-byte rows,
  /// the 128-byte swizzle; chunk k at k·blockM·128).
  int64_t dqOffset = 0, dqBytes = 0;
  /// The columns of dQ each consumer computes (dqShareColumns below).
  int64_t dqShareColumns() const;
  /// Byte offsets of slot 0 of each part of the stationary channel (loaded
  /// once per program: the forward's Q; the backward's K, V) and of the ring
  /// (the forward's K, V; the backward's Q, dO, LSE, D), in the parts' order.
  llvm::SmallVector<int64_t, 4> stationaryOffsets() const {
    if (backward)
      return {kOffset, vOffset};
    return {qOffset};
  }
  llvm::SmallVector<int64_t, 4> ringOffsets() const {
    if (backward)
      return {qOffset, doOffset, lseOffset, deltaOffset};
    return {kOffset, vOffset};
  }

  /// The shared-memory layout of Q's and K's tiles (rows of D) and of V's
  /// and O's (rows of Dv).
  SwizzledRows qkRows() const { return SwizzledRows::forWidth(headDim); }
  SwizzledRows voRows() const { return SwizzledRows::forWidth(headDimV); }
  /// Whether each consumer's O tile, laid out as V's, lies within its own
  /// rows of Q's buffer (tma_in_q: the other consumer may still read its Q):
  /// Dv <= D and rows of the same swizzle span, so that chunk k of O's rows
  /// 64c.. is within chunk k of Q's.
  bool oFitsInQ() const {
    return headDimV <= headDim && voRows().bytes == qkRows().bytes;
  }
  int64_t threads() const { return 128 * (1 + consumers); }
  int64_t qBytes() const { return blockM * headDim * 2; }
  int64_t oBytes() const { return blockM * headDimV * 2; }
  bool storesThroughTma() const { return epilogue != Epilogue::Direct; }
  /// Dynamic shared memory to request: the layout plus alignment slack.
  int64_t sharedMemory() const { return bytes + 1024; }
};

struct PlanOptions {
  // The plan rows of the kernel options' table (stages, pingPong, pvSchedule,
  // persistentCtas, schedule, epilogue, ctasPerSm; names, defaults and
  // allowed values there), checked by planKernel against it.
#define FLASHMLIR_PLAN_OPTION(FIELD, FLAG, KEY, TYPE, DEFAULT, MIN, MAX,       \
                              VALUES, DESC)                                    \
  TYPE FIELD = DEFAULT;
#include "flashmlir/Compiler/KernelOptions.def"
  int64_t maxSharedMemory = 232448;
};

/// Whether `grid` is one the warp-specialized level builds: forward grids and
/// the backward's main grid (grad_kv). The backward's preprocess and
/// postprocess grids stay off it (no MMA: docs/WarpSpecialization.md).
bool isWarpSpecializable(mlir::attn::ProgramGridOp grid);

/// Decides the plan of `grid` (heuristics: the most stages that fit, ping-pong
/// with two or more consumers, the P·V schedule, persistent for unguarded
/// static grids (paired tiles under causal masks), FA3's register budgets). Diagnoses what
/// the kernel cannot do (dtype, tile sizes, head dims, fit).
/// Diagnostics start with `pass`.
mlir::FailureOr<KernelPlan> planKernel(mlir::attn::ProgramGridOp grid,
                                       const PlanOptions &options,
                                       llvm::StringRef pass);

/// The decisions of `plan` as the grid's #attn.hopper_plan.
mlir::attn::HopperPlanAttr planToAttr(mlir::MLIRContext *context,
                                      const KernelPlan &plan);

/// The plan of `grid` from its #attn.hopper_plan (whose fields the attribute
/// verifies), checked against the grid again (a plan may have been edited):
/// the ring fits, the register budgets fit what the CTA launches with,
/// ping-pong needs two consumers, persistence an unguarded static grid, a
/// TMA epilogue a storable O. A grid without a plan is diagnosed.
mlir::FailureOr<KernelPlan> planFromAttr(mlir::attn::ProgramGridOp grid,
                                         int64_t maxSharedMemory,
                                         llvm::StringRef pass);

} // namespace flashmlir::hopper

#endif // FLASHMLIR_TRANSFORMS_HOPPERPLAN_H
