//===- OnlineTiles.cpp - shared pieces of the L2 expansion ----------------===//
//
// The tile builder and the score tile of one block, for the forward and the
// backward expansions of --attn-online-softmax.
//
//===----------------------------------------------------------------------===//

#include "OnlineTiles.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace flashmlir;

TileBuilder::TileBuilder(Operation *at, ScratchTiles &scratch)
    : b(at), loc(at->getLoc()), scratch(scratch) {
  Operation *scope = at->getParentOfType<attn::ProgramGridOp>();
  if (!scope)
    scope = at->getParentOfType<FunctionOpInterface>();
  programBlock = &scope->getRegion(0).front();
}

Value TileBuilder::f32(double v) { return constantF32(b, loc, v); }

Value TileBuilder::scratchTile(RankedTensorType type, StringRef purpose) {
  Value &tile = scratch[{programBlock, type, purpose}];
  if (!tile) {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(programBlock);
    tile = bufferization::AllocTensorOp::create(b, loc, type, ValueRange{});
  }
  return tile;
}

Value TileBuilder::freshTile(RankedTensorType type) {
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(programBlock);
  return bufferization::AllocTensorOp::create(b, loc, type, ValueRange{});
}

RankedTensorType TileBuilder::rows(ShapedType tile) {
  return RankedTensorType::get({tile.getDimSize(0)}, b.getF32Type());
}

Value TileBuilder::fill(double value, Value dest) {
  return attn::TileFillOp::create(b, loc, dest.getType(), f32(value), dest)
      .getResult();
}

Value TileBuilder::map(ValueRange inputs, Value dest,
                       function_ref<Value(OpBuilder &, ValueRange)> body) {
  auto op = attn::TileMapOp::create(b, loc, dest.getType(), inputs, dest);
  OpBuilder::InsertionGuard g(b);
  Block *block = b.createBlock(&op.getBody());
  for (Value input : inputs)
    block->addArgument(cast<ShapedType>(input.getType()).getElementType(),
                       loc);
  attn::YieldOp::create(b, loc, body(b, block->getArguments()));
  return op.getResult();
}

Value flashmlir::constantF32(OpBuilder &b, Location loc, double v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}

