//===- HopperPlan.cpp - The decisions of the Hopper kernel ----------------===//

#include "HopperPlan.h"

#include "flashmlir/Compiler/KernelOptions.h"
#include "flashmlir/Transforms/Passes.h"
#include "flashmlir/Transforms/TileHeuristics.h"

#include "attn/Attn.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cassert>

using namespace mlir;
using namespace flashmlir;
using namespace flashmlir::hopper;

namespace {
/// Register budgets of setmaxnreg (FlashAttention-3's): the producer only
/// issues TMA; the consumers hold S, P and O. Per thread, summed over the
/// warpgroups, at most 64K registers / 128 threads.
constexpr int64_t kProducerRegisters[] = {0, 24, 24, 32};
constexpr int64_t kConsumerRegisters[] = {0, 240, 240, 160};
/// The persistent producer also carries the tile loop and its index math:
/// at 24/32 registers it spilled (d=128: 152 bytes), at 40 it does not.
constexpr int64_t kPersistentProducerRegisters[] = {0, 40, 40, 32};
constexpr int64_t kPersistentConsumerRegisters[] = {0, 232, 232, 160};
constexpr int64_t kRegistersPerSm = 65536;
/// Shared memory per SM on sm_90 (228 KB), of which the hardware reserves
/// 1 KB per resident CTA.
constexpr int64_t kSharedMemoryPerSm = 233472;

/// The dynamic shared memory one of `ctasPerSm` resident CTAs may take.
int64_t sharedMemoryPerCta(int64_t maxSharedMemory, int64_t ctasPerSm) {
  return std::min(maxSharedMemory, kSharedMemoryPerSm / ctasPerSm - 1024);
}
/// Where each buffer of the layout starts: a multiple of the largest swizzle
/// atom (8 rows of 128 bytes), so that TMA and wgmma, which both swizzle by
/// address bits, agree on every buffer whatever the head dims (Q is followed
/// by K of its own D, but K's stages, e.g. 80 keys x D = 80, need not end on
/// a V atom).
constexpr int64_t kBufferAlignment = 1024;

/// Bytes of the layout Q | `stages` x K | `stages` x V [| O] (finalize).
int64_t layoutBytes(const KernelPlan &plan, int64_t stages, bool ownO) {
  int64_t v = llvm::alignTo(plan.qBytes() + stages * plan.kStageBytes,
                            kBufferAlignment);
  int64_t end = v + stages * plan.vStageBytes;
  return ownO ? llvm::alignTo(end, kBufferAlignment) + plan.oBytes() : end;
}
/// The most K/V stages whose layout fits in `budget` bytes (0 if none).
int64_t stagesThatFit(const KernelPlan &plan, int64_t budget, bool ownO) {
  int64_t stages = 0;
  while (layoutBytes(plan, stages + 1, ownO) <= budget)
    ++stages;
  return stages;
}
} // namespace

/// Tiles of a static grid (0 when a bound is dynamic), and whether the program
/// has a run-time guard (varlen): both roles must then agree on every tile.
static int64_t staticTiles(attn::ProgramGridOp grid) {
  int64_t tiles = 1;
  for (Value bound : grid.getUpperBounds()) {
    std::optional<int64_t> n = getConstantIntValue(bound);
    tiles = n ? tiles * *n : 0;
  }
  return tiles;
}
/// Whether the program has a run-time guard (varlen: programs past their
/// sequence's end do nothing): an scf.if around its data movement.
static bool isGuarded(attn::ProgramGridOp grid) {
  return grid
      .walk([](scf::IfOp ifOp) {
        bool guardsLoads =
            ifOp.getNumResults() == 0 &&
            ifOp.getThenRegion()
                .walk([](Operation *op) {
                  return isa<attn::TileLoadOp, attn::ChannelGetOp>(op)
                             ? WalkResult::interrupt()
                             : WalkResult::advance();
                })
                .wasInterrupted();
        return guardsLoads ? WalkResult::interrupt() : WalkResult::advance();
      })
      .wasInterrupted();
}

bool flashmlir::hopper::isWarpSpecializable(attn::ProgramGridOp grid) {
  attn::ProgramKind kind = grid.getKindOrDefault();
  return kind == attn::ProgramKind::Forward || kind == attn::ProgramKind::GradKv;
}

namespace {
/// What the plan reads off a program: at the tiled level (L1, from its
/// block_update ops), the online-softmax level (L2, its tile ops) or the
/// warp-specialized one (L3).
struct ProgramTraits {
  /// The tile loaded once per program: the forward's Q, the backward's K.
  attn::TileLoadOp stationaryLoad;
  /// The forward: BlockN, D, Dv. The backward: D, Dv and the rows of a
  /// q-block (qRows; its BlockN is the grid's block_m).
  int64_t blockN = 0, headDim = 0, headDimV = 0, qRows = 0;
  Value out; // O [B, S, H, Dv]
  attn::MaskKind kind = attn::MaskKind::None;
  bool softcap = false, scoreMod = false, maskMod = false;
  /// Ops on every score besides the softmax (TileHeuristics' perScoreOps).
  int64_t scoreOps = 0;
};
} // namespace

