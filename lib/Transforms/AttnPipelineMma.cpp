//===- AttnPipelineMma.cpp - --attn-pipeline-mma ---------------------------===//
//
// The third stage of --attn-warp-specialize: the consumers' MMAs become
// asynchronous (attn.mma_async / attn.mma_wait) in the order the plan's
// pv_schedule says. With block i's matmuls S_i = Q·K_iᵀ and O += P_i·V_i:
//
//   serial    S_i, wait; softmax_i; P_i·V_i, wait; release V_i
//   deferred  P_i·V_i stays in flight across the back-edge: block i+1 issues
//             S_{i+1} and waits for both (MMAs complete in order), then
//             releases V_i; each loop's last P·V completes at its exit
//   overlap   FlashAttention-3's intra-warpgroup overlap: the tile's first
//             block is peeled into a prologue (S_0, softmax_0 -> P_0); block
//             i issues S_i and P_{i-1}·V_{i-1}, waits for S_i only, runs
//             softmax_i while that P·V runs, then O = (O + P_{i-1}·V_{i-1})
//             · alpha_i and releases V_{i-1}; after the last loop one P·V
//             remains (when any block ran)
//
// The KV loops of attn-tile differ only in their bounds and in how much they
// mask; the overlap prologue takes the body of a loop that masks fully (any
// block may be the tile's first), so a masked loop's when there is one.
//
// The backward's main program (grad_kv), per q-block i of a consumer's keys:
// S_i = Q·K_cᵀ, dP_i = dO·V_cᵀ, dV += P_iᵀ·dO, dK += dS_iᵀ·Q, dQ_i = dS_i·K_c.
// The register tiles an MMA reads transposed (P and dS of dV and dK: wgmma
// takes register A operands K-major only) are staged in shared memory first
// (attn.tile_stage); dQ reads the staged dS too (K-major), so dS's registers
// are free once it is staged. With n > 1 consumers dQ is split by columns
// rather than by keys (split-dq): consumer c computes
//   dQ_i[:, cD/n, (c+1)D/n) = [dS_i of every consumer] · K[:, cD/n, (c+1)D/n)
// from the staged dS of all consumers (attn.tile_gather) and adds those
// columns into dQ's accumulator: each q-block's reduction into global memory
// is R·D values per program instead of n·R·D.
//
//   serial    each MMA waited for where it was
//   overlap   S_i and dP_i issued together; wait S_i (which completes
//             dV_{i-1} and dK_{i-1}: their Q and dO are released, their
//             staged P and dS free again); P_i while dP_i runs; wait dP_i;
//             dS_i; dQ_i, dV_i, dK_i issued together, wait dQ_i only: its
//             accumulate store runs while dV_i and dK_i do, which stay in
//             flight across the back-edge (the loop carries dK, dV as
//             !attn.async, from attn.mma_ready); each loop's last ones
//             complete at its exit
//
//===----------------------------------------------------------------------===//

#include "HopperPlan.h"

#include "flashmlir/Transforms/Passes.h"

#include "attn/Attn.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/IR/IRMapping.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNPIPELINEMMAPASS
#include "flashmlir/Transforms/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

namespace {
/// The ops of one KV block in a consumer's loop body.
struct KvBlock {
  attn::ChannelGetOp get;
  attn::TileMatmulOp scores;   // S = Q·Kᵀ (rhs: part 0)
  attn::TileMatmulOp pv;       // acc' = acc·alpha + P·V (rhs: part 1)
  attn::ChannelReleaseOp releaseV;
  attn::TileMapOp rescale;     // pv's dest: acc·alpha
  attn::TileMapOp cast;        // pv's lhs: P in V's type
};
} // namespace

/// Finds the block's ops in `loop`'s body, or diagnoses.
static FailureOr<KvBlock> matchKvBlock(scf::ForOp loop) {
  KvBlock kv;
  for (Operation &op : *loop.getBody()) {
    if (auto get = dyn_cast<attn::ChannelGetOp>(op); get && get.getTiles().size() == 2)
      kv.get = get;
    if (auto mm = dyn_cast<attn::TileMatmulOp>(op)) {
      if (kv.get && mm.getRhs() == kv.get.getTiles()[0])
        kv.scores = mm;
      if (kv.get && mm.getRhs() == kv.get.getTiles()[1])
        kv.pv = mm;
    }
    if (auto release = dyn_cast<attn::ChannelReleaseOp>(op);
        release && kv.get && release.getToken() == kv.get.getToken() &&
        release.getPart() == 1)
      kv.releaseV = release;
  }
  if (!kv.get || !kv.scores || !kv.pv || !kv.releaseV)
    return loop.emitOpError()
           << "attn-pipeline-mma: expected a consumer's KV loop (a K/V get, "
              "Q·Kᵀ, P·V and V's release in one body)";
  kv.rescale = kv.pv.getDest().getDefiningOp<attn::TileMapOp>();
  kv.cast = kv.pv.getLhs().getDefiningOp<attn::TileMapOp>();
  auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
  if (!kv.rescale || !kv.cast || yield.getNumOperands() < 1 ||
      yield.getOperand(0) != kv.pv.getResult() ||
      kv.rescale.getInputs().front() != loop.getRegionIterArgs()[0])
    return loop.emitOpError()
           << "attn-pipeline-mma: expected the accumulator (iter_arg 0) "
              "rescaled, then P·V accumulated into it and yielded";
  return kv;
}

