//===- AttnOnlineSoftmaxGrad.cpp - the backward's L2 expansion -------------===//
//
// The backward's L1 ops (block_grad_init, block_grad_delta, block_grad_update,
// block_grad_finalize) as the L2 tile ops of the forward: the one place the
// backward's math is written (every target lowers these tile ops). Per
// q-block of a KV-stationary program, with S the block's scores as in the
// forward (OnlineTiles.cpp: S = Q·Kᵀ, softcap, score_mod, the mask) and x =
// scale·Q·Kᵀ:
//
//   G     = ∂S/∂x = (1 − (S/softcap)²) · score_mod'(S)   (when present)
//   LSE₂  = LSE·log2 e, and +inf where LSE = -inf
//   P     = exp2(fma(S, c, −LSE₂))   = exp(z − LSE): 0 for hidden keys and
//                                     for rows without a key (no NaN)
//   dV   += Pᵀ·dO                     P rounded to dO's element type
//   dP    = dO·Vᵀ
//   dS    = P∘(dP − D) (∘ G)          = dx: the gradient of the scaled score
//   dK   += dSᵀ·Q                     dS rounded to Q's element type
//   dQ    = dS·K                      (added to the f32 accumulator by L1)
//
// with D = rowsum(dO∘O) − dLSE from the preprocess (block_grad_delta), and
// at the end dK = scale·dK (block_grad_finalize; dQ's scale is the
// postprocess's). The state dK, dV is updated in place; scratch tiles are
// made once per program, as in the forward.
//
//===----------------------------------------------------------------------===//

#include "AttnOnlineSoftmaxGrad.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <limits>

using namespace mlir;
using namespace flashmlir;

static constexpr double kInf = std::numeric_limits<double>::infinity();

/// f32(x): widens f16/bf16 scalars (f32 stays).
static Value toF32(OpBuilder &b, Location loc, Value x) {
  if (x.getType().isF32())
    return x;
  return arith::ExtFOp::create(b, loc, b.getF32Type(), x);
}

/// `tile` in element type `element` (rounded), in the scratch tile named
/// `purpose`; `tile` itself when it holds f32 and `element` is f32.
static Value roundTo(TileBuilder &t, Value tile, Type element,
                     StringRef purpose) {
  if (element.isF32())
    return tile;
  auto type = RankedTensorType::get(
      cast<ShapedType>(tile.getType()).getShape(), element);
  return t.map(tile, t.scratchTile(type, purpose),
               [&](OpBuilder &mb, ValueRange x) -> Value {
                 return arith::TruncFOp::create(mb, t.loc, element, x[0]);
               });
}

static void expandBlockGradInit(attn::BlockGradInitOp op, TileBuilder &t) {
  // dK = 0, dV = 0 (each a tile of its own)
  SmallVector<Value> zeros;
  for (Value tile : op.getTiles())
    zeros.push_back(
        t.fill(0, t.freshTile(cast<RankedTensorType>(tile.getType()))));
  op.replaceAllUsesWith(zeros);
  op.erase();
}

static void expandBlockGradDelta(attn::BlockGradDeltaOp op, TileBuilder &t) {
  Location loc = t.loc;
  auto out = cast<ShapedType>(op.getOut().getType());
  auto rowsType = cast<RankedTensorType>(op.getDelta().getType());
  // D = rowsum(dO∘O)
  auto productType = RankedTensorType::get(out.getShape(), t.b.getF32Type());
  Value product =
      t.map({op.getOut(), op.getDout()}, t.scratchTile(productType, "out_dout"),
            [&](OpBuilder &mb, ValueRange x) -> Value {
              Value o = toF32(mb, loc, x[0]);
              Value d = toF32(mb, loc, x[1]);
              return arith::MulFOp::create(mb, loc, o, d);
            });
  Value delta =
      attn::TileReduceOp::create(t.b, loc, rowsType, attn::ReductionKind::Add,
                                 product,
                                 t.fill(0, t.scratchTile(rowsType, "delta")))
          .getResult();
  // D = D − dLSE
  if (Value dlse = op.getDlse())
    delta = t.map({delta, dlse}, delta,
                  [&](OpBuilder &mb, ValueRange x) -> Value {
                    return arith::SubFOp::create(mb, loc, x[0], x[1]);
                  });
  op.replaceAllUsesWith(delta);
  op.erase();
}

