//===- HopperKernelEmitter.h - The Hopper kernel emitter --------*- C++ -*-===//
//
// The emitter behind --attn-lower-to-hopper (AttnLowerToHopper.cpp), one
// class over several files by concern:
//   HopperLaunch.cpp     gpu.launch, shared memory, mbarriers, tensor maps,
//                        the producer's TMA loads
//   HopperProgram.cpp    the walk over the tiled program, once per role: KV
//                        loops and their carried state, the overlap prologue,
//                        the persistent tile loops
//   HopperConsumer.cpp   a consumer's block: Q·Kᵀ and P·V on wgmma, the
//                        online softmax in registers
//   HopperModifiers.cpp  score_mod / mask_mod inlined per score, positions,
//                        masks (their clones marked for
//                        --attn-narrow-modifier-arith, the next pass)
//   HopperEpilogue.cpp   O / l and LSE out of the consumers (TMA or direct)
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_TRANSFORMS_HOPPERKERNELEMITTER_H
#define FLASHMLIR_TRANSFORMS_HOPPERKERNELEMITTER_H

#include "HopperPlan.h"
#include "WarpgroupBuilder.h"

#include "flashmlir/Transforms/Passes.h"

#include "attn/Attn.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"

#include <array>

namespace flashmlir::hopper {
// A private header of the emitter's files (all of which use namespace mlir).
using namespace mlir;

inline constexpr double kLog2E = 1.4426950408889634;
inline constexpr double kLn2 = 0.6931471805599453;
/// The running state a role carries through the KV loops.
struct RoleState {
  Value count;             // KV blocks handled so far (both roles)
  Value max[2], sum[2];    // consumers: m and l of the thread's two rows
  SmallVector<Value> acc;  // consumers: the O fragment (Dv/2 f32)
  /// Overlapped P·V: the previous block's P as wgmma A registers (BlockN/4
  /// i32), issued with the next Q·Kᵀ or by the epilogue.
  SmallVector<Value> pendingP;
  /// `count` when this tile's first block starts (not carried: it dominates
  /// the tile's loops).
  Value tileStart;

  SmallVector<Value> flatten() const {
    SmallVector<Value> v{count};
    if (max[0])
      v.append({max[0], max[1], sum[0], sum[1]});
    v.append(pendingP.begin(), pendingP.end());
    v.append(acc.begin(), acc.end());
    return v;
  }
  void assign(ValueRange v) {
    count = v[0];
    if (v.size() == 1)
      return;
    max[0] = v[1], max[1] = v[2], sum[0] = v[3], sum[1] = v[4];
    size_t pending = pendingP.size();
    pendingP.assign(v.begin() + 5, v.begin() + 5 + pending);
    acc.assign(v.begin() + 5 + pending, v.end());
  }
};

enum class Role { Producer, Consumer };

/// Values a consumer thread computes once: where its rows and columns are.
struct ConsumerLanes {
  Value consumer;    // consumer warpgroup index c (rows 64c .. 64c + 63)
  Value rowInTile;   // 64c + 16·warp + lane/4 (index)
  Value laneColumn;  // 2·(lane mod 4) (i32)
  Value quadLeader;  // lane mod 4 == 0
  Value turnBarrier, nextTurnBarrier; // ping-pong: named barriers 1 + c, 1 + next
  Value qDesc, kDesc, vDesc; // descriptors of Q (this consumer), K/V stage 0
};

class HopperKernelEmitter {
public:
  HopperKernelEmitter(attn::ProgramGridOp grid, func::FuncOp func,
                      const KernelPlan &plan)
      : grid(grid), func(func), plan(plan), b(grid), loc(grid.getLoc()),
        wg(b, loc, plan.element) {}