/// `mm` as an asynchronous MMA issued at its place; returns the issue.
static attn::MmaAsyncOp issueAsync(OpBuilder &b, attn::TileMatmulOp mm,
                                   Value lhs, Value rhs, Value dest) {
  auto type = cast<RankedTensorType>(mm.getResult().getType());
  return attn::MmaAsyncOp::create(b, mm.getLoc(),
                                  attn::AsyncType::get(b.getContext(), type),
                                  lhs, rhs, dest, mm.getTransposeLhsAttr(),
                                  mm.getTransposeRhsAttr());
}

/// `mm` = wait(issue(mm)): the synchronous MMA made explicit.
static attn::MmaWaitOp makeSerial(attn::TileMatmulOp mm) {
  OpBuilder b(mm);
  auto issue = issueAsync(b, mm, mm.getLhs(), mm.getRhs(), mm.getDest());
  auto wait = attn::MmaWaitOp::create(b, mm.getLoc(), mm.getResult().getType(),
                                      issue);
  mm.getResult().replaceAllUsesWith(wait.getResult());
  mm.erase();
  return wait;
}

/// A new loop like `loop` whose iter_args are `inits`; `body` fills the new
/// body (the old body's ops are moved there first, its block arguments
/// mapped by `mapArgs`) and returns what it yields.
static scf::ForOp rebuildLoop(
    scf::ForOp loop, ValueRange inits,
    function_ref<void(Block &, ValueRange newArgs)> mapArgs) {
  OpBuilder b(loop);
  auto newLoop = scf::ForOp::create(b, loop.getLoc(), loop.getLowerBound(),
                                    loop.getUpperBound(), loop.getStep(),
                                    inits);
  Block &body = *newLoop.getBody();
  if (body.mightHaveTerminator())
    body.getTerminator()->erase();
  Block &old = *loop.getBody();
  loop.getInductionVar().replaceAllUsesWith(newLoop.getInductionVar());
  mapArgs(old, newLoop.getRegionIterArgs());
  body.getOperations().splice(body.end(), old.getOperations());
  return newLoop;
}

namespace {
class MmaPipeliner {
public:
  MmaPipeliner(attn::WarpSpecializeOp ws, attn::HopperPlanAttr plan,
               bool backward, bool splitDq)
      : ws(ws), plan(plan), backward(backward), splitDq(splitDq) {}
  LogicalResult run();

private:
  LogicalResult serial(Block &consumer);
  LogicalResult deferred(scf::ForOp loop);
  LogicalResult overlap(Block &block, SmallVector<scf::ForOp> loops);
  LogicalResult gradOverlap(scf::ForOp loop);

  attn::WarpSpecializeOp ws;
  attn::HopperPlanAttr plan;
  bool backward, splitDq;
};

/// The ops of one q-block in a backward consumer's loop body.
struct QBlock {
  attn::ChannelGetOp get;
  attn::TileMatmulOp s, dp, dv, dk, dq;
  /// The releases of the parts dV and dK read (dO, Q).
  attn::ChannelReleaseOp releaseDout, releaseQuery;
  /// dK's and dV's positions among the loop's iter_args.
  unsigned dkIndex = 0, dvIndex = 0;
};
} // namespace

static bool isRegisterTile(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  auto layout =
      type ? dyn_cast_or_null<attn::LayoutAttr>(type.getEncoding()) : nullptr;
  return layout && (layout.getKind() == attn::LayoutKind::OperandA ||
                    layout.getKind() == attn::LayoutKind::Accumulator);
}

/// A register tile read transposed by an MMA (the backward's P and dS as
/// dV's and dK's A) goes through shared memory: one attn.tile_stage right
/// after its definition, shared by the MMAs that read it so.
static void stageTransposedOperands(Block &consumer) {
  SmallVector<attn::TileMatmulOp> matmuls;
  consumer.walk([&](attn::TileMatmulOp mm) {
    if (mm.getTransposeLhs() && isRegisterTile(mm.getLhs()))
      matmuls.push_back(mm);
  });
  DenseMap<Value, Value> staged;
  for (attn::TileMatmulOp mm : matmuls) {
    Value tile = mm.getLhs();
    Value &copy = staged[tile];
    if (!copy) {
      OpBuilder b(mm.getContext());
      if (Operation *def = tile.getDefiningOp())
        b.setInsertionPointAfter(def);
      else
        b.setInsertionPointToStart(cast<BlockArgument>(tile).getOwner());
      auto type = cast<RankedTensorType>(tile.getType());
      copy = attn::TileStageOp::create(
          b, mm.getLoc(),
          RankedTensorType::get(
              type.getShape(), type.getElementType(),
              attn::LayoutAttr::get(b.getContext(), attn::LayoutKind::Shared)),
          tile);
    }
    mm.getLhsMutable().assign(copy);
  }
  // The other MMAs reading a staged tile (dQ = dS·K) read the copy: at the
  // consumer's peak (dK and dV in flight, dQ's accumulator) dS's 16 A
  // registers left ptxas short (spills, wgmma serialized: C7512).
  consumer.walk([&](attn::TileMatmulOp mm) {
    if (Value copy = staged.lookup(mm.getLhs()))
      mm.getLhsMutable().assign(copy);
  });
}

