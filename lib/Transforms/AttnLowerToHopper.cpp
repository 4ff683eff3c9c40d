//===- AttnLowerToHopper.cpp - --attn-lower-to-hopper ----------------------===//
//
// The warp-specialized Hopper lowering of the tiled level (see Passes.td):
//   1. the plan (HopperPlan.h): attn.hopper_plan from --attn-plan-hopper,
//      read back and checked again;
//   2. program grid -> gpu.launch; shared memory, mbarriers, tensor maps;
//   3. the program body emitted twice, once per role, by one walk over L1:
//      producer (TMA) and consumers (wgmma + online softmax in registers),
//      inside a persistent tile loop when the plan says so (grid order, or
//      pairs of causal q-blocks);
//   4. the KV loops carry the running state (count, m, l, O, and under the
//      overlapped P·V the previous block's P) as iter_args; that schedule
//      peels each tile's first block into a prologue.
//
//===----------------------------------------------------------------------===//

#include "HopperPlan.h"
#include "WarpgroupBuilder.h"

#include "flashmlir/Transforms/Passes.h"

#include "attn/Attn.h"

#include "mlir/Analysis/DataFlow/ConstantPropagationAnalysis.h"
#include "mlir/Analysis/DataFlow/DeadCodeAnalysis.h"
#include "mlir/Analysis/DataFlow/IntegerRangeAnalysis.h"
#include "mlir/Analysis/DataFlow/Utils.h"
#include "mlir/Analysis/DataFlowFramework.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/TypeSwitch.h"

#include <array>
#include <cmath>
#include <limits>
#include <optional>

namespace flashmlir {
#define GEN_PASS_DEF_ATTNLOWERTOHOPPERPASS
#include "flashmlir/Transforms/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;
using namespace flashmlir::hopper;

namespace {

constexpr double kLog2E = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;
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
  HopperKernelEmitter(scf::ParallelOp grid, func::FuncOp func,
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
  /// Clones a score_mod / mask_mod body with `args` as its block arguments;
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
  /// The modifier bodies' integer arithmetic on positions in i32 where its
  /// range allows (integer range analysis from the clamped positions): the
  /// index math of an ALiBi bias in i64 spilled every kernel.
  void narrowModifierArithmetic();
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

  Value idx(int64_t v) { return wg.index(v); }
  Value mapped(Value v) { return mapping.lookupOrDefault(v); }
  Value toI32(Value v) {
    return arith::IndexCastOp::create(b, loc, b.getI32Type(), v);
  }

  scf::ParallelOp grid;
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
  /// Static extents the modifier positions are clamped to (Sq, Sk, Hq).
  int64_t seqLengthQ = 0, seqLengthK = 0, headsQ = 0;
  /// Ops cloned from score_mod / mask_mod bodies (narrowed at the end).
  SmallVector<Operation *> modifierOps;
  /// Score positions (index) -> (their exact f32 value, a bound on |value|).
  DenseMap<Value, std::pair<Value, int64_t>> positionFloats;
  Type barrierType[2]; // groups of 1 and of `stages` barriers
  ConsumerLanes lanes;
};

} // namespace

//===----------------------------------------------------------------------===//
// Launch, shared memory, barriers, tensor maps
//===----------------------------------------------------------------------===//

LogicalResult HopperKernelEmitter::addTensorMapArguments() {
  // The Q, K, V sources of the tile loads must be function arguments: the
  // host encodes their tensor maps.
  attn::TileLoadOp loads[3];
  grid.walk([&](attn::TileLoadOp load) {
    if (!isa<scf::ForOp>(load->getParentOp()))
      loads[0] = load;
  });
  grid.walk([&](attn::BlockUpdateOp update) {
    for (Operation &op : *update->getBlock())
      if (auto load = dyn_cast<attn::TileLoadOp>(op)) {
        if (load.getDest() == update.getKey())
          loads[1] = load;
        if (load.getDest() == update.getValue())
          loads[2] = load;
      }
  });
  MLIRContext *ctx = b.getContext();
  auto ptrType = LLVM::LLVMPointerType::get(ctx);
  // O is stored 64 rows (one consumer's) at a time.
  int64_t rows[4] = {plan.blockM, plan.blockN, plan.blockN, 64};
  Value sources[4] = {loads[0].getSource(), loads[1].getSource(),
                      loads[2].getSource(), Value()};
  Operation *users[4] = {loads[0], loads[1], loads[2], nullptr};
  if (plan.storesThroughTma())
    grid.walk([&](attn::BlockFinalizeOp f) {
      sources[3] = f.getOut();
      users[3] = f;
    });
  for (int t = 0; t < numMaps(); ++t) {
    auto arg = dyn_cast<BlockArgument>(sources[t]);
    if (!arg || arg.getOwner() != &func.getBody().front())
      return users[t]->emitOpError()
             << "attn-lower-to-hopper: the "
             << (t == 3 ? "output" : "source")
             << " must be an argument of the function (the host encodes its "
                "tensor map)";
    auto type = cast<MemRefType>(arg.getType());
    if (!type.hasStaticShape() || !type.getLayout().isIdentity())
      return users[t]->emitOpError()
             << "attn-lower-to-hopper: the kernel needs static, contiguous "
                "[B, S, H, D] operands for now, got "
             << type;
    NamedAttrList desc;
    desc.set("operand", b.getI64IntegerAttr(arg.getArgNumber()));
    // Box of the 4-D map (D, H, S, B), innermost first: 64 columns (one
    // 128-byte swizzled row) of one head, `rows` positions, one batch.
    desc.set("box", b.getDenseI64ArrayAttr({kChunkElements, 1, rows[t], 1}));
    desc.set("element", b.getStringAttr(plan.element.isBF16() ? "bf16" : "f16"));
    desc.set("swizzle", b.getI64IntegerAttr(kSwizzleBytes));
    unsigned index = func.getNumArguments();
    if (failed(func.insertArgument(
            index, ptrType,
            b.getDictionaryAttr({b.getNamedAttr(kTensorMapAttrName,
                                                desc.getDictionary(ctx))}),
            loc)))
      return failure();
    mapArgs[t] = func.getArgument(index);
  }
  auto queryType = cast<MemRefType>(loads[0].getSource().getType());
  seqLengthQ = queryType.getDimSize(1);
  headsQ = queryType.getDimSize(2);
  seqLengthK = cast<MemRefType>(loads[1].getSource().getType()).getDimSize(1);
  return success();
}

void HopperKernelEmitter::emitLaunch() {
  MLIRContext *ctx = b.getContext();
  ValueRange ub = grid.getUpperBound();
  Value one = idx(1);
  // One CTA per tile (x = q-block, y = head, z = sequence), or `ctas`.
  Value gridSize[3] = {ub[2], ub[1], ub[0]};
  if (plan.ctas)
    gridSize[0] = idx(plan.ctas), gridSize[1] = gridSize[2] = one;
  auto launch = gpu::LaunchOp::create(
      b, loc, gridSize[0], gridSize[1], gridSize[2], idx(plan.threads()), one,
      one, wg.i32(plan.sharedMemory()));
  // What the tiles are, for the launch metadata (kept through outlining).
  launch->setAttr(kLaunchTilesAttrName,
                  b.getDictionaryAttr({
                      b.getNamedAttr("block_m", b.getI64IntegerAttr(plan.blockM)),
                      b.getNamedAttr("block_n", b.getI64IntegerAttr(plan.blockN)),
                      b.getNamedAttr("stages", b.getI64IntegerAttr(plan.stages)),
                      b.getNamedAttr("consumer_warpgroups",
                                     b.getI64IntegerAttr(plan.consumers)),
                      b.getNamedAttr("persistent_ctas",
                                     b.getI64IntegerAttr(plan.ctas)),
                  }));
  Block &body = launch.getBody().front();
  b.setInsertionPointToStart(&body);
  auto terminator = gpu::TerminatorOp::create(b, loc);
  b.setInsertionPoint(terminator);

  // (seq, head, q-block) = (block z, block y, last q-block - block x):
  // longest programs first under causal masks. (Persistent: per tile, in
  // emitRole.)
  gpu::KernelDim3 blocks = launch.getBlockIds();
  ctaId = blocks.x;
  if (!plan.ctas) {
    mapping.map(grid.getInductionVars()[0], blocks.z);
    mapping.map(grid.getInductionVars()[1], blocks.y);
    mapping.map(grid.getInductionVars()[2],
                arith::SubIOp::create(
                    b, loc, arith::SubIOp::create(b, loc, ub[2], one),
                    blocks.x));
  }
  tileIter = idx(0);
  tid = launch.getThreadIds().x;

  // Dynamic shared memory, its base rounded up to 1024 bytes (the 128-byte
  // swizzle pattern repeats every 8 rows of 128 bytes; TMA and wgmma agree
  // on it only from such a base).
  auto workgroup =
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  smem = gpu::DynamicSharedMemoryOp::create(
      b, loc,
      MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                      MemRefLayoutAttrInterface{}, workgroup));
  Value address = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, smem);
  Value pad = arith::RemUIOp::create(
      b, loc,
      arith::SubIOp::create(b, loc, idx(1024),
                            arith::RemUIOp::create(b, loc, address, idx(1024))),
      idx(1024));
  base = pad; // byte offset of the aligned base inside `smem`

  // mbarriers: Q full; per stage K full, V full, K empty, V empty (K and V
  // of a stage are released apart: Q·Kᵀ is done with K a softmax before
  // P·V is done with V, and with two stages that head start is what hides
  // the next K's load).
  barrierType[0] = nvgpu::MBarrierGroupType::get(ctx, workgroup, 1);
  barrierType[1] = nvgpu::MBarrierGroupType::get(ctx, workgroup, plan.stages);
  qFull = nvgpu::MBarrierCreateOp::create(b, loc, barrierType[0]);
  kFull = nvgpu::MBarrierCreateOp::create(b, loc, barrierType[1]);
  vFull = nvgpu::MBarrierCreateOp::create(b, loc, barrierType[1]);
  kEmpty = nvgpu::MBarrierCreateOp::create(b, loc, barrierType[1]);
  vEmpty = nvgpu::MBarrierCreateOp::create(b, loc, barrierType[1]);
  Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid,
                                      idx(0));
  nvgpu::MBarrierInitOp::create(b, loc, qFull, idx(1), idx(0), first);
  if (plan.ctas) {
    qEmpty = nvgpu::MBarrierCreateOp::create(b, loc, barrierType[0]);
    nvgpu::MBarrierInitOp::create(b, loc, qEmpty, idx(128 * plan.consumers),
                                  idx(0), first);
  }
  for (int64_t s = 0; s < plan.stages; ++s) {
    nvgpu::MBarrierInitOp::create(b, loc, kFull, idx(1), idx(s), first);
    nvgpu::MBarrierInitOp::create(b, loc, vFull, idx(1), idx(s), first);
    // Every consumer thread arrives once it has read the stage.
    for (Value released : {kEmpty, vEmpty})
      nvgpu::MBarrierInitOp::create(b, loc, released,
                                    idx(128 * plan.consumers), idx(s), first);
  }

  // Tensor maps: !llvm.ptr arguments viewed as nvgpu descriptors.
  int64_t rows[4] = {plan.blockM, plan.blockN, plan.blockN, 64};
  for (int t = 0; t < numMaps(); ++t) {
    auto tile = MemRefType::get({1, rows[t], 1, kChunkElements}, plan.element,
                                MemRefLayoutAttrInterface{},
                                b.getI64IntegerAttr(3));
    auto type = nvgpu::TensorMapDescriptorType::get(
        ctx, tile, nvgpu::TensorMapSwizzleKind::SWIZZLE_128B,
        nvgpu::TensorMapL2PromoKind::L2PROMO_256B,
        nvgpu::TensorMapOOBKind::OOB_ZERO,
        nvgpu::TensorMapInterleaveKind::INTERLEAVE_NONE);
    maps[t] = UnrealizedConversionCastOp::create(b, loc, type, mapArgs[t])
                  .getResult(0);
    nvgpu::TmaPrefetchOp::create(b, loc, maps[t], first);
  }
  gpu::BarrierOp::create(b, loc);
}

