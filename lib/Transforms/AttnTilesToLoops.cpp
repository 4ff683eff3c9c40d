//===- AttnTilesToLoops.cpp - --attn-tiles-to-loops ------------------------===//
//
// attn.tile_load as a loop nest (the CPU path):
//   dest[r, d] = r < rows ? f32(source[batch, row + r, head, d]) · scale : 0
//
//===----------------------------------------------------------------------===//

#include "TileElements.h"

#include "flashmlir/Transforms/Passes.h"

#include "attn/Attn.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNTILESTOLOOPSPASS
#include "flashmlir/Transforms/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

static void lowerTileLoad(attn::TileLoadOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto dest = cast<MemRefType>(op.getDest().getType());
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value tileRows = arith::ConstantIndexOp::create(b, loc, dest.getDimSize(0));
  Value width = arith::ConstantIndexOp::create(b, loc, dest.getDimSize(1));
  Value zeroF32 = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  Value rows = arith::MinSIOp::create(b, loc, op.getRows(), tileRows);

  // Valid rows: convert to f32.
  scf::ForOp::create(
      b, loc, zero, rows, one, ValueRange{},
      [&](OpBuilder &rb, Location, Value r, ValueRange) {
        Value srcRow = arith::AddIOp::create(rb, loc, op.getRow(), r);
        scf::ForOp::create(
            rb, loc, zero, width, one, ValueRange{},
            [&](OpBuilder &db, Location, Value d, ValueRange) {
              Value x = loadTileElement(db, loc, op, srcRow, d);
              memref::StoreOp::create(db, loc, x, op.getDest(),
                                      ValueRange{r, d});
              scf::YieldOp::create(db, loc);
            });
        scf::YieldOp::create(rb, loc);
      });
  // Rows past the valid count: zero, so the tile holds defined values.
  scf::ForOp::create(
      b, loc, rows, tileRows, one, ValueRange{},
      [&](OpBuilder &rb, Location, Value r, ValueRange) {
        scf::ForOp::create(rb, loc, zero, width, one, ValueRange{},
                           [&](OpBuilder &db, Location, Value d, ValueRange) {
                             memref::StoreOp::create(db, loc, zeroF32,
                                                     op.getDest(),
                                                     ValueRange{r, d});
                             scf::YieldOp::create(db, loc);
                           });
        scf::YieldOp::create(rb, loc);
      });
  op.erase();
}

namespace {
struct AttnTilesToLoopsPass final
    : flashmlir::impl::AttnTilesToLoopsPassBase<AttnTilesToLoopsPass> {
  void runOnOperation() override {
    SmallVector<attn::TileLoadOp> loads;
    getOperation().walk([&](attn::TileLoadOp op) { loads.push_back(op); });
    for (attn::TileLoadOp op : loads) {
      Type element = cast<MemRefType>(op.getSource().getType()).getElementType();
      if (!isTileLoadable(element)) {
        op.emitOpError() << "attn-tiles-to-loops cannot convert " << element
                         << " to f32";
        return signalPassFailure();
      }
      lowerTileLoad(op);
    }
  }
};
} // namespace
