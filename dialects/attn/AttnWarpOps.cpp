//===- AttnWarpOps.cpp - the warp-specialized level (L3) ops ---------------===//
//
// Verifiers and syntax of the roles, channels and schedule ops.
//
//===----------------------------------------------------------------------===//

#include "attn/Attn.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attn;

#define GET_TYPEDEF_CLASSES
#include "attn/AttnTypes.cpp.inc"

void AttnDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "attn/AttnTypes.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// ChannelType
//===----------------------------------------------------------------------===//

LogicalResult ChannelType::verify(function_ref<InFlightDiagnostic()> emitError,
                                  ArrayRef<Type> parts, int64_t depth) {
  if (parts.empty())
    return emitError() << "a channel needs at least one part";
  if (depth < 1)
    return emitError() << "a channel needs at least one slot, got depth "
                       << depth;
  for (Type part : parts) {
    auto tensor = dyn_cast<RankedTensorType>(part);
    if (!tensor || !tensor.hasStaticShape() ||
        (tensor.getRank() != 1 && tensor.getRank() != 2))
      return emitError() << "channel parts must be static rank-2 tiles or "
                            "rank-1 per-row values, got "
                         << part;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// WarpSpecializeOp
//===----------------------------------------------------------------------===//

// attn.warp_specialize consumers(2) producer {...} consumer(%c: index) {...}
ParseResult WarpSpecializeOp::parse(OpAsmParser &parser,
                                    OperationState &state) {
  int64_t consumers = 0;
  if (parser.parseKeyword("consumers") || parser.parseLParen() ||
      parser.parseInteger(consumers) || parser.parseRParen())
    return failure();
  Builder &b = parser.getBuilder();
  state.addAttribute(getConsumersAttrName(state.name),
                     b.getI64IntegerAttr(consumers));
  if (parser.parseOptionalAttrDictWithKeyword(state.attributes))
    return failure();
  Region *producer = state.addRegion();
  Region *consumer = state.addRegion();
  OpAsmParser::Argument c;
  if (parser.parseKeyword("producer") || parser.parseRegion(*producer) ||
      parser.parseKeyword("consumer") || parser.parseLParen() ||
      parser.parseArgument(c, /*allowType=*/true) || parser.parseRParen() ||
      parser.parseRegion(*consumer, {c}))
    return failure();
  WarpSpecializeOp::ensureTerminator(*producer, b, state.location);
  WarpSpecializeOp::ensureTerminator(*consumer, b, state.location);
  return success();
}

void WarpSpecializeOp::print(OpAsmPrinter &p) {
  p << " consumers(" << getConsumers() << ")";
  p.printOptionalAttrDictWithKeyword((*this)->getAttrs(),
                                     {getConsumersAttrName()});
  p << " producer ";
  p.printRegion(getProducer(), /*printEntryBlockArgs=*/false,
                /*printBlockTerminators=*/false);
  p << " consumer(";
  p.printRegionArgument(getConsumer().getArgument(0));
  p << ") ";
  p.printRegion(getConsumer(), /*printEntryBlockArgs=*/false,
                /*printBlockTerminators=*/false);
}

LogicalResult WarpSpecializeOp::verifyRegions() {
  if (getProducer().front().getNumArguments() != 0)
    return emitOpError() << "the producer region takes no arguments";
  Block &consumer = getConsumer().front();
  if (consumer.getNumArguments() != 1 ||
      !consumer.getArgument(0).getType().isIndex())
    return emitOpError() << "the consumer region takes its warpgroup index "
                            "(one index argument)";
  for (Region *region : {&getProducer(), &getConsumer()})
    if (!cast<YieldOp>(region->front().getTerminator()).getValues().empty())
      return emitOpError() << "the roles yield no values";
  return success();
}

void WarpSpecializeOp::getAsmBlockArgumentNames(Region &region,
                                                OpAsmSetValueNameFn setNameFn) {
  if (&region == &getConsumer() && region.getNumArguments() == 1)
    setNameFn(region.getArgument(0), "consumer");
}

//===----------------------------------------------------------------------===//
// Channel ops
//===----------------------------------------------------------------------===//

void ChannelCreateOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  effects.emplace_back(MemoryEffects::Allocate::get(),
                       getOperation()->getOpResult(0),
                       SideEffects::DefaultResource::get());
}

/// `tiles` must be one tile per part of `channel`, of the part's type.
static LogicalResult verifyParts(Operation *op, ChannelType channel,
                                 TypeRange tiles) {
  if (!llvm::equal(channel.getParts(), tiles)) {
    InFlightDiagnostic diag = op->emitOpError()
                              << "tiles must match the channel's parts (";
    llvm::interleaveComma(channel.getParts(), diag);
    return diag << ")";
  }
  return success();
}

LogicalResult ChannelPutOp::verify() {
  return verifyParts(*this, getChannel().getType(), getTiles().getTypes());
}

LogicalResult ChannelGetOp::verify() {
  return verifyParts(*this, getChannel().getType(), getTiles().getTypes());
}

LogicalResult ChannelReleaseOp::verify() {
  int64_t parts = getChannel().getType().getParts().size();
  if (getPart() >= parts)
    return emitOpError() << "part " << getPart() << " of a channel of "
                         << parts << " part(s)";
  return success();
}

//===----------------------------------------------------------------------===//
// MMA and turns
//===----------------------------------------------------------------------===//

/// The layout of a tile of the warp-specialized level, if it has one.
static std::optional<LayoutKind> layoutOf(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  auto layout = tensor ? dyn_cast_or_null<LayoutAttr>(tensor.getEncoding())
                       : LayoutAttr();
  if (!layout)
    return std::nullopt;
  return layout.getKind();
}

LogicalResult MmaAsyncOp::verify() {
  auto lhs = cast<RankedTensorType>(getLhs().getType());
  auto rhs = cast<RankedTensorType>(getRhs().getType());
  RankedTensorType dest = getResult().getType().getValue();
  if (auto pending = dyn_cast<AsyncType>(getDest().getType())) {
    if (pending.getValue() != dest)
      return emitOpError() << "accumulates into an MMA of another type";
  } else if (getDest().getType() != dest) {
    return emitOpError() << "result must be the async form of 'dest'";
  }
  if (lhs.getRank() != 2 || rhs.getRank() != 2 || dest.getRank() != 2 ||
      !dest.getElementType().isF32())
    return emitOpError() << "expects rank-2 operands and an f32 destination";
  int64_t m = lhs.getDimSize(getTransposeLhs() ? 1 : 0);
  int64_t k = lhs.getDimSize(getTransposeLhs() ? 0 : 1);
  int64_t rhsK = rhs.getDimSize(getTransposeRhs() ? 1 : 0);
  int64_t n = rhs.getDimSize(getTransposeRhs() ? 0 : 1);
  if (k != rhsK || dest.getDimSize(0) != m || dest.getDimSize(1) != n)
    return emitOpError() << "shapes do not compose: op(lhs) [" << m << ", "
                         << k << "], op(rhs) [" << rhsK << ", " << n
                         << "], dest " << dest;
  // Where wgmma reads its operands (checked where the tiles have layouts):
  // B from shared memory, A from shared memory or registers, registers
  // K-major only.
  std::optional<LayoutKind> lhsLayout = layoutOf(lhs), rhsLayout = layoutOf(rhs);
  if (rhsLayout && *rhsLayout != LayoutKind::Shared)
    return emitOpError() << "the rhs (wgmma's B) is read from shared memory, "
                            "got #attn.layout<"
                         << stringifyLayoutKind(*rhsLayout) << ">";
  if (lhsLayout && *lhsLayout != LayoutKind::Shared &&
      *lhsLayout != LayoutKind::OperandA)
    return emitOpError() << "the lhs (wgmma's A) is read from shared memory "
                            "or from registers in #attn.layout<operand_a>, "
                            "got #attn.layout<"
                         << stringifyLayoutKind(*lhsLayout) << ">";
  if (lhsLayout == LayoutKind::OperandA && getTransposeLhs())
    return emitOpError() << "a register lhs (#attn.layout<operand_a>) cannot "
                            "be read transposed (wgmma takes register A "
                            "operands K-major only): stage it in shared "
                            "memory with attn.tile_stage";
  for (auto [layout, type, mnMajor] :
       {std::make_tuple(lhsLayout, lhs, getTransposeLhs()),
        std::make_tuple(rhsLayout, rhs, !getTransposeRhs())}) {
    Type element = type.getElementType();
    if (layout && mnMajor && !element.isF16() && !element.isBF16())
      return emitOpError() << "a shared operand read transposed (MN-major) "
                              "must hold f16 or bf16 (wgmma transposes only "
                              "16-bit elements), got "
                           << element;
  }
  return success();
}

LogicalResult TileStageOp::verify() {
  auto in = cast<RankedTensorType>(getTile().getType());
  auto out = cast<RankedTensorType>(getResult().getType());
  std::optional<LayoutKind> from = layoutOf(in), to = layoutOf(out);
  if (from != LayoutKind::OperandA && from != LayoutKind::Accumulator)
    return emitOpError() << "stages a consumer's register tile "
                            "(#attn.layout<operand_a> or <accumulator>), got "
                         << in;
  if (to != LayoutKind::Shared)
    return emitOpError() << "the result must be a #attn.layout<shared> tile, "
                            "got "
                         << out;
  if (in.getRank() != 2 || in.getShape() != out.getShape() ||
      in.getElementType() != out.getElementType())
    return emitOpError() << "the result must have the tile's rank-2 shape and "
                            "element type";
  if (!in.getElementType().isF16() && !in.getElementType().isBF16())
    return emitOpError() << "stages 16-bit tiles (what an MMA reads), got "
                         << in.getElementType();
  auto ws = (*this)->getParentOfType<WarpSpecializeOp>();
  if (!ws || !ws.getConsumer().isAncestor((*this)->getParentRegion()))
    return emitOpError() << "must be inside a consumer role";
  return success();
}

LogicalResult TileGatherOp::verify() {
  auto in = cast<RankedTensorType>(getTile().getType());
  auto out = cast<RankedTensorType>(getResult().getType());
  if (!getTile().getDefiningOp<TileStageOp>())
    return emitOpError() << "gathers the consumers' staged tiles: the operand "
                            "must be an attn.tile_stage result";
  if (layoutOf(out) != LayoutKind::Shared)
    return emitOpError() << "the result must be a #attn.layout<shared> tile, "
                            "got "
                         << out;
  auto ws = (*this)->getParentOfType<WarpSpecializeOp>();
  if (!ws || !ws.getConsumer().isAncestor((*this)->getParentRegion()))
    return emitOpError() << "must be inside a consumer role";
  int64_t consumers = ws.getConsumers();
  if (out.getRank() != 2 || in.getDimSize(0) != out.getDimSize(0) ||
      out.getDimSize(1) != consumers * in.getDimSize(1) ||
      in.getElementType() != out.getElementType())
    return emitOpError() << "the result must be the " << consumers
                         << " consumers' tiles side by side: "
                         << in.getDimSize(0) << "x"
                         << consumers * in.getDimSize(1) << " of "
                         << in.getElementType() << ", got " << out;
  return success();
}

LogicalResult MmaWaitOp::verify() {
  if (getPending().getType().getValue() != getResult().getType())
    return emitOpError() << "result must be the completed form of the MMA";
  return success();
}

LogicalResult ConsumerTurnOp::verifyRegions() {
  auto yield = dyn_cast<YieldOp>(getBody().front().getTerminator());
  if (!yield || yield.getValues().getTypes() != getResultTypes())
    return emitOpError() << "body must end in attn.yield of the results";
  if (!(*this)->getParentOfType<WarpSpecializeOp>())
    return emitOpError() << "must be inside a consumer role";
  return success();
}
