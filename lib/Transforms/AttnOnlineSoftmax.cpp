//===- AttnOnlineSoftmax.cpp - --attn-online-softmax -----------------------===//
//
// Expands the running-softmax ops of the tiled level into loops over their
// tiles (L2). The formulas of Passes.td are repeated above the IR that
// builds them. All arithmetic is f32.
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Transforms/Passes.h"

#include "attn/Attn.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
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

static constexpr double kLog2E = 1.4426950408889634;
static constexpr double kLn2 = 0.6931471805599453;

namespace {
/// Small builder helpers for f32/index scalar code.
struct Emitter {
  OpBuilder &b;
  Location loc;

  Value f32(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value load(Value memref, ValueRange indices) {
    return memref::LoadOp::create(b, loc, memref, indices);
  }
  void store(Value value, Value memref, ValueRange indices) {
    memref::StoreOp::create(b, loc, value, memref, indices);
  }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value iadd(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }

  /// for (iv = 0; iv < ub; ++iv) body(iv), with optional loop-carried f32.
  scf::ForOp loop(Value ub, ValueRange inits,
                  function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto forOp = scf::ForOp::create(
        b, loc, idx(0), ub, idx(1), inits,
        [&](OpBuilder &nested, Location, Value iv, ValueRange args) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          SmallVector<Value> yields = body(iv, args);
          scf::YieldOp::create(b, loc, yields);
        });
    return forOp;
  }
};
} // namespace

/// Inlines a modifier region (score_mod or mask_mod) at the builder's
/// position with `args` as its block arguments; returns the yielded value.
static Value inlineModifier(OpBuilder &b, Region &region, ValueRange args) {
  Block &block = region.front();
  IRMapping mapping;
  mapping.map(block.getArguments(), args);
  for (Operation &op : block.without_terminator())
    b.clone(op, mapping);
  auto yield = cast<attn::YieldOp>(block.getTerminator());
  return mapping.lookupOrDefault(yield.getValues().front());
}

/// The scratch S/P tile [BlockM, BlockN] of a program: allocated once at the
/// start of the program's alloca scope (or the function), never per KV block.
using ScratchTiles = DenseMap<std::pair<Block *, Type>, Value>;
static Value getOrCreateScoreTile(OpBuilder &b, attn::BlockUpdateOp op,
                                  ScratchTiles &scratch) {
  auto acc = cast<MemRefType>(op.getAcc().getType());
  auto key = cast<MemRefType>(op.getKey().getType());
  auto type = MemRefType::get({acc.getDimSize(0), key.getDimSize(0)},
                              b.getF32Type());
  Operation *scope = op->getParentOfType<memref::AllocaScopeOp>();
  if (!scope)
    scope = op->getParentOfType<FunctionOpInterface>();
  Block *block = &scope->getRegion(0).front();
  Value &tile = scratch[{block, type}];
  if (!tile) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(block);
    tile = memref::AllocaOp::create(b, op.getLoc(), type);
  }
  return tile;
}

