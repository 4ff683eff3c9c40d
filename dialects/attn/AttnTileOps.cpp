//===- AttnTileOps.cpp - the tiled (L1) and online (L2) level ops ----------===//
//
// Verifiers, the program grid's syntax and the tile ops' memory effects.
// The shapes that must agree, for a program of BM query rows, KV blocks of
// BN keys and head dims D, Dv:
//   Q [BM, D], K [BN, D], V [BN, Dv], acc [BM, Dv], m [BM], l [BM].
//
//===----------------------------------------------------------------------===//

#include "attn/Attn.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;

namespace {
/// Checks tile shapes with diagnostics naming the operand.
class TileChecker {
public:
  explicit TileChecker(Operation *op) : op(op) {}

  /// `value` must be a static tile (tensor or memref) of rank `rank`.
  FailureOr<ShapedType> tile(Value value, StringRef name, int64_t rank) {
    auto type = dyn_cast<ShapedType>(value.getType());
    if (!type || !isa<RankedTensorType, MemRefType>(type) ||
        type.getRank() != rank || !type.hasStaticShape()) {
      op->emitOpError() << "'" << name << "' must be a static rank-" << rank
                        << " tile, got " << value.getType();
      return failure();
    }
    return type;
  }

  /// Like tile(), and the elements must be f32.
  FailureOr<ShapedType> f32Tile(Value value, StringRef name, int64_t rank) {
    FailureOr<ShapedType> type = tile(value, name, rank);
    if (succeeded(type) && !type->getElementType().isF32()) {
      op->emitOpError() << "'" << name << "' must hold f32, got "
                        << type->getElementType();
      return failure();
    }
    return type;
  }

