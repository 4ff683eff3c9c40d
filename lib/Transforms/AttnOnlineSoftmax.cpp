//===- AttnOnlineSoftmax.cpp - --attn-online-softmax -----------------------===//
//
// Rewrites the running-softmax ops of the tiled level (L1: block_init,
// block_update, block_finalize) into the value-semantic tile ops of L2. This
// is the one place the online softmax is written: the CPU and SIMT paths
// expand the tile ops into loops, the Hopper path maps each onto register
// fragments. The formulas of Passes.td are repeated above the IR that builds
// them. All arithmetic is f32.
//
// The scratch tiles (S, the per-row temporaries) are allocated at the top of
// the program (bufferization.alloc_tensor: never merged by CSE), one per
// purpose and shape: the tile ops overwrite them in place, so bufferization
// gives each one buffer per program, never one per KV block.
//
// The score tile (S = Q·Kᵀ, softcap, score_mod, the mask) is shared with the
// backward (OnlineTiles.cpp); the backward's ops expand in
// AttnOnlineSoftmaxGrad.cpp.
//
//===----------------------------------------------------------------------===//

#include "AttnOnlineSoftmaxGrad.h"
#include "OnlineTiles.h"

#include "flashmlir/Transforms/Passes.h"

#include "attn/Attn.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

#include <cmath>
#include <limits>

namespace flashmlir {
#define GEN_PASS_DEF_ATTNONLINESOFTMAXPASS
#include "flashmlir/Transforms/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

static constexpr double kInf = std::numeric_limits<double>::infinity();

/// m_safe = m == -inf ? 0 : m: the max to subtract, so that a row whose keys
/// are all hidden so far never computes -inf - (-inf) = NaN.
static Value safeMax(OpBuilder &b, Location loc, Value m) {
  Value hidden = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, m,
                                       constantF32(b, loc, -kInf));
  return arith::SelectOp::create(b, loc, hidden, constantF32(b, loc, 0), m);
}

static void expandBlockInit(attn::BlockInitOp op, TileBuilder &t) {
  // acc = 0, m = -inf, l = 0
  auto acc = cast<RankedTensorType>(op.getAcc().getType());
  Value accInit = t.fill(0, t.scratchTile(acc, "acc"));
  Value maxInit = t.fill(-kInf, t.scratchTile(t.rows(acc), "max"));
  Value sumInit = t.fill(0, t.scratchTile(t.rows(acc), "sum"));
  op.replaceAllUsesWith(ValueRange{accInit, maxInit, sumInit});
  op.erase();
}

static void expandBlockUpdate(attn::BlockUpdateOp op, TileBuilder &t,
                              bool testDropAlpha) {
  OpBuilder &b = t.b;
  Location loc = t.loc;
  auto key = cast<ShapedType>(op.getKey().getType());
  auto value = cast<ShapedType>(op.getValue().getType());
  auto acc = cast<RankedTensorType>(op.getAcc().getType());
  int64_t blockN = key.getDimSize(0);
  auto scoresType =
      RankedTensorType::get({acc.getDimSize(0), blockN}, b.getF32Type());
  RankedTensorType rowsType = t.rows(acc);

  // S = Q·Kᵀ, then softcap, score_mod and the mask (OnlineTiles.cpp); c
  // makes S a base-2 logit.
  ScoreOperands in{op.getQuery(),  op.getKey(),    op.getRows(),
                   op.getCols(),   op.getSeq(),    op.getHead(),
                   op.getQPos(),   op.getKvPos(),  op.getDiag(),
                   op.getMasked(), op.getMask(),   op.getScale().convertToDouble(),
                   op.getSoftcapAttr(), &op.getScoreMod(), &op.getMaskMod()};
  ScoreTile scores = buildScoreTile(t, in, /*withDerivative=*/false);
  Value s = scores.scores;
  double c = scores.c;

  // m_new = max(m, c·rowmax(s))        (NaN-propagating: a NaN score
  //                                     reaches the row's max, O and LSE)
  Value rowMax = attn::TileReduceOp::create(
                     b, loc, rowsType, attn::ReductionKind::Max, s,
                     t.fill(-kInf, t.scratchTile(rowsType, "rowmax")))
                     .getResult();
  auto newMax = [&](OpBuilder &mb, ValueRange x) -> Value {
    Value scaled =
        arith::MulFOp::create(mb, loc, x[1], constantF32(mb, loc, c));
    return arith::MaximumFOp::create(mb, loc, x[0], scaled);
  };
  // alpha = exp2(m - m_safe)            (0 while m = -inf)
  Value alpha = t.map({op.getMax(), rowMax}, t.scratchTile(rowsType, "alpha"),
                      [&](OpBuilder &mb, ValueRange x) -> Value {
                        if (testDropAlpha)
                          return constantF32(mb, loc, 1);
                        Value d = arith::SubFOp::create(
                            mb, loc, x[0], safeMax(mb, loc, newMax(mb, x)));
                        return math::Exp2Op::create(mb, loc, d);
                      });
  // (m is updated in place once alpha has read it)
  Value mNew = t.map({op.getMax(), rowMax}, op.getMax(), newMax);
  // p = exp2(s·c - m_safe)              (one fma and one exp2 per score;
  //                                      0 for hidden keys)
  Value negSafe = t.map(mNew, t.scratchTile(rowsType, "negmax"),
                        [&](OpBuilder &mb, ValueRange x) -> Value {
                          return arith::NegFOp::create(
                              mb, loc, safeMax(mb, loc, x[0]));
                        });
  Value p = t.map({s, negSafe}, s, [&](OpBuilder &mb, ValueRange x) -> Value {
    Value arg =
        math::FmaOp::create(mb, loc, x[0], constantF32(mb, loc, c), x[1]);
    return math::Exp2Op::create(mb, loc, arg);
  });
  // l = l·alpha + rowsum(p)
  auto times = [&](OpBuilder &mb, ValueRange x) -> Value {
    return arith::MulFOp::create(mb, loc, x[0], x[1]);
  };
  Value lScaled = t.map({op.getSum(), alpha}, op.getSum(), times);
  Value lNew = attn::TileReduceOp::create(b, loc, rowsType,
                                          attn::ReductionKind::Add, p, lScaled)
                   .getResult();
  // acc = acc·alpha + P·V, P in V's element type (rounded to bf16/f16 for the
  // tensor cores)
  Value accScaled = t.map({op.getAcc(), alpha}, op.getAcc(), times);
  Type vElement = value.getElementType();
  if (!vElement.isF32()) {
    auto pType = RankedTensorType::get(scoresType.getShape(), vElement);
    p = t.map(p, t.scratchTile(pType, "p"),
              [&](OpBuilder &mb, ValueRange x) -> Value {
                return arith::TruncFOp::create(mb, loc, vElement, x[0]);
              });
  }
  Value accNew = attn::TileMatmulOp::create(b, loc, acc, p, op.getValue(),
                                            accScaled, /*transpose_lhs=*/false,
                                            /*transpose_rhs=*/false)
                     .getResult();
  op.replaceAllUsesWith(ValueRange{accNew, mNew, lNew});
  op.erase();
}