/// One TMA copy per 64-column chunk of a tile into shared memory at
/// `offset` + stage · (rows · width · 2), all completing on mbarriers[stage].
void HopperKernelEmitter::tmaLoad(int tensor, Value mbarriers, Value stage,
                                  int64_t offset, int64_t rows, int64_t chunks,
                                  Value row, Value head, Value batch) {
  MLIRContext *ctx = b.getContext();
  auto workgroup =
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  auto tileType = MemRefType::get({1, rows, 1, kChunkElements}, plan.element,
                                  MemRefLayoutAttrInterface{}, workgroup);
  Value stageOffset = arith::MulIOp::create(
      b, loc, stage, idx(rows * chunks * kSwizzleBytes));
  for (int64_t c = 0; c < chunks; ++c) {
    Value byte = arith::AddIOp::create(
        b, loc, arith::AddIOp::create(b, loc, base, stageOffset),
        idx(offset + c * rows * kSwizzleBytes));
    Value view =
        memref::ViewOp::create(b, loc, tileType, smem, byte, ValueRange{});
    nvgpu::TmaAsyncLoadOp::create(
        b, loc, view, mbarriers, maps[tensor],
        ValueRange{idx(c * kChunkElements), head, row, batch}, stage, Value(),
        Value());
  }
}

//===----------------------------------------------------------------------===//
// The walk over the program body
//===----------------------------------------------------------------------===//

LogicalResult HopperKernelEmitter::emitOps(Block &src, Role role,
                                           RoleState &state) {
  for (Operation &op : src.without_terminator()) {
    LogicalResult result =
        llvm::TypeSwitch<Operation *, LogicalResult>(&op)
            .Case([&](memref::AllocaOp) { return success(); })
            .Case([&](memref::AllocaScopeOp scope) {
              return emitOps(scope.getBodyRegion().front(), role, state);
            })
            .Case([&](scf::IfOp ifOp) -> LogicalResult {
              if (ifOp.getNumResults() || !ifOp.getElseRegion().empty())
                return ifOp.emitOpError()
                       << "attn-lower-to-hopper: unexpected conditional in "
                          "the program";
              auto guard = scf::IfOp::create(
                  b, loc, mapped(ifOp.getCondition()), /*withElse=*/false);
              OpBuilder::InsertionGuard g(b);
              b.setInsertionPoint(guard.thenBlock()->getTerminator());
              return emitOps(*ifOp.thenBlock(), role, state);
            })
            .Case([&](scf::ForOp loop) -> LogicalResult {
              if (role == Role::Consumer && plan.pv == PvSchedule::Overlap &&
                  !prologueSkips.count(loop)) {
                SmallVector<scf::ForOp> loops(src.getOps<scf::ForOp>());
                if (failed(emitOverlapPrologue(loops, state)))
                  return failure();
              }
              return emitKvLoop(loop, role, state);
            })
            .Case([&](attn::TileLoadOp load) {
              // K/V loads are issued with their block_update.
              if (!isa<scf::ForOp>(load->getParentOp()))
                emitQueryLoad(load, role);
              return success();
            })
            .Case([&](attn::BlockInitOp) {
              if (role == Role::Consumer) {
                // m = -inf, l = 0, O = 0
                Value negInf =
                    wg.f32(-std::numeric_limits<double>::infinity());
                state.max[0] = state.max[1] = negInf;
                state.sum[0] = state.sum[1] = wg.f32(0);
                state.acc.assign(plan.headDimV / 2, wg.f32(0));
                if (plan.pv == PvSchedule::Overlap)
                  state.pendingP.assign(plan.blockN / 4, wg.i32(0));
              }
              state.tileStart = state.count;
              prologueSkips.clear();
              return success();
            })
            .Case([&](attn::BlockUpdateOp) -> LogicalResult {
              return op.emitOpError()
                     << "attn-lower-to-hopper: block_update outside a KV loop";
            })
            .Case([&](attn::BlockFinalizeOp finalize) {
              if (role == Role::Consumer)
                emitEpilogue(finalize, state);
              return success();
            })
            .Default([&](Operation *other) -> LogicalResult {
              // Index arithmetic and reads of cu_seqlens / shapes.
              if (other->getNumRegions() ||
                  (!isMemoryEffectFree(other) &&
                   !isa<memref::LoadOp, memref::DimOp>(other)))
                return other->emitOpError()
                       << "attn-lower-to-hopper: unexpected op in the program";
              b.clone(*other, mapping);
              return success();
            });
    if (failed(result))
      return failure();
  }
  return success();
}

std::array<Value, 3> HopperKernelEmitter::ringPosition(Value count) {
  Value stage = arith::RemUIOp::create(b, loc, count, idx(plan.stages));
  Value round = arith::DivUIOp::create(b, loc, count, idx(plan.stages));
  Value parity = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ne,
      arith::RemUIOp::create(b, loc, round, idx(2)), idx(0));
  return {stage, round, parity};
}

LogicalResult HopperKernelEmitter::emitKvBody(
    scf::ForOp loop, function_ref<void(attn::BlockUpdateOp)> onUpdate) {
  LogicalResult result = success();
  for (Operation &op : loop.getBody()->without_terminator()) {
    if (isa<attn::TileLoadOp>(op))
      continue;
    if (auto update = dyn_cast<attn::BlockUpdateOp>(op)) {
      onUpdate(update);
      continue;
    }
    if (op.getNumRegions() || !isMemoryEffectFree(&op)) {
      result = op.emitOpError()
               << "attn-lower-to-hopper: unexpected op in a KV loop";
      continue;
    }
    b.clone(op, mapping);
  }
  return result;
}

