//===- AttnScoreModGrad.cpp - --attn-score-mod-grad ------------------------===//
//
// Writes each attn.block_grad_update's `score_mod_grad` region: the
// derivative of its `score_mod` with respect to the score, by forward-mode
// differentiation of the body (the score's tangent is 1):
//   1. clone the body op by op; a value that does not depend on the score
//      (positions, loads of captured tensors, constants) has no tangent;
//   2. after each op with a float result and an operand that has a tangent,
//      emit the result's tangent by the rule of Passes.td;
//   3. yield the tangent of the yielded value (0 when it has none).
// An op on the score's path without a rule is an error naming it.
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Transforms/Passes.h"

#include "attn/Attn.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

namespace flashmlir {
#define GEN_PASS_DEF_ATTNSCOREMODGRADPASS
#include "flashmlir/Transforms/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

namespace {
/// Tangent arithmetic in which a missing tangent (null) is 0.
class Tangents {
public:
  Tangents(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  Value of(Value v) const { return tangents.lookup(v); }
  void set(Value v, Value tangent) {
    if (tangent)
      tangents[v] = tangent;
  }

  Value constant(Type type, double v) {
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, v));
  }
  Value add(Value x, Value y) {
    if (!x || !y)
      return x ? x : y;
    return arith::AddFOp::create(b, loc, x, y);
  }
  Value sub(Value x, Value y) {
    if (!y)
      return x;
    if (!x)
      return arith::NegFOp::create(b, loc, y);
    return arith::SubFOp::create(b, loc, x, y);
  }
  /// x·y where x may be a missing tangent.
  Value mul(Value x, Value y) {
    if (!x)
      return Value();
    return arith::MulFOp::create(b, loc, x, y);
  }
  Value orZero(Value t, Type type) { return t ? t : constant(type, 0); }

private:
  OpBuilder &b;
  Location loc;
  DenseMap<Value, Value> tangents;
};
} // namespace

/// The tangent of `op`'s result (op already cloned: `operands` and `result`
/// are the clone's), or failure when `op` has no rule.
static FailureOr<Value> tangentOf(Operation *op, ValueRange operands,
                                  Value result, Tangents &t, OpBuilder &b) {
  Location loc = op->getLoc();
  Type type = result.getType();
  auto ta = [&](unsigned i) { return t.of(operands[i]); };
  auto cmp = [&](arith::CmpFPredicate pred, Value x, Value y) {
    return arith::CmpFOp::create(b, loc, pred, x, y).getResult();
  };
  auto select = [&](Value p, Value x, Value y) {
    return arith::SelectOp::create(b, loc, p, x, y).getResult();
  };
  // max/min: the chosen operand's tangent; on ties the mean (as torch).
  // (Each op is built in its own statement: the IR's order must not depend on
  // the compiler's order of evaluating arguments.)
  auto choose = [&](bool max) -> Value {
    Value x = operands[0], y = operands[1];
    Value tx = t.orZero(ta(0), type);
    Value ty = t.orZero(ta(1), type);
    Value first = cmp(max ? arith::CmpFPredicate::OGT
                          : arith::CmpFPredicate::OLT, x, y);
    Value second = cmp(max ? arith::CmpFPredicate::OLT
                           : arith::CmpFPredicate::OGT, x, y);
    Value sum = t.add(tx, ty);
    Value half = t.constant(type, 0.5);
    Value mean = arith::MulFOp::create(b, loc, sum, half);
    Value inner = select(second, ty, mean);
    return select(first, tx, inner);
  };
  return llvm::TypeSwitch<Operation *, FailureOr<Value>>(op)
      // (a ± b)' = a' ± b'
      .Case([&](arith::AddFOp) { return t.add(ta(0), ta(1)); })
      .Case([&](arith::SubFOp) { return t.sub(ta(0), ta(1)); })
      // (a·b)' = a'·b + a·b'
      .Case([&](arith::MulFOp) {
        Value left = t.mul(ta(0), operands[1]);
        Value right = t.mul(ta(1), operands[0]);
        return t.add(left, right);
      })
      // (a/b)' = (a' − (a/b)·b') / b
      .Case([&](arith::DivFOp) -> Value {
        Value numerator = t.sub(ta(0), t.mul(ta(1), result));
        numerator = t.orZero(numerator, type);
        return arith::DivFOp::create(b, loc, numerator, operands[1]);
      })
      .Case([&](arith::NegFOp) -> Value {
        return arith::NegFOp::create(b, loc, ta(0));
      })
      // fma(a, b, c)' = a'·b + a·b' + c'
      .Case([&](math::FmaOp) {
        Value left = t.mul(ta(0), operands[1]);
        Value right = t.mul(ta(1), operands[0]);
        return t.add(t.add(left, right), ta(2));
      })
      // select(p, a, b)' = select(p, a', b')
      .Case([&](arith::SelectOp) -> Value {
        Value onTrue = t.orZero(ta(1), type);
        Value onFalse = t.orZero(ta(2), type);
        return select(operands[0], onTrue, onFalse);
      })
      // tanh(a)' = (1 − tanh²(a))·a'
      .Case([&](math::TanhOp) -> Value {
        Value square = arith::MulFOp::create(b, loc, result, result);
        Value one = t.constant(type, 1);
        return t.mul(ta(0), t.sub(one, square));
      })
      // exp(a)' = exp(a)·a',  exp2(a)' = exp2(a)·ln 2·a'
      .Case([&](math::ExpOp) { return t.mul(ta(0), result); })
      .Case([&](math::Exp2Op) -> Value {
        Value ln2 = t.constant(type, std::log(2.0));
        return t.mul(t.mul(ta(0), result), ln2);
      })
      // |a|' = sign(a)·a'
      .Case([&](math::AbsFOp) -> Value {
        Value x = operands[0], zero = t.constant(type, 0);
        Value negated = arith::NegFOp::create(b, loc, ta(0));
        Value positive = cmp(arith::CmpFPredicate::OGT, x, zero);
        Value negative = cmp(arith::CmpFPredicate::OLT, x, zero);
        Value inner = select(negative, negated, zero);
        return select(positive, ta(0), inner);
      })
      .Case<arith::MaximumFOp, arith::MaxNumFOp>(
          [&](Operation *) { return choose(/*max=*/true); })
      .Case<arith::MinimumFOp, arith::MinNumFOp>(
          [&](Operation *) { return choose(/*max=*/false); })
      // Float casts: the tangent cast alike.
      .Case([&](arith::ExtFOp) -> Value {
        return arith::ExtFOp::create(b, loc, type, ta(0));
      })
      .Case([&](arith::TruncFOp) -> Value {
        return arith::TruncFOp::create(b, loc, type, ta(0));
      })
      .Default([&](Operation *) { return failure(); });
}