static void expandBlockFinalize(attn::BlockFinalizeOp op, TileBuilder &t) {
  OpBuilder &b = t.b;
  Location loc = t.loc;
  auto acc = cast<RankedTensorType>(op.getAcc().getType());
  RankedTensorType rowsType = t.rows(acc);
  // A row that saw no visible key has l = 0: O = 0, LSE = -inf. A NaN l
  // (a NaN score) is not 0: it reaches O and LSE.
  auto sawKey = [&](OpBuilder &mb, Value l) -> Value {
    return arith::CmpFOp::create(mb, loc, arith::CmpFPredicate::UNE, l,
                                 constantF32(mb, loc, 0));
  };
  // inv = l != 0 ? 1 / l : 0
  Value inv = t.map(op.getSum(), t.scratchTile(rowsType, "inv"),
                    [&](OpBuilder &mb, ValueRange x) -> Value {
                      Value r = arith::DivFOp::create(
                          mb, loc, constantF32(mb, loc, 1), x[0]);
                      return arith::SelectOp::create(
                          mb, loc, sawKey(mb, x[0]), r,
                          constantF32(mb, loc, 0));
                    });
  // O_i = acc_i · inv_i          (in place: acc's last use)
  Value o = t.map({op.getAcc(), inv}, op.getAcc(),
                  [&](OpBuilder &mb, ValueRange x) -> Value {
                    return arith::MulFOp::create(mb, loc, x[0], x[1]);
                  });
  attn::TileStoreOp::create(b, loc, o, op.getOut(), op.getBatch(), op.getRow(),
                            op.getHead(), op.getRows(), /*accumulate=*/false);
  if (Value lse = op.getLse()) {
    // LSE_i = l_i != 0 ? (m_i + log2 l_i) · ln 2 : -inf
    Value rowsLse =
        t.map({op.getMax(), op.getSum()}, t.scratchTile(rowsType, "lse"),
              [&](OpBuilder &mb, ValueRange x) -> Value {
                Value log2l = math::Log2Op::create(mb, loc, x[1]);
                Value v = arith::MulFOp::create(
                    mb, loc, arith::AddFOp::create(mb, loc, x[0], log2l),
                    constantF32(mb, loc, kLn2));
                return arith::SelectOp::create(mb, loc, sawKey(mb, x[1]), v,
                                               constantF32(mb, loc, -kInf));
              });
    attn::TileStoreOp::create(b, loc, rowsLse, lse, op.getBatch(),
                              op.getRow(), op.getHead(), op.getRows(),
                              /*accumulate=*/false);
  }
  op.erase();
}

namespace {
struct AttnOnlineSoftmaxPass final
    : flashmlir::impl::AttnOnlineSoftmaxPassBase<AttnOnlineSoftmaxPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<attn::BlockInitOp, attn::BlockUpdateOp, attn::BlockFinalizeOp>(
              op))
        ops.push_back(op);
    });
    ScratchTiles scratch;
    for (Operation *op : ops) {
      TileBuilder t(op, scratch);
      if (auto init = dyn_cast<attn::BlockInitOp>(op))
        expandBlockInit(init, t);
      else if (auto update = dyn_cast<attn::BlockUpdateOp>(op))
        expandBlockUpdate(update, t, testDropAlpha);
      else
        expandBlockFinalize(cast<attn::BlockFinalizeOp>(op), t);
    }
    // The backward's ops (AttnOnlineSoftmaxGrad.cpp).
    if (failed(expandBlockGradOps(getOperation(), scratch, testDropDelta)))
      signalPassFailure();
  }
};
} // namespace