static LogicalResult expandBlockGradUpdate(attn::BlockGradUpdateOp op,
                                           TileBuilder &t,
                                           bool testDropDelta) {
  bool scoreMod = !op.getScoreMod().empty();
  if (scoreMod && op.getScoreModGrad().empty())
    return op.emitOpError()
           << "attn-online-softmax needs the score_mod's derivative "
              "(score_mod_grad): run attn-score-mod-grad first";
  OpBuilder &b = t.b;
  Location loc = t.loc;
  auto query = cast<ShapedType>(op.getQuery().getType());
  auto dout = cast<ShapedType>(op.getDout().getType());
  RankedTensorType rowsType = t.rows(query);

  // S, and G = ∂S/∂x where a softcap or a score_mod transforms the score.
  ScoreOperands in{op.getQuery(),  op.getKey(),    op.getRows(),
                   op.getCols(),   op.getSeq(),    op.getHead(),
                   op.getQPos(),   op.getKvPos(),  op.getDiag(),
                   op.getMasked(), op.getMask(),   op.getScale().convertToDouble(),
                   op.getSoftcapAttr(), &op.getScoreMod(), &op.getMaskMod(),
                   &op.getScoreModGrad()};
  // dK and dV sum over the q-block's rows: those past its count must give
  // P = 0 whatever the Q and dO tiles hold there.
  in.hideRows = true;
  ScoreTile scores = buildScoreTile(t, in, /*withDerivative=*/true);
  Value s = scores.scores;
  auto scoresType = cast<RankedTensorType>(s.getType());

  // −LSE₂ = LSE = -inf ? -inf : −LSE·log2 e
  Value negLse2 =
      t.map(op.getLse(), t.scratchTile(rowsType, "neglse2"),
            [&](OpBuilder &mb, ValueRange x) -> Value {
              Value none = arith::CmpFOp::create(
                  mb, loc, arith::CmpFPredicate::OEQ, x[0],
                  constantF32(mb, loc, -kInf));
              Value scaled = arith::MulFOp::create(
                  mb, loc, x[0], constantF32(mb, loc, -kLog2E));
              return arith::SelectOp::create(mb, loc, none,
                                             constantF32(mb, loc, -kInf),
                                             scaled);
            });
  // P = exp2(fma(S, c, −LSE₂))          (one fma and one exp2 per score)
  Value p = t.map({s, negLse2}, s, [&](OpBuilder &mb, ValueRange x) -> Value {
    Value arg = math::FmaOp::create(mb, loc, x[0],
                                    constantF32(mb, loc, scores.c), x[1]);
    return math::Exp2Op::create(mb, loc, arg);
  });
  // dV += Pᵀ·dO                         (P rounded to dO's type)
  Value dv = attn::TileMatmulOp::create(
                 b, loc, op.getDvalue().getType(),
                 roundTo(t, p, dout.getElementType(), "p"), op.getDout(),
                 op.getDvalue(), /*transpose_lhs=*/true,
                 /*transpose_rhs=*/false)
                 .getResult();
  // dP = dO·Vᵀ
  Value dp = attn::TileMatmulOp::create(
                 b, loc, scoresType, op.getDout(), op.getValue(),
                 t.fill(0, t.scratchTile(scoresType, "dp")),
                 /*transpose_lhs=*/false, /*transpose_rhs=*/true)
                 .getResult();
  // dS = P∘(dP − D) ∘ G                 (in place of dP; 0 where P = 0,
  //                                       whatever a score_mod's G is there)
  SmallVector<Value> inputs{p, dp, op.getDelta()};
  if (scores.derivative)
    inputs.push_back(scores.derivative);
  Value ds = t.map(inputs, dp, [&](OpBuilder &mb, ValueRange x) -> Value {
    Value diff = testDropDelta
                     ? x[1]
                     : arith::SubFOp::create(mb, loc, x[1], x[2]).getResult();
    Value v = arith::MulFOp::create(mb, loc, x[0], diff);
    if (x.size() < 4)
      return v;
    v = arith::MulFOp::create(mb, loc, v, x[3]);
    if (!scoreMod)
      return v;
    Value hidden = arith::CmpFOp::create(mb, loc, arith::CmpFPredicate::OEQ,
                                         x[0], constantF32(mb, loc, 0));
    return arith::SelectOp::create(mb, loc, hidden, constantF32(mb, loc, 0),
                                   v);
  });
  // dK += dSᵀ·Q, dQ = dS·K               (dS rounded to Q's and K's type)
  Value dsRounded = roundTo(t, ds, query.getElementType(), "ds");
  Value dk = attn::TileMatmulOp::create(b, loc, op.getDkey().getType(),
                                        dsRounded, op.getQuery(),
                                        op.getDkey(), /*transpose_lhs=*/true,
                                        /*transpose_rhs=*/false)
                 .getResult();
  auto dqType = cast<RankedTensorType>(op.getDquery().getType());
  Value dq = attn::TileMatmulOp::create(b, loc, dqType, dsRounded, op.getKey(),
                                        t.fill(0, t.scratchTile(dqType, "dq")),
                                        /*transpose_lhs=*/false,
                                        /*transpose_rhs=*/false)
                 .getResult();
  op.replaceAllUsesWith(ValueRange{dk, dv, dq});
  op.erase();
  return success();
}