/// Writes into the empty `grad` the derivative of the score_mod body `mod`.
static LogicalResult differentiate(Region &mod, Region &grad) {
  Block &body = mod.front();
  Block *block = new Block();
  grad.push_back(block);
  for (BlockArgument arg : body.getArguments())
    block->addArgument(arg.getType(), arg.getLoc());
  OpBuilder b = OpBuilder::atBlockEnd(block);
  Location loc = mod.getLoc();
  IRMapping mapping;
  mapping.map(body.getArguments(), block->getArguments());
  Tangents t(b, loc);
  // The score's tangent is 1.
  t.set(block->getArgument(0), t.constant(b.getF32Type(), 1));

  auto hasTangent = [&](Value v) { return static_cast<bool>(t.of(v)); };
  for (Operation &op : body.without_terminator()) {
    Operation *clone = b.clone(op, mapping);
    bool onPath = llvm::any_of(clone->getOperands(), hasTangent);
    // A nested region reading a value on the score's path: no rule.
    if (!onPath && op.getNumRegions())
      op.walk([&](Operation *nested) {
        for (Value v : nested->getOperands())
          onPath |= hasTangent(mapping.lookupOrDefault(v));
      });
    if (!onPath)
      continue;
    // Comparisons, float-to-integer casts: piecewise constant, no tangent.
    if (llvm::none_of(clone->getResultTypes(), llvm::IsaPred<FloatType>) &&
        !isa<arith::BitcastOp>(op))
      continue;
    FailureOr<Value> tangent =
        clone->getNumResults() == 1 && !op.getNumRegions()
            ? tangentOf(&op, clone->getOperands(), clone->getResult(0), t, b)
            : FailureOr<Value>(failure());
    if (failed(tangent))
      return op.emitError()
             << "attn-score-mod-grad: cannot differentiate '" << op.getName()
             << "' with respect to the score (differentiable: arith "
                "add/sub/mul/div/neg, select, maximum/minimum, extf/truncf, "
                "math tanh/exp/exp2/absf/fma)";
    t.set(clone->getResult(0), *tangent);
  }
  auto yield = cast<attn::YieldOp>(body.getTerminator());
  Value result = mapping.lookupOrDefault(yield.getValues().front());
  attn::YieldOp::create(b, loc,
                        t.orZero(t.of(result), b.getF32Type()));
  return success();
}

namespace {
struct AttnScoreModGradPass final
    : flashmlir::impl::AttnScoreModGradPassBase<AttnScoreModGradPass> {
  using Base::Base;

  void runOnOperation() override {
    WalkResult walk =
        getOperation().walk([&](attn::BlockGradUpdateOp op) -> WalkResult {
          if (op.getScoreMod().empty() || !op.getScoreModGrad().empty())
            return WalkResult::advance();
          if (failed(differentiate(op.getScoreMod(), op.getScoreModGrad())))
            return WalkResult::interrupt();
          return WalkResult::advance();
        });
    if (walk.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
