//===- TileElements.cpp - One element of a tile load or store -------------===//

#include "TileElements.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace flashmlir;

bool flashmlir::isTileLoadable(Type element) {
  return element.isF16() || element.isBF16() || element.isF32() ||
         isa<Float8E4M3FNType>(element);
}

/// f8E4M3FN bits x = s eeee mmm (bias 7, no infinities, NaN = s 1111 111)
/// as f32:
///   e > 0:  (-1)^s · (1 + m/8) · 2^(e-7)  = bits s | (e + 120) << 23 | m << 20
///           = s << 31 | ((x & 0x7f) << 20) + (120 << 23)
///   e = 0:  (-1)^s · m · 2^-9             (subnormals and zero; exact in f32)
///   NaN:    s | 0x7fc00000
static Value decodeE4M3(OpBuilder &b, Location loc, Value x) {
  Type i32 = b.getI32Type();
  auto c = [&](int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v))
        .getResult();
  };
  Value bits = arith::ExtUIOp::create(
      b, loc, i32, arith::BitcastOp::create(b, loc, b.getI8Type(), x));
  Value sign = arith::ShLIOp::create(
      b, loc, arith::AndIOp::create(b, loc, bits, c(0x80)), c(24));
  Value magnitude = arith::AndIOp::create(b, loc, bits, c(0x7f));
  Value normal = arith::AddIOp::create(
      b, loc, arith::ShLIOp::create(b, loc, magnitude, c(20)), c(120 << 23));
  Value mantissa = arith::AndIOp::create(b, loc, bits, c(7));
  Value subnormal = arith::BitcastOp::create(
      b, loc, i32,
      arith::MulFOp::create(
          b, loc, arith::UIToFPOp::create(b, loc, b.getF32Type(), mantissa),
          arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0x1p-9))));
  Value isSubnormal = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                            magnitude, c(8));
  Value isNan = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                      magnitude, c(0x7f));
  Value unsignedBits = arith::SelectOp::create(
      b, loc, isNan, c(0x7fc00000),
      arith::SelectOp::create(b, loc, isSubnormal, subnormal, normal));
  return arith::BitcastOp::create(
      b, loc, b.getF32Type(), arith::OrIOp::create(b, loc, sign, unsignedBits));
}

Value flashmlir::loadTileElement(OpBuilder &b, Location loc,
                                 attn::TileLoadOp op, Value row, Value d) {
  // A rank-1 tile reads per-row values from [B, H, S].
  Value x =
      d ? memref::LoadOp::create(b, loc, op.getSource(),
                                 ValueRange{op.getBatch(), row, op.getHead(), d})
        : memref::LoadOp::create(b, loc, op.getSource(),
                                 ValueRange{op.getBatch(), op.getHead(), row});
  Type element = cast<ShapedType>(op.getDest().getType()).getElementType();
  if (x.getType() == element && !op.getScale())
    return x; // a native tile: the source's own elements
  if (isa<Float8E4M3FNType>(x.getType()))
    x = decodeE4M3(b, loc, x);
  else if (!x.getType().isF32())
    x = arith::ExtFOp::create(b, loc, b.getF32Type(), x);
  if (Value scale = op.getScale())
    x = arith::MulFOp::create(b, loc, x, scale);
  return x;
}

void flashmlir::storeTileElement(OpBuilder &b, Location loc,
                                 attn::TileStoreOp op, Value i, Value d) {
  Type element = cast<MemRefType>(op.getDest().getType()).getElementType();
  SmallVector<Value> at{i};
  if (d)
    at.push_back(d);
  Value x = memref::LoadOp::create(b, loc, op.getTile(), at);
  if (!x.getType().isF32())
    x = arith::ExtFOp::create(b, loc, b.getF32Type(), x);
  if (!element.isF32())
    x = arith::TruncFOp::create(b, loc, element, x);
  Value row = arith::AddIOp::create(b, loc, op.getRow(), i);
  if (d && op.getColumn())
    d = arith::AddIOp::create(b, loc, op.getColumn(), d);
  SmallVector<Value> position =
      d ? SmallVector<Value>{op.getBatch(), row, op.getHead(), d}
        : SmallVector<Value>{op.getBatch(), op.getHead(), row};
  if (op.getAccumulate())
    x = arith::AddFOp::create(
        b, loc, memref::LoadOp::create(b, loc, op.getDest(), position), x);
  memref::StoreOp::create(b, loc, x, op.getDest(), position);
}

/// The bytes of `width` elements of `element`.
static int64_t vectorBytes(Type element, int64_t width) {
  return width * element.getIntOrFloatBitWidth() / 8;
}

/// x as a vector of `element` through f32 (a vector of f32 stays).
static Value convertVector(OpBuilder &b, Location loc, Value x, Type element) {
  auto type = cast<VectorType>(x.getType());
  auto as = [&](Type e) { return VectorType::get(type.getShape(), e); };
  if (type.getElementType() == element)
    return x;
  if (!type.getElementType().isF32())
    x = arith::ExtFOp::create(b, loc, as(b.getF32Type()), x);
  if (!element.isF32())
    x = arith::TruncFOp::create(b, loc, as(element), x);
  return x;
}

Value flashmlir::loadTileVector(OpBuilder &b, Location loc,
                                attn::TileLoadOp op, Value row, Value d,
                                int64_t width) {
  Type source = cast<MemRefType>(op.getSource().getType()).getElementType();
  Type element = cast<ShapedType>(op.getDest().getType()).getElementType();
  if (isa<Float8E4M3FNType>(source) || !d)
    return {};
  Value x = vector::LoadOp::create(
      b, loc, VectorType::get({width}, source), op.getSource(),
      ValueRange{op.getBatch(), row, op.getHead(), d},
      /*nontemporal=*/false, llvm::MaybeAlign(vectorBytes(source, width)));
  if (source == element && !op.getScale())
    return x; // a native tile
  x = convertVector(b, loc, x, b.getF32Type());
  if (Value scale = op.getScale())
    x = arith::MulFOp::create(
        b, loc, x,
        vector::BroadcastOp::create(b, loc, x.getType(), scale));
  return x;
}

void flashmlir::storeTileVector(OpBuilder &b, Location loc,
                                attn::TileStoreOp op, Value i, Value d,
                                int64_t width, int64_t tileAlignment) {
  Type element = cast<MemRefType>(op.getDest().getType()).getElementType();
  Type tileElement = cast<MemRefType>(op.getTile().getType()).getElementType();
  Value x = vector::LoadOp::create(
      b, loc, VectorType::get({width}, tileElement), op.getTile(),
      ValueRange{i, d}, /*nontemporal=*/false,
      llvm::MaybeAlign(tileAlignment));
  x = convertVector(b, loc, x, element);
  Value row = arith::AddIOp::create(b, loc, op.getRow(), i);
  if (op.getColumn())
    d = arith::AddIOp::create(b, loc, op.getColumn(), d);
  SmallVector<Value> position{op.getBatch(), row, op.getHead(), d};
  llvm::MaybeAlign align(vectorBytes(element, width));
  if (op.getAccumulate()) {
    Value old = vector::LoadOp::create(b, loc, cast<VectorType>(x.getType()),
                                       op.getDest(),
                                       position, /*nontemporal=*/false, align);
    x = convertVector(
        b, loc,
        arith::AddFOp::create(b, loc, convertVector(b, loc, old, b.getF32Type()),
                              convertVector(b, loc, x, b.getF32Type())),
        element);
  }
  vector::StoreOp::create(b, loc, x, op.getDest(), position,
                          /*nontemporal=*/false, align);
}
