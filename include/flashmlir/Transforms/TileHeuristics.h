//===- TileHeuristics.h - BlockM/BlockN per specialization ------*- C++ -*-===//
//
// The documented starting points of docs/Tiling.md; the pass options of
// --attn-tile override them, and the performance work tunes them.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_TRANSFORMS_TILEHEURISTICS_H
#define FLASHMLIR_TRANSFORMS_TILEHEURISTICS_H

#include "attn/Attn.h"

#include <optional>

namespace flashmlir {

enum class TileTarget { Hopper, Cpu };

/// Parses a --attn-tile `target` option: "sm_90a" or "cpu".
std::optional<TileTarget> parseTileTarget(llvm::StringRef name);

struct TileSizes {
  int64_t blockM; ///< query rows per program
  int64_t blockN; ///< keys per KV block
};

/// The ops applied to every score besides the softmax itself: softcap's
/// three (scale, tanh, scale) plus the bodies of score_mod and mask_mod. What
/// the Hopper heuristics read as register pressure: each such op runs on all
/// of a consumer's BlockN/2 live scores.
int64_t perScoreOps(mlir::Region &scoreMod, mlir::Region &maskMod,
                    bool softcap);

/// Tile sizes for one attention specialization on `target`.
TileSizes chooseTileSizes(mlir::attn::AttentionOp op, TileTarget target);

/// Tile sizes of a backward (attn.attention_grad): blockM = rows of a
/// q-block, blockN = keys of a main (KV-stationary) program.
TileSizes chooseGradTileSizes(mlir::attn::AttentionGradOp op,
                              TileTarget target);

} // namespace flashmlir

#endif // FLASHMLIR_TRANSFORMS_TILEHEURISTICS_H