  /// Dimension `dim` of `name` (called `what`) must equal `expected`.
  LogicalResult same(ShapedType type, StringRef name, int64_t dim,
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

/// acc [BM, Dv], m [BM], l [BM], all f32: returns acc's type.
static FailureOr<ShapedType> verifyState(Operation *op, Value acc, Value max,
                                         Value sum) {
  TileChecker check(op);
  FailureOr<ShapedType> accType = check.f32Tile(acc, "acc", 2);
  FailureOr<ShapedType> maxType, sumType;
  if (failed(accType) || failed(maxType = check.f32Tile(max, "max", 1)) ||
      failed(sumType = check.f32Tile(sum, "sum", 1)))
    return failure();
  int64_t blockM = accType->getDimSize(0);
  if (failed(check.same(*maxType, "max", 0, blockM, "the rows of 'acc'")) ||
      failed(check.same(*sumType, "sum", 0, blockM, "the rows of 'acc'")))
    return failure();
  return accType;
}

/// Memory effects of a tile op on memrefs: every memref operand is read but
/// the destination, which is written (and read too where `destIsRead`: the
/// ops that accumulate into it). On tensors the ops are pure.
static void getTileOpEffects(
    Operation *op, bool destIsRead,
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  auto dps = cast<DestinationStyleOpInterface>(op);
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    bool isDest = dps.isDpsInit(&operand);
    if (!isDest || destIsRead)
      effects.emplace_back(MemoryEffects::Read::get(), &operand, /*stage=*/0,
                           /*effectOnFullRegion=*/true,
                           SideEffects::DefaultResource::get());
    if (isDest)
      effects.emplace_back(MemoryEffects::Write::get(), &operand, /*stage=*/0,
                           /*effectOnFullRegion=*/true,
                           SideEffects::DefaultResource::get());
  }
}

/// Element-wise tile ops may not change the shape: `tile` and `dest` agree.
static LogicalResult verifySameTile(Operation *op, Value tile, Value dest) {
  TileChecker check(op);
  FailureOr<ShapedType> in = check.f32Tile(tile, "tile", 2);
  FailureOr<ShapedType> out;
  if (failed(in) || failed(out = check.f32Tile(dest, "dest", 2)))
    return failure();
  if (in->getShape() != out->getShape())
    return op->emitOpError() << "'tile' and 'dest' must have the same shape";
  return success();
}

//===----------------------------------------------------------------------===//
// ProgramGridOp
//===----------------------------------------------------------------------===//

void ProgramGridOp::build(OpBuilder &b, OperationState &state,
                          ValueRange bounds, int64_t blockM, bool blockSparse) {
  assert(bounds.size() == 3 && "expected (sequences, heads, q-blocks)");
  state.addOperands(bounds);
  state.addAttribute(getBlockMAttrName(state.name),
                     b.getI64IntegerAttr(blockM));
  if (blockSparse)
    state.addAttribute(getBlockSparseAttrName(state.name), b.getUnitAttr());
  Region *body = state.addRegion();
  Block *block = new Block();
  body->push_back(block);
  Type index = b.getIndexType();
  block->addArguments({index, index, index},
                      SmallVector<Location>(3, state.location));
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToEnd(block);
  YieldOp::create(b, state.location);
}

// attn.program_grid (%seq, %head, %qb) in (%ns, %nh, %nqb) block_m(128)
//     [block_sparse] [plan(#attn.hopper_plan<...>)] [attributes {...}] {...}
ParseResult ProgramGridOp::parse(OpAsmParser &parser, OperationState &state) {
  SmallVector<OpAsmParser::Argument> ivs;
  SmallVector<OpAsmParser::UnresolvedOperand> bounds;
  Type index = parser.getBuilder().getIndexType();
  int64_t blockM = 0;
  if (parser.parseArgumentList(ivs, OpAsmParser::Delimiter::Paren) ||
      parser.parseKeyword("in") ||
      parser.parseOperandList(bounds, OpAsmParser::Delimiter::Paren) ||
      parser.resolveOperands(bounds, index, state.operands) ||
      parser.parseKeyword("block_m") || parser.parseLParen() ||
      parser.parseInteger(blockM) || parser.parseRParen())
    return failure();
  Builder &b = parser.getBuilder();
  state.addAttribute(getBlockMAttrName(state.name),
                     b.getI64IntegerAttr(blockM));
  if (succeeded(parser.parseOptionalKeyword("block_sparse")))
    state.addAttribute(getBlockSparseAttrName(state.name), b.getUnitAttr());
  if (succeeded(parser.parseOptionalKeyword("plan"))) {
    HopperPlanAttr plan;
    if (parser.parseLParen() ||
        parser.parseCustomAttributeWithFallback(plan, Type()) ||
        parser.parseRParen())
      return failure();
    state.addAttribute(getPlanAttrName(state.name), plan);
  }
  if (parser.parseOptionalAttrDictWithKeyword(state.attributes))
    return failure();
  for (OpAsmParser::Argument &iv : ivs)
    iv.type = index;
  Region *body = state.addRegion();
  if (parser.parseRegion(*body, ivs))
    return failure();
  ProgramGridOp::ensureTerminator(*body, b, state.location);
  return success();
}

void ProgramGridOp::print(OpAsmPrinter &p) {
  p << " (";
  llvm::interleaveComma(getInductionVars(), p,
                        [&](Value v) { p.printOperand(v); });
  p << ") in (" << getNumSequences() << ", " << getNumHeads() << ", "
    << getNumQBlocks() << ") block_m(" << getBlockM() << ")";
  if (getBlockSparse())
    p << " block_sparse";
  if (HopperPlanAttr plan = getPlanAttr()) {
    p << " plan(";
    p.printStrippedAttrOrType(plan);
    p << ")";
  }
  p.printOptionalAttrDictWithKeyword(
      (*this)->getAttrs(),
      {getBlockMAttrName(), getBlockSparseAttrName(), getPlanAttrName()});
  p << ' ';
  p.printRegion(getBody(), /*printEntryBlockArgs=*/false,
                /*printBlockTerminators=*/false);
}

LogicalResult ProgramGridOp::verifyRegions() {
  Block &block = getBody().front();
  if (block.getNumArguments() != 3 ||
      !llvm::all_of(block.getArgumentTypes(),
                    [](Type t) { return t.isIndex(); }))
    return emitOpError() << "body must take three index coordinates "
                            "(seq, head, q_block)";
  if (!cast<YieldOp>(block.getTerminator()).getValues().empty())
    return emitOpError() << "body must yield no values";
  return success();
}

void ProgramGridOp::getAsmBlockArgumentNames(Region &region,
                                             OpAsmSetValueNameFn setNameFn) {
  static constexpr StringLiteral names[] = {"seq", "head", "q_block"};
  static constexpr StringLiteral kvNames[] = {"seq", "kv_head", "kv_block"};
  bool kv = getKindOrDefault() == ProgramKind::GradKv;
  for (auto [arg, name] :
       llvm::zip(region.getArguments(), kv ? kvNames : names))
    setNameFn(arg, name);
}

//===----------------------------------------------------------------------===//
// TileLoadOp / TileStoreOp
//===----------------------------------------------------------------------===//

LogicalResult TileLoadOp::verify() {
  auto source = cast<MemRefType>(getSource().getType());
  // Per-row values: a rank-1 tile from a [B, H, S] source (LSE, D).
  auto destType = dyn_cast<ShapedType>(getDest().getType());
  if (destType && destType.getRank() == 1) {
    if (source.getRank() != 3)
      return emitOpError() << "a rank-1 tile loads from a 'source' [B, H, S], "
                              "got rank "
                           << source.getRank();
    if (failed(TileChecker(*this).tile(getDest(), "dest", 1)))
      return failure();
  } else if (source.getRank() != 4) {
    return emitOpError() << "'source' must have rank 4 [B, S, H, D], got rank "
                         << source.getRank();
  }
  int64_t rank = destType && destType.getRank() == 1 ? 1 : 2;
  FailureOr<ShapedType> dest = TileChecker(*this).tile(getDest(), "dest", rank);
  if (failed(dest))
    return failure();
  int64_t width = rank == 2 ? source.getDimSize(3) : ShapedType::kDynamic;
  if (!ShapedType::isDynamic(width) && dest->getDimSize(1) != width)
    return emitOpError() << "'dest' width (" << dest->getDimSize(1)
                         << ") must equal the head dim of 'source' (" << width
                         << ")";
  Type element = dest->getElementType();
  if (!element.isF32() && element != source.getElementType())
    return emitOpError() << "'dest' must hold f32 or the source's "
                         << source.getElementType() << ", got " << element;
  if (getScale() && !element.isF32())
    return emitOpError() << "a 'scale' needs an f32 'dest' (the scaled "
                            "values are f32)";
  return success();
}

void TileLoadOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  getTileOpEffects(*this, /*destIsRead=*/false, effects);
}

LogicalResult TileStoreOp::verify() {
  auto dest = cast<MemRefType>(getDest().getType());
  TileChecker check(*this);
  auto tileType = dyn_cast<ShapedType>(getTile().getType());
  int64_t rank = tileType ? tileType.getRank() : 0;
  if (failed(check.tile(getTile(), "tile", rank == 1 ? 1 : 2)))
    return failure();
  if (rank == 2) {
    if (dest.getRank() != 4)
      return emitOpError() << "a rank-2 tile goes to a 'dest' [B, S, H, D], "
                              "got rank "
                           << dest.getRank();
    int64_t width = dest.getDimSize(3), columns = tileType.getDimSize(1);
    if (!getColumn()) {
      if (!ShapedType::isDynamic(width) && width != columns)
        return emitOpError() << "'dest' head dim (" << width
                             << ") must equal the tile's columns (" << columns
                             << ")";
    } else if (std::optional<int64_t> first =
                   getConstantIntValue(getColumn())) {
      if (*first < 0 ||
          (!ShapedType::isDynamic(width) && *first + columns > width))
        return emitOpError() << "columns [" << *first << ", "
                             << *first + columns
                             << ") must lie within 'dest' head dim (" << width
                             << ")";
    }
  } else if (getColumn()) {
    return emitOpError() << "a rank-1 tile takes no 'column'";
  } else if (dest.getRank() != 3) {
    return emitOpError() << "a rank-1 tile goes to a 'dest' [B, H, S], got "
                            "rank "
                         << dest.getRank();
  }
  if (!isa<FloatType>(dest.getElementType()) ||
      !isa<FloatType>(tileType.getElementType()))
    return emitOpError() << "tile and 'dest' must hold floats";
  if (getAccumulate() && !dest.getElementType().isF32())
    return emitOpError() << "'accumulate' needs an f32 'dest', got "
                         << dest.getElementType();
  return success();
}

void TileStoreOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  if (isa<MemRefType>(getTile().getType()))
    effects.emplace_back(MemoryEffects::Read::get(), &getTileMutable(),
                         /*stage=*/0, /*effectOnFullRegion=*/true,
                         SideEffects::DefaultResource::get());
  if (getAccumulate())
    effects.emplace_back(MemoryEffects::Read::get(), &getDestMutable(),
                         /*stage=*/0, /*effectOnFullRegion=*/false,
                         SideEffects::DefaultResource::get());
  effects.emplace_back(MemoryEffects::Write::get(), &getDestMutable(),
                       /*stage=*/0, /*effectOnFullRegion=*/false,
                       SideEffects::DefaultResource::get());
}

