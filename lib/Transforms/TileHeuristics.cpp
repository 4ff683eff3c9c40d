//===- TileHeuristics.cpp - BlockM/BlockN per specialization ---------------===//
//
// Hopper (from FlashAttention-3's choices, the starting point of the tuning
// in issue 6): two consumer warpgroups own 64 query rows each, so BlockM is
// 128 (192 at D <= 64, where registers allow a third group of rows, except
// for short sequences: see chooseTileSizes); BlockN
// shrinks as the head dim grows so that the K/V stages still fit in 227 KB
// of shared memory and the S/P registers in the consumers' budget, and is
// 128 under a causal or window mask, where smaller blocks waste less work on
// the diagonal. At D = 256 a window mask takes 64: its three KV loops with
// the overlapped P·V spilled at 80 (ptxas, 240 registers).
// Work on every score (softcap, score_mod, mask_mod; perScoreOps) keeps
// more registers live: at D <= 64 the third consumer's 160 registers spilled
// with softcap, an ALiBi score_mod or a document mask_mod (two consumers, 240
// registers, did not), at D = 128 BlockN 176 spilled with softcap or ALiBi
// (128 did not), and at D = 256 BlockN 80 with ALiBi + documents (64 did
// not; softcap alone fits 80); ptxas -v.
// With the TMA-store epilogue, unmasked D = 128 takes 128 too unless varlen:
// its persistent kernel then keeps O in a shared-memory buffer of its own
// (Q 32 KB + 2 stages of 64 KB + O 32 KB; at 176 only Q's buffer was free
// for O, which delays the next tile's Q): bench/variants.py, bf16, 16k
// tokens: +11% at S = 512, +6..8% at 1k-16k.
//
// Head dims between these (multiples of 16, each with the shared-memory
// layout of its width: the conversion's SwizzledRows) take the tiles of the
// next one up: D <= 64 as 64, D <= 128 as 128 (BlockN 96 with a modifier
// below 128), D <= 256 as 256. Chosen from ptxas -v (0 spills over the masks
// and modifiers), not yet timed on a GPU.
//
// CPU: the path exists to prove the transformations exact; small tiles keep
// many blocks (and every boundary case) in play on small test shapes.
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Transforms/TileHeuristics.h"

#include <algorithm>

using namespace mlir;
using namespace flashmlir;

std::optional<TileTarget> flashmlir::parseTileTarget(llvm::StringRef name) {
  if (name == "sm_90a" || name == "sm_90")
    return TileTarget::Hopper;
  if (name == "cpu")
    return TileTarget::Cpu;
  return std::nullopt;
}

int64_t flashmlir::perScoreOps(Region &scoreMod, Region &maskMod,
                               bool softcap) {
  int64_t ops = softcap ? 3 : 0;
  for (Region *region : {&scoreMod, &maskMod})
    region->walk([&](Operation *op) {
      if (!op->hasTrait<OpTrait::IsTerminator>())
        ++ops;
    });
  return ops;
}

static TileSizes heuristicTileSizes(attn::AttentionOp op, TileTarget target) {
  if (target == TileTarget::Cpu)
    return {32, 64};

  int64_t headDim = std::max(op.getHeadDim(), op.getValueHeadDim());
  bool banded = !op.getMaskOrDefault().isFullyVisible();
  bool modified = perScoreOps(op.getScoreMod(), op.getMaskMod(),
                              op.getEffectiveSoftcap() > 0) > 0;
  // Short sequences at d <= 64 take two consumers too: with few KV blocks per
  // tile the third consumer's rows add fill/drain, not overlap, and two make a
  // causal kernel paired-persistent. bench/variants.py, bf16, 16k tokens:
  // 128 vs 192 rows +5% at S = 512 and 1k (-3% at 2k); causal +31% at 512,
  // +24% at 1k, +4% at 2k (-1% at 4k, -9% at 8k).
  // A dynamic length (one kernel for every length) takes the choice whose
  // worst case loses least: causal 128 (-9% at 8k, +24% at 1k against 192),
  // unmasked 192 (-5% at 512 and 1k, ahead from 2k).
  int64_t seqLen = cast<ShapedType>(op.getQuery().getType()).getDimSize(1);
  bool causal = op.getMaskOrDefault().getKind() == attn::MaskKind::Causal;
  bool shortSeq = ShapedType::isDynamic(seqLen)
                      ? causal
                      : seqLen <= (causal ? 2048 : 1024);
  if (headDim <= 64)
    return {modified || shortSeq ? 128 : 192, 128};
  // D = 80, 96, 112 with a score_mod or mask_mod spilled at BlockN 128 (ALiBi
  // at d = 112: 104 bytes, documents at d = 96: 40, causal ALiBi + documents
  // at d = 80: 24; ptxas -v, bf16, 300 x 517, GQA 2) and not at 96.
  if (headDim < 128 && headDim > 64 && (op.hasScoreMod() || op.hasMaskMod()))
    return {128, 96};
  if (headDim <= 128)
    return {128, banded || modified || !op.isVarlen() ? 128 : 176};
  bool window = op.getMaskOrDefault().getKind() == attn::MaskKind::Window;
  return {128, window || op.hasScoreMod() || op.hasMaskMod() ? 64 : 80};
}

/// The largest multiple of `granule` that divides `maskBlock` and is at most
/// `tile`; `tile` itself when there is none (attn-tile then reports it).
static int64_t fitToMaskBlock(int64_t tile, int64_t maskBlock,
                              int64_t granule) {
  for (int64_t t = std::min(tile, maskBlock) / granule * granule; t >= granule;
       t -= granule)
    if (maskBlock % t == 0)
      return t;
  return tile;
}

TileSizes flashmlir::chooseTileSizes(attn::AttentionOp op, TileTarget target) {
  TileSizes tiles = heuristicTileSizes(op, target);
  if (!op.hasBlockMask())
    return tiles;
  // A kernel block never straddles two mask blocks: the tiles divide the
  // mask's (wgmma granules on Hopper: 64 rows per consumer, N in 16s).
  bool hopper = target == TileTarget::Hopper;
  tiles.blockM =
      fitToMaskBlock(tiles.blockM, op.getBlockMaskRows(), hopper ? 64 : 1);
  tiles.blockN =
      fitToMaskBlock(tiles.blockN, op.getBlockMaskCols(), hopper ? 16 : 1);
  return tiles;
}

/// The backward: FlashAttention-3's backward tiles as the starting point (not
/// tuned here: the Hopper backward is not built yet): q-blocks of 64 rows (128
/// at D <= 64), 128 keys per program (64 at D > 128, where dK and dV of 128
/// keys would not fit the registers). CPU: 16-row q-blocks over 32 keys, so
/// small test problems have many programs and every boundary case.
TileSizes flashmlir::chooseGradTileSizes(attn::AttentionGradOp op,
                                         TileTarget target) {
  TileSizes tiles{16, 32};
  if (target == TileTarget::Hopper) {
    int64_t headDim = std::max(op.getHeadDim(), op.getValueHeadDim());
    tiles = headDim <= 64 ? TileSizes{128, 128}
                          : TileSizes{64, headDim <= 128 ? 128 : 64};
  }
  if (!op.hasBlockMask())
    return tiles;
  bool hopper = target == TileTarget::Hopper;
  tiles.blockM =
      fitToMaskBlock(tiles.blockM, op.getBlockMaskRows(), hopper ? 64 : 1);
  tiles.blockN =
      fitToMaskBlock(tiles.blockN, op.getBlockMaskCols(), hopper ? 16 : 1);
  return tiles;
}
