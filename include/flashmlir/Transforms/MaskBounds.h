//===- MaskBounds.h - which KV blocks a query tile must visit ---*- C++ -*-===//
//
// The masking analytics of --attn-tile, shared by every code generator.
//
// A query tile holds the query positions [q0, q0 + rows) of one sequence;
// keys are [0, kLen). Under the window (left L, right R; -1 = unbounded)
// shifted by `diag` (0 for top-left alignment, kLen - qLen for bottom-right),
// query i sees key j iff
//
//     (L < 0 or j >= i + diag - L)  and  (R < 0 or j <= i + diag + R).
//
// Over the tile's rows:
//   visible  = union of the rows' ranges:        [visLo, visHi)
//       visLo = L < 0 ? 0    : max(0, q0 + diag - L)
//       visHi = R < 0 ? kLen : min(kLen, q0 + rows + diag + R)
//   interior = intersection of the rows' ranges: [intLo, intHi)
//       intLo = L < 0 ? 0    : max(0, q0 + rows - 1 + diag - L)
//       intHi = R < 0 ? kLen : min(kLen, q0 + diag + R + 1)
//
// KV blocks of BN keys then fall in three consecutive ranges:
//   [lo, interiorLo)          boundary: some keys hidden, mask arithmetic
//   [interiorLo, interiorHi)  interior: every key visible to every row
//   [interiorHi, hi)          boundary
//   lo = floor(visLo / BN), hi = visLo < visHi ? ceil(visHi / BN) : lo;
//   blocks outside [lo, hi) hold no visible key and are never visited.
//   interiorLo = clamp(ceil(intLo / BN), lo, hi)
//   interiorHi = clamp(intHi >= kLen ? ceil(kLen / BN) : floor(intHi / BN),
//                      interiorLo, hi)
//
// The formulas are written once, over an arithmetic policy, so the same code
// builds IR (index arithmetic in the kernel) and computes plain integers (the
// unit test checks them against a brute-force evaluation of the mask).
//
// The transposed question, for the backward's KV-stationary programs: which
// q-blocks of BM rows hold a query that sees a key of the tile
// [k0, k0 + cols)? Key j is seen by query i iff
//
//     (R < 0 or i >= j - diag - R)  and  (L < 0 or i <= j - diag + L),
//
// which is the rule above with queries and keys exchanged, the window's
// sides swapped (L' = R, R' = L) and the diagonal negated (diag' = -diag):
// the q-block ranges [lo, interiorLo, interiorHi, hi) are those of the KV
// tile's keys against qLen queries, with the same meaning (blocks outside
// [lo, hi) hold no query that sees the tile; interior blocks hold only
// queries that see every key of it).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_TRANSFORMS_MASKBOUNDS_H
#define FLASHMLIR_TRANSFORMS_MASKBOUNDS_H

#include "mlir/IR/Builders.h"

#include <cstdint>