/// split-dq: dQ_i = dS_i·K_c ([R, D] from the consumer's 64 keys) becomes
/// dQ_i[:, c·D/n + (0..D/n)] = gather(dS_i)·K[:, c·D/n + (0..D/n)] ([R, D/n]
/// from every consumer's keys), its accumulating store from column c·D/n on.
/// Where D/n is not a whole number of 64-column K chunks (D = 64 with two
/// consumers: a share would cut the 128-byte swizzle rows), dQ stays whole.
static void splitDqByColumns(Block &consumer, int64_t consumers) {
  if (consumers < 2)
    return;
  Value consumerIndex = consumer.getArgument(0);
  SmallVector<attn::TileMatmulOp> dqs;
  consumer.walk([&](attn::TileMatmulOp mm) {
    if (!mm.getTransposeLhs() && !mm.getTransposeRhs() &&
        mm.getLhs().getDefiningOp<attn::TileStageOp>() &&
        mm.getRhs().getDefiningOp<tensor::ExtractSliceOp>())
      dqs.push_back(mm);
  });
  for (attn::TileMatmulOp mm : dqs) {
    auto kRows = mm.getRhs().getDefiningOp<tensor::ExtractSliceOp>();
    auto fill = mm.getDest().getDefiningOp<attn::TileFillOp>();
    auto key = cast<RankedTensorType>(kRows.getSource().getType());
    auto dest = cast<RankedTensorType>(mm.getDest().getType());
    auto staged = cast<RankedTensorType>(mm.getLhs().getType());
    int64_t headDim = key.getDimSize(1),
            share = hopper::dqShareColumns(headDim, consumers);
    if (!fill || share == headDim)
      continue;
    Location loc = mm.getLoc();
    // K's columns of the consumer, next to its rows (before every loop).
    OpBuilder b(kRows->getNextNode());
    Value column = arith::MulIOp::create(
        b, loc, consumerIndex, arith::ConstantIndexOp::create(b, loc, share));
    auto kColsType = RankedTensorType::get({key.getDimSize(0), share},
                                           key.getElementType(),
                                           key.getEncoding());
    Value kCols = tensor::ExtractSliceOp::create(
        b, loc, kColsType, kRows.getSource(),
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), column},
        ArrayRef<OpFoldResult>{b.getIndexAttr(key.getDimSize(0)),
                               b.getIndexAttr(share)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    // Every consumer's dS, and the share's zero accumulator, where dQ was.
    b.setInsertionPoint(mm);
    auto gatheredType = RankedTensorType::get(
        {staged.getDimSize(0), consumers * staged.getDimSize(1)},
        staged.getElementType(), staged.getEncoding());
    Value gathered =
        attn::TileGatherOp::create(b, loc, gatheredType, mm.getLhs());
    auto shareType = RankedTensorType::get({dest.getDimSize(0), share},
                                           dest.getElementType(),
                                           dest.getEncoding());
    Value empty =
        bufferization::AllocTensorOp::create(b, loc, shareType, ValueRange{});
    Value zeros =
        attn::TileFillOp::create(b, loc, shareType, fill.getValue(), empty)
            .getResult();
    Value dq = attn::TileMatmulOp::create(b, loc, shareType, gathered, kCols,
                                          zeros, /*transpose_lhs=*/false,
                                          /*transpose_rhs=*/false)
                   .getResult();
    for (OpOperand &use : llvm::make_early_inc_range(mm->getUses())) {
      auto store = dyn_cast<attn::TileStoreOp>(use.getOwner());
      if (store && store.getAccumulate())
        store.getColumnMutable().assign(column);
    }
    mm.getResult().replaceAllUsesWith(dq);
    mm.erase();
    if (fill->use_empty()) {
      Operation *alloc = fill.getDest().getDefiningOp();
      fill.erase();
      if (alloc && alloc->use_empty())
        alloc->erase();
    }
  }
}

