//===- AttnOps.cpp - the L0 ops' verifiers and interfaces ------------------===//
//
// attn.attention and attn.attention_grad. The verifiers check every rule in
// a fixed order, and each failing rule names the operand (by its ODS name,
// e.g. 'key') and the rule; the rules both ops share (q, k, v and out, the
// LSE layout, varlen, block masks, scale and softcap, the results) are one
// function each. They never assume a previous check they have not made:
// malformed generic IR of any shape must end in a diagnostic, not a crash.
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

/// Prints a shape as [1, ?, 4, 64].
static std::string formatShape(ArrayRef<int64_t> shape) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "[";
  llvm::interleaveComma(shape, os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << "?";
    else
      os << d;
  });
  os << "]";
  return text;
}

namespace {
/// Checks one operand of an L0 op against a named rule, with the
/// diagnostics phrased in terms of the operand's name.
class OperandChecker {
public:
  OperandChecker(Operation *op, bool expectTensors)
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

  /// `value` must have the rank and (compatible) sizes of `ref`, called
  /// `refName`, and hold `element`.
  LogicalResult like(Value value, StringRef name, ShapedType ref,
                     StringRef refName, StringRef layout, Type element) {
    FailureOr<ShapedType> type = ranked(value, name, ref.getRank(), layout);
    if (failed(type))
      return failure();
    if (type->getElementType() != element) {
      op->emitOpError() << "'" << name << "' element type must be " << element
                       << ", got " << type->getElementType();
      return failure();
    }
    for (int64_t d = 0; d < ref.getRank(); ++d)
      if (!dimsCompatible(type->getDimSize(d), ref.getDimSize(d))) {
        op->emitOpError() << "'" << name << "' must have the shape of '"
                         << refName << "' " << formatShape(ref.getShape())
                         << ", got " << formatShape(type->getShape());
        return failure();
      }
    return success();
  }

private:
  Operation *op;
  bool expectTensors;
};

/// The sizes the L0 rules relate, from q [B, Sq, Hq, D], k [B, Sk, Hkv, D],
/// v [B, Sk, Hkv, Dv] and out [B, Sq, Hq, Dv].
struct AttentionShapes {
  ShapedType query, key, value, out;
  int64_t batch, seqQ, headsQ, seqK, headsKV, headDimV;
};
} // namespace

static bool isSupportedInputElementType(Type type, bool allowFp8) {
  return type.isF16() || type.isBF16() || type.isF32() ||
         (allowFp8 && isa<Float8E4M3FNType>(type));
}