namespace flashmlir {

/// Window bounds above this are clamped to it by computeKvBlockRange:
/// positions and lengths are far below 2^39, so the clamp changes no range,
/// and no sum below can overflow int64 (a bound of INT64_MAX used to wrap).
/// The op's getMaskOrDefault() already reads bounds of Sq + Sk or more as -1.
inline constexpr int64_t kMaxWindowBound = int64_t(1) << 40;

/// The KV-block ranges a query tile visits (see the file header).
template <typename Num>
struct KvBlockRange {
  Num lo, interiorLo, interiorHi, hi;
};

/// Computes the KV-block ranges of one query tile. `Arith` supplies
/// constant(int64_t), add, sub, min, max, floorDiv, ceilDiv and
/// selectGreaterEq(a, b, ifTrue, ifFalse) over values of type `Num`.
/// `windowLeft`/`windowRight` are the static window bounds (-1 = unbounded).
template <typename Num, typename Arith>
KvBlockRange<Num> computeKvBlockRange(Arith &a, int64_t windowLeft,
                                      int64_t windowRight, Num q0, Num rows,
                                      Num kLen, Num diag, int64_t blockN) {
  windowLeft = windowLeft < kMaxWindowBound ? windowLeft : kMaxWindowBound;
  windowRight = windowRight < kMaxWindowBound ? windowRight : kMaxWindowBound;
  Num zero = a.constant(0), one = a.constant(1), bn = a.constant(blockN);
  Num qLast = a.sub(a.add(q0, rows), one);

  // Visible keys of the tile: the union over its rows.
  Num visLo = zero, visHi = kLen;
  // Keys visible to every row of the tile: the intersection.
  Num intLo = zero, intHi = kLen;
  if (windowLeft >= 0) {
    Num left = a.constant(windowLeft);
    visLo = a.max(zero, a.sub(a.add(q0, diag), left));
    intLo = a.max(zero, a.sub(a.add(qLast, diag), left));
  }
  if (windowRight >= 0) {
    Num rightPlusOne = a.constant(windowRight + 1);
    visHi = a.min(kLen, a.add(a.add(qLast, diag), rightPlusOne));
    intHi = a.min(kLen, a.add(a.add(q0, diag), rightPlusOne));
  }

  KvBlockRange<Num> range;
  range.lo = a.floorDiv(visLo, bn);
  // An empty visible range (visLo >= visHi) visits no block.
  range.hi = a.selectGreaterEq(visLo, visHi, range.lo, a.ceilDiv(visHi, bn));
  range.interiorLo = a.min(a.max(a.ceilDiv(intLo, bn), range.lo), range.hi);
  Num interiorHi = a.selectGreaterEq(intHi, kLen, a.ceilDiv(kLen, bn),
                                     a.floorDiv(intHi, bn));
  range.interiorHi =
      a.max(a.min(interiorHi, range.hi), range.interiorLo);
  return range;
}

/// The q-block ranges a KV tile of `cols` keys from `k0` meets (the
/// transposed rule of the file header): BM = `blockM` rows per q-block,
/// `qLen` queries, `diag` as for computeKvBlockRange.
template <typename Num, typename Arith>
KvBlockRange<Num> computeQBlockRange(Arith &a, int64_t windowLeft,
                                     int64_t windowRight, Num k0, Num cols,
                                     Num qLen, Num diag, int64_t blockM) {
  return computeKvBlockRange<Num>(a, /*windowLeft=*/windowRight,
                                  /*windowRight=*/windowLeft, k0, cols, qLen,
                                  a.sub(a.constant(0), diag), blockM);
}

/// Plain int64_t arithmetic (tests, host-side scheduling).
struct IntegerArith {
  int64_t constant(int64_t v) { return v; }
  int64_t add(int64_t x, int64_t y) { return x + y; }
  int64_t sub(int64_t x, int64_t y) { return x - y; }
  int64_t min(int64_t x, int64_t y) { return x < y ? x : y; }
  int64_t max(int64_t x, int64_t y) { return x > y ? x : y; }
  int64_t floorDiv(int64_t x, int64_t y) {
    int64_t q = x / y;
    return (x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q;
  }
  int64_t ceilDiv(int64_t x, int64_t y) { return -floorDiv(-x, y); }
  int64_t selectGreaterEq(int64_t x, int64_t y, int64_t t, int64_t f) {
    return x >= y ? t : f;
  }
};

/// Index arithmetic emitted as arith ops (signed semantics).
class IndexArith {
public:
  IndexArith(mlir::OpBuilder &builder, mlir::Location loc)
      : b(builder), loc(loc) {}
  mlir::Value constant(int64_t v);
  mlir::Value add(mlir::Value x, mlir::Value y);
  mlir::Value sub(mlir::Value x, mlir::Value y);
  mlir::Value min(mlir::Value x, mlir::Value y);
  mlir::Value max(mlir::Value x, mlir::Value y);
  mlir::Value floorDiv(mlir::Value x, mlir::Value y);
  mlir::Value ceilDiv(mlir::Value x, mlir::Value y);
  /// x * c for a constant c.
  mlir::Value mulConstant(mlir::Value x, int64_t c);
  mlir::Value selectGreaterEq(mlir::Value x, mlir::Value y, mlir::Value t,
                              mlir::Value f);

private:
  mlir::OpBuilder &b;
  mlir::Location loc;
};

} // namespace flashmlir

#endif // FLASHMLIR_TRANSFORMS_MASKBOUNDS_H