//===----------------------------------------------------------------------===//
// BlockInitOp / BlockUpdateOp / BlockFinalizeOp
//===----------------------------------------------------------------------===//

LogicalResult BlockInitOp::verify() {
  return verifyState(*this, getAcc(), getMax(), getSum());
}

LogicalResult BlockUpdateOp::verify() {
  FailureOr<ShapedType> acc = verifyState(*this, getAcc(), getMax(), getSum());
  if (failed(acc))
    return failure();
  TileChecker check(*this);
  FailureOr<ShapedType> q, k, v;
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
  if (q->getElementType() != k->getElementType())
    return emitOpError() << "'query' and 'key' must hold the same type, got "
                         << q->getElementType() << " and "
                         << k->getElementType();
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
  return mlir::attn::detail::verifyModifierRegions(*this, getScoreMod(),
                                                   getMaskMod());
}

void BlockUpdateOp::getAsmBlockArgumentNames(Region &region,
                                             OpAsmSetValueNameFn setNameFn) {
  mlir::attn::detail::nameModifierRegionArguments(
      region, &region == &getScoreMod(), setNameFn);
}

LogicalResult BlockFinalizeOp::verify() {
  FailureOr<ShapedType> acc = verifyState(*this, getAcc(), getMax(), getSum());
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

//===----------------------------------------------------------------------===//
// TileFillOp / TileMatmulOp / TileReduceOp
//===----------------------------------------------------------------------===//

LogicalResult TileFillOp::verify() {
  auto dest = dyn_cast<ShapedType>(getDest().getType());
  if (!dest || getValue().getType() != dest.getElementType())
    return emitOpError() << "the value must have the tile's element type";
  return success();
}

void TileFillOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  getTileOpEffects(*this, /*destIsRead=*/false, effects);
}