/// The work on the scores of an L2/L3 program: the mask kind, softcap (a
/// tanh in a tile_map), score_mod and mask_mod, and their ops per score.
static void readScoreWork(attn::ProgramGridOp grid, ProgramTraits &t) {
  Region *scoreModRegion = nullptr, *maskModRegion = nullptr;
  grid.walk([&](Operation *op) {
    if (auto mask = dyn_cast<attn::TileMaskOp>(op)) {
      if (mask.getMask().getKind() != attn::MaskKind::None)
        t.kind = mask.getMask().getKind();
      if (!mask.getMaskMod().empty()) {
        t.maskMod = true;
        maskModRegion = &mask.getMaskMod();
      }
    } else if (auto mod = dyn_cast<attn::TileScoreModOp>(op)) {
      t.scoreMod = true;
      scoreModRegion = &mod.getScoreMod();
    } else if (auto map = dyn_cast<attn::TileMapOp>(op)) {
      t.softcap |= !map.getBody().getOps<math::TanhOp>().empty();
    }
  });
  Region none;
  t.scoreOps = perScoreOps(scoreModRegion ? *scoreModRegion : none,
                           maskModRegion ? *maskModRegion : none, t.softcap);
}

/// The mask kind and per-score work of a forward or backward block update.
template <typename UpdateOp>
static void readScoreTraits(UpdateOp u, ProgramTraits &t) {
  t.kind = u.getMask().getKind();
  t.softcap |= u.getSoftcapAttr() != nullptr;
  t.scoreMod |= !u.getScoreMod().empty();
  t.maskMod |= !u.getMaskMod().empty();
  t.scoreOps =
      std::max(t.scoreOps, perScoreOps(u.getScoreMod(), u.getMaskMod(),
                                       u.getSoftcapAttr() != nullptr));
}

/// The backward's main program (grad_kv) at L1 (block_grad_update), L2
/// (its five tile_matmuls) or L3 (their mma_async): D and the q-block's rows
/// from dQ = dS·K (the one MMA without a transposed operand: K [BN, D] its
/// rhs, dQ [BM, D] its destination), Dv from dP = dO·Vᵀ (the transposed rhs
/// that is not K), K's load (the producer's, outside the q-block loops).
/// The tile `v` is a slice of (through the consumers' rows of K or V and
/// split-dq's columns of K), or `v` itself.
static Value unsliced(Value v) {
  while (auto slice = v.getDefiningOp<tensor::ExtractSliceOp>())
    v = slice.getSource();
  return v;
}

static FailureOr<ProgramTraits> readGradTraits(attn::ProgramGridOp grid,
                                               StringRef pass) {
  ProgramTraits t;
  auto dim = [](Value v, int64_t i) {
    return cast<ShapedType>(v.getType()).getDimSize(i);
  };
  struct Mma {
    Value lhs, rhs, dest;
    bool transposeLhs, transposeRhs;
  };
  SmallVector<Mma> mmas;
  bool found = false;
  grid.walk([&](Operation *op) {
    if (auto load = dyn_cast<attn::TileLoadOp>(op)) {
      if (!op->getParentOfType<scf::ForOp>() && !t.stationaryLoad)
        t.stationaryLoad = load;
    } else if (auto u = dyn_cast<attn::BlockGradUpdateOp>(op)) {
      found = true;
      t.qRows = dim(u.getQuery(), 0);
      t.headDim = dim(u.getQuery(), 1);
      t.headDimV = dim(u.getValue(), 1);
      readScoreTraits(u, t);
    } else if (auto mm = dyn_cast<attn::TileMatmulOp>(op)) {
      mmas.push_back({mm.getLhs(), mm.getRhs(), mm.getDest(),
                      mm.getTransposeLhs(), mm.getTransposeRhs()});
    } else if (auto mma = dyn_cast<attn::MmaAsyncOp>(op)) {
      mmas.push_back({mma.getLhs(), mma.getRhs(),
                      mma.getResult(), mma.getTransposeLhs(),
                      mma.getTransposeRhs()});
    }
  });
  if (!found) {
    const Mma *dq = llvm::find_if(
        mmas, [](const Mma &m) { return !m.transposeLhs && !m.transposeRhs; });
    if (dq != mmas.end()) {
      found = true;
      auto destType = isa<attn::AsyncType>(dq->dest.getType())
                          ? cast<attn::AsyncType>(dq->dest.getType()).getValue()
                          : cast<ShapedType>(dq->dest.getType());
      // D and Dv from the tiles the channels hold, not from what an MMA
      // reads of them: split-dq's dQ takes K's columns [c·D/n, ...), a
      // slice of D/n columns.
      t.qRows = destType.getDimSize(0);
      Value kTile = unsliced(dq->rhs);
      t.headDim = dim(kTile, 1);
      for (const Mma &m : mmas)
        if (m.transposeRhs && unsliced(m.rhs) != kTile)
          t.headDimV = dim(m.rhs, 1);
    }
    readScoreWork(grid, t);
  }
  if (!t.stationaryLoad || !found || !t.headDim || !t.headDimV || !t.qRows)
    return grid.emitOpError()
           << pass
           << ": the backward's main program has no K tile load or not the "
              "five matmuls of a q-block (run attn-tile and "
              "attn-online-softmax first)";
  return t;
}