static void expandBlockInit(attn::BlockInitOp op) {
  OpBuilder b(op);
  Emitter e{b, op.getLoc()};
  auto acc = cast<MemRefType>(op.getAcc().getType());
  // m = -inf, l = 0, acc = 0
  auto rows = e.loop(e.idx(acc.getDimSize(0)), {}, [&](Value i, ValueRange) {
    e.store(e.f32(-std::numeric_limits<double>::infinity()), op.getMax(), {i});
    e.store(e.f32(0), op.getSum(), {i});
    e.loop(e.idx(acc.getDimSize(1)), {}, [&](Value d, ValueRange) {
      e.store(e.f32(0), op.getAcc(), {i, d});
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });
  rows->setAttr(kRowLoopAttrName, b.getUnitAttr());
  op.erase();
}

/// visible(i, j) = (L < 0 or kj >= qi + diag - L) and (R < 0 or kj <= qi +
/// diag + R) and mask_mod(seq, head, qi, kj)
static Value emitVisibility(Emitter &e, attn::BlockUpdateOp op, Value qi,
                            Value kj) {
  OpBuilder &b = e.b;
  attn::MaskAttr mask = op.getMask();
  Value keep = arith::ConstantIntOp::create(b, e.loc, b.getI1Type(), 1);
  Value center = e.iadd(qi, op.getDiag());
  auto both = [&](Value cond) {
    keep = arith::AndIOp::create(b, e.loc, keep, cond);
  };
  if (mask.getWindowLeft() >= 0) {
    Value lo = arith::SubIOp::create(b, e.loc, center,
                                     e.idx(mask.getWindowLeft()));
    both(arith::CmpIOp::create(b, e.loc, arith::CmpIPredicate::sge, kj, lo));
  }
  if (mask.getWindowRight() >= 0) {
    Value hi = e.iadd(center, e.idx(mask.getWindowRight()));
    both(arith::CmpIOp::create(b, e.loc, arith::CmpIPredicate::sle, kj, hi));
  }
  if (!op.getMaskMod().empty())
    both(inlineModifier(b, op.getMaskMod(),
                        {op.getSeq(), op.getHead(), qi, kj}));
  return keep;
}

static void expandBlockUpdate(attn::BlockUpdateOp op, ScratchTiles &scratch,
                              bool testDropAlpha) {
  OpBuilder b(op);
  Emitter e{b, op.getLoc()};
  Value scores = getOrCreateScoreTile(b, op, scratch);
  int64_t headDim = cast<MemRefType>(op.getQuery().getType()).getDimSize(1);
  int64_t headDimV = cast<MemRefType>(op.getAcc().getType()).getDimSize(1);
  double scale = op.getScale().convertToDouble();
  FloatAttr softcapAttr = op.getSoftcapAttr();
  double softcap = softcapAttr ? softcapAttr.getValueAsDouble() : 0.0;
  bool naturalDomain = softcap > 0 || !op.getScoreMod().empty();
  const double negInf = -std::numeric_limits<double>::infinity();

  auto rows = e.loop(op.getRows(), {}, [&](Value i, ValueRange) {
    Value qi = e.iadd(op.getQPos(), i);
    Value mOld = e.load(op.getMax(), {i});

    // Pass 1: scores of row i and their max.
    //   m_new = max(m_old, max_j s_ij)
    auto rowMax = e.loop(op.getCols(), {mOld}, [&](Value j, ValueRange mx) {
      // dot = q_i · k_j
      auto dot = e.loop(e.idx(headDim), {e.f32(0)}, [&](Value d, ValueRange a) {
        Value prod = e.mul(e.load(op.getQuery(), {i, d}),
                           e.load(op.getKey(), {j, d}));
        return SmallVector<Value>{e.add(a[0], prod)};
      });
      Value s;
      if (!naturalDomain) {
        // s = dot · (scale · log2 e): one multiply into the base-2 domain.
        s = e.mul(dot.getResult(0), e.f32(scale * kLog2E));
      } else {
        // s = dot · scale
        s = e.mul(dot.getResult(0), e.f32(scale));
        if (softcap > 0) {
          // s = softcap · tanh(s / softcap)
          Value t = math::TanhOp::create(b, e.loc, e.mul(s, e.f32(1 / softcap)));
          s = e.mul(t, e.f32(softcap));
        }
        if (!op.getScoreMod().empty()) {
          // s = score_mod(s, seq, head, q_idx, kv_idx)
          Value kj = e.iadd(op.getKvPos(), j);
          s = inlineModifier(b, op.getScoreMod(),
                             {s, op.getSeq(), op.getHead(), qi, kj});
        }
        // s = s · log2 e
        s = e.mul(s, e.f32(kLog2E));
      }
      if (op.getMasked()) {
        // s = visible(i, j) ? s : -inf
        Value kj = e.iadd(op.getKvPos(), j);
        Value keep = emitVisibility(e, op, qi, kj);
        s = arith::SelectOp::create(b, e.loc, keep, s, e.f32(negInf));
      }
      e.store(s, scores, {i, j});
      return SmallVector<Value>{arith::MaximumFOp::create(b, e.loc, mx[0], s)};
    });
    Value mNew = rowMax.getResult(0);

    // A row with every key hidden so far keeps m = -inf; subtract 0 instead
    // so that exp2(-inf - (-inf)) = NaN never happens.
    //   m_safe = m_new == -inf ? 0 : m_new
    Value allHidden = arith::CmpFOp::create(b, e.loc, arith::CmpFPredicate::OEQ,
                                            mNew, e.f32(negInf));
    Value mSafe = arith::SelectOp::create(b, e.loc, allHidden, e.f32(0), mNew);
    // alpha = exp2(m_old - m_safe)        (0 when m_old = -inf)
    Value alpha = math::Exp2Op::create(b, e.loc, e.sub(mOld, mSafe));
    if (testDropAlpha)
      alpha = e.f32(1);

    // Pass 2: probabilities in place of the scores, and their row sum.
    //   p_ij = exp2(s_ij - m_safe)        (0 for hidden keys)
    auto rowSum = e.loop(op.getCols(), {e.f32(0)}, [&](Value j, ValueRange sum) {
      Value p = math::Exp2Op::create(b, e.loc,
                                     e.sub(e.load(scores, {i, j}), mSafe));
      e.store(p, scores, {i, j});
      return SmallVector<Value>{e.add(sum[0], p)};
    });
    // l_i = l_i · alpha + Σ_j p_ij
    Value lNew = e.add(e.mul(e.load(op.getSum(), {i}), alpha),
                       rowSum.getResult(0));
    e.store(lNew, op.getSum(), {i});
    e.store(mNew, op.getMax(), {i});

    // Pass 3: acc_i = acc_i · alpha + Σ_j p_ij · v_j
    e.loop(e.idx(headDimV), {}, [&](Value d, ValueRange) {
      Value init = e.mul(e.load(op.getAcc(), {i, d}), alpha);
      auto pv = e.loop(op.getCols(), {init}, [&](Value j, ValueRange a) {
        Value prod = e.mul(e.load(scores, {i, j}), e.load(op.getValue(), {j, d}));
        return SmallVector<Value>{e.add(a[0], prod)};
      });
      e.store(pv.getResult(0), op.getAcc(), {i, d});
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });
  rows->setAttr(kRowLoopAttrName, b.getUnitAttr());
  op.erase();
}

static void expandBlockFinalize(attn::BlockFinalizeOp op) {
  OpBuilder b(op);
  Emitter e{b, op.getLoc()};
  int64_t headDimV = cast<MemRefType>(op.getAcc().getType()).getDimSize(1);
  Type outType = cast<MemRefType>(op.getOut().getType()).getElementType();

  auto rows = e.loop(op.getRows(), {}, [&](Value i, ValueRange) {
    Value l = e.load(op.getSum(), {i});
    Value row = e.iadd(op.getRow(), i);
    // A row that saw no visible key has l = 0: O = 0, LSE = -inf.
    Value sawKey = arith::CmpFOp::create(b, e.loc, arith::CmpFPredicate::OGT,
                                         l, e.f32(0));
    // inv = l > 0 ? 1 / l : 0
    Value inv = arith::SelectOp::create(
        b, e.loc, sawKey, arith::DivFOp::create(b, e.loc, e.f32(1), l),
        e.f32(0));
    e.loop(e.idx(headDimV), {}, [&](Value d, ValueRange) {
      // O_i = acc_i / l_i
      Value o = e.mul(e.load(op.getAcc(), {i, d}), inv);
      if (outType != o.getType())
        o = arith::TruncFOp::create(b, e.loc, outType, o);
      e.store(o, op.getOut(), {op.getBatch(), row, op.getHead(), d});
      return SmallVector<Value>{};
    });
    if (Value lse = op.getLse()) {
      // LSE_i = (m_i + log2 l_i) · ln 2
      Value log2l = math::Log2Op::create(b, e.loc, l);
      Value value = e.mul(e.add(e.load(op.getMax(), {i}), log2l), e.f32(kLn2));
      value = arith::SelectOp::create(
          b, e.loc, sawKey, value,
          e.f32(-std::numeric_limits<double>::infinity()));
      e.store(value, lse, {op.getBatch(), op.getHead(), row});
    }
    return SmallVector<Value>{};
  });
  rows->setAttr(kRowLoopAttrName, b.getUnitAttr());
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
      if (auto init = dyn_cast<attn::BlockInitOp>(op))
        expandBlockInit(init);
      else if (auto update = dyn_cast<attn::BlockUpdateOp>(op))
        expandBlockUpdate(update, scratch, testDropAlpha);
      else
        expandBlockFinalize(cast<attn::BlockFinalizeOp>(op));
    }
  }
};
} // namespace
