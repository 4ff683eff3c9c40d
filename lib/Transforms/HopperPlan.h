//===- HopperPlan.h - The decisions of the Hopper kernel --------*- C++ -*-===//
//
// What --attn-plan-hopper decides for a program grid and --attn-lower-to-hopper
// emits: the warpgroups, the K/V ring, ping-pong, the P·V schedule, the
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

#include <optional>
#include <string>

namespace flashmlir::hopper {

/// On an attn.program_grid: {stages, ping_pong, pv_schedule, persistent_ctas,
/// paired_tiles, epilogue, ctas_per_sm, producer_registers,
/// consumer_registers}.
inline constexpr llvm::StringLiteral kHopperPlanAttrName = "attn.hopper_plan";

/// When a consumer issues block i's P·V (O += P_i·V_i) relative to its other
/// work, spelled as in attn.hopper_plan's pv_schedule:
enum class PvSchedule {
  /// "serial": Q·Kᵀ_i, softmax_i, P·V_i, wait; the next block starts after.
  Serial,
  /// "deferred": P·V_i stays in flight until Q·Kᵀ_{i+1} has been issued; the
  /// two complete together before softmax_{i+1}.
  Deferred,
  /// "overlap" (FlashAttention-3's intra-warpgroup overlap): Q·Kᵀ_{i+1} and
  /// P·V_i are issued together; softmax_{i+1} runs while P·V_i does.
  Overlap,
};
llvm::StringRef stringifyPvSchedule(PvSchedule schedule);
std::optional<PvSchedule> parsePvSchedule(llvm::StringRef name);

/// How the consumers write O, spelled as in attn.hopper_plan's epilogue:
enum class Epilogue {
  /// "direct": each thread stores its fragment to global memory (bf16x2
  /// words where O has Q's type).
  Direct,
  /// "tma": the fragments go to an O buffer of their own in shared memory
  /// (stmatrix, 128-byte swizzled like Q) and one TMA store per 64-column
  /// chunk writes them; a persistent kernel's next tile runs meanwhile.
  Tma,
  /// "tma_in_q": the same through the consumer's rows of Q's buffer (free
  /// once its last Q·Kᵀ completed; no extra shared memory). A persistent
  /// producer loads the next Q only after the store has read them.
  TmaInQ,
};
llvm::StringRef stringifyEpilogue(Epilogue epilogue);
std::optional<Epilogue> parseEpilogue(llvm::StringRef name);

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

  int64_t threads() const { return 128 * (1 + consumers); }
  int64_t qBytes() const { return blockM * headDim * 2; }
  int64_t oBytes() const { return blockM * headDimV * 2; }
  bool storesThroughTma() const { return epilogue != Epilogue::Direct; }
  /// Dynamic shared memory to request: the layout plus alignment slack.
  int64_t sharedMemory() const { return bytes + 1024; }
};

struct PlanOptions {
  int64_t stages = 0; // 0 = as many as fit, at most 4
  int64_t maxSharedMemory = 232448;
  bool pingPong = true;
  /// "auto" (the heuristic) or a pv_schedule name.
  std::string pvSchedule = "auto";
  int64_t persistentCtas = 132; // 0 = one CTA per tile
  /// "auto" (the heuristic), "tiles" or "persistent" (wherever possible).
  std::string schedule = "auto";
  /// "auto" (the heuristic) or an epilogue name.
  std::string epilogue = "auto";
  /// CTAs per SM to build for (1 = one CTA per SM, FA3's layout).
  int64_t ctasPerSm = 1;
};

/// Decides the plan of `grid` (heuristics: the most stages that fit, ping-pong
/// with two or more consumers, the P·V schedule, persistent for unguarded
/// static grids (paired tiles under causal masks), FA3's register budgets). Diagnoses what
/// the kernel cannot do (dtype, tile sizes, head dims, fit).
/// Diagnostics start with `pass`.
mlir::FailureOr<KernelPlan> planKernel(mlir::scf::ParallelOp grid,
                                       const PlanOptions &options,
                                       llvm::StringRef pass);

/// Diagnoses an attn.block_update outside every attn.program_grid: the grid
/// attribute is discardable, and a canonicalization between attn-tile and
/// these passes can rebuild the scf.parallel without it (a unit dimension
/// folded away), which would otherwise leave the program silently unlowered.
mlir::LogicalResult checkProgramGrids(mlir::Operation *root,
                                      llvm::StringRef pass);

/// The decisions of `plan` as an attn.hopper_plan dictionary.
mlir::DictionaryAttr planToAttr(mlir::Builder &b, const KernelPlan &plan);

/// The plan of `grid` from its attn.hopper_plan, checked again (a plan may
/// have been edited): every key present and in range, the ring fits, the
/// register budgets fit what the CTA launches with, ping-pong needs two
/// consumers, a late stage release two stages, persistence an unguarded
/// static grid, paired tiles persistence, a TMA epilogue a storable O.
mlir::FailureOr<KernelPlan> planFromAttr(mlir::scf::ParallelOp grid,
                                         mlir::DictionaryAttr attr,
                                         int64_t maxSharedMemory,
                                         llvm::StringRef pass);

} // namespace flashmlir::hopper

#endif // FLASHMLIR_TRANSFORMS_HOPPERPLAN_H
