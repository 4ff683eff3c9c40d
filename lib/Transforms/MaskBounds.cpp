//===- MaskBounds.cpp - index arithmetic for the KV-block ranges -----------===//

#include "flashmlir/Transforms/MaskBounds.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace flashmlir;

Value IndexArith::constant(int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}
// Each op folds when its operands are constants (static shapes), so the
// emitted bounds stay as simple as the specialization allows.
Value IndexArith::add(Value x, Value y) {
  return b.createOrFold<arith::AddIOp>(loc, x, y);
}
Value IndexArith::sub(Value x, Value y) {
  return b.createOrFold<arith::SubIOp>(loc, x, y);
}
Value IndexArith::min(Value x, Value y) {
  return b.createOrFold<arith::MinSIOp>(loc, x, y);
}
Value IndexArith::max(Value x, Value y) {
  return b.createOrFold<arith::MaxSIOp>(loc, x, y);
}
Value IndexArith::floorDiv(Value x, Value y) {
  return b.createOrFold<arith::FloorDivSIOp>(loc, x, y);
}
Value IndexArith::ceilDiv(Value x, Value y) {
  return b.createOrFold<arith::CeilDivSIOp>(loc, x, y);
}
Value IndexArith::mulConstant(Value x, int64_t c) {
  return b.createOrFold<arith::MulIOp>(loc, x, constant(c));
}
Value IndexArith::selectGreaterEq(Value x, Value y, Value t, Value f) {
  Value ge = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, x, y);
  return arith::SelectOp::create(b, loc, ge, t, f);
}