ScoreTile flashmlir::buildScoreTile(TileBuilder &t, const ScoreOperands &in,
                                    bool withDerivative) {
  OpBuilder &b = t.b;
  Location loc = t.loc;
  auto query = cast<ShapedType>(in.query.getType());
  auto key = cast<ShapedType>(in.key.getType());
  int64_t blockN = key.getDimSize(0);
  auto scoresType = RankedTensorType::get({query.getDimSize(0), blockN},
                                          b.getF32Type());
  ScoreTile out;

  // S = Q·Kᵀ
  Value s = attn::TileMatmulOp::create(
                b, loc, scoresType, in.query, in.key,
                t.fill(0, t.scratchTile(scoresType, "scores")),
                /*transpose_lhs=*/false, /*transpose_rhs=*/true)
                .getResult();

  // The score transforms work on the natural-domain score x = S·scale; then
  // c = log2 e turns it into a base-2 logit. Without them one multiply by
  // c = scale·log2 e does both, folded into the exp2 of the softmax.
  double scale = in.scale;
  double c = scale * kLog2E;
  double cap = in.softcap ? in.softcap.getValueAsDouble() : 0;
  // softcap'(x) = 1 − tanh²(x/softcap) = 1 − (y/softcap)², y = softcap(x)
  auto capDerivative = [&](OpBuilder &mb, Value y) -> Value {
    Value r = arith::MulFOp::create(mb, loc, y, constantF32(mb, loc, 1 / cap));
    Value r2 = arith::MulFOp::create(mb, loc, r, r);
    return arith::SubFOp::create(mb, loc, constantF32(mb, loc, 1), r2);
  };
  if (in.softcap) {
    // s = softcap · tanh(s·scale / softcap)
    s = t.map(s, s, [&](OpBuilder &mb, ValueRange x) -> Value {
      Value arg = arith::MulFOp::create(mb, loc, x[0],
                                        constantF32(mb, loc, scale / cap));
      // (one op per statement: the order must not depend on the compiler's)
      Value capValue = constantF32(mb, loc, cap);
      Value tanh = math::TanhOp::create(mb, loc, arg);
      return arith::MulFOp::create(mb, loc, tanh, capValue);
    });
    c = kLog2E;
  }
  bool scoreMod = in.scoreMod && !in.scoreMod->empty();
  if (scoreMod) {
    // s = score_mod(s·scale, seq, head, q_pos + i, kv_pos + j)
    if (c != kLog2E)
      s = t.map(s, s, [&](OpBuilder &mb, ValueRange x) -> Value {
        return arith::MulFOp::create(mb, loc, x[0], constantF32(mb, loc, scale));
      });
    if (withDerivative) {
      // G = score_mod'(y, ...)  (· softcap'(x) = 1 − (y/softcap)²), and 0
      // outside rows × cols
      auto grad = attn::TileScoreModOp::create(
          b, loc, scoresType, s,
          t.fill(0, t.scratchTile(scoresType, "dscore")), in.seq, in.head,
          in.qPos, in.kvPos, in.rows, in.cols);
      IRMapping mapping;
      in.scoreModGrad->cloneInto(&grad.getScoreMod(), mapping);
      out.derivative = grad.getResult();
      if (in.softcap)
        out.derivative =
            t.map({out.derivative, s}, out.derivative,
                  [&](OpBuilder &mb, ValueRange x) -> Value {
                    return arith::MulFOp::create(mb, loc, x[0],
                                                 capDerivative(mb, x[1]));
                  });
    }
    auto mod = attn::TileScoreModOp::create(b, loc, scoresType, s, s, in.seq,
                                            in.head, in.qPos, in.kvPos,
                                            in.rows, in.cols);
    IRMapping mapping;
    in.scoreMod->cloneInto(&mod.getScoreMod(), mapping);
    s = mod.getResult();
    c = kLog2E;
  } else if (in.softcap && withDerivative) {
    // G = 1 − (y/softcap)²
    out.derivative =
        t.map(s, t.scratchTile(scoresType, "dscore"),
              [&](OpBuilder &mb, ValueRange x) -> Value {
                return capDerivative(mb, x[0]);
              });
  }

  // Masking: s = -inf where the key is hidden (the window, mask_mod, or past
  // the block's columns; in the backward, past its rows too). Boundary
  // blocks always; an interior block only when it is ragged (cols < BlockN;
  // in the backward, or rows < BlockM), decided at run time.
  auto mask = [&](OpBuilder &mb, attn::MaskAttr kind, Region *maskMod) {
    auto masked = attn::TileMaskOp::create(
        mb, loc, scoresType, s, s, in.qPos, in.kvPos, in.diag, in.rows,
        in.cols, in.seq, in.head, kind, in.hideRows);
    if (maskMod && !maskMod->empty()) {
      IRMapping mapping;
      maskMod->cloneInto(&masked.getMaskMod(), mapping);
    }
    return masked.getResult();
  };
  if (in.masked) {
    s = mask(b, in.mask, in.maskMod);
  } else {
    Value ragged = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::slt, in.cols,
        arith::ConstantIndexOp::create(b, loc, blockN));
    if (in.hideRows)
      ragged = arith::OrIOp::create(
          b, loc, ragged,
          arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::slt, in.rows,
              arith::ConstantIndexOp::create(b, loc, query.getDimSize(0))));
    auto ifOp = scf::IfOp::create(b, loc, scoresType, ragged,
                                  /*withElseRegion=*/true);
    OpBuilder thenB = ifOp.getThenBodyBuilder();
    scf::YieldOp::create(
        thenB, loc,
        mask(thenB,
             attn::MaskAttr::get(b.getContext(), attn::MaskKind::None,
                                 attn::MaskAlignment::BottomRight),
             nullptr));
    OpBuilder elseB = ifOp.getElseBodyBuilder();
    scf::YieldOp::create(elseB, loc, s);
    s = ifOp.getResult(0);
  }
  out.scores = s;
  out.c = c;
  return out;
}
