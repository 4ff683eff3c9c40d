//===- AttnOps.cpp - attn.attention verifier and interfaces ----------------===//
//
// The verifier checks every rule of attn.attention in a fixed order, and each
// failing rule names the operand (by its ODS name, e.g. 'key') and the rule.
// It never assumes a previous check it has not made: malformed generic IR of
// any shape must end in a diagnostic, not a crash.
//
//===----------------------------------------------------------------------===//

#include "attn/Attn.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;

#define GET_OP_CLASSES
#include "attn/AttnOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Two sizes agree when either is dynamic or both are equal.
static bool dimsCompatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// Prints a scalar attribute value for diagnostics, with 'nan'/'inf' spelled
/// the same on every platform.
static std::string formatScalar(double value) {
  if (std::isnan(value))
    return "nan";
  if (std::isinf(value))
    return value > 0 ? "inf" : "-inf";
  std::string text;
  llvm::raw_string_ostream os(text);
  os << value;
  return text;
}

static bool isSupportedInputElementType(Type type) {
  return type.isF16() || type.isBF16() || type.isF32() ||
         isa<Float8E4M3FNType>(type);
}

namespace {
/// Checks one operand of attn.attention against a named rule, with the
/// diagnostics phrased in terms of the operand's name.
class OperandChecker {
public:
  OperandChecker(AttentionOp op, bool expectTensors)
      : op(op), expectTensors(expectTensors) {}

  /// The operand must be a ranked tensor/memref of `rank` whose kind (tensor
  /// or memref) matches the query's. `layout` names the dims, e.g.
  /// "[B, Sq, Hq, D]".
  FailureOr<ShapedType> ranked(Value value, StringRef name, int64_t rank,
                               StringRef layout) {
    Type type = value.getType();
    auto shaped = dyn_cast<ShapedType>(type);
    if (!shaped || !shaped.hasRank() ||
        !(isa<RankedTensorType>(type) || isa<MemRefType>(type))) {
      op->emitOpError() << "'" << name
                       << "' must be a ranked tensor or memref of rank "
                       << rank << " " << layout << ", got " << type;
      return failure();
    }
    if (shaped.getRank() != rank) {
      op->emitOpError() << "'" << name << "' must have rank " << rank << " "
                       << layout << ", got rank " << shaped.getRank();
      return failure();
    }
    if (isa<RankedTensorType>(type) != expectTensors) {
      op->emitOpError() << "'" << name << "' is a "
                       << (expectTensors ? "memref" : "tensor")
                       << " but 'query' is a "
                       << (expectTensors ? "tensor" : "memref")
                       << "; operands must be all tensors or all memrefs";
      return failure();
    }
    return shaped;
  }

  /// `shaped` dim `dim` (called `dimName`) must agree with `expected`, taken
  /// from `refName`'s `refDimName`.
  LogicalResult dim(ShapedType shaped, StringRef name, int64_t dim,
                    StringRef dimName, int64_t expected, StringRef refName,
                    StringRef refDimName) {
    int64_t size = shaped.getDimSize(dim);
    if (dimsCompatible(size, expected))
      return success();
    op->emitOpError() << "'" << name << "' " << dimName << " (dim " << dim
                     << " = " << size << ") must match " << refName << " "
                     << refDimName << " (" << expected << ")";
    return failure();
  }

private:
  AttentionOp op;
  bool expectTensors;
};
} // namespace