static FailureOr<ProgramTraits> readTraits(attn::ProgramGridOp grid,
                                           StringRef pass) {
  ProgramTraits t;
  attn::ProgramKind programKind = grid.getKindOrDefault();
  if (programKind == attn::ProgramKind::GradKv)
    return readGradTraits(grid, pass);
  if (programKind != attn::ProgramKind::Forward)
    return grid.emitOpError()
           << pass << ": the backward's "
           << attn::stringifyProgramKind(programKind)
           << " grid stays off the warp-specialized level (no MMA: the SIMT "
              "mapping, attn-map-to-gpu, builds it)";
  auto dim = [](Value v, int64_t i) {
    return cast<ShapedType>(v.getType()).getDimSize(i);
  };
  bool found = false;
  grid.walk([&](Operation *op) {
    if (auto load = dyn_cast<attn::TileLoadOp>(op)) {
      if (!op->getParentOfType<scf::ForOp>())
        t.stationaryLoad = load;
    } else if (auto u = dyn_cast<attn::BlockUpdateOp>(op)) {
      found = true;
      t.blockN = dim(u.getKey(), 0);
      t.headDim = dim(u.getQuery(), 1);
      t.headDimV = dim(u.getValue(), 1);
      readScoreTraits(u, t);
    } else if (auto f = dyn_cast<attn::BlockFinalizeOp>(op)) {
      t.out = f.getOut();
    } else if (auto store = dyn_cast<attn::TileStoreOp>(op)) {
      if (cast<ShapedType>(store.getTile().getType()).getRank() == 2)
        t.out = store.getDest();
    }
  });
  if (!found) {
    // L2 / L3: the shapes from the two matmuls' right-hand sides (K [BN, D]
    // transposed, V [BN, Dv]), the work on the scores from their ops.
    grid.walk([&](Operation *op) {
      Value rhs;
      bool transposed = false;
      if (auto mm = dyn_cast<attn::TileMatmulOp>(op))
        rhs = mm.getRhs(), transposed = mm.getTransposeRhs();
      else if (auto mma = dyn_cast<attn::MmaAsyncOp>(op))
        rhs = mma.getRhs(), transposed = mma.getTransposeRhs();
      if (rhs) {
        found = true;
        t.blockN = dim(rhs, 0);
        (transposed ? t.headDim : t.headDimV) = dim(rhs, 1);
      }
    });
    readScoreWork(grid, t);
  }
  if (!t.stationaryLoad || !found || !t.headDim || !t.headDimV)
    return grid.emitOpError()
           << pass
           << ": the program grid has no Q tile load or no KV block (run "
              "attn-tile first)";
  return t;
}

/// The backward's main program: consumer warpgroup c owns keys [64c, 64c +
/// 64) of the program's BlockN (its K, V, dK and dV rows) and computes its
/// scores [BlockM, 64] for every q-block: what the kernel can build so far.
static bool deriveGradShape(attn::ProgramGridOp grid, KernelPlan &plan,
                            StringRef pass) {
  auto fail = [&](auto &&...message) {
    InFlightDiagnostic diag = grid.emitOpError() << pass << ": ";
    (diag << ... << message);
    return false;
  };
  if (plan.blockN % 64 || plan.blockN < 64 || plan.blockN > 192)
    return fail("the backward's programs of ", plan.blockN,
                " keys (block-n) must hold 64, 128 or 192 (64 keys per "
                "consumer warpgroup: its rows of K, V, dK and dV)");
  if (plan.blockM != 64 && plan.blockM != 128)
    return fail("the backward's q-blocks of ", plan.blockM,
                " rows (block-m) must be 64 or 128 (the M of each consumer's "
                "Q·Kᵀ and dO·Vᵀ wgmma, one or two m64 fragments)");
  if ((plan.headDim != 64 && plan.headDim != 128) ||
      (plan.headDimV != 64 && plan.headDimV != 128))
    return fail("the backward's warp-specialized kernel is built for head "
                "dims 64 and 128 so far, got D = ",
                plan.headDim, ", Dv = ", plan.headDimV);
  if (grid.getBlockSparse())
    return fail("the backward's warp-specialized kernel takes no block mask "
                "yet (its main programs scan the forward's lists under "
                "conditionals the roles do not split)");
  plan.consumers = plan.blockN / 64;
  plan.kStageBytes = plan.blockN * plan.headDim * 2;
  plan.vStageBytes = plan.blockN * plan.headDimV * 2;
  // One q-block: Q [BM, D] and dO [BM, Dv] in the operands' type, LSE and D
  // [BM] in f32.
  plan.qStageBytes = plan.blockM * (plan.headDim + plan.headDimV) * 2 +
                     2 * plan.blockM * 4;
  // P and dS [BM, 64] of every consumer, 16-bit.
  plan.stagedBytes = plan.consumers * 2 * plan.blockM * 64 * 2;
  return true;
}