LogicalResult TileMatmulOp::verify() {
  TileChecker check(*this);
  FailureOr<ShapedType> lhs, rhs, dest;
  if (failed(lhs = check.tile(getLhs(), "lhs", 2)) ||
      failed(rhs = check.tile(getRhs(), "rhs", 2)) ||
      failed(dest = check.f32Tile(getDest(), "dest", 2)))
    return failure();
  if (!isa<FloatType>(lhs->getElementType()) ||
      !isa<FloatType>(rhs->getElementType()))
    return emitOpError() << "'lhs' and 'rhs' must hold floats";
  // op(lhs) [M, K], op(rhs) [K, N], dest [M, N].
  int64_t m = lhs->getDimSize(getTransposeLhs() ? 1 : 0);
  int64_t k = lhs->getDimSize(getTransposeLhs() ? 0 : 1);
  int64_t rhsK = rhs->getDimSize(getTransposeRhs() ? 1 : 0);
  int64_t n = rhs->getDimSize(getTransposeRhs() ? 0 : 1);
  if (k != rhsK)
    return emitOpError() << "contraction sizes differ: op(lhs) has " << k
                         << " columns, op(rhs) " << rhsK << " rows";
  if (dest->getDimSize(0) != m || dest->getDimSize(1) != n)
    return emitOpError() << "'dest' must be [" << m << ", " << n
                         << "] (rows of op(lhs), columns of op(rhs))";
  return success();
}

void TileMatmulOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  getTileOpEffects(*this, /*destIsRead=*/true, effects);
}

LogicalResult TileReduceOp::verify() {
  TileChecker check(*this);
  FailureOr<ShapedType> tile, dest;
  if (failed(tile = check.f32Tile(getTile(), "tile", 2)) ||
      failed(dest = check.f32Tile(getDest(), "dest", 1)))
    return failure();
  return check.same(*dest, "dest", 0, tile->getDimSize(0),
                    "the rows of 'tile'");
}

void TileReduceOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  getTileOpEffects(*this, /*destIsRead=*/true, effects);
}

//===----------------------------------------------------------------------===//
// TileMapOp
//===----------------------------------------------------------------------===//

LogicalResult TileMapOp::verify() {
  TileChecker check(*this);
  auto destType = dyn_cast<ShapedType>(getDest().getType());
  int64_t rank = destType ? destType.getRank() : 0;
  FailureOr<ShapedType> dest = check.tile(getDest(), "dest", rank == 1 ? 1 : 2);
  if (failed(dest))
    return failure();
  for (auto [i, input] : llvm::enumerate(getInputs())) {
    auto type = dyn_cast<ShapedType>(input.getType());
    bool sameShape = type && type.getShape() == dest->getShape();
    bool rowBroadcast = type && rank == 2 && type.getRank() == 1 &&
                        type.getDimSize(0) == dest->getDimSize(0);
    if (!sameShape && !rowBroadcast)
      return emitOpError() << "input #" << i << " (" << input.getType()
                           << ") must have the shape of 'dest' or be its "
                              "per-row values ["
                           << dest->getDimSize(0) << "]";
  }
  return success();
}

LogicalResult TileMapOp::verifyRegions() {
  Block &block = getBody().front();
  if (block.getNumArguments() != getInputs().size())
    return emitOpError() << "body must take one scalar per input ("
                         << getInputs().size() << "), got "
                         << block.getNumArguments();
  for (auto [arg, input] : llvm::zip(block.getArguments(), getInputs()))
    if (arg.getType() != cast<ShapedType>(input.getType()).getElementType())
      return emitOpError() << "body argument #" << arg.getArgNumber()
                           << " must have the element type of its input ("
                           << cast<ShapedType>(input.getType()).getElementType()
                           << "), got " << arg.getType();
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  Type element = cast<ShapedType>(getDest().getType()).getElementType();
  if (!yield || yield.getValues().size() != 1 ||
      yield.getValues().front().getType() != element)
    return emitOpError() << "body must yield one " << element
                         << " (the element of 'dest')";
  for (Operation &op : block.without_terminator())
    if (!isMemoryEffectFree(&op) || op.getNumRegions())
      return emitOpError() << "body may hold only side-effect-free scalar "
                              "ops, got '"
                           << op.getName() << "'";
  return success();
}

void TileMapOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  getTileOpEffects(*this, /*destIsRead=*/false, effects);
}

//===----------------------------------------------------------------------===//
// TileMaskOp / TileScoreModOp
//===----------------------------------------------------------------------===//

LogicalResult TileMaskOp::verify() {
  return verifySameTile(*this, getTile(), getDest());
}