/// Finds the q-block's ops in `loop`'s body, or diagnoses.
static FailureOr<QBlock> matchQBlock(scf::ForOp loop) {
  QBlock q;
  Block &body = *loop.getBody();
  SmallVector<attn::TileMatmulOp> mms;
  for (Operation &op : body) {
    if (auto get = dyn_cast<attn::ChannelGetOp>(op))
      q.get = get;
    else if (auto mm = dyn_cast<attn::TileMatmulOp>(op))
      mms.push_back(mm);
  }
  for (attn::TileMatmulOp mm : mms)
    if (!mm.getTransposeLhs() && !mm.getTransposeRhs())
      q.dq = mm;
  auto fail = [&]() {
    return loop.emitOpError()
           << "attn-pipeline-mma: expected a backward q-block loop (a get of "
              "Q, dO, LSE and D, the MMAs S = Q·Kᵀ, dP = dO·Vᵀ, dV += Pᵀ·dO, "
              "dK += dSᵀ·Q, dQ = dS·K accumulating dK and dV from the "
              "iter_args, and the releases of Q and dO in one body)";
  };
  if (!q.get || !q.dq)
    return fail();
  // S reads K as dQ does (K_c, or K's columns of the consumer under
  // split-dq: slices of one K tile); dP reads V.
  auto tileOf = [](Value v) {
    auto slice = v.getDefiningOp<tensor::ExtractSliceOp>();
    return slice ? slice.getSource() : v;
  };
  for (attn::TileMatmulOp mm : mms)
    if (mm.getTransposeRhs())
      (tileOf(mm.getRhs()) == tileOf(q.dq.getRhs()) ? q.s : q.dp) = mm;
  for (attn::TileMatmulOp mm : mms)
    if (mm.getTransposeLhs() && q.s && q.dp) {
      if (mm.getRhs() == q.s.getLhs())
        q.dk = mm;
      else if (mm.getRhs() == q.dp.getLhs())
        q.dv = mm;
    }
  if (!q.s || !q.dp || !q.dk || !q.dv)
    return fail();
  auto partOf = [&](Value tile) -> std::optional<int64_t> {
    for (auto [i, t] : llvm::enumerate(q.get.getTiles()))
      if (t == tile)
        return i;
    return std::nullopt;
  };
  std::optional<int64_t> queryPart = partOf(q.s.getLhs()),
                         doutPart = partOf(q.dp.getLhs());
  for (auto release : body.getOps<attn::ChannelReleaseOp>()) {
    if (release.getToken() != q.get.getToken())
      continue;
    if (release.getPart() == queryPart)
      q.releaseQuery = release;
    else if (release.getPart() == doutPart)
      q.releaseDout = release;
  }
  auto yield = cast<scf::YieldOp>(body.getTerminator());
  auto indexOf = [&](attn::TileMatmulOp mm) -> std::optional<unsigned> {
    for (auto [i, v] : llvm::enumerate(yield.getOperands()))
      if (v == mm.getResult() &&
          mm.getDest() == loop.getRegionIterArgs()[i])
        return i;
    return std::nullopt;
  };
  std::optional<unsigned> dk = indexOf(q.dk), dv = indexOf(q.dv);
  if (!q.releaseQuery || !q.releaseDout || !dk || !dv)
    return fail();
  // dP's zero destination moves up to its issue next to S (with its
  // constant).
  auto fill = q.dp.getDest().getDefiningOp<attn::TileFillOp>();
  if (!fill || fill->getBlock() != &body)
    return fail();
  for (Value operand : fill->getOperands())
    if (Operation *def = operand.getDefiningOp();
        def && def->getBlock() == &body && q.s->isBeforeInBlock(def) &&
        !def->hasTrait<OpTrait::ConstantLike>())
      return fail();
  q.dkIndex = *dk;
  q.dvIndex = *dv;
  return q;
}