/// The shape of the kernel, read off the program, and what it cannot do.
static FailureOr<KernelPlan> deriveShape(attn::ProgramGridOp grid,
                                         StringRef pass) {
  FailureOr<ProgramTraits> traits = readTraits(grid, pass);
  if (failed(traits))
    return failure();
  KernelPlan plan;
  attn::TileLoadOp stationaryLoad = traits->stationaryLoad;
  // The warp-specialized level takes value-semantic tiles: tile ops on
  // buffers (one-shot bufferization of an L1/L2 input, or the CPU path's
  // attn-bufferize-tiles) have no results to partition.
  if (!stationaryLoad.getResult())
    return grid.emitOpError()
           << pass
           << ": the wgmma kernel is built from tiles as values (tensors), "
              "got tile ops on buffers (bufferized after attn-tile); run the "
              "pipeline from attn.attention, or pass the tiled program "
              "without bufferizing it";
  plan.backward = grid.getKindOrDefault() == attn::ProgramKind::GradKv;
  plan.blockM = plan.backward ? traits->qRows : grid.getBlockM();
  plan.blockN = plan.backward ? grid.getBlockM() : traits->blockN;
  plan.headDim = traits->headDim;
  plan.headDimV = traits->headDimV;
  plan.element =
      cast<MemRefType>(stationaryLoad.getSource().getType()).getElementType();

  auto fail = [&](auto &&...message) {
    InFlightDiagnostic diag = grid.emitOpError() << pass << ": ";
    (diag << ... << message);
    return diag;
  };
  if (!plan.element.isBF16() && !plan.element.isF16())
    return fail("Q/K/V must be bf16 or f16 for the wgmma kernel, got ",
                plan.element,
                isa<Float8E4M3FNType>(plan.element)
                    ? " (FP8 runs on the CPU path only so far)"
                    : "");
  // TMA moves the operands' own elements: the tiles must hold them (f32
  // tiles are the CPU target's, or FP8's scaled loads).
  Type tile =
      cast<ShapedType>(stationaryLoad.getResult().getType()).getElementType();
  if (tile != plan.element)
    return fail("the wgmma kernel takes tiles of the operands' own bf16/f16 "
                "(attn-tile target=sm_90a), got ",
                tile, " tiles");
  if (plan.backward)
    return deriveGradShape(grid, plan, pass) ? FailureOr<KernelPlan>(plan)
                                             : FailureOr<KernelPlan>(failure());
  if (plan.blockM % 64 || plan.blockM < 64 || plan.blockM > 192)
    return fail("BlockM = ", plan.blockM,
                " must be 64, 128 or 192 (64 query rows per consumer "
                "warpgroup)");
  if (plan.blockN % 16 || plan.blockN < 16 || plan.blockN > 256)
    return fail("BlockN = ", plan.blockN,
                " must be a multiple of 16 in [16, 256] (k16 steps of P·V, "
                "wgmma n <= 256)");
  // D: Q·Kᵀ in k16 steps; Dv: the N of P·V's wgmma (a multiple of 8 up to
  // 256); both: TMA boxes of 16, 32 or 64 columns swizzled in 32, 64 or 128
  // bytes (the conversion's SwizzledRows).
  if (plan.headDim % 16 || plan.headDimV % 16 || plan.headDim > 256 ||
      plan.headDimV > 256)
    return fail("head dims D = ", plan.headDim, ", Dv = ", plan.headDimV,
                " must be multiples of 16 up to 256 (k16 steps of Q·Kᵀ, "
                "swizzled chunks of 16, 32 or 64 columns)");
  plan.consumers = plan.blockM / 64;
  if (Value out = traits->out) {
    auto arg = dyn_cast<BlockArgument>(out);
    auto type = cast<MemRefType>(out.getType());
    plan.oStorable = arg && isa<func::FuncOp>(arg.getOwner()->getParentOp()) &&
                     !type.isDynamicDim(3) && type.getLayout().isIdentity() &&
                     type.getRank() == 4 && type.getElementType() == plan.element &&
                     !isGuarded(grid);
  }
  plan.kStageBytes = plan.blockN * plan.headDim * 2;
  plan.vStageBytes = plan.blockN * plan.headDimV * 2;
  return plan;
}

/// setmaxnreg only moves registers between the warpgroups of the CTA: the
/// budgets must fit what the CTA launched with, 64K / (threads · CTAs per
/// SM) per thread rounded down to 8 (ptxas, nvvm.maxntid + minctasm), or a
/// consumer's setmaxnreg.inc waits forever. Returns the launch budget.
static FailureOr<int64_t> checkRegisterBudgets(attn::ProgramGridOp grid,
                                               const KernelPlan &plan,
                                               StringRef pass) {
  int64_t launched =
      kRegistersPerSm / (plan.threads() * plan.ctasPerSm) / 8 * 8;
  int64_t warpgroups = 1 + plan.consumers;
  int64_t wanted =
      plan.producerRegisters + plan.consumers * plan.consumerRegisters;
  if (wanted > launched * warpgroups)
    return grid.emitOpError()
           << pass << ": register budgets " << plan.producerRegisters << " + "
           << plan.consumers << " x " << plan.consumerRegisters << " = "
           << wanted << " per thread exceed the " << launched * warpgroups
           << " the CTA launches with (" << launched << " per thread for "
           << plan.threads() << " threads"
           << (plan.ctasPerSm > 1
                   ? ", " + std::to_string(plan.ctasPerSm) + " CTAs per SM"
                   : std::string())
           << ")";
  return launched;
}

int64_t flashmlir::hopper::KernelPlan::dqShareColumns() const {
  return hopper::dqShareColumns(headDim, consumers);
}