LogicalResult TileMaskOp::verifyRegions() {
  return mlir::attn::detail::verifyMaskModRegion(*this, getMaskMod());
}

void TileMaskOp::getAsmBlockArgumentNames(Region &region,
                                          OpAsmSetValueNameFn setNameFn) {
  mlir::attn::detail::nameModifierRegionArguments(region, /*isScoreMod=*/false,
                                                  setNameFn);
}

void TileMaskOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  getTileOpEffects(*this, /*destIsRead=*/false, effects);
}

LogicalResult TileScoreModOp::verify() {
  return verifySameTile(*this, getTile(), getDest());
}

LogicalResult TileScoreModOp::verifyRegions() {
  return mlir::attn::detail::verifyScoreModRegion(*this, getScoreMod());
}

void TileScoreModOp::getAsmBlockArgumentNames(Region &region,
                                              OpAsmSetValueNameFn setNameFn) {
  mlir::attn::detail::nameModifierRegionArguments(region, /*isScoreMod=*/true,
                                                  setNameFn);
}

void TileScoreModOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  getTileOpEffects(*this, /*destIsRead=*/false, effects);
}

//===----------------------------------------------------------------------===//
// The backward: BlockGradInitOp / BlockGradDeltaOp / BlockGradUpdateOp /
// BlockGradFinalizeOp
//===----------------------------------------------------------------------===//
//
// For a q-block of BM rows and a KV block of BN keys:
//   Q [BM, D], K [BN, D], V [BN, Dv], dO [BM, Dv], LSE, D [BM] (f32),
//   dK [BN, D], dV [BN, Dv] (f32 state), dQ [BM, D] (f32).

LogicalResult BlockGradInitOp::verify() {
  if (getTiles().empty())
    return emitOpError() << "must make at least one tile";
  TileChecker check(*this);
  for (Value tile : getTiles())
    if (failed(check.f32Tile(tile, "tile", 2)))
      return failure();
  return success();
}

LogicalResult BlockGradDeltaOp::verify() {
  TileChecker check(*this);
  FailureOr<ShapedType> out, dout, delta;
  if (failed(out = check.tile(getOut(), "out", 2)) ||
      failed(dout = check.tile(getDout(), "dout", 2)) ||
      failed(delta = check.f32Tile(getDelta(), "delta", 1)))
    return failure();
  if (out->getShape() != dout->getShape())
    return emitOpError() << "'out' and 'dout' must have the same shape";
  if (failed(check.same(*delta, "delta", 0, out->getDimSize(0),
                        "the rows of 'out'")))
    return failure();
  if (Value dlse = getDlse()) {
    FailureOr<ShapedType> d = check.f32Tile(dlse, "dlse", 1);
    if (failed(d) || failed(check.same(*d, "dlse", 0, out->getDimSize(0),
                                       "the rows of 'out'")))
      return failure();
  }
  return success();
}