// The backward's overlapped q-block loop: the loop carries (..., dK and dV
// in flight, the previous q-block's token, whether there is one).
LogicalResult MmaPipeliner::gradOverlap(scf::ForOp loop) {
  FailureOr<QBlock> q = matchQBlock(loop);
  if (failed(q))
    return failure();
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  MLIRContext *ctx = b.getContext();
  auto asyncOf = [&](Value v) {
    return attn::AsyncType::get(ctx, cast<RankedTensorType>(v.getType()));
  };
  SmallVector<Value> inits(loop.getInitArgs());
  for (unsigned i : {q->dkIndex, q->dvIndex})
    inits[i] = attn::MmaReadyOp::create(b, loc, asyncOf(inits[i]), inits[i]);
  inits.push_back(ub::PoisonOp::create(b, loc, attn::TokenType::get(ctx)));
  inits.push_back(arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0));
  Value tokenArg, ranArg;
  SmallVector<Value> args;
  scf::ForOp newLoop = rebuildLoop(loop, inits, [&](Block &old, ValueRange a) {
    for (auto [from, to] : llvm::zip(old.getArguments().drop_front(),
                                     a.take_front(old.getNumArguments() - 1)))
      from.replaceAllUsesWith(to);
    args.assign(a.begin(), a.end());
    tokenArg = a[a.size() - 2];
    ranArg = a.back();
  });
  Value dkArg = args[q->dkIndex], dvArg = args[q->dvIndex];

  // S_i and dP_i issued together; waiting for S_i completes the previous
  // q-block's dV and dK: its Q and dO are free.
  Operation *fill = q->dp.getDest().getDefiningOp();
  for (Value operand : fill->getOperands())
    if (Operation *def = operand.getDefiningOp();
        def && def->getBlock() == fill->getBlock() && q->s->isBeforeInBlock(def))
      def->moveBefore(q->s);
  fill->moveBefore(q->s);
  OpBuilder at(q->s);
  auto sIssue = issueAsync(at, q->s, q->s.getLhs(), q->s.getRhs(),
                           q->s.getDest());
  auto dpIssue = issueAsync(at, q->dp, q->dp.getLhs(), q->dp.getRhs(),
                            q->dp.getDest());
  auto sDone = attn::MmaWaitOp::create(at, loc, q->s.getResult().getType(),
                                       sIssue);
  auto ifPrev = scf::IfOp::create(at, loc, ranArg, /*withElse=*/false);
  {
    OpBuilder tb = ifPrev.getThenBodyBuilder();
    for (attn::ChannelReleaseOp release : {q->releaseQuery, q->releaseDout})
      attn::ChannelReleaseOp::create(tb, loc, release.getChannel(), tokenArg,
                                     release.getPart());
  }
  q->s.getResult().replaceAllUsesWith(sDone.getResult());
  q->s.erase();
  // dP_i where it was first needed (P_i ran meanwhile).
  at.setInsertionPoint(q->dp);
  auto dpDone = attn::MmaWaitOp::create(at, loc, q->dp.getResult().getType(),
                                        dpIssue);
  q->dp.getResult().replaceAllUsesWith(dpDone.getResult());
  // dQ_i, dV_i, dK_i issued together where dQ was; dQ_i waited for alone.
  at.setInsertionPoint(q->dq);
  auto dqIssue = issueAsync(at, q->dq, q->dq.getLhs(), q->dq.getRhs(),
                            q->dq.getDest());
  auto dvIssue = issueAsync(at, q->dv, q->dv.getLhs(), q->dv.getRhs(), dvArg);
  auto dkIssue = issueAsync(at, q->dk, q->dk.getLhs(), q->dk.getRhs(), dkArg);
  auto dqDone = attn::MmaWaitOp::create(at, loc, q->dq.getResult().getType(),
                                        dqIssue);
  q->dq.getResult().replaceAllUsesWith(dqDone.getResult());
  auto yield = cast<scf::YieldOp>(newLoop.getBody()->getTerminator());
  SmallVector<Value> yields(yield.getOperands());
  yields[q->dkIndex] = dkIssue;
  yields[q->dvIndex] = dvIssue;
  yields.push_back(q->get.getToken());
  at.setInsertionPoint(yield);
  yields.push_back(arith::ConstantIntOp::create(at, loc, at.getI1Type(), 1));
  scf::YieldOp::create(at, loc, yields);
  yield.erase();
  // The released parts, read before their ops go.
  int64_t queryPart = q->releaseQuery.getPart(),
          doutPart = q->releaseDout.getPart();
  for (Operation *op : {q->dp.getOperation(), q->dq.getOperation(),
                        q->dv.getOperation(), q->dk.getOperation(),
                        q->releaseQuery.getOperation(),
                        q->releaseDout.getOperation()})
    op->erase();

  // The loop's last dV and dK complete at its exit (dK after dV: its wait
  // completes both), then the last q-block's Q and dO are free.
  at.setInsertionPointAfter(newLoop);
  unsigned n = loop.getNumResults();
  Value dk = attn::MmaWaitOp::create(at, loc, loop.getResult(q->dkIndex).getType(),
                                     newLoop.getResult(q->dkIndex));
  Value dv = attn::MmaWaitOp::create(at, loc, loop.getResult(q->dvIndex).getType(),
                                     newLoop.getResult(q->dvIndex));
  auto ifLast = scf::IfOp::create(at, loc, newLoop.getResults().back(),
                                  /*withElse=*/false);
  {
    OpBuilder tb = ifLast.getThenBodyBuilder();
    for (int64_t part : {queryPart, doutPart})
      attn::ChannelReleaseOp::create(tb, loc, q->get.getChannel(),
                                     newLoop.getResult(n), part);
  }
  for (unsigned i = 0; i < n; ++i)
    loop.getResult(i).replaceAllUsesWith(
        i == q->dkIndex ? dk : i == q->dvIndex ? dv : newLoop.getResult(i));
  loop.erase();
  return success();
}

LogicalResult MmaPipeliner::serial(Block &consumer) {
  SmallVector<attn::TileMatmulOp> mms;
  consumer.walk([&](attn::TileMatmulOp mm) { mms.push_back(mm); });
  for (attn::TileMatmulOp mm : mms)
    makeSerial(mm);
  return success();
}