/// The backward's shared memory for its buffers: the CTA's less the
/// alignment slack and the mbarriers.
static int64_t gradBufferBudget(int64_t maxSharedMemory) {
  return sharedMemoryPerCta(maxSharedMemory, 1) - 1024 - 256;
}

/// The q-block stages of the backward that fit beside K, V and the staged P
/// and dS (one CTA per SM) in that budget, less the staged tiles' 1024-byte
/// alignment after the rank-1 rings (up to 1008 bytes).

static int64_t gradStagesThatFit(const KernelPlan &plan,
                                 int64_t maxSharedMemory) {
  int64_t budget = gradBufferBudget(maxSharedMemory);
  int64_t fixed = plan.kStageBytes + plan.vStageBytes + plan.stagedBytes +
                  kBufferAlignment - 16;
  return (budget - fixed) / plan.qStageBytes;
}

/// The backward's plan: what its kernel builds (one CTA per KV block, no
/// ping-pong: the consumers share each q-block, the serial or the
/// overlapped MMA schedule, dK and dV stored from registers), the fit of K,
/// V, the q-block ring and the staged P and dS, and the register budgets.
static LogicalResult finalizeGrad(attn::ProgramGridOp grid, KernelPlan &plan,
                                  int64_t maxSharedMemory, StringRef pass) {
  auto fail = [&](auto &&...message) {
    InFlightDiagnostic diag = grid.emitOpError() << pass << ": ";
    (diag << ... << message);
    return diag;
  };
  if (plan.pingPong)
    return fail("ping_pong is not built for the backward (its consumer "
                "warpgroups split the keys of every q-block, there is no "
                "softmax to overlap with another's MMAs)");
  if (plan.pv == PvSchedule::Deferred)
    return fail("pv_schedule = deferred is the forward's (P·V across the "
                "back-edge); the backward's MMA schedule is serial or "
                "overlap");
  if (plan.ctas)
    return fail("persistent_ctas must be 0 for the backward (one CTA per KV "
                "block), got ",
                plan.ctas);
  if (plan.epilogue != Epilogue::Direct)
    return fail("epilogue = \"", attn::stringifyEpilogue(plan.epilogue),
                "\" is the forward's O store; the backward stores dK and dV "
                "from registers (\"direct\")");
  if (plan.ctasPerSm != 1)
    return fail("ctas_per_sm must be 1 for the backward, got ",
                plan.ctasPerSm);
  int64_t fit = gradStagesThatFit(plan, maxSharedMemory);
  if (plan.stages < 1 || plan.stages > fit)
    return fail("K and V (", plan.kStageBytes + plan.vStageBytes,
                " bytes), the staged P and dS (", plan.stagedBytes,
                " bytes) and ", std::max<int64_t>(plan.stages, 1),
                " q-block stage(s) of ", plan.qStageBytes,
                " bytes do not fit in the shared memory (", maxSharedMemory,
                " bytes); lower block-m, block-n or stages");
  if (failed(checkRegisterBudgets(grid, plan, pass)))
    return failure();
  // K, V; then each part of the q-block ring in its own run of `stages`
  // slots (the 2-D parts' slots stay 1024-aligned: whole swizzle atoms);
  // then the staged P and dS.
  plan.kOffset = 0;
  plan.vOffset = plan.kStageBytes;
  plan.qOffset = plan.vOffset + plan.vStageBytes;
  plan.doOffset = plan.qOffset + plan.stages * plan.qBytes();
  plan.lseOffset = plan.doOffset + plan.stages * plan.blockM * plan.headDimV * 2;
  plan.deltaOffset = plan.lseOffset + plan.stages * plan.blockM * 4;
  plan.stagedOffset = llvm::alignTo(
      plan.deltaOffset + plan.stages * plan.blockM * 4, kBufferAlignment);
  plan.bytes = plan.stagedOffset + plan.stagedBytes;
  // The dQ shares' buffers (a TMA reduce-add per q-block) where they fit
  // beside the rest; else the consumers add dQ with reds.
  int64_t dqBytes =
      plan.consumers * plan.blockM * plan.dqShareColumns() * 4;
  int64_t dqOffset = llvm::alignTo(plan.bytes, kBufferAlignment);
  if (dqOffset + dqBytes <= gradBufferBudget(maxSharedMemory)) {
    plan.dqOffset = dqOffset;
    plan.dqBytes = dqBytes;
    plan.bytes = dqOffset + dqBytes;
  }
  return success();
}