LogicalResult HopperKernelEmitter::emitOverlapPrologue(
    MutableArrayRef<scf::ForOp> loops, RoleState &state) {
  // The KV loops of attn-tile differ only in their bounds and in `masked`:
  // the first loop's body stands for any of them (the prologue masks).
  scf::ForOp body = loops.front();
  for (scf::ForOp loop : loops) {
    auto &ops = loop.getBody()->getOperations();
    auto &ref = body.getBody()->getOperations();
    if (ops.size() != ref.size() ||
        !llvm::all_of(llvm::zip(ops, ref), [](auto pair) {
          return std::get<0>(pair).getName() == std::get<1>(pair).getName();
        }))
      return loop.emitOpError()
             << "attn-lower-to-hopper: pv_schedule = \"overlap\" needs KV "
                "loops with the same body (attn-tile's)";
  }
  // The tile's first block: the lower bound of the first non-empty loop;
  // that loop starts one block later (skip = 1).
  Value any = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0);
  Value first = mapped(body.getLowerBound());
  for (scf::ForOp loop : loops) {
    Value lb = mapped(loop.getLowerBound());
    Value nonEmpty = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                           lb, mapped(loop.getUpperBound()));
    Value isFirst = arith::AndIOp::create(
        b, loc, nonEmpty,
        arith::XOrIOp::create(
            b, loc, any,
            arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1)));
    first = arith::SelectOp::create(b, loc, isFirst, lb, first);
    prologueSkips[loop] = arith::IndexCastOp::create(
        b, loc, b.getIndexType(),
        arith::ExtUIOp::create(b, loc, b.getI32Type(), isFirst));
    any = arith::OrIOp::create(b, loc, any, nonEmpty);
  }

  // if (any) { block `first`: Q·Kᵀ, softmax } -> m, l, P; count += any.
  RoleState out = state;
  SmallVector<Value> carried{state.max[0], state.max[1], state.sum[0],
                             state.sum[1]};
  carried.append(state.pendingP.begin(), state.pendingP.end());
  auto ifOp = scf::IfOp::create(b, loc, ValueRange(carried).getTypes(), any,
                                /*withElse=*/true);
  LogicalResult result = success();
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    mapping.map(body.getInductionVar(), first);
    RoleState inner = state;
    result = emitKvBody(body, [&](attn::BlockUpdateOp update) {
      auto [stage, round, parity] = ringPosition(state.count);
      emitConsumerBlock(update, stage, parity, inner, /*prologue=*/true);
    });
    SmallVector<Value> yielded{inner.max[0], inner.max[1], inner.sum[0],
                               inner.sum[1]};
    yielded.append(inner.pendingP.begin(), inner.pendingP.end());
    scf::YieldOp::create(b, loc, yielded);
    b.setInsertionPointToStart(ifOp.elseBlock());
    scf::YieldOp::create(b, loc, carried);
  }
  ValueRange r = ifOp.getResults();
  state.max[0] = r[0], state.max[1] = r[1], state.sum[0] = r[2],
  state.sum[1] = r[3];
  state.pendingP.assign(r.begin() + 4, r.end());
  state.count = arith::AddIOp::create(
      b, loc, state.count,
      arith::IndexCastOp::create(
          b, loc, b.getIndexType(),
          arith::ExtUIOp::create(b, loc, b.getI32Type(), any)));
  return result;
}

LogicalResult HopperKernelEmitter::emitKvLoop(scf::ForOp loop, Role role,
                                              RoleState &state) {
  attn::BlockUpdateOp update;
  for (Operation &op : *loop.getBody())
    if (auto u = dyn_cast<attn::BlockUpdateOp>(op))
      update = u;
  if (!update || loop.getNumResults())
    return loop.emitOpError()
           << "attn-lower-to-hopper: expected a KV-block loop of attn-tile";

  LogicalResult result = success();
  Value lowerBound = mapped(loop.getLowerBound());
  if (Value skip = prologueSkips.lookup(loop); skip && role == Role::Consumer)
    lowerBound = arith::AddIOp::create(
        b, loc, lowerBound,
        arith::MulIOp::create(b, loc, skip, mapped(loop.getStep())));
  auto newLoop = scf::ForOp::create(
      b, loc, lowerBound, mapped(loop.getUpperBound()),
      mapped(loop.getStep()), state.flatten(),
      [&](OpBuilder &nested, Location, Value iv, ValueRange args) {
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        mapping.map(loop.getInductionVar(), iv);
        RoleState inner = state;
        inner.assign(args);
        LogicalResult body = emitKvBody(loop, [&](attn::BlockUpdateOp u) {
          auto [stage, round, parity] = ringPosition(inner.count);
          if (role == Role::Producer)
            emitProducerBlock(u, stage, round);
          else
            emitConsumerBlock(u, stage, parity, inner);
          inner.count = arith::AddIOp::create(b, loc, inner.count, idx(1));
        });
        if (failed(body))
          result = failure();
        scf::YieldOp::create(b, loc, inner.flatten());
      });
  state.assign(newLoop.getResults());
  // A deferred P·V of the loop's last block completes here: accumulators in
  // flight must not flow through the loop's results into the next loop
  // (ptxas would serialize every wgmma, C7515).
  if (role == Role::Consumer && plan.pv == PvSchedule::Deferred)
    wg.waitGroup(0);
  return result;
}