/// A head dimension must be static, a multiple of 8 and in [8, 256]: the
/// tensor-core tiles take K in steps of 8 (16 bytes of f16) and the largest
/// kernel keeps a 256-wide accumulator row in registers.
static LogicalResult verifyHeadDim(Operation *op, ShapedType type,
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

/// Rules 1 and 3-6 for q, k, v and out: ranks, element types (FP8 only in
/// the forward, with an f16/bf16 out), head dims, batch/sequence/head sizes,
/// GQA, and out [B, Sq, Hq, Dv].
static FailureOr<AttentionShapes>
verifyQueryKeyValueOut(Operation *op, OperandChecker &check, Value query,
                       Value key, Value value, Value out, bool forward) {
  // Shapes: q [B, Sq, Hq, D], k [B, Sk, Hkv, D], v [B, Sk, Hkv, Dv].
  FailureOr<ShapedType> q = check.ranked(query, "query", 4, "[B, Sq, Hq, D]");
  if (failed(q))
    return failure();
  FailureOr<ShapedType> k = check.ranked(key, "key", 4, "[B, Sk, Hkv, D]");
  if (failed(k))
    return failure();
  FailureOr<ShapedType> v = check.ranked(value, "value", 4, "[B, Sk, Hkv, Dv]");
  if (failed(v))
    return failure();
  FailureOr<ShapedType> o = check.ranked(out, "out", 4, "[B, Sq, Hq, Dv]");
  if (failed(o))
    return failure();

  // Element types.
  Type elementType = q->getElementType();
  if (!isSupportedInputElementType(elementType, forward)) {
    if (forward)
      return op->emitOpError() << "'query' element type must be f16, bf16, "
                                  "f8E4M3FN or f32, got "
                               << elementType;
    return op->emitOpError() << "'query' element type must be f16, bf16 or "
                                "f32 (there is no FP8 backward), got "
                             << elementType;
  }
  for (auto [type, name] : {std::pair(*k, "key"), std::pair(*v, "value")})
    if (type.getElementType() != elementType)
      return op->emitOpError() << "'" << name << "' element type ("
                               << type.getElementType()
                               << ") must match 'query' element type ("
                               << elementType << ")";
  bool fp8 = isa<Float8E4M3FNType>(elementType);
  Type outElementType = o->getElementType();
  if (fp8 && !outElementType.isF16() && !outElementType.isBF16())
    return op->emitOpError() << "'out' element type must be f16 or bf16 for "
                                "f8E4M3FN inputs, got "
                             << outElementType;
  if (!fp8 && outElementType != elementType)
    return op->emitOpError() << "'out' element type (" << outElementType
                             << ") must match 'query' element type ("
                             << elementType << ")";

  // Head dimensions.
  if (failed(verifyHeadDim(op, *q, "query", "D")) ||
      failed(verifyHeadDim(op, *k, "key", "D")) ||
      failed(verifyHeadDim(op, *v, "value", "Dv")))
    return failure();
  if (k->getDimSize(3) != q->getDimSize(3))
    return op->emitOpError() << "'key' head dim D (" << k->getDimSize(3)
                             << ") must match 'query' head dim D ("
                             << q->getDimSize(3) << ")";

  // Batch, sequence and head sizes.
  AttentionShapes s{*q, *k, *v, *o};
  s.batch = q->getDimSize(0);
  s.seqQ = q->getDimSize(1);
  s.headsQ = q->getDimSize(2);
  s.headDimV = v->getDimSize(3);
  s.seqK = k->getDimSize(1);
  s.headsKV = k->getDimSize(2);
  if (failed(check.dim(*k, "key", 0, "batch size", s.batch, "'query'",
                       "batch size")) ||
      failed(check.dim(*v, "value", 0, "batch size", s.batch, "'query'",
                       "batch size")) ||
      failed(check.dim(*v, "value", 1, "sequence length", s.seqK, "'key'",
                       "sequence length Sk")) ||
      failed(check.dim(*v, "value", 2, "head count", s.headsKV, "'key'",
                       "head count Hkv")))
    return failure();

  // Grouped-query attention: each KV head serves Hq / Hkv query heads.
  if (s.headsKV == 0)
    return op->emitOpError() << "'key' must have at least one head (Hkv = 0)";
  if (!ShapedType::isDynamic(s.headsQ) && !ShapedType::isDynamic(s.headsKV) &&
      s.headsQ % s.headsKV != 0)
    return op->emitOpError()
           << "'query' head count Hq (" << s.headsQ
           << ") must be a multiple of 'key' head count Hkv (" << s.headsKV
           << ") for grouped-query attention";

  // Output [B, Sq, Hq, Dv].
  if (failed(check.dim(*o, "out", 0, "batch size", s.batch, "'query'",
                       "batch size")) ||
      failed(check.dim(*o, "out", 1, "sequence length", s.seqQ, "'query'",
                       "sequence length Sq")) ||
      failed(check.dim(*o, "out", 2, "head count", s.headsQ, "'query'",
                       "head count Hq")) ||
      failed(check.dim(*o, "out", 3, "head dim", s.headDimV, "'value'",
                       "head dim Dv")))
    return failure();
  return s;
}

/// Per-row values [B, Hq, Sq] in f32 (lse; the backward's dlse and delta).
static LogicalResult verifyRowValues(Operation *op, OperandChecker &check,
                                     Value rows, StringRef name,
                                     const AttentionShapes &s) {
  FailureOr<ShapedType> l = check.ranked(rows, name, 3, "[B, Hq, Sq]");
  if (failed(l))
    return failure();
  if (!l->getElementType().isF32())
    return op->emitOpError() << "'" << name << "' element type must be f32, "
                             << "got " << l->getElementType();
  if (failed(check.dim(*l, name, 0, "batch size", s.batch, "'query'",
                       "batch size")) ||
      failed(check.dim(*l, name, 1, "head count", s.headsQ, "'query'",
                       "head count Hq")) ||
      failed(check.dim(*l, name, 2, "sequence length", s.seqQ, "'query'",
                       "sequence length Sq")))
    return failure();
  return success();
}

/// Variable-length batches: cu_seqlens_q/k, i32 [N + 1], packed in B = 1.
/// Returns the number of sequences (B without cu_seqlens; may be dynamic).
static FailureOr<int64_t> verifyVarlen(Operation *op, OperandChecker &check,
                                       Value cuSeqlensQ, Value cuSeqlensK,
                                       int64_t batch) {
  if (static_cast<bool>(cuSeqlensQ) != static_cast<bool>(cuSeqlensK))
    return op->emitOpError() << "'cu_seqlens_q' and 'cu_seqlens_k' must be "
                                "given together";
  if (!cuSeqlensQ)
    return batch;
  FailureOr<ShapedType> cuQ =
      check.ranked(cuSeqlensQ, "cu_seqlens_q", 1, "[N + 1]");
  if (failed(cuQ))
    return failure();
  FailureOr<ShapedType> cuK =
      check.ranked(cuSeqlensK, "cu_seqlens_k", 1, "[N + 1]");
  if (failed(cuK))
    return failure();
  for (auto [type, name] :
       {std::pair(*cuQ, "cu_seqlens_q"), std::pair(*cuK, "cu_seqlens_k")}) {
    if (!type.getElementType().isSignlessInteger(32))
      return op->emitOpError() << "'" << name
                               << "' element type must be i32, got "
                               << type.getElementType();
    if (!ShapedType::isDynamic(type.getDimSize(0)) && type.getDimSize(0) < 2)
      return op->emitOpError() << "'" << name
                               << "' must hold N + 1 >= 2 offsets (at least "
                                  "one sequence), got "
                               << type.getDimSize(0);
  }
  if (!dimsCompatible(cuQ->getDimSize(0), cuK->getDimSize(0)))
    return op->emitOpError() << "'cu_seqlens_q' (" << cuQ->getDimSize(0)
                             << " offsets) and 'cu_seqlens_k' ("
                             << cuK->getDimSize(0)
                             << " offsets) must describe the same number of "
                                "sequences";
  if (!dimsCompatible(batch, 1))
    return op->emitOpError() << "variable-length attention packs sequences "
                                "into one batch: 'query' batch size must be "
                                "1, got "
                             << batch;
  int64_t offsets = cuQ->getDimSize(0);
  return ShapedType::isDynamic(offsets) ? offsets : offsets - 1;
}

/// block_mask(%num, %idx[, %full_num, %full_idx]) block_size [BM, BN]:
/// counts i32 [B', H', QB], indices i32 [B', H', QB, KB], B' in {1, B},
/// H' in {1, Hq}, QB = ceil(Sq / BM); the full pair shaped as the partial.
static LogicalResult verifyBlockMask(Operation *op, ValueRange blockMask,
                                     DenseI64ArrayAttr blockSize, bool varlen,
                                     const AttentionShapes &s,
                                     OperandChecker &check) {
  if (blockMask.empty()) {
    if (blockSize)
      return op->emitOpError() << "'block_size' needs a 'block_mask'";
    return success();
  }
  size_t operands = blockMask.size();
  if (operands != 2 && operands != 4)
    return op->emitOpError() << "'block_mask' takes 2 operands "
                                "(kv_num_blocks, kv_indices) or 4 (and "
                                "full_kv_num_blocks, full_kv_indices), got "
                             << operands;
  if (!blockSize)
    return op->emitOpError() << "'block_mask' needs a 'block_size'";
  ArrayRef<int64_t> size = blockSize.asArrayRef();
  if (size.size() != 2 || size[0] < 1 || size[1] < 1)
    return op->emitOpError() << "'block_size' must be two positive sizes [BM, "
                                "BN], got ["
                             << size << "]";
  if (varlen)
    return op->emitOpError() << "'block_mask' does not apply to "
                                "variable-length batches (cu_seqlens)";
  int64_t qBlocks = ShapedType::isDynamic(s.seqQ)
                        ? ShapedType::kDynamic
                        : llvm::divideCeil(s.seqQ, size[0]);
  for (size_t pair = 0; pair < operands; pair += 2) {
    bool full = pair == 2;
    StringRef numName = full ? "full_kv_num_blocks" : "kv_num_blocks";
    StringRef idxName = full ? "full_kv_indices" : "kv_indices";
    FailureOr<ShapedType> num =
        check.ranked(blockMask[pair], numName, 3, "[B', H', QB]");
    if (failed(num))
      return failure();
    FailureOr<ShapedType> idx =
        check.ranked(blockMask[pair + 1], idxName, 4, "[B', H', QB, KB]");
    if (failed(idx))
      return failure();
    for (auto [type, name] :
         {std::pair(*num, numName), std::pair(*idx, idxName)})
      if (!type.getElementType().isSignlessInteger(32))
        return op->emitOpError() << "'" << name
                                 << "' element type must be i32, got "
                                 << type.getElementType();
    for (auto [dim, dimName, expected] :
         {std::tuple(0, "batch size", s.batch),
          std::tuple(1, "head count", s.headsQ)}) {
      int64_t n = num->getDimSize(dim);
      if (!ShapedType::isDynamic(n) && n != 1 && !dimsCompatible(n, expected))
        return op->emitOpError() << "'" << numName << "' " << dimName
                                 << " (dim " << dim << " = " << n
                                 << ") must be 1 or " << expected;
    }
    if (failed(check.dim(*num, numName, 2, "query-block count", qBlocks,
                         "ceil(Sq / BM) of", "'query' and 'block_size'")))
      return failure();
    for (int64_t d = 0; d < 3; ++d)
      if (failed(check.dim(*idx, idxName, d, "dim", num->getDimSize(d),
                           "'" + numName.str() + "'",
                           "dim " + std::to_string(d))))
        return failure();
    if (idx->getDimSize(3) == 0)
      return op->emitOpError() << "'" << idxName << "' must list at least one "
                                  "block per query block (KB >= 1)";
    if (full && (blockMask[0].getType() != Type(*num) ||
                 blockMask[1].getType() != Type(*idx)))
      return op->emitOpError() << "'full_kv_num_blocks' and 'full_kv_indices' "
                                  "must have the types of 'kv_num_blocks' "
                                  "and 'kv_indices'";
  }
  return success();
}

/// scale is finite and > 0; softcap finite and >= 0.
static LogicalResult verifyScalars(Operation *op, FloatAttr scale,
                                   FloatAttr softcap) {
  if (scale) {
    double s = scale.getValueAsDouble();
    if (!std::isfinite(s) || s <= 0.0)
      return op->emitOpError() << "'scale' must be finite and > 0, got "
                               << formatScalar(s);
  }
  if (softcap) {
    double c = softcap.getValueAsDouble();
    if (!std::isfinite(c) || c < 0.0)
      return op->emitOpError() << "'softcap' must be finite and >= 0 (0 = "
                                  "off), got "
                               << formatScalar(c);
  }
  return success();
}

/// Results: one per tensor init (`inits`, typed alike), none on memrefs,
/// where the op writes `written` in place.
static LogicalResult verifyDpsResults(Operation *op, bool tensors,
                                      OperandRange inits, StringRef written) {
  if (!tensors && op->getNumResults() != 0)
    return op->emitOpError() << "on memrefs the op writes " << written
                             << " in place and returns no results, got "
                             << op->getNumResults();
  if (!tensors)
    return success();
  if (op->getNumResults() != inits.size())
    return op->emitOpError() << "on tensors the op returns one result per "
                                "init in outs(...): expected "
                             << inits.size() << ", got "
                             << op->getNumResults();
  for (auto [result, init] : llvm::zip(op->getResults(), inits))
    if (result.getType() != init.getType())
      return op->emitOpError() << "result #" << result.getResultNumber()
                               << " type " << result.getType()
                               << " must match its init type "
                               << init.getType();
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp: verifier
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::verify() {
  bool tensors = isa<RankedTensorType>(getQuery().getType());
  OperandChecker check(*this, tensors);
  FailureOr<AttentionShapes> s =
      verifyQueryKeyValueOut(*this, check, getQuery(), getKey(), getValue(),
                             getOut(), /*forward=*/true);
  if (failed(s))
    return failure();

  // Optional LSE [B, Hq, Sq] in f32.
  if (Value lse = getLse())
    if (failed(verifyRowValues(*this, check, lse, "lse", *s)))
      return failure();

  FailureOr<int64_t> numSequences = verifyVarlen(
      *this, check, getCuSeqlensQ(), getCuSeqlensK(), s->batch);
  if (failed(numSequences))
    return failure();

  // FP8 descales: per (sequence, KV head), f32, exactly for f8E4M3FN inputs.
  Type elementType = s->query.getElementType();
  bool fp8 = isa<Float8E4M3FNType>(elementType);
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
                           *numSequences,
                           isVarlen() ? "the number of sequences in"
                                      : "'query'",
                           isVarlen() ? "'cu_seqlens_q'" : "batch size")) ||
          failed(check.dim(*d, name, 1, "head count", s->headsKV, "'key'",
                           "head count Hkv")))
        return failure();
    }
  }

  if (failed(verifyBlockMask(*this, getBlockMask(), getBlockSizeAttr(),
                             isVarlen(), *s, check)) ||
      failed(verifyScalars(*this, getScaleAttr(), getSoftcapAttr())))
    return failure();
  return verifyDpsResults(*this, tensors, getDpsInits(), "'out'/'lse'");
}

