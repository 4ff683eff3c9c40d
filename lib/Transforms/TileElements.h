//===- TileElements.h - One element of a tile load or store -----*- C++ -*-===//
//
// The element conversions the loop lowerings of attn.tile_load and
// attn.tile_store share (CPU: attn-tiles-to-loops; SIMT GPU:
// attn-map-to-gpu's cooperative copies).
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

/// out[batch, row + i, head, column + d] (+)= T(op.tile[i, d]) (column 0
/// when the op has none; a rank-1 tile, `d`
/// null: out[batch, head, row + i] (+)= T(op.tile[i])): what tile_store
/// writes for one element, T converting through f32 to out's type.
void storeTileElement(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::attn::TileStoreOp op, mlir::Value i,
                      mlir::Value d);

/// The vector forms of the two above (the SIMT mapping's copies): `width`
/// consecutive elements of one row from column `d` on, the global access
/// `width`·element bytes wide and aligned to that (the caller checks the
/// base pointer; rows and `d` keep it), the tile access aligned to
/// `tileAlignment` bytes. Null where the element needs the scalar form (f8:
/// decoded with integer arithmetic).
mlir::Value loadTileVector(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::attn::TileLoadOp op, mlir::Value row,
                           mlir::Value d, int64_t width);
void storeTileVector(mlir::OpBuilder &b, mlir::Location loc,
                     mlir::attn::TileStoreOp op, mlir::Value i, mlir::Value d,
                     int64_t width, int64_t tileAlignment);

} // namespace flashmlir

#endif // FLASHMLIR_TRANSFORMS_TILEELEMENTS_H