LogicalResult HopperKernelEmitter::emitRole(Role role, Block &program) {
  RoleState state;
  state.count = idx(0);
  if (role == Role::Producer) {
    NVVM::SetMaxRegisterOp::create(
        b, loc,
        b.getI32IntegerAttr(plan.producerRegisters),
        NVVM::SetMaxRegisterActionAttr::get(
            b.getContext(), NVVM::SetMaxRegisterAction::decrease));
    // One thread issues every copy; the others of the warpgroup are done.
    Value elected = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                          tid, idx(0));
    auto ifOp = scf::IfOp::create(b, loc, elected, /*withElse=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    return emitTiles(program, role, state);
  }

  NVVM::SetMaxRegisterOp::create(
      b, loc,
      b.getI32IntegerAttr(plan.consumerRegisters),
      NVVM::SetMaxRegisterActionAttr::get(
          b.getContext(), NVVM::SetMaxRegisterAction::increase));
  // c = tid / 128 - 1; warp w, lane l within the warpgroup.
  Value local = arith::RemUIOp::create(b, loc, tid, idx(128));
  Value warp = arith::DivUIOp::create(b, loc, local, idx(32));
  Value lane = arith::RemUIOp::create(b, loc, local, idx(32));
  Value quad = arith::RemUIOp::create(b, loc, lane, idx(4));
  lanes.consumer = arith::SubIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, tid, idx(128)), idx(1));
  // rowInTile = 64c + 16w + l/4
  lanes.rowInTile = arith::AddIOp::create(
      b, loc,
      arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, lanes.consumer, idx(64)),
          arith::MulIOp::create(b, loc, warp, idx(16))),
      arith::DivUIOp::create(b, loc, lane, idx(4)));
  lanes.laneColumn = toI32(arith::MulIOp::create(b, loc, quad, idx(2)));
  lanes.quadLeader =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, quad, idx(0));
  if (plan.pingPong) {
    // Consumer c waits on named barrier 1 + c and hands the turn to
    // consumer (c + 1) mod n; the last one opens the first turn.
    Value c = toI32(lanes.consumer);
    int64_t n = plan.consumers;
    lanes.turnBarrier = arith::AddIOp::create(b, loc, c, wg.i32(1));
    lanes.nextTurnBarrier = arith::AddIOp::create(
        b, loc,
        arith::RemUIOp::create(b, loc,
                               arith::AddIOp::create(b, loc, c, wg.i32(1)),
                               wg.i32(n)),
        wg.i32(1));
    Value last = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, c,
                                       wg.i32(n - 1));
    auto opener = scf::IfOp::create(b, loc, last, /*withElse=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(opener.thenBlock()->getTerminator());
    NVVM::BarrierArriveOp::create(b, loc, wg.i32(1), wg.i32(256));
  }

  // Descriptors: K-major Q and K (rows of 128 bytes, 8-row groups 1024 bytes
  // apart); N-major V (its 64-column chunks BlockN·128 bytes apart).
  Value address = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, smem);
  auto addressOf = [&](Value offset) {
    return arith::IndexCastOp::create(
        b, loc, b.getI64Type(),
        arith::AddIOp::create(b, loc, address,
                              arith::AddIOp::create(b, loc, base, offset)));
  };
  Value qRows = arith::MulIOp::create(b, loc, lanes.consumer,
                                      idx(64 * kSwizzleBytes));
  lanes.qDesc = wg.descriptor(
      addressOf(arith::AddIOp::create(b, loc, qRows, idx(plan.qOffset))), 16,
      1024);
  lanes.kDesc = wg.descriptor(addressOf(idx(plan.kOffset)), 16, 1024);
  lanes.vDesc = wg.descriptor(addressOf(idx(plan.vOffset)),
                              plan.blockN * kSwizzleBytes, 1024);
  if (failed(emitTiles(program, role, state)))
    return failure();
  // The last TMA store must have read its shared memory before the CTA
  // exits.
  if (plan.storesThroughTma())
    onLeader(threadConsumerLeader()[2], [&] {
      NVVM::CpAsyncBulkWaitGroupOp::create(b, loc, 0, b.getUnitAttr());
    });
  return success();
}

LogicalResult HopperKernelEmitter::emitTiles(Block &program, Role role,
                                             RoleState &state) {
  if (!plan.ctas)
    return emitOps(program, role, state);
  // for t = blockIdx.x; t < tiles; t += ctas, carrying the ring's block
  // count and this CTA's tile number, in the order the hardware launches a
  // grid (q-block fastest):
  //   q-block = last - t mod QB, head = (t / QB) mod H, seq = t / (QB·H)
  // so the CTAs running at once share a head and its K/V stays in L2 (an
  // order with the head fastest re-read K/V from HBM per tile and measured
  // 3-12% slower), and each head's longest causal tiles come first.
  if (plan.pairedTiles)
    return emitPairedTiles(program, role, state);
  ValueRange ub = grid.getUpperBound();
  LogicalResult result = success();
  scf::ForOp::create(
      b, loc, ctaId, idx(plan.tiles), idx(plan.ctas),
      ValueRange{state.count, idx(0)},
      [&](OpBuilder &nested, Location, Value tile, ValueRange args) {
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        Value headsAndQBlocks = arith::MulIOp::create(b, loc, ub[1], ub[2]);
        Value seq = arith::DivUIOp::create(b, loc, tile, headsAndQBlocks);
        Value head = arith::RemUIOp::create(
            b, loc, arith::DivUIOp::create(b, loc, tile, ub[2]), ub[1]);
        Value qBlock = arith::SubIOp::create(
            b, loc, arith::SubIOp::create(b, loc, ub[2], idx(1)),
            arith::RemUIOp::create(b, loc, tile, ub[2]));
        if (failed(emitTileIteration(program, role, state, args,
                                     {seq, head, qBlock})))
          result = failure();
      });
  return result;
}

LogicalResult HopperKernelEmitter::emitTileIteration(
    Block &program, Role role, RoleState &state, ValueRange args,
    std::array<Value, 3> tile) {
  for (auto [iv, value] : llvm::zip(grid.getInductionVars(), tile))
    mapping.map(iv, value);
  state.count = args[0];
  tileIter = args[1];
  LogicalResult result = emitOps(program, role, state);
  scf::YieldOp::create(
      b, loc,
      ValueRange{state.count, arith::AddIOp::create(b, loc, tileIter, idx(1))});
  return result;
}

LogicalResult HopperKernelEmitter::emitPairedTiles(Block &program, Role role,
                                                  RoleState &state) {
  // Masked programs: for u = blockIdx.x; u < units; u += ctas, over pairs of
  // one head's q-blocks whose causal costs sum to QB + 1 KV blocks, in the
  // hardware's order (pair fastest, so that the CTAs running at once share a
  // head's K/V in L2):
  //   P = ceil(QB / 2), p = u mod P, head = (u / P) mod H, seq = u / (P·H)
  //   tiles: q-block QB - 1 - p (the longer first), then p if p < QB - 1 - p
  // (the carried tile number n counts tiles, for the Q barriers' phases).
  ValueRange ub = grid.getUpperBound();
  int64_t qBlocks = *getConstantIntValue(ub[2]);
  int64_t pairs = (qBlocks + 1) / 2;
  LogicalResult result = success();
  scf::ForOp::create(
      b, loc, ctaId, idx(plan.units), idx(plan.ctas),
      ValueRange{state.count, idx(0)},
      [&](OpBuilder &nested, Location, Value unit, ValueRange args) {
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        Value seq = arith::DivUIOp::create(
            b, loc, unit, arith::MulIOp::create(b, loc, idx(pairs), ub[1]));
        Value head = arith::RemUIOp::create(
            b, loc, arith::DivUIOp::create(b, loc, unit, idx(pairs)), ub[1]);
        Value pair = arith::RemUIOp::create(b, loc, unit, idx(pairs));
        Value longer = arith::SubIOp::create(b, loc, idx(qBlocks - 1), pair);
        Value two = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                          pair, longer);
        Value members = arith::SelectOp::create(b, loc, two, idx(2), idx(1));
        auto inner = scf::ForOp::create(
            b, loc, idx(0), members, idx(1), ValueRange{args[0], args[1]},
            [&](OpBuilder &nested2, Location, Value member, ValueRange args2) {
              OpBuilder::InsertionGuard g2(b);
              b.setInsertionPoint(nested2.getInsertionBlock(),
                                  nested2.getInsertionPoint());
              Value first = arith::CmpIOp::create(
                  b, loc, arith::CmpIPredicate::eq, member, idx(0));
              Value qBlock =
                  arith::SelectOp::create(b, loc, first, longer, pair);
              if (failed(emitTileIteration(program, role, state, args2,
                                           {seq, head, qBlock})))
                result = failure();
            });
        scf::YieldOp::create(b, loc, inner.getResults());
      });
  return result;
}

//===----------------------------------------------------------------------===//
// Producer
//===----------------------------------------------------------------------===//

void HopperKernelEmitter::emitQueryLoad(attn::TileLoadOp op, Role role) {
  // Tile number n of this CTA: Q arrives in phase n of qFull (parity n mod
  // 2); the producer reuses the buffer once qEmpty completed phase n - 1
  // (parity (n - 1) mod 2; tile 0 passes at once).
  Value odd = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ne,
      arith::RemUIOp::create(b, loc, tileIter, idx(2)), idx(0));
  if (role == Role::Consumer) {
    nvgpu::MBarrierTryWaitParityOp::create(b, loc, qFull, odd, idx(10000000),
                                           idx(0));
    return;
  }
  if (plan.ctas) {
    Value even = arith::XOrIOp::create(
        b, loc, odd, arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1));
    nvgpu::MBarrierTryWaitParityOp::create(b, loc, qEmpty, even,
                                           idx(10000000), idx(0));
  }
  nvgpu::MBarrierArriveExpectTxOp::create(b, loc, qFull, idx(plan.qBytes()),
                                          idx(0), Value());
  tmaLoad(0, qFull, idx(0), plan.qOffset, plan.blockM,
          plan.headDim / kChunkElements, mapped(op.getRow()),
          mapped(op.getHead()), mapped(op.getBatch()));
}

void HopperKernelEmitter::emitProducerBlock(attn::BlockUpdateOp op,
                                            Value stage, Value round) {
  attn::TileLoadOp keyLoad, valueLoad;
  for (Operation &o : *op->getBlock())
    if (auto load = dyn_cast<attn::TileLoadOp>(o)) {
      if (load.getDest() == op.getKey())
        keyLoad = load;
      else if (load.getDest() == op.getValue())
        valueLoad = load;
    }
  // A stage's K (V) buffer is free once the consumers released its previous
  // round: wait for the phase before this round (parity (round - 1) mod 2;
  // the first round passes at once).
  Value freeParity = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::eq,
      arith::RemUIOp::create(b, loc, round, idx(2)), idx(0));
  nvgpu::MBarrierTryWaitParityOp::create(b, loc, kEmpty, freeParity,
                                         idx(10000000), stage);
  nvgpu::MBarrierArriveExpectTxOp::create(b, loc, kFull,
                                          idx(plan.kStageBytes), stage,
                                          Value());
  tmaLoad(1, kFull, stage, plan.kOffset, plan.blockN,
          plan.headDim / kChunkElements, mapped(keyLoad.getRow()),
          mapped(keyLoad.getHead()), mapped(keyLoad.getBatch()));
  nvgpu::MBarrierTryWaitParityOp::create(b, loc, vEmpty, freeParity,
                                         idx(10000000), stage);
  nvgpu::MBarrierArriveExpectTxOp::create(b, loc, vFull,
                                          idx(plan.vStageBytes), stage,
                                          Value());
  tmaLoad(2, vFull, stage, plan.vOffset, plan.blockN,
          plan.headDimV / kChunkElements, mapped(valueLoad.getRow()),
          mapped(valueLoad.getHead()), mapped(valueLoad.getBatch()));
}

//===----------------------------------------------------------------------===//
// Consumers
//===----------------------------------------------------------------------===//

HopperKernelEmitter::ScorePositions
HopperKernelEmitter::scorePositions(attn::BlockUpdateOp op) {
  // q_idx[h] = min(q_pos + row_h, q_last), q_last = min(q_pos + rows - 1,
  // Sq - 1); kv_idx likewise. The outer clamps to the static extents change
  // nothing at run time: they bound the ranges the narrowing relies on.
  ScorePositions p;
  auto clampTo = [&](Value v, int64_t extent) {
    return arith::MinUIOp::create(b, loc, v, idx(extent - 1));
  };
  auto last = [&](Value pos, Value count, int64_t extent) {
    return clampTo(arith::SubIOp::create(
                       b, loc, arith::AddIOp::create(b, loc, pos, count), idx(1)),
                   extent);
  };
  p.seq = mapped(op.getSeq());
  p.head = clampTo(mapped(op.getHead()), headsQ);
  Value qPos = mapped(op.getQPos()), kvPos = mapped(op.getKvPos());
  Value qLast = last(qPos, mapped(op.getRows()), seqLengthQ);
  for (int h = 0; h < 2; ++h) {
    Value row = arith::AddIOp::create(b, loc, lanes.rowInTile, idx(8 * h));
    p.q[h] = arith::MinUIOp::create(
        b, loc, arith::AddIOp::create(b, loc, qPos, row), qLast);
  }
  p.kvBase = arith::AddIOp::create(
      b, loc, kvPos,
      arith::IndexCastOp::create(b, loc, b.getIndexType(), lanes.laneColumn));
  p.kvLast = last(kvPos, mapped(op.getCols()), seqLengthK);
  p.kv.assign(plan.blockN / 4, Value());
  // f32 copies: one conversion per row and two per block; each column's is
  // min(kv_base + c, kv_last) in f32 (exact below 2^24).
  int64_t bound = std::max(seqLengthQ, seqLengthK) + plan.blockN;
  if (bound < (int64_t(1) << 24)) {
    auto toF32 = [&](Value v) {
      return arith::SIToFPOp::create(b, loc, b.getF32Type(), toI32(v));
    };
    for (int h = 0; h < 2; ++h)
      positionFloats[p.q[h]] = {toF32(p.q[h]), bound};
    p.kvBaseF = wg.opaqueF32(toF32(p.kvBase));
    p.kvLastF = toF32(p.kvLast);
  }
  return p;
}

Value HopperKernelEmitter::kvIndex(ScorePositions &p, int64_t r) {
  Value &kv = p.kv[2 * (r / 4) + r % 2];
  if (!kv) {
    kv = arith::MinUIOp::create(
        b, loc, arith::AddIOp::create(b, loc, p.kvBase, idx(columnOf(r))),
        p.kvLast);
    if (p.kvBaseF) {
      Value f = arith::MinNumFOp::create(
          b, loc,
          arith::AddFOp::create(b, loc, p.kvBaseF,
                                wg.f32(static_cast<double>(columnOf(r)))),
          p.kvLastF);
      positionFloats[kv] = {f, std::max(seqLengthQ, seqLengthK) + plan.blockN};
    }
  }
  return kv;
}

Value HopperKernelEmitter::exactFloatOf(
    Value v, DenseMap<Value, std::pair<Value, int64_t>> &memo) {
  constexpr int64_t kExact = int64_t(1) << 24;
  if (auto it = positionFloats.find(v); it != positionFloats.end())
    return it->second.first;
  if (auto it = memo.find(v); it != memo.end())
    return it->second.first;
  auto bound = [&](Value x) {
    if (auto it = positionFloats.find(x); it != positionFloats.end())
      return it->second.second;
    return memo.lookup(x).second;
  };
  Operation *def = v.getDefiningOp();
  Value f;
  int64_t limit = 0;
  APInt constant;
  if (matchPattern(v, m_ConstantInt(&constant))) {
    if (constant.getSignificantBits() > 25)
      return Value();
    f = wg.f32(static_cast<double>(constant.getSExtValue()));
    limit = std::abs(constant.getSExtValue());
  } else if (isa_and_nonnull<arith::IndexCastOp, arith::ExtSIOp>(def)) {
    // Value-preserving between the integer widths of positions.
    f = exactFloatOf(def->getOperand(0), memo);
    limit = f ? bound(def->getOperand(0)) : 0;
  } else if (isa_and_nonnull<arith::AddIOp, arith::SubIOp>(def)) {
    Value lhs = exactFloatOf(def->getOperand(0), memo);
    Value rhs = lhs ? exactFloatOf(def->getOperand(1), memo) : Value();
    limit = bound(def->getOperand(0)) + bound(def->getOperand(1));
    if (!rhs || limit >= kExact)
      return Value();
    auto contract = arith::FastMathFlags::contract;
    f = isa<arith::AddIOp>(def)
            ? Value(arith::AddFOp::create(b, loc, lhs, rhs, contract))
            : Value(arith::SubFOp::create(b, loc, lhs, rhs, contract));
  }
  if (!f)
    return Value();
  memo[v] = {f, limit};
  return f;
}

Value HopperKernelEmitter::inlineModifier(Region &region, ValueRange args) {
  // Values from above (the modifier's tensors) are the function's; outlining
  // passes them to the kernel.
  Block &block = region.front();
  for (auto [arg, value] : llvm::zip(block.getArguments(), args))
    mapping.map(arg, value);
  DenseMap<Value, std::pair<Value, int64_t>> exact;
  for (Operation &op : block.without_terminator()) {
    if (auto convert = dyn_cast<arith::SIToFPOp>(op);
        convert && convert.getType().isF32()) {
      if (Value f = exactFloatOf(mapped(convert.getIn()), exact)) {
        mapping.map(convert.getResult(), f);
        continue;
      }
    }
    Operation *clone = b.clone(op, mapping);
    if (auto math = dyn_cast<arith::ArithFastMathInterface>(clone)) {
      arith::FastMathFlagsAttr flags = math.getFastMathFlagsAttr();
      clone->setAttr(math.getFastMathAttrName(),
                     arith::FastMathFlagsAttr::get(
                         b.getContext(),
                         (flags ? flags.getValue() : arith::FastMathFlags::none) |
                             arith::FastMathFlags::contract));
    }
    modifierOps.push_back(clone);
  }
  return mapped(cast<attn::YieldOp>(block.getTerminator()).getValues().front());
}

/// s = visible ? s : -inf over the thread's fragment, where for row i and
/// column j of the block (key kv_pos + j):
///   visible = j < cols
///         and (L < 0 or kv_pos + j >= i + diag - L)
///         and (R < 0 or kv_pos + j <= i + diag + R).
/// Per row the bounds become a column interval [lo, hi], shifted by the
/// lane's 2·(l mod 4) so that each register compares against a constant;
/// mask_mod's keep bit joins per score.
SmallVector<Value>
HopperKernelEmitter::maskScores(attn::BlockUpdateOp op, ArrayRef<Value> s) {
  attn::MaskAttr mask = op.getMask();
  int64_t left = mask.getWindowLeft(), right = mask.getWindowRight();
  Value qPos = toI32(mapped(op.getQPos())), kvPos = toI32(mapped(op.getKvPos()));
  Value diag = toI32(mapped(op.getDiag())), cols = toI32(mapped(op.getCols()));
  Value negInf = wg.f32(-std::numeric_limits<double>::infinity());
  Value lo[2], hi[2];
  for (int h = 0; h < 2; ++h) {
    // i + diag - kv_pos for the thread's row of half h
    Value row = arith::AddIOp::create(
        b, loc, toI32(lanes.rowInTile), wg.i32(8 * h));
    Value shift = arith::SubIOp::create(
        b, loc, arith::AddIOp::create(b, loc, arith::AddIOp::create(b, loc, qPos, row), diag),
        kvPos);
    Value last = arith::SubIOp::create(b, loc, cols, wg.i32(1));
    if (right >= 0)
      last = arith::MinSIOp::create(
          b, loc, last, arith::AddIOp::create(b, loc, shift, wg.i32(right)));
    hi[h] = arith::SubIOp::create(b, loc, last, lanes.laneColumn);
    if (left >= 0)
      lo[h] = arith::SubIOp::create(
          b, loc, arith::SubIOp::create(b, loc, shift, wg.i32(left)),
          lanes.laneColumn);
  }
  std::optional<ScorePositions> positions;
  if (!op.getMaskMod().empty())
    positions = scorePositions(op);
  SmallVector<Value> out;
  for (auto [r, score] : llvm::enumerate(s)) {
    int64_t h = rowHalfOf(r);
    Value col = wg.i32(columnOf(r));
    Value keep = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, col,
                                       hi[h]);
    if (left >= 0)
      keep = arith::AndIOp::create(
          b, loc, keep,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, col, lo[h]));
    if (!op.getMaskMod().empty())
      keep = arith::AndIOp::create(
          b, loc, keep,
          inlineModifier(op.getMaskMod(), {positions->seq, positions->head,
                                           positions->q[h],
                                           kvIndex(*positions, r)}));
    out.push_back(arith::SelectOp::create(b, loc, keep, score, negInf));
  }
  return out;
}

Value HopperKernelEmitter::stageOffset(Value stage, int64_t stageBytes) {
  Value stageI64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), stage);
  return arith::MulIOp::create(b, loc, stageI64, wg.i64(stageBytes));
}

SmallVector<Value> HopperKernelEmitter::packP(ArrayRef<Value> p) {
  // A of k-step t = P's registers 8t .. 8t+7 as four pairs.
  SmallVector<Value> a;
  for (int64_t r = 0; r + 1 < static_cast<int64_t>(p.size()); r += 2)
    a.push_back(wg.packPair(p[r], p[r + 1]));
  return a;
}

void HopperKernelEmitter::issuePv(SmallVector<Value> &acc, ArrayRef<Value> a,
                                  Value stage) {
  // O += P·V: BlockN/16 k-steps, A = four packed registers per step, B = 16
  // rows of V (2048 bytes) per step. No fence here: every A register must be
  // written before the caller's fence (a register written between two wgmma
  // makes ptxas fence again there, C7519, serializing the chain).
  Value vDesc =
      wg.advance(lanes.vDesc, stageOffset(stage, plan.vStageBytes));
  for (int64_t t = 0; t < plan.blockN / 16; ++t)
    acc = wg.mmaRegisterShared(acc, a.slice(4 * t, 4),
                               wg.advance(vDesc, t * 16 * kSwizzleBytes));
  wg.commitGroup();
}

void HopperKernelEmitter::emitConsumerBlock(attn::BlockUpdateOp op,
                                            Value stage, Value parity,
                                            RoleState &state, bool prologue) {
  int64_t n = plan.blockN;
  Value ticks = idx(10000000);
  bool overlap = plan.pv == PvSchedule::Overlap;
  // Block i = count; under a late release, block i - 1's stage is
  // (i + stages - 1) mod stages.
  Value previousStage = arith::RemUIOp::create(
      b, loc, arith::AddIOp::create(b, loc, state.count, idx(plan.stages - 1)),
      idx(plan.stages));

  // S = Q·Kᵀ: D/16 k-steps; step k reads 32 bytes into 64-column chunk k/4.
  nvgpu::MBarrierTryWaitParityOp::create(b, loc, kFull, parity, ticks, stage);
  Value kDesc = wg.advance(lanes.kDesc, stageOffset(stage, plan.kStageBytes));
  if (plan.pingPong) // my turn to issue
    NVVM::BarrierOp::create(b, loc, Type(), lanes.turnBarrier, wg.i32(256),
                            NVVM::BarrierReductionAttr(), Value());
  wg.fence();
  Value scores;
  for (int64_t k = 0; k < plan.headDim / 16; ++k) {
    int64_t chunk = k / 4, within = (k % 4) * 32;
    scores = wg.mmaSharedShared(
        scores,
        wg.advance(lanes.qDesc, chunk * plan.blockM * kSwizzleBytes + within),
        wg.advance(kDesc, chunk * n * kSwizzleBytes + within), n,
        /*accumulate=*/k > 0);
  }
  wg.commitGroup();
  // Overlap: the previous block's P·V right behind this Q·Kᵀ, in its own
  // group. Every loop block has a previous one (the prologue took the
  // tile's first): a P·V under a condition left accumulators in flight
  // through an scf.if, and ptxas then serialized every wgmma (C7515).
  if (overlap && !prologue)
    issuePv(state.acc, state.pendingP, previousStage);
  if (plan.pingPong) // the next consumer's turn
    NVVM::BarrierArriveOp::create(b, loc, lanes.nextTurnBarrier, wg.i32(256));
  // Serial and deferred: completes this S and (deferred) the previous
  // block's P·V, which ran back to back with this Q·Kᵀ; the previous
  // block's stage is then free. Overlap: completes only this S.
  wg.waitGroup(overlap && !prologue ? 1 : 0);
  nvgpu::MBarrierArriveOp::create(b, loc, kEmpty, stage);
  if (plan.pv == PvSchedule::Deferred) {
    Value notFirst = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt,
                                           state.count, idx(0));
    auto release = scf::IfOp::create(b, loc, notFirst, /*withElse=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(release.thenBlock()->getTerminator());
    nvgpu::MBarrierArriveOp::create(b, loc, vEmpty, previousStage);
  }
  SmallVector<Value> s = wg.unpack(scores, n);

  // Score transform before the max: softcap · tanh(s·scale / softcap).
  double scale = op.getScale().convertToDouble();
  double c = scale * kLog2E; // s·c is the base-2 logit
  bool scaled = false;       // s already holds s·scale (c = log2 e)
  if (FloatAttr softcap = op.getSoftcapAttr()) {
    double cap = softcap.getValueAsDouble();
    for (Value &x : s)
      x = arith::MulFOp::create(
          b, loc, wg.tanh(arith::MulFOp::create(b, loc, x, wg.f32(scale / cap))),
          wg.f32(cap));
    c = kLog2E, scaled = true;
  }
  // score_mod on the natural-domain score: s = score_mod(s·scale, seq, head,
  // q_idx, kv_idx), then s·log2 e is the base-2 logit.
  if (!op.getScoreMod().empty()) {
    ScorePositions positions = scorePositions(op);
    if (!scaled)
      for (Value &x : s)
        x = arith::MulFOp::create(b, loc, x, wg.f32(scale));
    c = kLog2E, scaled = true;
    for (auto [r, x] : llvm::enumerate(s))
      x = inlineModifier(op.getScoreMod(),
                         {x, positions.seq, positions.head,
                          positions.q[rowHalfOf(r)], kvIndex(positions, r)});
  }

  // Masking: boundary blocks (and the overlap prologue's, which may be
  // either) always; an interior block only when it is the ragged last one
  // (cols < BlockN), decided at run time.
  if (op.getMasked() || prologue) {
    s = maskScores(op, s);
  } else {
    Value ragged = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                         mapped(op.getCols()), idx(n));
    SmallVector<Type> types(s.size(), b.getF32Type());
    auto ifOp = scf::IfOp::create(b, loc, types, ragged, /*withElse=*/true);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      scf::YieldOp::create(b, loc, maskScores(op, s));
      b.setInsertionPointToStart(ifOp.elseBlock());
      scf::YieldOp::create(b, loc, s);
    }
    s.assign(ifOp.getResults().begin(), ifOp.getResults().end());
  }

  // m_new = max(m, c · rowmax(s)); m_safe = m_new, or 0 while the row has
  // seen only hidden keys (keeps -inf - -inf out);
  // alpha = exp2(m - m_safe); p = exp2(s·c - m_safe);
  // l = l·alpha + rowsum(p)   (per-thread partial, summed over the quad at
  // the end).
  Value negInf = wg.f32(-std::numeric_limits<double>::infinity());
  Value alpha[2], negSafe[2];
  for (int h = 0; h < 2; ++h) {
    Value rowMax = negInf;
    for (auto [r, x] : llvm::enumerate(s))
      if (rowHalfOf(r) == h)
        rowMax = arith::MaxNumFOp::create(b, loc, rowMax, x);
    rowMax = wg.quadMax(rowMax);
    Value mNew = arith::MaxNumFOp::create(
        b, loc, state.max[h], arith::MulFOp::create(b, loc, rowMax, wg.f32(c)));
    Value isEmpty =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, mNew, negInf);
    Value mSafe = arith::SelectOp::create(b, loc, isEmpty, wg.f32(0), mNew);
    alpha[h] = wg.exp2(arith::SubFOp::create(b, loc, state.max[h], mSafe));
    negSafe[h] = arith::NegFOp::create(b, loc, mSafe);
    state.max[h] = mNew;
  }
  SmallVector<Value> p;
  for (auto [r, x] : llvm::enumerate(s))
    p.push_back(wg.exp2(wg.fma(x, wg.f32(c), negSafe[rowHalfOf(r)])));
  for (int h = 0; h < 2; ++h) {
    Value sum = arith::MulFOp::create(b, loc, state.sum[h], alpha[h]);
    for (auto [r, x] : llvm::enumerate(p))
      if (rowHalfOf(r) == h)
        sum = arith::AddFOp::create(b, loc, sum, x);
    state.sum[h] = sum;
  }

  // This block's V must have landed before its P·V is issued (here, or with
  // the next Q·Kᵀ under overlap).
  nvgpu::MBarrierTryWaitParityOp::create(b, loc, vFull, parity, ticks, stage);
  auto rescale = [&] {
    for (auto [r, x] : llvm::enumerate(state.acc))
      x = arith::MulFOp::create(b, loc, x, alpha[rowHalfOf(r)]);
  };
  if (overlap) {
    // O = (O + P_{i-1}·V_{i-1})·alpha_i once that P·V is done (the
    // prologue's O is still 0); P_i waits for the next Q·Kᵀ or the epilogue.
    // P_i is packed only once P·V_{i-1} is done: the carried P registers are
    // that P·V's inputs, and writing them while it runs made ptxas
    // serialize every wgmma (C7513).
    if (!prologue) {
      wg.waitGroup(0);
      nvgpu::MBarrierArriveOp::create(b, loc, vEmpty, previousStage);
      rescale();
    }
    state.pendingP = packP(p);
    return;
  }
  // O = O·alpha + P·V.
  rescale();
  SmallVector<Value> a = packP(p);
  wg.fence();
  issuePv(state.acc, a, stage);
  if (plan.pv == PvSchedule::Deferred)
    return; // in flight: the next block's wait (or the loop's) completes it
  wg.waitGroup(0);
  nvgpu::MBarrierArriveOp::create(b, loc, vEmpty, stage);
}