//===----------------------------------------------------------------------===//
// AttentionGradOp: verifier
//===----------------------------------------------------------------------===//

LogicalResult AttentionGradOp::verify() {
  bool tensors = isa<RankedTensorType>(getQuery().getType());
  OperandChecker check(*this, tensors);
  FailureOr<AttentionShapes> s =
      verifyQueryKeyValueOut(*this, check, getQuery(), getKey(), getValue(),
                             getOut(), /*forward=*/false);
  if (failed(s))
    return failure();
  Type element = s->query.getElementType();
  Type f32 = Builder(getContext()).getF32Type();

  // The forward's outputs and the gradients reaching them.
  if (failed(check.like(getDout(), "dout", s->out, "out", "[B, Sq, Hq, Dv]",
                        element)) ||
      failed(verifyRowValues(*this, check, getLse(), "lse", *s)))
    return failure();
  if (Value dlse = getDlse())
    if (failed(verifyRowValues(*this, check, dlse, "dlse", *s)))
      return failure();

  // The gradients, shaped and typed as their inputs; the f32 workspace.
  if (failed(check.like(getDq(), "dq", s->query, "query", "[B, Sq, Hq, D]",
                        element)) ||
      failed(check.like(getDk(), "dk", s->key, "key", "[B, Sk, Hkv, D]",
                        element)) ||
      failed(check.like(getDv(), "dv", s->value, "value", "[B, Sk, Hkv, Dv]",
                        element)) ||
      failed(check.like(getDqAccum(), "dq_accum", s->query, "query",
                        "[B, Sq, Hq, D]", f32)) ||
      failed(verifyRowValues(*this, check, getDelta(), "delta", *s)))
    return failure();

  if (failed(verifyVarlen(*this, check, getCuSeqlensQ(), getCuSeqlensK(),
                          s->batch)) ||
      failed(verifyBlockMask(*this, getBlockMask(), getBlockSizeAttr(),
                             isVarlen(), *s, check)) ||
      failed(verifyScalars(*this, getScaleAttr(), getSoftcapAttr())))
    return failure();
  return verifyDpsResults(*this, tensors, getDpsInits(),
                          "'dq'/'dk'/'dv' and the workspace");
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
                                                       Region &scoreMod,
                                                       StringRef name) {
  Builder b(op->getContext());
  Type f32 = b.getF32Type(), index = b.getIndexType();
  return verifyModifierRegion(
      op, scoreMod, name, {f32, index, index, index, index},
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

//===----------------------------------------------------------------------===//
// AttentionGradOp: regions, accessors and interfaces
//===----------------------------------------------------------------------===//

LogicalResult AttentionGradOp::verifyRegions() {
  return mlir::attn::detail::verifyModifierRegions(*this, getScoreMod(),
                                                   getMaskMod());
}

MutableOperandRange AttentionGradOp::getDpsInitsMutable() {
  // dq, dk, dv, dq_accum and delta are adjacent operand segments.
  unsigned start = getDqMutable().getOperandNumber();
  return MutableOperandRange(*this, start, 5);
}

MaskAttr AttentionGradOp::getMaskOrDefault() {
  if (MaskAttr mask = getMaskAttr())
    return mask;
  return MaskAttr::get(getContext(), MaskKind::None,
                       MaskAlignment::BottomRight);
}

double AttentionGradOp::getEffectiveScale() {
  if (FloatAttr scale = getScaleAttr())
    return scale.getValueAsDouble();
  return 1.0 / std::sqrt(static_cast<double>(getHeadDim()));
}

double AttentionGradOp::getEffectiveSoftcap() {
  FloatAttr softcap = getSoftcapAttr();
  return softcap ? softcap.getValueAsDouble() : 0.0;
}

int64_t AttentionGradOp::getHeadDim() {
  return cast<ShapedType>(getQuery().getType()).getDimSize(3);
}
int64_t AttentionGradOp::getValueHeadDim() {
  return cast<ShapedType>(getValue().getType()).getDimSize(3);
}

void AttentionGradOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  // On memrefs: inputs are read; dq, dk, dv written; the workspace written
  // and read back (delta by the main programs, dq_accum accumulated). On
  // tensors the op is pure.
  for (OpOperand &operand : getOperation()->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    unsigned first = getDqAccumMutable().getOperandNumber();
    bool workspace = operand.getOperandNumber() >= first &&
                     operand.getOperandNumber() < first + 2;
    if (!isDpsInit(&operand) || workspace)
      effects.emplace_back(MemoryEffects::Read::get(), &operand, /*stage=*/0,
                           /*effectOnFullRegion=*/true,
                           SideEffects::DefaultResource::get());
    if (isDpsInit(&operand))
      effects.emplace_back(MemoryEffects::Write::get(), &operand, /*stage=*/0,
                           /*effectOnFullRegion=*/true,
                           SideEffects::DefaultResource::get());
  }
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

void AttentionGradOp::getAsmBlockArgumentNames(Region &region,
                                               OpAsmSetValueNameFn setNameFn) {
  mlir::attn::detail::nameModifierRegionArguments(
      region, &region == &getScoreMod(), setNameFn);
}