/// Checks the decisions against the shape and lays out shared memory.
static LogicalResult finalize(attn::ProgramGridOp grid, KernelPlan &plan,
                              int64_t maxSharedMemory, StringRef pass) {
  if (plan.backward)
    return finalizeGrad(grid, plan, maxSharedMemory, pass);
  auto fail = [&](auto &&...message) {
    InFlightDiagnostic diag = grid.emitOpError() << pass << ": ";
    (diag << ... << message);
    return diag;
  };
  if (plan.storesThroughTma() && !plan.oStorable)
    return fail("epilogue = \"", attn::stringifyEpilogue(plan.epilogue),
                "\" needs O to be a static, contiguous [B, S, H, Dv] argument "
                "of Q's element type, not varlen; use \"direct\"");
  if (plan.epilogue == Epilogue::TmaInQ && !plan.oFitsInQ())
    return fail("epilogue = \"tma_in_q\" needs each consumer's O tile within "
                "its rows of Q's buffer: Dv <= D and rows swizzled alike, got "
                "D = ",
                plan.headDim, " (", plan.qkRows().bytes, "-byte rows), Dv = ",
                plan.headDimV, " (", plan.voRows().bytes, "-byte rows)");
  maxSharedMemory = sharedMemoryPerCta(maxSharedMemory, plan.ctasPerSm);
  int64_t budget = maxSharedMemory - 1024 - 256; // alignment, mbarriers
  int64_t perStage = plan.kStageBytes + plan.vStageBytes;
  bool ownO = plan.epilogue == Epilogue::Tma;
  if (plan.stages < 1 || plan.stages > stagesThatFit(plan, budget, ownO))
    return fail("Q (", plan.qBytes(), " bytes)",
                plan.epilogue == Epilogue::Tma
                    ? ", O (" + std::to_string(plan.oBytes()) + " bytes)"
                    : std::string(),
                " and ", std::max<int64_t>(plan.stages, 1), " K/V stage(s) of ",
                perStage, " bytes do not fit in the shared memory (",
                maxSharedMemory,
                " bytes); lower block-m, block-n or stages");
  if (plan.pingPong && plan.consumers < 2)
    return fail("ping_pong needs 2 or more consumer warpgroups, got ",
                plan.consumers);
  if (plan.ctas) {
    if (isGuarded(grid))
      return fail("persistent_ctas needs a grid without run-time guards (not "
                  "varlen)");
    // Pairs: ceil(QB / 2) per (sequence, head). A dynamic grid's counts are
    // the host's to compute (plan.units = 0).
    if (int64_t tiles = staticTiles(grid)) {
      int64_t qBlocks = *getConstantIntValue(grid.getNumQBlocks());
      plan.units = plan.pairedTiles ? tiles / qBlocks * ((qBlocks + 1) / 2)
                                    : tiles;
      plan.ctas = std::min(plan.ctas, plan.units);
    }
  }
  FailureOr<int64_t> budgets = checkRegisterBudgets(grid, plan, pass);
  if (failed(budgets))
    return failure();
  int64_t launched = *budgets;
  // ptxas allocates every instruction within the launch budget, whatever
  // setmaxnreg grants later: the Q·Kᵀ wgmma's BlockN/2 accumulators plus its
  // descriptors and addresses must fit it (block_m=128, ctas_per_sm=2 at
  // d=64: 80 per thread, "C7602 Insufficient registers (80)" at load time).
  if (int64_t needed = plan.blockN / 2 + 32; launched < needed)
    return fail(plan.ctasPerSm, " CTAs per SM of ", plan.threads(),
                " threads launch with ", launched,
                " registers per thread, fewer than the ", needed,
                " the Q·Kᵀ wgmma of BlockN = ", plan.blockN,
                " needs; lower ctas_per_sm, block-m or block-n");
  plan.qOffset = 0;
  plan.kOffset = plan.qBytes();
  plan.vOffset = llvm::alignTo(plan.kOffset + plan.stages * plan.kStageBytes,
                               kBufferAlignment);
  plan.bytes = plan.vOffset + plan.stages * plan.vStageBytes;
  plan.oOffset = plan.qOffset;
  if (ownO) {
    plan.oOffset = llvm::alignTo(plan.bytes, kBufferAlignment);
    plan.bytes = plan.oOffset + plan.oBytes();
  }
  assert(plan.bytes == layoutBytes(plan, plan.stages, ownO));
  return success();
}

/// The backward's main grid (FlashAttention-3's backward, not measured here
/// yet): a q-block ring of two stages (FA3's Stages = Stages_dO = 2: each
/// q-block is five MMAs long, two stages hide the TMA latency), the
/// overlapped MMA schedule with two or more stages, one CTA per KV block,
/// dK and dV stored from registers, FA3's register budgets (24/240, three
/// consumers 32/160).
static FailureOr<KernelPlan> planGradKernel(attn::ProgramGridOp grid,
                                            KernelPlan plan,
                                            const PlanOptions &options,
                                            StringRef pass) {
  auto fail = [&](auto &&...message) {
    InFlightDiagnostic diag = grid.emitOpError() << pass << ": ";
    (diag << ... << message);
    return diag;
  };
  if (options.ctasPerSm != 1)
    return fail("ctas-per-sm must be 1 for the backward, got ",
                options.ctasPerSm);
  if (options.schedule == "persistent")
    return fail("schedule = persistent is not built for the backward (one "
                "CTA per KV block)");
  if (!llvm::is_contained({"auto", "direct"}, options.epilogue))
    return fail("epilogue = ", options.epilogue,
                " is the forward's O store; the backward stores dK and dV "
                "from registers (auto or direct)");
  plan.ctasPerSm = 1;
  int64_t fit = gradStagesThatFit(plan, options.maxSharedMemory);
  plan.stages =
      options.stages > 0 ? options.stages : std::min<int64_t>(fit, 2);
  plan.pingPong = false;
  if (options.pvSchedule == "auto") {
    plan.pv = plan.stages >= 2 ? PvSchedule::Overlap : PvSchedule::Serial;
  } else {
    // planKernel checked the value against the options' table.
    plan.pv = *attn::symbolizePvSchedule(options.pvSchedule);
  }
  // Overlap releases a q-block's Q and dO one q-block late (the attribute's
  // rule): with one stage the producer would wait for it forever.
  if (plan.pv != PvSchedule::Serial && plan.stages < 2)
    return fail("pv-schedule = ", attn::stringifyPvSchedule(plan.pv),
                " needs at least 2 stages, got ", plan.stages);
  plan.ctas = 0;
  plan.pairedTiles = false;
  plan.epilogue = Epilogue::Direct;
  plan.producerRegisters = kProducerRegisters[plan.consumers];
  plan.consumerRegisters = kConsumerRegisters[plan.consumers];
  if (failed(finalize(grid, plan, options.maxSharedMemory, pass)))
    return failure();
  return plan;
}