void HopperKernelEmitter::emitEpilogue(attn::BlockFinalizeOp op,
                                       RoleState &state) {
  // Q is no longer read (the last Q·Kᵀ completed in the last block): the
  // producer may load the next tile's (after the O store has read it when O
  // is staged there).
  if (plan.ctas && plan.epilogue != Epilogue::TmaInQ)
    nvgpu::MBarrierArriveOp::create(b, loc, qEmpty, idx(0));
  if (plan.pv == PvSchedule::Overlap) {
    // The tile's last P·V (none when it had no KV block); its stage is
    // released here, not by the next tile. Completed inside the branch, so
    // no accumulator leaves it in flight.
    Value hasLast = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt,
                                          state.count, state.tileStart);
    SmallVector<Type> types(state.acc.size(), b.getF32Type());
    auto ifOp = scf::IfOp::create(b, loc, types, hasLast, /*withElse=*/true);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      Value last = arith::RemUIOp::create(
          b, loc,
          arith::AddIOp::create(b, loc, state.count, idx(plan.stages - 1)),
          idx(plan.stages));
      SmallVector<Value> acc = state.acc;
      wg.fence();
      issuePv(acc, state.pendingP, last);
      wg.waitGroup(0);
      nvgpu::MBarrierArriveOp::create(b, loc, vEmpty, last);
      scf::YieldOp::create(b, loc, acc);
      b.setInsertionPointToStart(ifOp.elseBlock());
      scf::YieldOp::create(b, loc, state.acc);
    }
    state.acc.assign(ifOp.getResults().begin(), ifOp.getResults().end());
  } else {
    // The last block's deferred P·V.
    wg.waitGroup(0);
  }
  // O = l > 0 ? acc / l : 0;  LSE = l > 0 ? (m + log2 l)·ln 2 : -inf,
  // with l summed over the quad first.
  Value zero = wg.f32(0);
  Value inv[2], lse[2];
  for (int h = 0; h < 2; ++h) {
    Value l = wg.quadSum(state.sum[h]);
    Value positive =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, l, zero);
    inv[h] = arith::SelectOp::create(
        b, loc, positive, arith::DivFOp::create(b, loc, wg.f32(1), l), zero);
    Value value = arith::MulFOp::create(
        b, loc, arith::AddFOp::create(b, loc, state.max[h], wg.log2(l)),
        wg.f32(kLn2));
    lse[h] = arith::SelectOp::create(
        b, loc, positive, value,
        wg.f32(-std::numeric_limits<double>::infinity()));
  }
  Value rows = mapped(op.getRows()), rowBase = mapped(op.getRow());
  Value batch = mapped(op.getBatch()), head = mapped(op.getHead());
  Value out = op.getOut(), lseOut = op.getLse();
  Value colBase = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                             lanes.laneColumn);
  // O in pairs where it can: registers r and r + 1 hold columns c and c + 1
  // of one row, written as one 4-byte word (half the store instructions and
  // address arithmetic of 2-byte stores; the launcher checks that 16-bit
  // tensors are 4-byte aligned). Address = base + 2·(((b·S + row)·H + h)·Dv
  // + c) in the static [B, S, H, Dv] layout.
  auto outMemref = cast<MemRefType>(out.getType());
  Type outType = outMemref.getElementType();
  bool packed = outType == plan.element && outMemref.hasStaticShape() &&
                outMemref.getLayout().isIdentity();
  if (plan.storesThroughTma()) {
    packed = false;
    storeOThroughTma(op, state, inv);
  }
  Value outAddress;
  if (packed)
    outAddress = arith::IndexCastOp::create(
        b, loc, b.getI64Type(),
        memref::ExtractAlignedPointerAsIndexOp::create(b, loc, out));
  for (int h = 0; h < 2; ++h) {
    Value local = arith::AddIOp::create(b, loc, lanes.rowInTile, idx(8 * h));
    Value inside =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, local, rows);
    auto guard = scf::IfOp::create(b, loc, inside, /*withElse=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(guard.thenBlock()->getTerminator());
    Value row = arith::AddIOp::create(b, loc, rowBase, local);
    if (packed) {
      ArrayRef<int64_t> shape = outMemref.getShape();
      Value rowElement = arith::MulIOp::create(
          b, loc,
          arith::AddIOp::create(
              b, loc,
              arith::MulIOp::create(
                  b, loc,
                  arith::AddIOp::create(
                      b, loc, arith::MulIOp::create(b, loc, batch, idx(shape[1])),
                      row),
                  idx(shape[2])),
              head),
          idx(shape[3]));
      Value rowAddress = arith::AddIOp::create(
          b, loc, outAddress,
          arith::IndexCastOp::create(
              b, loc, b.getI64Type(),
              arith::MulIOp::create(
                  b, loc, arith::AddIOp::create(b, loc, rowElement, colBase),
                  idx(2))));
      // A global (address space 1) pointer: st.global, not a generic store.
      auto ptrType = LLVM::LLVMPointerType::get(b.getContext(), 1);
      for (int64_t r = 0; r + 1 < static_cast<int64_t>(state.acc.size()); r += 2) {
        if (rowHalfOf(r) != h)
          continue;
        Value word = wg.packPair(
            arith::MulFOp::create(b, loc, state.acc[r], inv[h]),
            arith::MulFOp::create(b, loc, state.acc[r + 1], inv[h]));
        Value address = arith::AddIOp::create(b, loc, rowAddress,
                                              wg.i64(2 * columnOf(r)));
        LLVM::StoreOp::create(
            b, loc, word, LLVM::IntToPtrOp::create(b, loc, ptrType, address),
            /*alignment=*/4);
      }
    } else if (!plan.storesThroughTma()) {
      for (auto [r, x] : llvm::enumerate(state.acc)) {
        if (rowHalfOf(r) != h)
          continue;
        Value v = arith::TruncFOp::create(
            b, loc, outType, arith::MulFOp::create(b, loc, x, inv[h]));
        Value col = arith::AddIOp::create(b, loc, colBase, idx(columnOf(r)));
        memref::StoreOp::create(b, loc, v, out,
                                ValueRange{batch, row, head, col});
      }
    }
    if (lseOut) {
      auto leader = scf::IfOp::create(b, loc, lanes.quadLeader, false);
      OpBuilder::InsertionGuard g2(b);
      b.setInsertionPoint(leader.thenBlock()->getTerminator());
      memref::StoreOp::create(b, loc, lse[h], lseOut,
                              ValueRange{batch, head, row});
    }
  }
}