LogicalResult BlockGradUpdateOp::verify() {
  TileChecker check(*this);
  FailureOr<ShapedType> q, k, v, dout, lse, delta, dk, dv, dq;
  if (failed(q = check.tile(getQuery(), "query", 2)) ||
      failed(k = check.tile(getKey(), "key", 2)) ||
      failed(v = check.tile(getValue(), "value", 2)) ||
      failed(dout = check.tile(getDout(), "dout", 2)) ||
      failed(lse = check.f32Tile(getLse(), "lse", 1)) ||
      failed(delta = check.f32Tile(getDelta(), "delta", 1)) ||
      failed(dk = check.f32Tile(getDkey(), "dkey", 2)) ||
      failed(dv = check.f32Tile(getDvalue(), "dvalue", 2)) ||
      failed(dq = check.f32Tile(getDquery(), "dquery", 2)))
    return failure();
  int64_t blockM = q->getDimSize(0), headDim = q->getDimSize(1);
  int64_t blockN = k->getDimSize(0), headDimV = v->getDimSize(1);
  if (failed(check.same(*k, "key", 1, headDim, "the head dim of 'query'")) ||
      failed(check.same(*v, "value", 0, blockN, "the rows of 'key'")) ||
      failed(check.same(*dout, "dout", 0, blockM, "the rows of 'query'")) ||
      failed(check.same(*dout, "dout", 1, headDimV,
                        "the head dim of 'value'")) ||
      failed(check.same(*lse, "lse", 0, blockM, "the rows of 'query'")) ||
      failed(check.same(*delta, "delta", 0, blockM, "the rows of 'query'")) ||
      failed(check.same(*dk, "dkey", 0, blockN, "the rows of 'key'")) ||
      failed(check.same(*dk, "dkey", 1, headDim, "the head dim of 'key'")) ||
      failed(check.same(*dv, "dvalue", 0, blockN, "the rows of 'key'")) ||
      failed(check.same(*dv, "dvalue", 1, headDimV,
                        "the head dim of 'value'")) ||
      failed(check.same(*dq, "dquery", 0, blockM, "the rows of 'query'")) ||
      failed(check.same(*dq, "dquery", 1, headDim,
                        "the head dim of 'query'")))
    return failure();
  if (q->getElementType() != k->getElementType())
    return emitOpError() << "'query' and 'key' must hold the same type, got "
                         << q->getElementType() << " and "
                         << k->getElementType();
  if (dout->getElementType() != v->getElementType())
    return emitOpError() << "'dout' and 'value' must hold the same type, got "
                         << dout->getElementType() << " and "
                         << v->getElementType();
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
  if (getScoreMod().empty() && !getScoreModGrad().empty())
    return emitOpError() << "a 'score_mod_grad' region needs the 'score_mod' "
                            "it is the derivative of";
  return success();
}

LogicalResult BlockGradUpdateOp::verifyRegions() {
  if (failed(mlir::attn::detail::verifyModifierRegions(*this, getScoreMod(),
                                                       getMaskMod())))
    return failure();
  // The derivative has the score_mod's signature.
  return mlir::attn::detail::verifyScoreModRegion(*this, getScoreModGrad(),
                                                  "score_mod_grad");
}

void BlockGradUpdateOp::getAsmBlockArgumentNames(
    Region &region, OpAsmSetValueNameFn setNameFn) {
  mlir::attn::detail::nameModifierRegionArguments(
      region, &region != &getMaskMod(), setNameFn);
}

LogicalResult BlockGradFinalizeOp::verify() {
  TileChecker check(*this);
  FailureOr<ShapedType> dk, dv;
  if (failed(dk = check.f32Tile(getDkey(), "dkey", 2)) ||
      failed(dv = check.f32Tile(getDvalue(), "dvalue", 2)) ||
      failed(check.same(*dv, "dvalue", 0, dk->getDimSize(0),
                        "the rows of 'dkey'")))
    return failure();
  for (auto [out, name, tile] :
       {std::tuple(getDkeyOut(), "dkey_out", *dk),
        std::tuple(getDvalueOut(), "dvalue_out", *dv)}) {
    auto type = cast<MemRefType>(out.getType());
    if (type.getRank() != 4)
      return emitOpError() << "'" << name
                           << "' must have rank 4 [B, Sk, Hkv, D], got rank "
                           << type.getRank();
    if (!isa<FloatType>(type.getElementType()))
      return emitOpError() << "'" << name << "' must hold floats, got "
                           << type.getElementType();
    if (!ShapedType::isDynamic(type.getDimSize(3)) &&
        type.getDimSize(3) != tile.getDimSize(1))
      return emitOpError() << "'" << name << "' head dim ("
                           << type.getDimSize(3)
                           << ") must equal the columns of its tile ("
                           << tile.getDimSize(1) << ")";
  }
  double scale = getScale().convertToDouble();
  if (!(scale > 0.0) || std::isinf(scale))
    return emitOpError() << "'scale' must be finite and > 0";
  return success();
}