FailureOr<KernelPlan> flashmlir::hopper::planKernel(attn::ProgramGridOp grid,
                                                    const PlanOptions &options,
                                                    StringRef pass) {
  // The options' ranges and allowed values (KernelOptions.def).
  KernelOptions table;
#define FLASHMLIR_PLAN_OPTION(FIELD, ...) table.FIELD = options.FIELD;
#include "flashmlir/Compiler/KernelOptions.def"
  if (llvm::Error err = checkKernelOptions(table, OptionSpelling::Flag,
                                           {KernelOptionInfo::Group::Plan}))
    return grid.emitOpError() << pass << ": " << llvm::toString(std::move(err));
  FailureOr<KernelPlan> plan = deriveShape(grid, pass);
  if (failed(plan))
    return failure();
  if (plan->backward)
    return planGradKernel(grid, *plan, options, pass);
  FailureOr<ProgramTraits> traits = readTraits(grid, pass);
  if (failed(traits))
    return failure();
  // Softcap and modifier bodies: more live registers per score.
  bool modified = traits->scoreOps > 0;
  plan->ctasPerSm = options.ctasPerSm;
  int64_t budget =
      sharedMemoryPerCta(options.maxSharedMemory, options.ctasPerSm) - 1024 - 256;
  int64_t fit = stagesThatFit(*plan, budget, /*ownO=*/false);
  plan->stages = options.stages > 0 ? options.stages : std::min<int64_t>(fit, 4);
  plan->pingPong = options.pingPong && plan->consumers > 1;
  if (options.pvSchedule != "auto") {
    plan->pv = *attn::symbolizePvSchedule(options.pvSchedule); // checked
  } else if (plan->stages >= 2) {
    // Overlap measured best or even on the H200 (bf16, 16k tokens, S 512 to
    // 16k, bench/variants.py; bench/RESULTS.md): vs deferred -1..+5% at
    // d=64, within 1.5% at d=128, +4..13% at d=256 (where deferred spilled
    // and had lost to serial). With work on the scores at Dv = 256 the
    // overlapped schedule's second S in flight spilled (softcap, ALiBi,
    // documents; ptxas -v) and deferred did not.
    plan->pv = modified && plan->headDimV > 128 ? PvSchedule::Deferred
                                                : PvSchedule::Overlap;
  }
  // Persistent when both roles see every tile (no run-time guard) of a
  // static grid. Under a causal or window mask the tiles' costs differ (a
  // static stride over single tiles left CTAs 3x apart in work, measured 30%
  // slower at d=128 16k causal): under a causal mask CTAs take pairs of
  // tiles, q-blocks j and QB-1-j of one head, whose costs sum to QB + 1
  // blocks. Only with two consumers (the paired loop's index math spilled the
  // 32-register producer of three) and not under windows (its three KV loops
  // spilled the 232-register consumers): those stay one CTA per tile.
  // Measured with schedule = persistent against one CTA per tile (H200, bf16,
  // 16k tokens; bench/RESULTS.md), the heuristic takes persistence where it
  // won: Dv <= 128 with softcap or a score_mod (softcap +8..9% at S = 1k,
  // ALiBi +7..11%, ALiBi causal +14% at 1k and +5..6% at 4k, within 2% at
  // 16k). Dv = 256 stays one CTA per tile: paired under a causal mask it
  // measured +4..9% at 1k-4k (BlockN 80) and +5..8% at 512-8k (BlockN 64),
  // but the 232-register consumers spill at 80 (32-56 bytes, ptxas -v) and
  // at 64 for some shapes (8-12 bytes with Sq != Sk or GQA; 0 for square
  // ones), and every kernel we emit must assemble without spills;
  // schedule = persistent builds it on request. Unmasked: -1..-2%.
  // Likewise a score_mod at Dv = 128 (ALiBi: 24-36 bytes spilled; +11% at
  // 1k, even from 4k). A mask_mod keeps one CTA per tile (not measured
  // persistent).
  attn::MaskKind kind = traits->kind;
  bool pairable = kind == attn::MaskKind::Causal && plan->consumers == 2;
  // A block mask makes the tiles' costs data-dependent: one CTA per tile.
  // schedule = "persistent" drops the heuristic's conditions (Dv, per-score
  // work), keeping what the persistent loops need.
  bool blockSparse = grid.getBlockSparse();
  bool canPersist = options.persistentCtas > 0 && !isGuarded(grid) &&
                    !blockSparse &&
                    (kind == attn::MaskKind::None || pairable);
  bool maskMod = traits->maskMod, scoreMod = traits->scoreMod;
  bool heuristic =
      !maskMod && plan->headDimV <= 128 && (plan->headDimV <= 64 || !scoreMod);
  if (options.schedule == "persistent" && !canPersist)
    return grid.emitOpError()
           << pass
           << ": schedule = persistent needs persistent-ctas > 0 and a "
              "grid without run-time guards or a block mask, "
              "unmasked or causal with two consumer warpgroups";
  if (canPersist && (options.schedule == "persistent" ||
                     (options.schedule == "auto" && heuristic))) {
    plan->ctas = options.persistentCtas * options.ctasPerSm;
    plan->pairedTiles = pairable;
  }
  // O through shared memory and TMA where it can be: a 128-byte-wide TMA
  // write per row instead of the threads' 16-byte pieces, and in a
  // persistent kernel the store overlaps the next tile. A persistent kernel
  // gets a buffer of its own, giving up a stage for it down to two (staged
  // in Q's, the next tile's Q waits for the store: d=128 causal, 3 stages
  // and Q's buffer vs 2 stages and its own, bench/variants.py: +17% at
  // S = 512, +13% at 1k, +4..8% at 2k-16k); one CTA per tile uses Q's
  // (free at its end).
  // Whether O's buffer fits beside the ring as it is.
  bool roomForO = layoutBytes(*plan, plan->stages, /*ownO=*/true) <= budget;
  bool autoStages = options.stages == 0;
  if (options.epilogue == "auto") {
    int64_t stagesWithO = stagesThatFit(*plan, budget, /*ownO=*/true);
    if (!plan->oStorable)
      plan->epilogue = Epilogue::Direct;
    else if (plan->ctas && roomForO)
      plan->epilogue = Epilogue::Tma;
    else if (plan->ctas && autoStages && stagesWithO >= 2) {
      plan->epilogue = Epilogue::Tma;
      plan->stages = std::min<int64_t>(stagesWithO, 4);
    }
    else if (plan->oFitsInQ())
      plan->epilogue = Epilogue::TmaInQ;
    else
      plan->epilogue = roomForO ? Epilogue::Tma : Epilogue::Direct;
  } else {
    plan->epilogue = *attn::symbolizeEpilogue(options.epilogue); // checked
    // A ring sized by the heuristic makes room for an O buffer asked for.
    if (plan->epilogue == Epilogue::Tma && autoStages && !roomForO)
      plan->stages = std::min<int64_t>(
          stagesThatFit(*plan, budget, /*ownO=*/true), 4);
    if (plan->stages < 2 && options.pvSchedule == "auto")
      plan->pv = PvSchedule::Serial;
  }
  plan->producerRegisters = (plan->ctas ? kPersistentProducerRegisters
                                        : kProducerRegisters)[plan->consumers];
  plan->consumerRegisters = (plan->ctas ? kPersistentConsumerRegisters
                                        : kConsumerRegisters)[plan->consumers];
  if (plan->ctasPerSm > 1) {
    // The producer at 24, the consumers share the rest of what a CTA
    // launches with (one consumer at 2 CTAs per SM: 24 + 232 = 2 x 128).
    int64_t launched =
        kRegistersPerSm / (plan->threads() * plan->ctasPerSm) / 8 * 8;
    plan->producerRegisters = 24;
    plan->consumerRegisters = std::min<int64_t>(
        240, (launched * (1 + plan->consumers) - 24) / plan->consumers / 8 * 8);
  }
  if (failed(finalize(grid, *plan, options.maxSharedMemory, pass)))
    return failure();
  return plan;
}