std::array<Value, 3> HopperKernelEmitter::threadConsumerLeader() {
  Value thread = wg.freshThreadId();
  Value c = arith::SubIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, thread, idx(128)), idx(1));
  Value leader = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::eq,
      arith::RemUIOp::create(b, loc, thread, idx(128)), idx(0));
  return {thread, c, leader};
}

void HopperKernelEmitter::syncConsumer(Value c) {
  Value id = arith::AddIOp::create(b, loc, toI32(c), wg.i32(4));
  NVVM::BarrierOp::create(b, loc, Type(), id, wg.i32(128),
                          NVVM::BarrierReductionAttr(), Value());
}

void HopperKernelEmitter::onLeader(Value leader, function_ref<void()> body) {
  auto ifOp = scf::IfOp::create(b, loc, leader, /*withElse=*/false);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  body();
}

void HopperKernelEmitter::storeOThroughTma(attn::BlockFinalizeOp op,
                                           RoleState &state, Value inv[2]) {
  MLIRContext *ctx = b.getContext();
  auto [thread, consumer, leader] = threadConsumerLeader();
  // An own buffer is rewritten every tile: the previous tile's store must
  // have read it.
  if (plan.epilogue == Epilogue::Tma && plan.ctas) {
    onLeader(leader, [&] {
      NVVM::CpAsyncBulkWaitGroupOp::create(b, loc, 0, b.getUnitAttr());
    });
    syncConsumer(consumer);
  }
  // The buffer has Q's layout: 64-column chunk k at k·BlockM·128 bytes, row
  // r at r·128 within it, its 16-byte unit u at (u ⊕ r mod 8)·16 (the
  // 128-byte swizzle TMA undoes). stmatrix.x4 writes four 8x8 matrices of a
  // warp: (rows +0, cols 8j), (rows +8, 8j), (+0, 8j + 8), (+8, 8j + 8),
  // i.e. the fragment pairs r = 4j + 2h (h = row half); lane l gives the
  // address of row l mod 8 of matrix l/8, so its row is 16w + 8·((l/8) mod 2)
  // + l mod 8 and its unit 2·(j mod 4) + l/16, i.e. (j mod 8) ⊕ l/16 for
  // even j.
  Value local = arith::RemUIOp::create(b, loc, thread, idx(128));
  Value warp = arith::DivUIOp::create(b, loc, local, idx(32));
  Value lane = arith::RemUIOp::create(b, loc, local, idx(32));
  Value laneRow = arith::RemUIOp::create(b, loc, lane, idx(8));
  Value row = arith::AddIOp::create(
      b, loc,
      arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, consumer, idx(64)),
          arith::MulIOp::create(b, loc, warp, idx(16))),
      arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(
              b, loc,
              arith::RemUIOp::create(
                  b, loc, arith::DivUIOp::create(b, loc, lane, idx(8)), idx(2)),
              idx(8)),
          laneRow));
  Value laneUnit = arith::XOrIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, lane, idx(16)), laneRow);
  Value address = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, smem);
  Value rowAddress = arith::AddIOp::create(
      b, loc, arith::AddIOp::create(b, loc, address, base),
      arith::AddIOp::create(b, loc, idx(plan.oOffset),
                            arith::MulIOp::create(b, loc, row, idx(128))));
  auto sharedPtr = LLVM::LLVMPointerType::get(ctx, 3);
  auto word = [&](int64_t h, int64_t j) {
    int64_t r = 4 * j + 2 * h;
    return wg.packPair(arith::MulFOp::create(b, loc, state.acc[r], inv[h]),
                       arith::MulFOp::create(b, loc, state.acc[r + 1], inv[h]));
  };
  for (int64_t j = 0; j < plan.headDimV / 8; j += 2) {
    Value unit = arith::XOrIOp::create(b, loc, laneUnit, idx(j % 8));
    Value at = arith::AddIOp::create(
        b, loc, rowAddress,
        arith::AddIOp::create(
            b, loc, idx(j / 8 * plan.blockM * kSwizzleBytes),
            arith::MulIOp::create(b, loc, unit, idx(16))));
    Value ptr = LLVM::IntToPtrOp::create(
        b, loc, sharedPtr,
        Value(arith::IndexCastOp::create(b, loc, b.getI64Type(), at)));
    NVVM::StMatrixOp::create(
        b, loc, ptr, ValueRange{word(0, j), word(1, j), word(0, j + 1), word(1, j + 1)},
        NVVM::MMALayout::row, NVVM::LdStMatrixShapeAttr::get(ctx, 8, 8),
        NVVM::LdStMatrixEltType::B16);
  }
  // The generic-proxy writes made visible to the TMA unit (async proxy),
  // then one thread stores the warpgroup's 64 rows, chunk by chunk (rows
  // past the sequence are outside the tensor: TMA does not write them).
  NVVM::FenceProxyOp::create(
      b, loc, NVVM::ProxyKind::async_shared,
      NVVM::SharedSpaceAttr::get(ctx, NVVM::SharedSpace::shared_cta));
  syncConsumer(consumer);
  auto workgroup =
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  auto tileType = MemRefType::get({1, 64, 1, kChunkElements}, plan.element,
                                  MemRefLayoutAttrInterface{}, workgroup);
  Value rowsOfConsumer = arith::MulIOp::create(b, loc, consumer, idx(64));
  Value firstRow = arith::AddIOp::create(b, loc, mapped(op.getRow()), rowsOfConsumer);
  onLeader(leader, [&] {
    for (int64_t k = 0; k < plan.headDimV / kChunkElements; ++k) {
      Value byte = arith::AddIOp::create(
          b, loc, base,
          arith::AddIOp::create(
              b, loc, idx(plan.oOffset + k * plan.blockM * kSwizzleBytes),
              arith::MulIOp::create(b, loc, rowsOfConsumer, idx(kSwizzleBytes))));
      Value view =
          memref::ViewOp::create(b, loc, tileType, smem, byte, ValueRange{});
      nvgpu::TmaAsyncStoreOp::create(
          b, loc, view, maps[3],
          ValueRange{idx(k * kChunkElements), mapped(op.getHead()), firstRow,
                     mapped(op.getBatch())},
          Value());
    }
    NVVM::CpAsyncBulkCommitGroupOp::create(b, loc);
    // Q's buffer holds the next tile's Q only once the store has read it.
    if (plan.epilogue == Epilogue::TmaInQ && plan.ctas)
      NVVM::CpAsyncBulkWaitGroupOp::create(b, loc, 0, b.getUnitAttr());
  });
  if (plan.epilogue == Epilogue::TmaInQ && plan.ctas) {
    syncConsumer(consumer);
    nvgpu::MBarrierArriveOp::create(b, loc, qEmpty, idx(0));
  }
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