// Deferred: the loop carries (acc as an MMA in flight, m, l, ..., the
// previous block's V token, whether there is one).
LogicalResult MmaPipeliner::deferred(scf::ForOp loop) {
  FailureOr<KvBlock> kv = matchKvBlock(loop);
  if (failed(kv))
    return failure();
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  MLIRContext *ctx = b.getContext();
  SmallVector<Value> inits(loop.getInitArgs());
  inits[0] = attn::MmaReadyOp::create(
      b, loc,
      attn::AsyncType::get(ctx, cast<RankedTensorType>(inits[0].getType())),
      inits[0]);
  inits.push_back(ub::PoisonOp::create(b, loc, attn::TokenType::get(ctx)));
  inits.push_back(arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0));
  Value accArg, tokenArg, hasPrevArg;
  scf::ForOp newLoop = rebuildLoop(loop, inits, [&](Block &old, ValueRange args) {
    for (auto [from, to] :
         llvm::zip(old.getArguments().drop_front(), args.take_front(
                                                        old.getNumArguments() - 1)))
      from.replaceAllUsesWith(to);
    accArg = args[0];
    tokenArg = args[args.size() - 2];
    hasPrevArg = args.back();
  });
  // S_i completes every earlier MMA: P_{i-1}·V_{i-1} is done, V_{i-1} free.
  attn::MmaWaitOp sWait = makeSerial(kv->scores);
  OpBuilder at(sWait->getBlock(), std::next(sWait->getIterator()));
  Value acc = attn::MmaWaitOp::create(
      at, loc, cast<attn::AsyncType>(accArg.getType()).getValue(), accArg);
  auto ifPrev = scf::IfOp::create(at, loc, hasPrevArg, /*withElse=*/false);
  {
    OpBuilder tb = ifPrev.getThenBodyBuilder();
    attn::ChannelReleaseOp::create(tb, loc, kv->releaseV.getChannel(),
                                   tokenArg, 1);
  }
  kv->rescale.getInputsMutable()[0].assign(acc);
  kv->rescale.getDestMutable().assign(acc);
  // P_i·V_i issued, left in flight.
  at.setInsertionPoint(kv->pv);
  auto pv = issueAsync(at, kv->pv, kv->pv.getLhs(), kv->pv.getRhs(),
                       kv->pv.getDest());
  auto yield = cast<scf::YieldOp>(newLoop.getBody()->getTerminator());
  SmallVector<Value> yields(yield.getOperands());
  yields[0] = pv;
  yields.push_back(kv->get.getToken());
  yields.push_back(arith::ConstantIntOp::create(at, loc, at.getI1Type(), 1));
  at.setInsertionPoint(yield);
  scf::YieldOp::create(at, loc, yields);
  yield.erase();
  kv->pv.erase();
  kv->releaseV.erase();

  // The loop's last P·V completes at its exit (none stays in flight from
  // one loop into the next).
  at.setInsertionPointAfter(newLoop);
  unsigned n = loop.getNumResults();
  Value done = attn::MmaWaitOp::create(
      at, loc, loop.getResult(0).getType(), newLoop.getResult(0));
  auto ifLast = scf::IfOp::create(at, loc, newLoop.getResults().back(),
                                  /*withElse=*/false);
  {
    OpBuilder tb = ifLast.getThenBodyBuilder();
    attn::ChannelReleaseOp::create(tb, loc, kv->get.getChannel(),
                                   newLoop.getResult(n), 1);
  }
  loop.getResult(0).replaceAllUsesWith(done);
  for (unsigned i = 1; i < n; ++i)
    loop.getResult(i).replaceAllUsesWith(newLoop.getResult(i));
  loop.erase();
  // The Q·Kᵀ MMAs of other loops and the prologue are synchronous.
  return success();
}