attn::HopperPlanAttr flashmlir::hopper::planToAttr(MLIRContext *context,
                                                  const KernelPlan &plan) {
  return attn::HopperPlanAttr::get(
      context, plan.stages, plan.pingPong, plan.pv, plan.ctas,
      plan.pairedTiles, plan.epilogue, plan.ctasPerSm, plan.producerRegisters,
      plan.consumerRegisters);
}

FailureOr<KernelPlan> flashmlir::hopper::planFromAttr(attn::ProgramGridOp grid,
                                                      int64_t maxSharedMemory,
                                                      StringRef pass) {
  attn::HopperPlanAttr attr = grid.getPlanAttr();
  if (!attr)
    return grid.emitOpError()
           << pass
           << ": the program grid has no plan: run --attn-plan-hopper first "
              "(or --attn-warp-specialize)";
  FailureOr<KernelPlan> plan = deriveShape(grid, pass);
  if (failed(plan))
    return failure();
  plan->stages = attr.getStages();
  plan->pingPong = attr.getPingPong();
  plan->pv = attr.getPvSchedule();
  plan->ctas = attr.getPersistentCtas();
  plan->pairedTiles = attr.getPairedTiles();
  plan->epilogue = attr.getEpilogue();
  plan->ctasPerSm = attr.getCtasPerSm();
  plan->producerRegisters = attr.getProducerRegisters();
  plan->consumerRegisters = attr.getConsumerRegisters();
  if (failed(finalize(grid, *plan, maxSharedMemory, pass)))
    return failure();
  return plan;
}
