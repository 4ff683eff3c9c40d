//===- MaskBoundsTest.cpp - KV-block ranges against brute force ------------===//
//
// For random sequence lengths, windows, alignments and tile sizes, checks the
// claims --attn-tile relies on (MaskBounds.h):
//   1. every key some row of the tile can see lies in a visited block;
//   2. every visited block holds at least one visible key (fully masked
//      blocks are never visited);
//   3. interior blocks hold only keys visible to every row (no mask needed);
// and the same three, transposed, for the backward's KV tiles over q-blocks.
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Transforms/MaskBounds.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>

using namespace flashmlir;

namespace {
struct Case {
  int64_t qLen, kLen, left, right, blockM, blockN;
  bool bottomRight;
};

bool visible(const Case &c, int64_t i, int64_t j) {
  // j >= i + diag - L and j <= i + diag + R, written so that no bound (up to
  // INT64_MAX) overflows: the distance from the diagonal is small.
  int64_t diag = c.bottomRight ? c.kLen - c.qLen : 0;
  int64_t distance = j - (i + diag);
  if (c.left >= 0 && -distance > c.left)
    return false;
  if (c.right >= 0 && distance > c.right)
    return false;
  return true;
}

void checkCase(const Case &c) {
  IntegerArith arith;
  int64_t diag = c.bottomRight ? c.kLen - c.qLen : 0;
  int64_t numBlocks = (c.kLen + c.blockN - 1) / c.blockN;
  for (int64_t q0 = 0; q0 < c.qLen; q0 += c.blockM) {
    int64_t rows = std::min(c.blockM, c.qLen - q0);
    KvBlockRange<int64_t> r = computeKvBlockRange<int64_t>(
        arith, c.left, c.right, q0, rows, c.kLen, diag, c.blockN);
    SCOPED_TRACE(testing::Message()
                 << "qLen=" << c.qLen << " kLen=" << c.kLen << " window=["
                 << c.left << "," << c.right << "] bottomRight="
                 << c.bottomRight << " BM=" << c.blockM << " BN=" << c.blockN
                 << " q0=" << q0 << " -> [" << r.lo << "," << r.interiorLo
                 << "," << r.interiorHi << "," << r.hi << ")");
    ASSERT_LE(0, r.lo);
    ASSERT_LE(r.lo, r.interiorLo);
    ASSERT_LE(r.interiorLo, r.interiorHi);
    ASSERT_LE(r.interiorHi, r.hi);
    ASSERT_LE(r.hi, std::max<int64_t>(numBlocks, r.lo));
    for (int64_t kb = 0; kb < numBlocks; ++kb) {
      bool any = false, all = true;
      for (int64_t j = kb * c.blockN; j < std::min(c.kLen, (kb + 1) * c.blockN);
           ++j)
        for (int64_t i = q0; i < q0 + rows; ++i) {
          bool v = visible(c, i, j);
          any |= v;
          all &= v;
        }
      bool visited = kb >= r.lo && kb < r.hi;
      bool interior = kb >= r.interiorLo && kb < r.interiorHi;
      ASSERT_EQ(any, visited) << "block " << kb;
      if (interior) {
        ASSERT_TRUE(all) << "interior block " << kb << " has a hidden key";
      }
    }
  }
}

TEST(MaskBounds, CausalAndWindowsMatchBruteForce) {
  std::mt19937_64 rng(20261122);
  auto pick = [&](std::initializer_list<int64_t> values) {
    std::vector<int64_t> v(values);
    return v[rng() % v.size()];
  };
  for (int n = 0; n < 3000; ++n) {
    Case c;
    c.qLen = pick({1, 2, 16, 17, 63, 64, 65, 127, 129, 200, 300});
    c.kLen = pick({1, 2, 16, 17, 63, 64, 65, 127, 129, 200, 300});
    c.left = pick({-1, -1, 0, 1, 5, 16, 33, 64, 128, 500});
    c.right = pick({-1, 0, 0, 1, 7, 16, 64, 500});
    c.blockM = pick({16, 32, 64, 128});
    c.blockN = pick({16, 32, 64, 80, 128, 176});
    c.bottomRight = rng() % 2;
    checkCase(c);
    if (HasFatalFailure())
      return;
  }
}

/// The transposed claims (computeQBlockRange, the backward's KV-stationary
/// programs): for every KV tile, the visited q-blocks are exactly those
/// holding a query that sees one of its keys, and interior q-blocks hold only
/// queries (of the sequence) that see every key of the tile.
void checkTransposedCase(const Case &c) {
  IntegerArith arith;
  int64_t diag = c.bottomRight ? c.kLen - c.qLen : 0;
  int64_t numQBlocks = (c.qLen + c.blockM - 1) / c.blockM;
  for (int64_t k0 = 0; k0 < c.kLen; k0 += c.blockN) {
    int64_t cols = std::min(c.blockN, c.kLen - k0);
    KvBlockRange<int64_t> r = computeQBlockRange<int64_t>(
        arith, c.left, c.right, k0, cols, c.qLen, diag, c.blockM);
    SCOPED_TRACE(testing::Message()
                 << "qLen=" << c.qLen << " kLen=" << c.kLen << " window=["
                 << c.left << "," << c.right << "] bottomRight="
                 << c.bottomRight << " BM=" << c.blockM << " BN=" << c.blockN
                 << " k0=" << k0 << " -> [" << r.lo << "," << r.interiorLo
                 << "," << r.interiorHi << "," << r.hi << ")");
    ASSERT_LE(0, r.lo);
    ASSERT_LE(r.lo, r.interiorLo);
    ASSERT_LE(r.interiorLo, r.interiorHi);
    ASSERT_LE(r.interiorHi, r.hi);
    ASSERT_LE(r.hi, std::max<int64_t>(numQBlocks, r.lo));
    for (int64_t qb = 0; qb < numQBlocks; ++qb) {
      bool any = false, all = true;
      for (int64_t i = qb * c.blockM; i < std::min(c.qLen, (qb + 1) * c.blockM);
           ++i)
        for (int64_t j = k0; j < k0 + cols; ++j) {
          bool v = visible(c, i, j);
          any |= v;
          all &= v;
        }
      bool visited = qb >= r.lo && qb < r.hi;
      bool interior = qb >= r.interiorLo && qb < r.interiorHi;
      ASSERT_EQ(any, visited) << "q-block " << qb;
      if (interior) {
        ASSERT_TRUE(all) << "interior q-block " << qb << " has a hidden key";
      }
    }
  }
}

TEST(MaskBounds, TransposedRangesMatchBruteForce) {
  std::mt19937_64 rng(20261207);
  auto pick = [&](std::initializer_list<int64_t> values) {
    std::vector<int64_t> v(values);
    return v[rng() % v.size()];
  };
  for (int n = 0; n < 3000; ++n) {
    Case c;
    c.qLen = pick({1, 2, 16, 17, 63, 64, 65, 127, 129, 200, 300});
    c.kLen = pick({1, 2, 16, 17, 63, 64, 65, 127, 129, 200, 300});
    c.left = pick({-1, -1, 0, 1, 5, 16, 33, 64, 128, 500});
    c.right = pick({-1, 0, 0, 1, 7, 16, 64, 500});
    c.blockM = pick({16, 32, 64, 128});
    c.blockN = pick({16, 32, 64, 80, 128, 176});
    c.bottomRight = rng() % 2;
    checkTransposedCase(c);
    if (HasFatalFailure())
      return;
  }
}

TEST(MaskBounds, CausalKeyTileVisitsTheRowsBelowIt) {
  // Keys [128, 192) of a 1024x1024 causal mask with 64-row q-blocks: q-block
  // 2 holds the diagonal, 3.. see every key, 0 and 1 none.
  IntegerArith arith;
  KvBlockRange<int64_t> r =
      computeQBlockRange<int64_t>(arith, -1, 0, 128, 64, 1024, 0, 64);
  EXPECT_EQ(r.lo, 2);
  EXPECT_EQ(r.interiorLo, 3);
  EXPECT_EQ(r.interiorHi, 16);
  EXPECT_EQ(r.hi, 16);
}

TEST(MaskBounds, HugeWindowsMatchBruteForce) {
  // Bounds far past the lengths, up to INT64_MAX: they hide nothing, and the
  // range arithmetic must not overflow (window (-1, INT64_MAX) gave an empty
  // range: zeros and LSE -inf).
  const int64_t huge[] = {1000, int64_t(1) << 40, (int64_t(1) << 62) + 3,
                          std::numeric_limits<int64_t>::max()};
  for (int64_t left : {int64_t(-1), int64_t(5), huge[0], huge[1], huge[2], huge[3]})
    for (int64_t right : {int64_t(-1), int64_t(0), huge[0], huge[1], huge[2], huge[3]})
      for (bool bottomRight : {false, true}) {
        checkCase({/*qLen=*/300, /*kLen=*/200, left, right, /*blockM=*/64,
                   /*blockN=*/64, bottomRight});
        if (HasFatalFailure())
          return;
      }
}

TEST(MaskBounds, NoMaskVisitsEveryBlockAsInterior) {
  IntegerArith arith;
  KvBlockRange<int64_t> r =
      computeKvBlockRange<int64_t>(arith, -1, -1, 64, 64, 1000, 0, 128);
  EXPECT_EQ(r.lo, 0);
  EXPECT_EQ(r.interiorLo, 0);
  EXPECT_EQ(r.interiorHi, 8); // the partial last block needs no mask either
  EXPECT_EQ(r.hi, 8);
}

TEST(MaskBounds, CausalDiagonalTile) {
  // Rows [128, 192) of a 1024x1024 causal mask with 64-key blocks: blocks
  // 0 and 1 are fully visible, block 2 holds the diagonal, 3.. are skipped.
  IntegerArith arith;
  KvBlockRange<int64_t> r =
      computeKvBlockRange<int64_t>(arith, -1, 0, 128, 64, 1024, 0, 64);
  EXPECT_EQ(r.lo, 0);
  EXPECT_EQ(r.interiorLo, 0);
  EXPECT_EQ(r.interiorHi, 2);
  EXPECT_EQ(r.hi, 3);
}

TEST(MaskBounds, EmptyKeysVisitNothing) {
  IntegerArith arith;
  KvBlockRange<int64_t> r =
      computeKvBlockRange<int64_t>(arith, -1, 0, 0, 17, 0, -17, 64);
  EXPECT_EQ(r.lo, r.hi);
}
} // namespace