// Overlap over the KV loops of one block (a tile): the prologue, the
// rotated loops, the tile's last P·V.
LogicalResult MmaPipeliner::overlap(Block &block,
                                    SmallVector<scf::ForOp> loops) {
  SmallVector<KvBlock> kvs;
  for (scf::ForOp loop : loops) {
    FailureOr<KvBlock> kv = matchKvBlock(loop);
    if (failed(kv))
      return failure();
    kvs.push_back(*kv);
  }
  // The loops run in sequence, each carrying the previous one's state.
  for (size_t i = 1; i < loops.size(); ++i)
    if (loops[i].getInitArgs() != ValueRange(loops[i - 1].getResults()))
      return loops[i].emitOpError()
             << "attn-pipeline-mma: pv_schedule = overlap needs the tile's KV "
                "loops in sequence, each starting from the previous one's "
                "state (attn-tile's)";
  scf::ForOp first = loops.front();
  OpBuilder b(first);
  Location loc = first.getLoc();
  MLIRContext *ctx = b.getContext();

  // The tile's first block: the lower bound of the first non-empty loop,
  // which then starts one block later.
  Value any = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0);
  Value firstBlock = first.getLowerBound();
  SmallVector<Value> skips;
  for (scf::ForOp loop : loops) {
    Value nonEmpty = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                           loop.getLowerBound(),
                                           loop.getUpperBound());
    Value isFirst = arith::AndIOp::create(
        b, loc, nonEmpty,
        arith::XOrIOp::create(
            b, loc, any, arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1)));
    firstBlock =
        arith::SelectOp::create(b, loc, isFirst, loop.getLowerBound(), firstBlock);
    skips.push_back(isFirst);
    any = arith::OrIOp::create(b, loc, any, nonEmpty);
  }

  // Prologue: Q·Kᵀ and the softmax of the first block, from a body that
  // masks fully (a masked loop's when there is one).
  size_t model = 0;
  for (auto [i, loop] : llvm::enumerate(loops))
    if (!loop.getBody()->getOps<attn::TileMaskOp>().empty() &&
        llvm::any_of(loop.getBody()->getOps<attn::TileMaskOp>(),
                     [](attn::TileMaskOp m) {
                       return !m.getMask().isFullyVisible() ||
                              !m.getMaskMod().empty();
                     })) {
      model = i;
      break;
    }
  KvBlock &kvm = kvs[model];
  scf::ForOp modelLoop = loops[model];
  ValueRange state = first.getInitArgs(); // (acc, m, l, ...)
  Type pType = kvm.cast.getResult().getType();
  Type vType = kvm.get.getTiles()[1].getType();
  Type tokenType = attn::TokenType::get(ctx);
  SmallVector<Type> carriedTypes;
  for (Value v : state.drop_front())
    carriedTypes.push_back(v.getType());
  carriedTypes.append({pType, vType, tokenType});
  auto prologue = scf::IfOp::create(b, loc, carriedTypes, any,
                                    /*withElseRegion=*/true);
  {
    OpBuilder tb = prologue.getThenBodyBuilder();
    IRMapping mapping;
    mapping.map(modelLoop.getInductionVar(), firstBlock);
    for (auto [arg, init] : llvm::zip(modelLoop.getRegionIterArgs(), state))
      mapping.map(arg, init);
    for (Operation &op : modelLoop.getBody()->without_terminator()) {
      // The first block's O is 0: no rescale, no P·V (issued by the next
      // block), no V release.
      if (&op == kvm.rescale.getOperation() || &op == kvm.pv.getOperation() ||
          &op == kvm.releaseV.getOperation())
        continue;
      tb.clone(op, mapping);
    }
    auto yield = cast<scf::YieldOp>(modelLoop.getBody()->getTerminator());
    SmallVector<Value> yields;
    for (Value v : yield.getOperands().drop_front())
      yields.push_back(mapping.lookupOrDefault(v));
    yields.append({mapping.lookup(kvm.cast.getResult()),
                   mapping.lookup(kvm.get.getTiles()[1]),
                   mapping.lookup(kvm.get.getToken())});
    scf::YieldOp::create(tb, loc, yields);
    // Its Q·Kᵀ, synchronous.
    SmallVector<attn::TileMatmulOp> mms;
    prologue.thenBlock()->walk([&](attn::TileMatmulOp mm) { mms.push_back(mm); });
    for (attn::TileMatmulOp mm : mms)
      makeSerial(mm);

    OpBuilder eb = prologue.getElseBodyBuilder();
    SmallVector<Value> none(state.drop_front());
    none.push_back(ub::PoisonOp::create(eb, loc, pType));
    none.push_back(ub::PoisonOp::create(eb, loc, vType));
    none.push_back(ub::PoisonOp::create(eb, loc, tokenType));
    scf::YieldOp::create(eb, loc, none);
  }

  // The loops, rotated: each block issues its Q·Kᵀ and the previous block's
  // P·V, carried as (P, V, V's token).
  Value acc = state[0];
  SmallVector<Value> carried{acc};
  carried.append(prologue.getResults().begin(), prologue.getResults().end());
  for (auto [loop, kv, skip] : llvm::zip(loops, kvs, skips)) {
    OpBuilder lb(loop);
    Value lower = arith::AddIOp::create(
        lb, loc, loop.getLowerBound(),
        arith::MulIOp::create(
            lb, loc,
            arith::IndexCastOp::create(
                lb, loc, lb.getIndexType(),
                arith::ExtUIOp::create(lb, loc, lb.getI32Type(), skip)),
            loop.getStep()));
    loop.getLowerBoundMutable().assign(lower);
    unsigned n = loop.getNumRegionIterArgs();
    Value pArg, vArg, tokenArg;
    scf::ForOp newLoop = rebuildLoop(loop, carried, [&](Block &old, ValueRange args) {
      for (auto [from, to] : llvm::zip(old.getArguments().drop_front(),
                                       args.take_front(n)))
        from.replaceAllUsesWith(to);
      pArg = args[n];
      vArg = args[n + 1];
      tokenArg = args[n + 2];
    });
    Value accArg = newLoop.getRegionIterArgs()[0];
    // S_i and P_{i-1}·V_{i-1} issued together; wait for S_i only.
    OpBuilder at(kv.scores);
    auto s = issueAsync(at, kv.scores, kv.scores.getLhs(), kv.scores.getRhs(),
                        kv.scores.getDest());
    auto pv = issueAsync(at, kv.pv, pArg, vArg, accArg);
    auto sDone = attn::MmaWaitOp::create(at, loc, kv.scores.getResult().getType(), s);
    kv.scores.getResult().replaceAllUsesWith(sDone.getResult());
    kv.scores.erase();
    // O = (O + P_{i-1}·V_{i-1})·alpha_i once that P·V is done; V_{i-1} free.
    at.setInsertionPoint(kv.rescale);
    auto pvDone = attn::MmaWaitOp::create(at, loc, accArg.getType(), pv);
    attn::ChannelReleaseOp::create(at, loc, kv.releaseV.getChannel(), tokenArg, 1);
    kv.rescale.getInputsMutable()[0].assign(pvDone.getResult());
    kv.rescale.getDestMutable().assign(pvDone.getResult());
    // P_i (and V_i) wait for the next block or the epilogue.
    auto yield = cast<scf::YieldOp>(newLoop.getBody()->getTerminator());
    SmallVector<Value> yields(yield.getOperands());
    yields[0] = kv.rescale.getResult();
    yields.append({kv.cast.getResult(), kv.get.getTiles()[1], kv.get.getToken()});
    at.setInsertionPoint(yield);
    scf::YieldOp::create(at, loc, yields);
    yield.erase();
    kv.pv.erase();
    kv.releaseV.erase();
    for (unsigned i = 0; i < n; ++i)
      loop.getResult(i).replaceAllUsesWith(newLoop.getResult(i));
    loop.erase();
    carried.assign(newLoop.getResults().begin(), newLoop.getResults().end());
  }

  // The tile's last P·V, when a block ran: after the releases that follow
  // the loops (Q's, once the last Q·Kᵀ read it: the producer may refill Q
  // while this P·V runs).
  OpBuilder at(block.getParent()->getContext());
  Operation *after = carried.front().getDefiningOp();
  while (isa_and_nonnull<attn::ChannelReleaseOp>(after->getNextNode()))
    after = after->getNextNode();
  at.setInsertionPointAfter(after);
  unsigned n = carried.size() - 3;
  auto last = scf::IfOp::create(at, loc, TypeRange{acc.getType()}, any,
                                /*withElseRegion=*/true);
  {
    OpBuilder tb = last.getThenBodyBuilder();
    auto pv = attn::MmaAsyncOp::create(
        tb, loc,
        attn::AsyncType::get(ctx, cast<RankedTensorType>(acc.getType())),
        carried[n], carried[n + 1], carried[0], UnitAttr(), UnitAttr());
    auto done = attn::MmaWaitOp::create(tb, loc, acc.getType(), pv);
    attn::ChannelReleaseOp::create(tb, loc, kvs.front().get.getChannel(),
                                   carried[n + 2], 1);
    scf::YieldOp::create(tb, loc, done.getResult());
    OpBuilder eb = last.getElseBodyBuilder();
    scf::YieldOp::create(eb, loc, carried[0]);
  }
  carried.front().replaceUsesWithIf(last.getResult(0), [&](OpOperand &use) {
    return !last->isAncestor(use.getOwner());
  });
  (void)block;
  return success();
}