  LogicalResult run();

private:
  LogicalResult addTensorMapArguments();
  void emitLaunch();
  LogicalResult emitRole(Role role, Block &program);
  LogicalResult emitTiles(Block &program, Role role, RoleState &state);
  LogicalResult emitPairedTiles(Block &program, Role role, RoleState &state);
  /// The body of a persistent tile loop with iter_args (ring count, tile
  /// number n): tile (seq, head, q-block), then yields (count, n + 1).
  LogicalResult emitTileIteration(Block &program, Role role, RoleState &state,
                                  ValueRange args, std::array<Value, 3> tile);
  LogicalResult emitOps(Block &src, Role role, RoleState &state);
  LogicalResult emitKvLoop(scf::ForOp loop, Role role, RoleState &state);
  /// Clones the index arithmetic of a KV loop's body (its induction variable
  /// already mapped), skipping its tile loads (issued with the block) and
  /// handing its block_update to `onUpdate` in program order.
  LogicalResult emitKvBody(scf::ForOp loop,
                           function_ref<void(attn::BlockUpdateOp)> onUpdate);
  /// Stage, round and phase parity of KV block number `count`:
  /// stage = count mod S, round = count / S, parity = round mod 2.
  std::array<Value, 3> ringPosition(Value count);
  void emitQueryLoad(attn::TileLoadOp op, Role role);
  void emitProducerBlock(attn::BlockUpdateOp op, Value stage, Value round);
  /// `prologue`: the overlap prologue's block (masked, no P·V to issue).
  void emitConsumerBlock(attn::BlockUpdateOp op, Value stage, Value parity,
                         RoleState &state, bool prologue = false);
  /// Byte offset (i64) of ring stage `stage` in a buffer of `stageBytes`.
  Value stageOffset(Value stage, int64_t stageBytes);
  /// P (f32, accumulator order) rounded and packed into wgmma A registers.
  SmallVector<Value> packP(ArrayRef<Value> p);
  /// Issues and commits acc += P·V_stage (A = `a`, from packP).
  void issuePv(SmallVector<Value> &acc, ArrayRef<Value> a, Value stage);
  /// Overlap: block `first` of the tile (Q·Kᵀ and softmax, masked; its P·V
  /// is issued by the next block), ahead of the KV loops of `loops`.
  LogicalResult emitOverlapPrologue(MutableArrayRef<scf::ForOp> loops,
                                    RoleState &state);
  /// Where the thread's scores are, as the modifiers see them (per sequence):
  /// q_idx of its two rows and kv_idx of its BlockN/4 columns, clamped into
  /// the block's rows and cols so that a modifier never reads past its
  /// tensors (the clamped scores are hidden or never written). The column
  /// indices are made where first used (a modifier pass runs in register
  /// order, so each lives for two scores, not for the whole block).
  struct ScorePositions {
    Value seq, head;
    Value q[2];
    Value kvBase, kvLast; // kv_pos + 2·(lane mod 4); the block's last key
    SmallVector<Value> kv;
    Value kvBaseF, kvLastF; // as f32 (exact; null when S >= 2^24)
  };
  ScorePositions scorePositions(attn::BlockUpdateOp op);
  /// kv_idx of register r: column columnOf(r) = 8·(r/4) + r mod 2 is column
  /// j = 2·(r/4) + r mod 2 of the thread's BlockN/4.
  Value kvIndex(ScorePositions &p, int64_t r);
  /// Clones a score_mod / mask_mod body with `args` as its block arguments
  /// (the clones marked attn.modifier for --attn-narrow-modifier-arith);
  /// returns the yielded value. A conversion of position arithmetic to f32
  /// is rebuilt on the positions' f32 values (positionFloats): integer-to-
  /// float conversions issue at a quarter of the FMA rate, like exp2, and one
  /// per score (ALiBi's f32(kv_idx - q_idx)) cost as much as the softmax.
  /// Float ops of the bodies may contract (fma).
  Value inlineModifier(Region &region, ValueRange args);
  /// The f32 value of integer/index `v` built from positionFloats, constants,
  /// casts, additions and subtractions, when every intermediate is an
  /// integer below 2^24 in magnitude (so each f32 step is exact); null if not.
  Value exactFloatOf(Value v, DenseMap<Value, std::pair<Value, int64_t>> &memo);
  /// Hides the scores outside the mask's window, past `cols`, or where
  /// mask_mod yields false.
  SmallVector<Value> maskScores(attn::BlockUpdateOp op, ArrayRef<Value> s);
  void emitEpilogue(attn::BlockFinalizeOp op, RoleState &state);
  /// O (normalized by `inv`) through shared memory and TMA stores.
  void storeOThroughTma(attn::BlockFinalizeOp op, RoleState &state,
                        Value inv[2]);
  /// A fresh %tid.x (see freshThreadId), the thread's consumer warpgroup c
  /// and whether it is the warpgroup's first thread.
  std::array<Value, 3> threadConsumerLeader();
  /// bar.sync over consumer c's warpgroup (named barrier 4 + c; 1..3 are
  /// ping-pong's turns).
  void syncConsumer(Value c);
  /// Runs `body` where `leader` holds.
  void onLeader(Value leader, function_ref<void()> body);
  void tmaLoad(int tensor, Value mbarriers, Value stage, int64_t offset,
               int64_t rows, int64_t chunks, Value row, Value head,
               Value batch);

