//===- AttnTileOps.cpp - verifiers of the tiled-level (L1) ops -------------===//
//
// The tile ops work on static f32 tile buffers whose sizes must agree:
//   Q [BM, D], K [BN, D], V [BN, Dv], acc [BM, Dv], m [BM], l [BM].
//
//===----------------------------------------------------------------------===//

#include "attn/Attn.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
/// Checks tile buffer shapes with diagnostics naming the operand.
class TileChecker {
public:
  explicit TileChecker(Operation *op) : op(op) {}

  /// `value` must be a static memref of rank `rank`.
  FailureOr<MemRefType> tile(Value value, StringRef name, int64_t rank) {
    auto type = dyn_cast<MemRefType>(value.getType());
    if (!type || type.getRank() != rank || !type.hasStaticShape()) {
      op->emitOpError() << "'" << name << "' must be a static rank-" << rank
                        << " tile, got " << value.getType();
      return failure();
    }
    return type;
  }

  /// Dimension `dim` of `name` (called `what`) must equal `expected`.
  LogicalResult same(MemRefType type, StringRef name, int64_t dim,
                     int64_t expected, StringRef what) {
    if (type.getDimSize(dim) == expected)
      return success();
    return op->emitOpError()
           << "'" << name << "' dim " << dim << " (" << type.getDimSize(dim)
           << ") must equal " << what << " (" << expected << ")";
  }

private:
  Operation *op;
};
} // namespace

/// acc [BM, Dv], m [BM], l [BM]: returns acc's type.
static FailureOr<MemRefType> verifyState(Operation *op, Value acc, Value max,
                                         Value sum) {
  TileChecker check(op);
  FailureOr<MemRefType> accType = check.tile(acc, "acc", 2);
  FailureOr<MemRefType> maxType, sumType;
  if (failed(accType) || failed(maxType = check.tile(max, "max", 1)) ||
      failed(sumType = check.tile(sum, "sum", 1)))
    return failure();
  int64_t blockM = accType->getDimSize(0);
  if (failed(check.same(*maxType, "max", 0, blockM, "the rows of 'acc'")) ||
      failed(check.same(*sumType, "sum", 0, blockM, "the rows of 'acc'")))
    return failure();
  return accType;
}

//===----------------------------------------------------------------------===//
// TileLoadOp
//===----------------------------------------------------------------------===//

LogicalResult TileLoadOp::verify() {
  auto source = cast<MemRefType>(getSource().getType());
  if (source.getRank() != 4)
    return emitOpError() << "'source' must have rank 4 [B, S, H, D], got rank "
                         << source.getRank();
  FailureOr<MemRefType> dest = TileChecker(*this).tile(getDest(), "dest", 2);
  if (failed(dest))
    return failure();
  int64_t width = source.getDimSize(3);
  if (!ShapedType::isDynamic(width) && dest->getDimSize(1) != width)
    return emitOpError() << "'dest' width (" << dest->getDimSize(1)
                         << ") must equal the head dim of 'source' (" << width
                         << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// BlockInitOp
//===----------------------------------------------------------------------===//

LogicalResult BlockInitOp::verify() {
  return verifyState(*this, getAcc(), getMax(), getSum());
}

//===----------------------------------------------------------------------===//
// BlockUpdateOp
//===----------------------------------------------------------------------===//

LogicalResult BlockUpdateOp::verify() {
  FailureOr<MemRefType> acc = verifyState(*this, getAcc(), getMax(), getSum());
  if (failed(acc))
    return failure();
  TileChecker check(*this);
  FailureOr<MemRefType> q, k, v;
  if (failed(q = check.tile(getQuery(), "query", 2)) ||
      failed(k = check.tile(getKey(), "key", 2)) ||
      failed(v = check.tile(getValue(), "value", 2)))
    return failure();
  int64_t blockM = acc->getDimSize(0), headDimV = acc->getDimSize(1);
  int64_t blockN = k->getDimSize(0), headDim = q->getDimSize(1);
  if (failed(check.same(*q, "query", 0, blockM, "the rows of 'acc'")) ||
      failed(check.same(*k, "key", 1, headDim, "the head dim of 'query'")) ||
      failed(check.same(*v, "value", 0, blockN, "the rows of 'key'")) ||
      failed(check.same(*v, "value", 1, headDimV, "the columns of 'acc'")))
    return failure();
  double scale = getScale().convertToDouble();
  if (!(scale > 0.0) || std::isinf(scale))
    return emitOpError() << "'scale' must be finite and > 0";
  if (FloatAttr softcap = getSoftcapAttr())
    if (!(softcap.getValueAsDouble() >= 0.0) ||
        std::isinf(softcap.getValueAsDouble()))
      return emitOpError() << "'softcap' must be finite and >= 0";
  if (!getMasked() && !getMaskMod().empty())
    return emitOpError() << "a block with a 'mask_mod' region must be "
                            "'masked': mask_mod hides keys in any block";
  return success();
}

LogicalResult BlockUpdateOp::verifyRegions() {
  return mlir::attn::detail::verifyModifierRegions(*this, getScoreMod(), getMaskMod());
}

void BlockUpdateOp::getAsmBlockArgumentNames(Region &region,
                                             OpAsmSetValueNameFn setNameFn) {
  mlir::attn::detail::nameModifierRegionArguments(region, &region == &getScoreMod(),
                                      setNameFn);
}

//===----------------------------------------------------------------------===//
// BlockFinalizeOp
//===----------------------------------------------------------------------===//

LogicalResult BlockFinalizeOp::verify() {
  FailureOr<MemRefType> acc = verifyState(*this, getAcc(), getMax(), getSum());
  if (failed(acc))
    return failure();
  auto out = cast<MemRefType>(getOut().getType());
  if (out.getRank() != 4)
    return emitOpError() << "'out' must have rank 4 [B, S, H, Dv], got rank "
                         << out.getRank();
  if (!ShapedType::isDynamic(out.getDimSize(3)) &&
      out.getDimSize(3) != acc->getDimSize(1))
    return emitOpError() << "'out' head dim (" << out.getDimSize(3)
                         << ") must equal the columns of 'acc' ("
                         << acc->getDimSize(1) << ")";
  if (Value lse = getLse()) {
    auto lseType = cast<MemRefType>(lse.getType());
    if (lseType.getRank() != 3 || !lseType.getElementType().isF32())
      return emitOpError() << "'lse' must be an f32 memref [B, H, S], got "
                           << lseType;
  }
  return success();
}
