//===- HopperModifiers.cpp - score_mod and mask_mod per score ---------------===//
//
// Part of the --attn-lower-to-hopper emitter (HopperKernelEmitter.h).
//
//===----------------------------------------------------------------------===//

#include "HopperKernelEmitter.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace flashmlir;
using namespace flashmlir::hopper;

//===----------------------------------------------------------------------===//
// Consumers
//===----------------------------------------------------------------------===//

HopperKernelEmitter::ScorePositions
HopperKernelEmitter::scorePositions(attn::BlockUpdateOp op) {
  // q_idx[h] = min(q_pos + row_h, q_last), q_last = min(q_pos + rows - 1,
  // Sq - 1); kv_idx likewise. The outer clamps to the static extents change
  // nothing at run time: they bound the ranges --attn-narrow-modifier-arith
  // relies on.
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
    clone->setAttr(kModifierOpAttrName, b.getUnitAttr());
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