  /// scf.for over [lb, ub) by `step` carrying `iterArgs`, its body built by
  /// `body(iv, args)` with the emitter's builder (which must yield).
  scf::ForOp buildFor(Value lb, Value ub, Value step, ValueRange iterArgs,
                      function_ref<void(Value, ValueRange)> body) {
    return scf::ForOp::create(
        b, loc, lb, ub, step, iterArgs,
        [&](OpBuilder &nested, Location, Value iv, ValueRange args) {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          body(iv, args);
        });
  }
  Value idx(int64_t v) { return wg.index(v); }
  /// `v` as a constant when it is one, else built by `dynamic` (static
  /// kernels keep their constant index math).
  Value constantOr(Value v, function_ref<int64_t(int64_t)> fold,
                   function_ref<Value()> dynamic) {
    if (std::optional<int64_t> c = getConstantIntValue(v))
      return idx(fold(*c));
    return dynamic();
  }
  Value mapped(Value v) { return mapping.lookupOrDefault(v); }
  Value toI32(Value v) {
    return arith::IndexCastOp::create(b, loc, b.getI32Type(), v);
  }

  attn::ProgramGridOp grid;
  func::FuncOp func;
  KernelPlan plan;
  OpBuilder b;
  Location loc;
  WarpgroupBuilder wg;
  IRMapping mapping;

  /// Function arguments: the tensor maps of Q, K, V and (TMA epilogue) O
  /// (device addresses).
  Value mapArgs[4];
  int numMaps() const { return plan.storesThroughTma() ? 4 : 3; }
  /// Inside the launch.
  Value maps[4], smem, base, tid;
  Value qFull, kFull, vFull;
  Value kEmpty, vEmpty; // per stage: the consumers are done reading K / V
  Value qEmpty;    // persistent: the consumers are done reading Q
  Value tileIter;  // persistent: tiles this CTA has handled so far
  /// Overlap, consumers: per KV loop of the current tile, 1 when the
  /// prologue took its first block (its lower bound moves up by one).
  DenseMap<Operation *, Value> prologueSkips;
  Value ctaId;     // blockIdx.x
  /// Persistent: the tiles (or pairs) the CTAs loop over; host-side, computed
  /// from the grid's bounds when they are dynamic.
  Value workUnits;
  /// Static extents the modifier positions are clamped to (Sq, Sk, Hq).
  int64_t seqLengthQ = 0, seqLengthK = 0, headsQ = 0;
  /// Score positions (index) -> (their exact f32 value, a bound on |value|).
  DenseMap<Value, std::pair<Value, int64_t>> positionFloats;
  Type barrierType[2]; // groups of 1 and of `stages` barriers
  ConsumerLanes lanes;
};

} // namespace flashmlir::hopper

#endif // FLASHMLIR_TRANSFORMS_HOPPERKERNELEMITTER_H
