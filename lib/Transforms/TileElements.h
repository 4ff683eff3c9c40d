//===- TileElements.h - One element of an attn.tile_load --------*- C++ -*-===//
//
// The element conversion the loop lowerings of attn.tile_load share (CPU:
// attn-tiles-to-loops; SIMT GPU: attn-map-to-gpu).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_TRANSFORMS_TILEELEMENTS_H
#define FLASHMLIR_TRANSFORMS_TILEELEMENTS_H

#include "attn/Attn.h"

#include "mlir/IR/Builders.h"

namespace flashmlir {

/// Whether loadTileElement converts elements of type `element` to f32:
/// f16, bf16, f32 and f8E4M3FN.
bool isTileLoadable(mlir::Type element);

/// f32(op.source[batch, row, head, d]) · op.scale (scale when present), or
/// the source element itself for a tile of the source's type: the value
/// tile_load writes at one position of its tile (a rank-1 tile, `d` null:
/// op.source[batch, head, row]). f8E4M3FN is
/// decoded with integer arithmetic (no f8 conversion lowers to LLVM here).
mlir::Value loadTileElement(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::attn::TileLoadOp op, mlir::Value row,
                            mlir::Value d);

} // namespace flashmlir

#endif // FLASHMLIR_TRANSFORMS_TILEELEMENTS_H
