//===- Modifiers.cpp - tile_mask and tile_score_mod per score --------------===//
//
// Part of the L3 -> NVGPU/NVVM conversion (KernelLowering.h).
//
// A modifier body is cloned once per score a consumer thread holds (N/2),
// on the positions of that score, clamped into the block — q_idx =
// min(q_pos + row, q_pos + rows - 1), kv_idx likewise — so that a body never
// reads past its tensors on a ragged block (those scores are hidden or never
// written), and clamped again to the static extents (Sq - 1, Sk - 1,
// Hq - 1), which changes nothing at run time but bounds the integer ranges
// --attn-narrow-modifier-arith narrows. The clones are marked for it.
//
//===----------------------------------------------------------------------===//

#include "KernelLowering.h"

#include "mlir/IR/Matchers.h"

#include <limits>

using namespace mlir;
using namespace flashmlir;
using namespace flashmlir::hopper;

KernelLowering::ScorePositions
KernelLowering::scorePositions(Value seq, Value head, Value qPos, Value rows,
                               Value kvPos, Value cols, int64_t blocks) {
  ScorePositions p;
  auto clampTo = [&](Value v, int64_t extent) {
    return arith::MinUIOp::create(b, loc, v, idx(extent - 1));
  };
  auto last = [&](Value pos, Value count, int64_t extent) {
    return clampTo(arith::SubIOp::create(
                       b, loc, arith::AddIOp::create(b, loc, pos, count), idx(1)),
                   extent);
  };
  p.seq = seq;
  p.head = clampTo(head, headsQ);
  Value qLast = last(qPos, rows, seqLengthQ);
  // The thread's rows: row half h mod 2 of 64-row block h/2.
  p.q.resize(2 * blocks);
  for (int64_t h = 0; h < 2 * blocks; ++h) {
    Value row = arith::AddIOp::create(
        b, loc, lanes.rowInGroup, idx(kFragmentRows * (h / 2) + 8 * (h % 2)));
    p.q[h] = arith::MinUIOp::create(
        b, loc, arith::AddIOp::create(b, loc, qPos, row), qLast);
  }
  p.kvBase = arith::AddIOp::create(
      b, loc, kvPos,
      arith::IndexCastOp::create(b, loc, b.getIndexType(), lanes.laneColumn));
  p.kvLast = last(kvPos, cols, seqLengthK);
  p.kv.assign(plan.blockN / 4, Value());
  // f32 copies: one conversion per row and two per block; each column's is
  // min(kv_base + c, kv_last) in f32 (exact below 2^24).
  int64_t bound = std::max(seqLengthQ, seqLengthK) + plan.blockN;
  if (bound < (int64_t(1) << 24)) {
    auto toF32 = [&](Value v) {
      return arith::SIToFPOp::create(b, loc, b.getF32Type(), toI32(v));
    };
    for (Value q : p.q)
      positionFloats[q] = {toF32(q), bound};
    p.kvBaseF = wg.opaqueF32(toF32(p.kvBase));
    p.kvLastF = toF32(p.kvLast);
  }
  return p;
}

Value KernelLowering::kvIndex(ScorePositions &p, int64_t r) {
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

Value KernelLowering::exactFloatOf(
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

Value KernelLowering::inlineModifier(Region &region, ValueRange args) {
  // Values from above (the modifier's tensors) are the function's; outlining
  // passes them to the kernel. A conversion of position arithmetic to f32
  // (ALiBi's f32(kv_idx - q_idx)) is rebuilt on the positions' exact f32
  // values: integer-to-float conversions issue at a quarter of the FMA
  // rate, and one per score cost as much as the softmax.
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
void KernelLowering::emitMask(attn::TileMaskOp op) {
  SmallVector<Value> s = registersOf(frags[op.getTile()]);
  attn::MaskAttr mask = op.getMask();
  int64_t left = mask.getWindowLeft(), right = mask.getWindowRight();
  Value qPos = toI32(mapped(op.getQPos())), kvPos = toI32(mapped(op.getKvPos()));
  Value diag = toI32(mapped(op.getDiag())), cols = toI32(mapped(op.getCols()));
  Value rows = op.getHideRows() ? toI32(mapped(op.getRows())) : Value();
  Value negInf = wg.f32(-std::numeric_limits<double>::infinity());
  auto tileType = cast<ShapedType>(op.getTile().getType());
  int64_t blocks = rowBlocks(tileType.getDimSize(0));
  int64_t perBlock = tileType.getDimSize(1) / 2;
  SmallVector<Value> lo(2 * blocks), hi(2 * blocks);
  for (int64_t h = 0; h < 2 * blocks; ++h) {
    // i + diag - kv_pos for the thread's row h (row half h mod 2 of block
    // h/2)
    Value row = arith::AddIOp::create(
        b, loc, toI32(lanes.rowInGroup),
        wg.i32(kFragmentRows * (h / 2) + 8 * (h % 2)));
    Value shift = arith::SubIOp::create(
        b, loc,
        arith::AddIOp::create(b, loc, arith::AddIOp::create(b, loc, qPos, row),
                              diag),
        kvPos);
    Value lastCol = arith::SubIOp::create(b, loc, cols, wg.i32(1));
    if (right >= 0)
      lastCol = arith::MinSIOp::create(
          b, loc, lastCol, arith::AddIOp::create(b, loc, shift, wg.i32(right)));
    hi[h] = arith::SubIOp::create(b, loc, lastCol, lanes.laneColumn);
    // hide_rows: a row past the count keeps no column (col <= -1 never).
    if (rows)
      hi[h] = arith::SelectOp::create(
          b, loc,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, row, rows),
          hi[h], wg.i32(-1));
    if (left >= 0)
      lo[h] = arith::SubIOp::create(
          b, loc, arith::SubIOp::create(b, loc, shift, wg.i32(left)),
          lanes.laneColumn);
  }
  std::optional<ScorePositions> positions;
  if (!op.getMaskMod().empty())
    positions = scorePositions(mapped(op.getSeq()), mapped(op.getHead()),
                               mapped(op.getQPos()), mapped(op.getRows()),
                               mapped(op.getKvPos()), mapped(op.getCols()),
                               blocks);
  Fragment out;
  for (auto [r, score] : llvm::enumerate(s)) {
    int64_t h = rowValueOf(r, perBlock);
    Value col = wg.i32(columnOf(r % perBlock));
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
                                           kvIndex(*positions, r % perBlock)}));
    out.regs.push_back(arith::SelectOp::create(b, loc, keep, score, negInf));
  }
  frags[op.getResult()] = out;
}

void KernelLowering::emitScoreMod(attn::TileScoreModOp op) {
  SmallVector<Value> s = registersOf(frags[op.getTile()]);
  auto tileType = cast<ShapedType>(op.getTile().getType());
  int64_t perBlock = tileType.getDimSize(1) / 2;
  ScorePositions positions = scorePositions(
      mapped(op.getSeq()), mapped(op.getHead()), mapped(op.getQPos()),
      mapped(op.getRows()), mapped(op.getKvPos()), mapped(op.getCols()),
      rowBlocks(tileType.getDimSize(0)));
  Fragment out;
  for (auto [r, x] : llvm::enumerate(s))
    out.regs.push_back(inlineModifier(
        op.getScoreMod(),
        {x, positions.seq, positions.head,
         positions.q[rowValueOf(r, perBlock)],
         kvIndex(positions, r % perBlock)}));
  frags[op.getResult()] = out;
}
