//===- AttnTileGrad.h - --attn-tile for attn.attention_grad -----*- C++ -*-===//
//
// The backward half of --attn-tile (AttnTileGrad.cpp), called by the pass in
// AttnTile.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_TRANSFORMS_ATTNTILEGRAD_H
#define FLASHMLIR_TRANSFORMS_ATTNTILEGRAD_H

#include "flashmlir/Transforms/TileHeuristics.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace flashmlir {

/// Tiles every attn.attention_grad in `func` into its three program grids
/// (preprocess, KV-stationary main grid, postprocess). `blockM` (q-block
/// rows) and `blockN` (keys per main program) override the heuristic where
/// positive. Fails, with a diagnostic, on tensor operands or tiles that do
/// not divide a block mask's block size.
mlir::LogicalResult tileAttentionGrads(mlir::func::FuncOp func, int64_t blockM,
                                       int64_t blockN, TileTarget target);

} // namespace flashmlir

#endif // FLASHMLIR_TRANSFORMS_ATTNTILEGRAD_H