namespace {
/// index_cast(index_cast(x : iN -> index) : index -> iM), M > N -> extsi x:
/// what the narrowing leaves where a modifier casts a position to i64.
struct WidenThroughIndex final : OpRewritePattern<arith::IndexCastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::IndexCastOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getIn().getDefiningOp<arith::IndexCastOp>();
    auto from = inner ? dyn_cast<IntegerType>(inner.getIn().getType()) : nullptr;
    auto to = dyn_cast<IntegerType>(op.getType());
    if (!from || !to || from.getWidth() >= to.getWidth())
      return failure();
    rewriter.replaceOpWithNewOp<arith::ExtSIOp>(op, to, inner.getIn());
    return success();
  }
};

/// sitofp(extsi x) -> sitofp x (the extension keeps the value): an i32
/// conversion instead of the multi-instruction i64 one.
struct ConvertBeforeExtension final : OpRewritePattern<arith::SIToFPOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::SIToFPOp op,
                                PatternRewriter &rewriter) const override {
    auto ext = op.getIn().getDefiningOp<arith::ExtSIOp>();
    if (!ext)
      return failure();
    rewriter.replaceOpWithNewOp<arith::SIToFPOp>(op, op.getType(), ext.getIn());
    return success();
  }
};
} // namespace

LogicalResult HopperKernelEmitter::run() {
  if (failed(addTensorMapArguments()))
    return failure();
  OpBuilder::InsertionGuard g(b);
  emitLaunch();
  // Warpgroup 0 produces, warpgroups 1.. consume; the roles are disjoint
  // branches (setmaxnreg needs that).
  Value producer = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ult, tid, idx(128));
  auto roles = scf::IfOp::create(b, loc, producer, /*withElse=*/true);
  Block &program = *grid.getBody();
  {
    OpBuilder::InsertionGuard g2(b);
    b.setInsertionPoint(roles.thenBlock()->getTerminator());
    if (failed(emitRole(Role::Producer, program)))
      return failure();
    b.setInsertionPoint(roles.elseBlock()->getTerminator());
    if (failed(emitRole(Role::Consumer, program)))
      return failure();
  }
  grid.erase();
  narrowModifierArithmetic();
  return success();
}