/// A head dimension must be static, a multiple of 8 and in [8, 256]: the
/// tensor-core tiles take K in steps of 8 (16 bytes of f16) and the largest
/// kernel keeps a 256-wide accumulator row in registers.
static LogicalResult verifyHeadDim(AttentionOp op, ShapedType type,
                                   StringRef name, StringRef dimName) {
  int64_t size = type.getDimSize(3);
  if (ShapedType::isDynamic(size))
    return op->emitOpError() << "'" << name << "' head dim " << dimName
                            << " (dim 3) must be static";
  if (size < 8 || size > 256 || size % 8 != 0)
    return op->emitOpError() << "'" << name << "' head dim " << dimName
                            << " = " << size
                            << " must be a multiple of 8 in [8, 256]";
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp: verifier
//===----------------------------------------------------------------------===//

/// block_mask(%num, %idx[, %full_num, %full_idx]) block_size [BM, BN]:
/// counts i32 [B', H', QB], indices i32 [B', H', QB, KB], B' in {1, B},
/// H' in {1, Hq}, QB = ceil(Sq / BM); the full pair shaped as the partial.
static LogicalResult verifyBlockMask(AttentionOp op, int64_t batch,
                                     int64_t seqQ, int64_t headsQ,
                                     OperandChecker &check) {
  if (!op.hasBlockMask()) {
    if (op.getBlockSizeAttr())
      return op.emitOpError() << "'block_size' needs a 'block_mask'";
    return success();
  }
  size_t operands = op.getBlockMask().size();
  if (operands != 2 && operands != 4)
    return op.emitOpError() << "'block_mask' takes 2 operands (kv_num_blocks, "
                            "kv_indices) or 4 (and full_kv_num_blocks, "
                            "full_kv_indices), got "
                         << operands;
  ArrayRef<int64_t> size = *op.getBlockSize();
  if (size.size() != 2 || size[0] < 1 || size[1] < 1)
    return op.emitOpError() << "'block_size' must be two positive sizes [BM, "
                            "BN], got [" << size << "]";
  if (op.isVarlen())
    return op.emitOpError() << "'block_mask' does not apply to variable-length "
                            "batches (cu_seqlens)";
  int64_t qBlocks = ShapedType::isDynamic(seqQ)
                        ? ShapedType::kDynamic
                        : llvm::divideCeil(seqQ, size[0]);
  for (size_t pair = 0; pair < operands; pair += 2) {
    bool full = pair == 2;
    StringRef numName = full ? "full_kv_num_blocks" : "kv_num_blocks";
    StringRef idxName = full ? "full_kv_indices" : "kv_indices";
    FailureOr<ShapedType> num =
        check.ranked(op.getBlockMask()[pair], numName, 3, "[B', H', QB]");
    if (failed(num))
      return failure();
    FailureOr<ShapedType> idx =
        check.ranked(op.getBlockMask()[pair + 1], idxName, 4, "[B', H', QB, KB]");
    if (failed(idx))
      return failure();
    for (auto [type, name] : {std::pair(*num, numName), std::pair(*idx, idxName)})
      if (!type.getElementType().isSignlessInteger(32))
        return op.emitOpError() << "'" << name << "' element type must be i32, got "
                             << type.getElementType();
    for (auto [dim, dimName, expected] :
         {std::tuple(0, "batch size", batch), std::tuple(1, "head count", headsQ)}) {
      int64_t n = num->getDimSize(dim);
      if (!ShapedType::isDynamic(n) && n != 1 && !dimsCompatible(n, expected))
        return op.emitOpError() << "'" << numName << "' " << dimName << " (dim "
                             << dim << " = " << n << ") must be 1 or "
                             << expected;
    }
    if (failed(check.dim(*num, numName, 2, "query-block count", qBlocks,
                         "ceil(Sq / BM) of", "'query' and 'block_size'")))
      return failure();
    for (int64_t d = 0; d < 3; ++d)
      if (failed(check.dim(*idx, idxName, d, "dim", num->getDimSize(d),
                           "'" + numName.str() + "'", "dim " + std::to_string(d))))
        return failure();
    if (idx->getDimSize(3) == 0)
      return op.emitOpError() << "'" << idxName << "' must list at least one "
                              "block per query block (KB >= 1)";
    if (full && (op.getBlockMask()[0].getType() != Type(*num) ||
                 op.getBlockMask()[1].getType() != Type(*idx)))
      return op.emitOpError() << "'full_kv_num_blocks' and 'full_kv_indices' "
                              "must have the types of 'kv_num_blocks' and "
                              "'kv_indices'";
  }
  return success();
}

LogicalResult AttentionOp::verify() {
  bool tensors = isa<RankedTensorType>(getQuery().getType());
  OperandChecker check(*this, tensors);

  // Shapes: q [B, Sq, Hq, D], k [B, Sk, Hkv, D], v [B, Sk, Hkv, Dv].
  FailureOr<ShapedType> q = check.ranked(getQuery(), "query", 4,
                                         "[B, Sq, Hq, D]");
  if (failed(q))
    return failure();
  FailureOr<ShapedType> k = check.ranked(getKey(), "key", 4,
                                         "[B, Sk, Hkv, D]");
  if (failed(k))
    return failure();
  FailureOr<ShapedType> v = check.ranked(getValue(), "value", 4,
                                         "[B, Sk, Hkv, Dv]");
  if (failed(v))
    return failure();
  FailureOr<ShapedType> o = check.ranked(getOut(), "out", 4,
                                         "[B, Sq, Hq, Dv]");
  if (failed(o))
    return failure();

  // Element types.
  Type elementType = q->getElementType();
  if (!isSupportedInputElementType(elementType))
    return emitOpError() << "'query' element type must be f16, bf16, "
                            "f8E4M3FN or f32, got "
                         << elementType;
  for (auto [type, name] : {std::pair(*k, "key"), std::pair(*v, "value")})
    if (type.getElementType() != elementType)
      return emitOpError() << "'" << name << "' element type ("
                           << type.getElementType()
                           << ") must match 'query' element type ("
                           << elementType << ")";
  bool fp8 = isa<Float8E4M3FNType>(elementType);
  Type outElementType = o->getElementType();
  if (fp8 && !outElementType.isF16() && !outElementType.isBF16())
    return emitOpError() << "'out' element type must be f16 or bf16 for "
                            "f8E4M3FN inputs, got "
                         << outElementType;
  if (!fp8 && outElementType != elementType)
    return emitOpError() << "'out' element type (" << outElementType
                         << ") must match 'query' element type ("
                         << elementType << ")";

  // Head dimensions.
  if (failed(verifyHeadDim(*this, *q, "query", "D")) ||
      failed(verifyHeadDim(*this, *k, "key", "D")) ||
      failed(verifyHeadDim(*this, *v, "value", "Dv")))
    return failure();
  if (k->getDimSize(3) != q->getDimSize(3))
    return emitOpError() << "'key' head dim D (" << k->getDimSize(3)
                         << ") must match 'query' head dim D ("
                         << q->getDimSize(3) << ")";

  // Batch, sequence and head sizes.
  int64_t batch = q->getDimSize(0), seqQ = q->getDimSize(1);
  int64_t headsQ = q->getDimSize(2), headDimV = v->getDimSize(3);
  int64_t seqK = k->getDimSize(1), headsKV = k->getDimSize(2);
  if (failed(check.dim(*k, "key", 0, "batch size", batch, "'query'",
                       "batch size")) ||
      failed(check.dim(*v, "value", 0, "batch size", batch, "'query'",
                       "batch size")) ||
      failed(check.dim(*v, "value", 1, "sequence length", seqK, "'key'",
                       "sequence length Sk")) ||
      failed(check.dim(*v, "value", 2, "head count", headsKV, "'key'",
                       "head count Hkv")))
    return failure();

  // Grouped-query attention: each KV head serves Hq / Hkv query heads.
  if (headsKV == 0)
    return emitOpError() << "'key' must have at least one head (Hkv = 0)";
  if (!ShapedType::isDynamic(headsQ) && !ShapedType::isDynamic(headsKV) &&
      headsQ % headsKV != 0)
    return emitOpError() << "'query' head count Hq (" << headsQ
                         << ") must be a multiple of 'key' head count Hkv ("
                         << headsKV << ") for grouped-query attention";

  // Output [B, Sq, Hq, Dv] and optional LSE [B, Hq, Sq] in f32.
  if (failed(check.dim(*o, "out", 0, "batch size", batch, "'query'",
                       "batch size")) ||
      failed(check.dim(*o, "out", 1, "sequence length", seqQ, "'query'",
                       "sequence length Sq")) ||
      failed(check.dim(*o, "out", 2, "head count", headsQ, "'query'",
                       "head count Hq")) ||
      failed(check.dim(*o, "out", 3, "head dim", headDimV, "'value'",
                       "head dim Dv")))
    return failure();
  if (Value lse = getLse()) {
    FailureOr<ShapedType> l = check.ranked(lse, "lse", 3, "[B, Hq, Sq]");
    if (failed(l))
      return failure();
    if (!l->getElementType().isF32())
      return emitOpError() << "'lse' element type must be f32, got "
                           << l->getElementType();
    if (failed(check.dim(*l, "lse", 0, "batch size", batch, "'query'",
                         "batch size")) ||
        failed(check.dim(*l, "lse", 1, "head count", headsQ, "'query'",
                         "head count Hq")) ||
        failed(check.dim(*l, "lse", 2, "sequence length", seqQ, "'query'",
                         "sequence length Sq")))
      return failure();
  }

  // Variable-length batches: cu_seqlens_q/k, i32 [N + 1], packed in B = 1.
  int64_t numSequences = batch;
  if (static_cast<bool>(getCuSeqlensQ()) != static_cast<bool>(getCuSeqlensK()))
    return emitOpError() << "'cu_seqlens_q' and 'cu_seqlens_k' must be given "
                            "together";
  if (isVarlen()) {
    FailureOr<ShapedType> cuQ =
        check.ranked(getCuSeqlensQ(), "cu_seqlens_q", 1, "[N + 1]");
    if (failed(cuQ))
      return failure();
    FailureOr<ShapedType> cuK =
        check.ranked(getCuSeqlensK(), "cu_seqlens_k", 1, "[N + 1]");
    if (failed(cuK))
      return failure();
    for (auto [type, name] :
         {std::pair(*cuQ, "cu_seqlens_q"), std::pair(*cuK, "cu_seqlens_k")}) {
      if (!type.getElementType().isSignlessInteger(32))
        return emitOpError() << "'" << name << "' element type must be i32, got "
                             << type.getElementType();
      if (!ShapedType::isDynamic(type.getDimSize(0)) && type.getDimSize(0) < 2)
        return emitOpError() << "'" << name << "' must hold N + 1 >= 2 offsets "
                                "(at least one sequence), got "
                             << type.getDimSize(0);
    }
    if (!dimsCompatible(cuQ->getDimSize(0), cuK->getDimSize(0)))
      return emitOpError() << "'cu_seqlens_q' (" << cuQ->getDimSize(0)
                           << " offsets) and 'cu_seqlens_k' ("
                           << cuK->getDimSize(0)
                           << " offsets) must describe the same number of "
                              "sequences";
    if (!dimsCompatible(batch, 1))
      return emitOpError() << "variable-length attention packs sequences "
                              "into one batch: 'query' batch size must be 1, "
                              "got "
                           << batch;
    int64_t offsets = cuQ->getDimSize(0);
    numSequences = ShapedType::isDynamic(offsets) ? offsets : offsets - 1;
  }

  // FP8 descales: per (sequence, KV head), f32, exactly for f8E4M3FN inputs.
  bool anyDescale = getQDescale() || getKDescale() || getVDescale();
  bool allDescales = getQDescale() && getKDescale() && getVDescale();
  if (anyDescale && !allDescales)
    return emitOpError() << "'q_descale', 'k_descale' and 'v_descale' must be "
                            "given together";
  if (fp8 && !allDescales)
    return emitOpError() << "f8E4M3FN inputs require 'q_descale', 'k_descale' "
                            "and 'v_descale'";
  if (!fp8 && allDescales)
    return emitOpError() << "descales apply only to f8E4M3FN inputs, got "
                         << elementType;
  if (allDescales) {
    for (auto [value, name] : {std::pair(getQDescale(), "q_descale"),
                               std::pair(getKDescale(), "k_descale"),
                               std::pair(getVDescale(), "v_descale")}) {
      FailureOr<ShapedType> d = check.ranked(
          value, name, 2, isVarlen() ? "[N, Hkv]" : "[B, Hkv]");
      if (failed(d))
        return failure();
      if (!d->getElementType().isF32())
        return emitOpError() << "'" << name << "' element type must be f32, "
                             << "got " << d->getElementType();
      if (failed(check.dim(*d, name, 0,
                           isVarlen() ? "sequence count" : "batch size",
                           numSequences,
                           isVarlen() ? "the number of sequences in"
                                      : "'query'",
                           isVarlen() ? "'cu_seqlens_q'" : "batch size")) ||
          failed(check.dim(*d, name, 1, "head count", headsKV, "'key'",
                           "head count Hkv")))
        return failure();
    }
  }

  if (failed(verifyBlockMask(*this, batch, seqQ, headsQ, check)))
    return failure();

  // Scalars.
  if (FloatAttr scale = getScaleAttr()) {
    double s = scale.getValueAsDouble();
    if (!std::isfinite(s) || s <= 0.0)
      return emitOpError() << "'scale' must be finite and > 0, got "
                           << formatScalar(s);
  }
  if (FloatAttr softcap = getSoftcapAttr()) {
    double c = softcap.getValueAsDouble();
    if (!std::isfinite(c) || c < 0.0)
      return emitOpError() << "'softcap' must be finite and >= 0 (0 = off), "
                              "got "
                           << formatScalar(c);
  }

  // Results: one per tensor init, none on memrefs.
  unsigned numInits = getLse() ? 2 : 1;
  if (!tensors && getNumResults() != 0)
    return emitOpError() << "on memrefs the op writes 'out'/'lse' in place "
                            "and returns no results, got "
                         << getNumResults();
  if (tensors) {
    if (getNumResults() != numInits)
      return emitOpError() << "on tensors the op returns one result per "
                              "init in outs(...): expected "
                           << numInits << ", got " << getNumResults();
    for (auto [result, init] : llvm::zip(getResults(), getDpsInits()))
      if (result.getType() != init.getType())
        return emitOpError() << "result #" << result.getResultNumber()
                             << " type " << result.getType()
                             << " must match its init type " << init.getType();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp: region verifier
//===----------------------------------------------------------------------===//

/// A modifier region has one block with `expectedArgs` arguments ending in an
/// attn.yield of one `yieldType` value; its ops must not write memory.
static LogicalResult verifyModifierRegion(Operation *op, Region &region,
                                          StringRef name,
                                          ArrayRef<Type> expectedArgs,
                                          StringRef signature, Type yieldType) {
  if (region.empty())
    return success();
  Block &block = region.front();
  if (!llvm::equal(block.getArgumentTypes(), expectedArgs)) {
    InFlightDiagnostic diag = op->emitOpError()
                              << "'" << name << "' region must take "
                              << signature << ", got (";
    llvm::interleaveComma(block.getArgumentTypes(), diag);
    return diag << ")";
  }
  auto yield = block.empty() ? nullptr : dyn_cast<YieldOp>(block.back());
  if (!yield)
    return op->emitOpError() << "'" << name
                            << "' region must end in 'attn.yield'";
  if (yield.getValues().size() != 1 ||
      yield.getValues().front().getType() != yieldType) {
    InFlightDiagnostic diag = op->emitOpError()
                              << "'" << name << "' region must yield exactly "
                              << "one " << yieldType << ", got (";
    llvm::interleaveComma(yield.getValues().getTypes(), diag);
    return diag << ")";
  }

  // Modifiers run once per score inside the kernel: they may compute and
  // read, but a write (or an op whose effects are unknown) has no meaning.
  WalkResult walk = region.walk([&](Operation *nested) {
    if (nested->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
      return WalkResult::advance();
    auto effects = dyn_cast<MemoryEffectOpInterface>(nested);
    if (!effects) {
      op->emitOpError() << "'" << name << "' region may not contain '"
                       << nested->getName()
                       << "': its memory effects are unknown";
      return WalkResult::interrupt();
    }
    if (effects.hasEffect<MemoryEffects::Write>() ||
        effects.hasEffect<MemoryEffects::Allocate>() ||
        effects.hasEffect<MemoryEffects::Free>()) {
      op->emitOpError() << "'" << name << "' region must not write memory, but '"
                       << nested->getName() << "' does";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

LogicalResult mlir::attn::detail::verifyScoreModRegion(Operation *op,
                                                       Region &scoreMod) {
  Builder b(op->getContext());
  Type f32 = b.getF32Type(), index = b.getIndexType();
  return verifyModifierRegion(
      op, scoreMod, "score_mod", {f32, index, index, index, index},
      "(score: f32, b: index, h: index, q_idx: index, kv_idx: index)", f32);
}

LogicalResult mlir::attn::detail::verifyMaskModRegion(Operation *op,
                                                      Region &maskMod) {
  Builder b(op->getContext());
  Type index = b.getIndexType();
  return verifyModifierRegion(
      op, maskMod, "mask_mod", {index, index, index, index},
      "(b: index, h: index, q_idx: index, kv_idx: index)", b.getI1Type());
}

LogicalResult mlir::attn::detail::verifyModifierRegions(Operation *op,
                                                        Region &scoreMod,
                                                        Region &maskMod) {
  if (failed(verifyScoreModRegion(op, scoreMod)))
    return failure();
  return verifyMaskModRegion(op, maskMod);
}

void mlir::attn::detail::nameModifierRegionArguments(Region &region, bool isScoreMod,
                                         OpAsmSetValueNameFn setNameFn) {
  if (region.empty())
    return;
  Block &block = region.front();
  static constexpr StringLiteral scoreNames[] = {"score", "b", "h", "q_idx",
                                                 "kv_idx"};
  ArrayRef<StringLiteral> names(scoreNames);
  if (!isScoreMod)
    names = names.drop_front();
  if (block.getNumArguments() != names.size())
    return;
  for (auto [arg, name] : llvm::zip(block.getArguments(), names))
    setNameFn(arg, name);
}

LogicalResult AttentionOp::verifyRegions() {
  return mlir::attn::detail::verifyModifierRegions(*this, getScoreMod(), getMaskMod());
}

//===----------------------------------------------------------------------===//
// AttentionOp: accessors and interfaces
//===----------------------------------------------------------------------===//

MutableOperandRange AttentionOp::getDpsInitsMutable() {
  // `out` and `lse` are adjacent operand segments.
  unsigned start = getOutMutable().getOperandNumber();
  return MutableOperandRange(*this, start, getLse() ? 2 : 1);
}

/// The most rows a kernel takes along a dynamic sequence dimension (the
/// kernels' positions are 32-bit).
static constexpr int64_t kMaxDynamicLength = (int64_t(1) << 31) - 1;

MaskAttr AttentionOp::getMaskOrDefault() {
  MaskAttr mask = getMaskAttr();
  if (!mask)
    return MaskAttr::get(getContext(), MaskKind::None,
                         MaskAlignment::BottomRight);
  if (mask.getKind() != MaskKind::Window)
    return mask;
  // A window bound of Sq + Sk or more hides no key (every i + diag - L is
  // below 0 and every i + diag + R at least Sk): it reads as -1, unbounded,
  // so that no lowering computes with it (a bound of INT64_MAX wrapped in the
  // block ranges and the i32 mask arithmetic: zeros and LSE -inf). Packed
  // sequences lie within the totals; a dynamic length is at most
  // kMaxDynamicLength.
  auto length = [](Value v) {
    auto type = dyn_cast<ShapedType>(v.getType());
    return type && type.hasRank() && type.getRank() > 1 ? type.getDimSize(1)
                                                          : ShapedType::kDynamic;
  };
  int64_t sq = length(getQuery()), sk = length(getKey());
  int64_t limit = ShapedType::isDynamic(sq) || ShapedType::isDynamic(sk)
                      ? kMaxDynamicLength
                      : sq + sk;
  int64_t left = mask.getWindowLeft() >= limit ? -1 : mask.getWindowLeft();
  int64_t right = mask.getWindowRight() >= limit ? -1 : mask.getWindowRight();
  if (left == mask.getWindowLeft() && right == mask.getWindowRight())
    return mask;
  // What the saturated window is: no mask, causal, or still a window.
  if (left < 0 && right < 0)
    return MaskAttr::get(getContext(), MaskKind::None, mask.getAlignment());
  if (left < 0 && right == 0)
    return MaskAttr::get(getContext(), MaskKind::Causal, mask.getAlignment());
  return MaskAttr::get(getContext(), MaskKind::Window, mask.getAlignment(),
                       left, right);
}

double AttentionOp::getEffectiveScale() {
  if (FloatAttr scale = getScaleAttr())
    return scale.getValueAsDouble();
  return 1.0 / std::sqrt(static_cast<double>(getHeadDim()));
}

double AttentionOp::getEffectiveSoftcap() {
  FloatAttr softcap = getSoftcapAttr();
  return softcap ? softcap.getValueAsDouble() : 0.0;
}

int64_t AttentionOp::getHeadDim() {
  return cast<ShapedType>(getQuery().getType()).getDimSize(3);
}
int64_t AttentionOp::getValueHeadDim() {
  return cast<ShapedType>(getValue().getType()).getDimSize(3);
}
int64_t AttentionOp::getNumQueryHeads() {
  return cast<ShapedType>(getQuery().getType()).getDimSize(2);
}
int64_t AttentionOp::getNumKeyValueHeads() {
  return cast<ShapedType>(getKey().getType()).getDimSize(2);
}

void AttentionOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  // On memrefs: inputs are read, inits written (never read: the kernel does
  // not accumulate into `out`). On tensors the op is pure.
  for (OpOperand &operand : getOperation()->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    if (isDpsInit(&operand))
      effects.emplace_back(MemoryEffects::Write::get(), &operand, /*stage=*/0,
                           /*effectOnFullRegion=*/true,
                           SideEffects::DefaultResource::get());
    else
      effects.emplace_back(MemoryEffects::Read::get(), &operand, /*stage=*/0,
                           /*effectOnFullRegion=*/true,
                           SideEffects::DefaultResource::get());
  }
  // Modifier regions may read captured memory (verified: never write).
  for (Region *region : {&getScoreMod(), &getMaskMod()}) {
    bool reads = false;
    region->walk([&](MemoryEffectOpInterface nested) {
      reads |= nested.hasEffect<MemoryEffects::Read>();
    });
    if (reads)
      effects.emplace_back(MemoryEffects::Read::get(),
                           SideEffects::DefaultResource::get());
  }
}

void AttentionOp::getAsmBlockArgumentNames(Region &region,
                                           OpAsmSetValueNameFn setNameFn) {
  mlir::attn::detail::nameModifierRegionArguments(region, &region == &getScoreMod(),
                                      setNameFn);
}