static void expandBlockGradFinalize(attn::BlockGradFinalizeOp op,
                                    TileBuilder &t) {
  Location loc = t.loc;
  // dK = scale·dK                        (in place: its last use)
  double scale = op.getScale().convertToDouble();
  Value dk = t.map(op.getDkey(), op.getDkey(),
                   [&](OpBuilder &mb, ValueRange x) -> Value {
                     return arith::MulFOp::create(mb, loc, x[0],
                                                  constantF32(mb, loc, scale));
                   });
  attn::TileStoreOp::create(t.b, loc, dk, op.getDkeyOut(), op.getBatch(),
                            op.getRow(), op.getHead(), op.getRows(),
                            /*accumulate=*/false);
  attn::TileStoreOp::create(t.b, loc, op.getDvalue(), op.getDvalueOut(),
                            op.getBatch(), op.getRow(), op.getHead(),
                            op.getRows(), /*accumulate=*/false);
  op.erase();
}

LogicalResult flashmlir::expandBlockGradOps(func::FuncOp func,
                                            ScratchTiles &scratch,
                                            bool testDropDelta) {
  SmallVector<Operation *> ops;
  func.walk([&](Operation *op) {
    if (isa<attn::BlockGradInitOp, attn::BlockGradDeltaOp,
            attn::BlockGradUpdateOp, attn::BlockGradFinalizeOp>(op))
      ops.push_back(op);
  });
  for (Operation *op : ops) {
    TileBuilder t(op, scratch);
    if (auto init = dyn_cast<attn::BlockGradInitOp>(op)) {
      expandBlockGradInit(init, t);
    } else if (auto delta = dyn_cast<attn::BlockGradDeltaOp>(op)) {
      expandBlockGradDelta(delta, t);
    } else if (auto update = dyn_cast<attn::BlockGradUpdateOp>(op)) {
      if (failed(expandBlockGradUpdate(update, t, testDropDelta)))
        return failure();
    } else {
      expandBlockGradFinalize(cast<attn::BlockGradFinalizeOp>(op), t);
    }
  }
  return success();
}