/// The loops of `consumer` that get from a channel (the KV loops; the
/// backward's q-block loops), in walk order: collected before any schedule
/// rewrites them.
static SmallVector<scf::ForOp> channelLoops(Block &consumer) {
  SmallVector<scf::ForOp> loops;
  consumer.walk([&](scf::ForOp loop) {
    if (!loop.getBody()->getOps<attn::ChannelGetOp>().empty())
      loops.push_back(loop);
  });
  return loops;
}

LogicalResult MmaPipeliner::run() {
  Block &consumer = ws.getConsumer().front();
  attn::PvSchedule schedule = plan.getPvSchedule();
  stageTransposedOperands(consumer);
  if (backward) {
    if (splitDq)
      splitDqByColumns(consumer, ws.getConsumers());
    if (schedule == attn::PvSchedule::Overlap)
      for (scf::ForOp loop : channelLoops(consumer))
        if (failed(gradOverlap(loop)))
          return failure();
    return serial(consumer);
  }
  if (schedule == attn::PvSchedule::Deferred) {
    for (scf::ForOp loop : channelLoops(consumer))
      if (failed(deferred(loop)))
        return failure();
  } else if (schedule == attn::PvSchedule::Overlap) {
    // The KV loops of each block (the tile's, inside a varlen guard or not).
    DenseMap<Block *, SmallVector<scf::ForOp>> byBlock;
    SmallVector<Block *> order;
    for (scf::ForOp loop : channelLoops(consumer)) {
      Block *parent = loop->getBlock();
      if (!byBlock.count(parent))
        order.push_back(parent);
      byBlock[parent].push_back(loop);
    }
    for (Block *parent : order)
      if (failed(overlap(*parent, byBlock[parent])))
        return failure();
  }
  // Whatever is left (serial, the prologues' and deferred's Q·Kᵀ) is
  // synchronous.
  return serial(consumer);
}

namespace {
struct AttnPipelineMmaPass final
    : flashmlir::impl::AttnPipelineMmaPassBase<AttnPipelineMmaPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<std::pair<attn::WarpSpecializeOp, attn::HopperPlanAttr>> work;
    WalkResult walk = getOperation().walk([&](attn::WarpSpecializeOp ws) {
      auto grid = ws->getParentOfType<attn::ProgramGridOp>();
      if (!grid || !grid.getPlanAttr()) {
        ws.emitOpError() << "attn-pipeline-mma: a warp-specialized program "
                            "needs its grid's plan";
        return WalkResult::interrupt();
      }
      // The backward's plan is checked again (the forward's by the
      // conversion).
      if (grid.getKindOrDefault() == attn::ProgramKind::GradKv &&
          failed(hopper::planFromAttr(grid, /*maxSharedMemory=*/232448,
                                      getArgument())))
        return WalkResult::interrupt();
      work.push_back({ws, grid.getPlanAttr()});
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    for (auto [ws, plan] : work) {
      bool backward = ws->getParentOfType<attn::ProgramGridOp>()
                          .getKindOrDefault() == attn::ProgramKind::GradKv;
      if (failed(MmaPipeliner(ws, plan, backward, splitDq).run()))
        return signalPassFailure();
    }
  }
};
} // namespace