void HopperKernelEmitter::narrowModifierArithmetic() {
  if (modifierOps.empty())
    return;
  // As --arith-int-range-narrowing does, but only on the modifiers' ops: the
  // rest of the kernel is left as emitted (and measured).
  DataFlowSolver solver;
  dataflow::loadBaselineAnalyses(solver);
  solver.load<dataflow::IntegerRangeAnalysis>();
  // On the function: the launch reads grid bounds defined above it.
  if (failed(solver.initializeAndRun(func)))
    return; // an optimization: without ranges the i64 arithmetic stays
  RewritePatternSet patterns(func.getContext());
  arith::populateIntRangeNarrowingPatterns(patterns, solver, {32});
  patterns.add<WidenThroughIndex, ConvertBeforeExtension>(func.getContext());
  // Erased ops leave the solver (their results' ranges no longer hold).
  struct SolverListener final : RewriterBase::Listener {
    explicit SolverListener(DataFlowSolver &solver) : solver(solver) {}
    void notifyOperationErased(Operation *op) override {
      solver.eraseState(solver.getProgramPointAfter(op));
      for (Value result : op->getResults())
        solver.eraseState(result);
    }
    DataFlowSolver &solver;
  } listener(solver);
  GreedyRewriteConfig config;
  config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps)
      .setUseTopDownTraversal(false)
      .setListener(&listener);
  (void)applyOpPatternsGreedily(modifierOps, std::move(patterns), config);
  modifierOps.clear();
}

namespace {
struct AttnLowerToHopperPass final
    : flashmlir::impl::AttnLowerToHopperPassBase<AttnLowerToHopperPass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(checkProgramGrids(getOperation(), getArgument())))
      return signalPassFailure();
    SmallVector<scf::ParallelOp> grids;
    getOperation().walk([&](scf::ParallelOp op) {
      if (op->hasAttr(kProgramGridAttrName))
        grids.push_back(op);
    });
    for (scf::ParallelOp grid : grids) {
      auto attr = grid->getAttrOfType<DictionaryAttr>(kHopperPlanAttrName);
      if (!attr) {
        grid.emitOpError()
            << getArgument() << ": the program grid has no "
            << kHopperPlanAttrName
            << ": run --attn-plan-hopper first (or --attn-warp-specialize)";
        return signalPassFailure();
      }
      FailureOr<KernelPlan> plan =
          planFromAttr(grid, attr, maxSharedMemory, getArgument());
      if (failed(plan) ||
          failed(HopperKernelEmitter(grid, getOperation(), *plan).run()))
        return signalPassFailure();
    }
  }
};
} // namespace
