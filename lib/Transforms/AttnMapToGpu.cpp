//===- AttnMapToGpu.cpp - --attn-map-to-gpu (SIMT bring-up lowering) -------===//
//
// Algorithm (see Passes.td):
//   1. attn.program_grid -> gpu.launch, BlockM threads per block;
//   2. static tiles -> views into dynamic shared memory;
//   3. row loops -> `if (tid < rows)` with row = tid;
//   4. tile loads and stores -> cooperative strided copies between barriers.
//
//===----------------------------------------------------------------------===//

#include "TileElements.h"

#include "flashmlir/Transforms/Passes.h"

#include "attn/Attn.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/Support/MathExtras.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNMAPTOGPUPASS
#include "flashmlir/Transforms/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

/// Moves the ops of `from` (but its terminator) before `before`.
static void spliceBody(Block *from, Operation *before) {
  before->getBlock()->getOperations().splice(
      before->getIterator(), from->getOperations(), from->begin(),
      std::prev(from->end()));
}

/// Bytes of one element of a shaped type.
static int64_t elementBytes(ShapedType type) {
  return type.getElementTypeBitWidth() / 8;
}

/// The row pitch, in bytes, of a rank-2 tile placed in shared memory: a
/// thread per row reads down a column, so rows of a multiple of 16 bytes
/// put every lane's element in one bank (a 32-way conflict at 128 bf16 or
/// f32 columns); 16 more bytes turn it into 4-way for scalar accesses and
/// none for 16-byte ones, and keep every row 16-byte aligned for the copies'
/// vectors. Other rows are kept as they are.
static int64_t sharedRowPitch(MemRefType tile) {
  int64_t bytes = tile.getDimSize(1) * elementBytes(tile);
  return bytes % 16 ? bytes : bytes + 16;
}

/// How a cooperative copy reads and writes one group of `width` consecutive
/// elements of row r from column d (d null for a rank-1 tile): `read` may
/// return a value that `write` then puts in place (all reads of an
/// iteration come before its writes: several loads in flight per thread).
using CopyRead =
    function_ref<Value(OpBuilder &, Value r, Value d, Value valid, int64_t)>;
using CopyWrite = function_ref<void(OpBuilder &, Value v, Value r, Value d,
                                    Value valid, int64_t)>;

/// The cooperative copy between a tile of R rows x W columns (a rank-1 tile:
/// W = 1) and global memory, between two barriers (the tile's earlier
/// writers or readers are done; the copy is complete before anyone reads or
/// overwrites it), the tile's groups of V consecutive columns spread over
/// the block's threads (consecutive threads, consecutive groups: coalesced),
/// U groups per thread and iteration:
///   for (e = tid; e < R·W/V; e += U·threads)
///     for (k < U) { g = e + k·threads; r = g / (W/V); d = g % (W/V) · V;
///                   v_k = read(r, d, r < min(rows, R)) }
///     for (k < U) write(v_k, ...)
/// U = 8 where R·W/V is a multiple of 8·threads (else the largest power of
/// two that divides it: no g passes the tile). V = `vectorWidth` where
/// `aligned` (the global base pointer, checked at run time: a caller's
/// tensor view may start anywhere) holds, else 1. One load in flight per
/// thread made the backward's preprocess latency-bound (2.1 ms at d = 128,
/// S = 4k, B = 4 on an H200).
static void copyTileCooperatively(Operation *op, MemRefType tile, Value rows,
                                  Value tid, int64_t threads,
                                  int64_t vectorWidth, Value aligned,
                                  CopyRead read, CopyWrite write) {
  OpBuilder b(op);
  Location loc = op->getLoc();
  bool perRow = tile.getRank() == 1;
  int64_t tileRows = tile.getDimSize(0), width = perRow ? 1 : tile.getDimSize(1);
  auto idx = [&](OpBuilder &ib, int64_t v) {
    return arith::ConstantIndexOp::create(ib, loc, v);
  };
  gpu::BarrierOp::create(b, loc);
  Value count = arith::MinSIOp::create(b, loc, rows, idx(b, tileRows));
  auto copyLoop = [&](OpBuilder &cb, int64_t vec) {
    int64_t groups = tileRows * width / vec, perRowGroups = width / vec;
    int64_t unroll = 1;
    while (unroll < 8 && groups % (2 * unroll * threads) == 0)
      unroll *= 2;
    scf::ForOp::create(
        cb, loc, tid, idx(cb, groups), idx(cb, unroll * threads), ValueRange{},
        [&](OpBuilder &lb, Location, Value e, ValueRange) {
          SmallVector<std::array<Value, 4>> pending; // value, r, d, valid
          for (int64_t k = 0; k < unroll; ++k) {
            Value g = k ? arith::AddIOp::create(lb, loc, e,
                                                idx(lb, k * threads))
                              .getResult()
                        : e;
            Value w = idx(lb, perRowGroups);
            Value r = arith::DivUIOp::create(lb, loc, g, w);
            Value d = arith::MulIOp::create(
                lb, loc, arith::RemUIOp::create(lb, loc, g, w), idx(lb, vec));
            Value valid = arith::CmpIOp::create(
                lb, loc, arith::CmpIPredicate::ult, r, count);
            if (perRow)
              d = Value();
            pending.push_back({read(lb, r, d, valid, vec), r, d, valid});
          }
          for (auto [v, r, d, valid] : pending)
            write(lb, v, r, d, valid, vec);
          scf::YieldOp::create(lb, loc);
        });
  };
  if (vectorWidth > 1 && aligned) {
    scf::IfOp::create(
        b, loc, aligned,
        [&](OpBuilder &tb, Location) {
          copyLoop(tb, vectorWidth);
          scf::YieldOp::create(tb, loc);
        },
        [&](OpBuilder &eb, Location) {
          copyLoop(eb, 1);
          scf::YieldOp::create(eb, loc);
        });
  } else {
    copyLoop(b, 1);
  }
  gpu::BarrierOp::create(b, loc);
}

/// The widest group (at most 16 bytes on either side) a copy between `tile`
/// and `global` can move as one vector, and the run-time condition for it
/// (`global`'s base pointer aligned to the group's bytes); {1, null} where
/// only scalars can (a rank-1 tile, f8, a row that is not a whole number of
/// groups, a strided global layout). Rows of `global` start at multiples of
/// its last dimension, so an aligned base keeps every group aligned.
static std::pair<int64_t, Value> vectorGroup(OpBuilder &b, Location loc,
                                             MemRefType tile, Value global) {
  auto globalType = cast<MemRefType>(global.getType());
  if (tile.getRank() != 2 || !globalType.getLayout().isIdentity() ||
      isa<Float8E4M3FNType>(globalType.getElementType()) ||
      isa<Float8E4M3FNType>(tile.getElementType()))
    return {1, Value()};
  int64_t vec = 16 / std::max(elementBytes(tile), elementBytes(globalType));
  int64_t lastDim = globalType.getDimSize(globalType.getRank() - 1);
  if (vec < 2 || ShapedType::isDynamic(lastDim) || lastDim % vec ||
      tile.getDimSize(1) % vec || sharedRowPitch(tile) % 16)
    return {1, Value()};
  auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); };
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, global);
  Value misalignment = arith::RemUIOp::create(
      b, loc, base, idx(vec * elementBytes(globalType)));
  Value aligned = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                        misalignment, idx(0));
  return {vec, aligned};
}

/// dest[r, d] = r < rows ? T(source[batch, row + r, head, d]) : 0.
static void lowerTileLoadCooperatively(attn::TileLoadOp op, Value tid,
                                       int64_t threads) {
  auto dest = cast<MemRefType>(op.getDest().getType());
  Location loc = op.getLoc();
  OpBuilder b(op);
  auto [vec, aligned] = vectorGroup(b, loc, dest, op.getSource());
  int64_t tileAlignment = vec * elementBytes(dest);
  Type element = dest.getElementType();
  copyTileCooperatively(
      op, dest, op.getRows(), tid, threads, vec, aligned,
      [&](OpBuilder &lb, Value r, Value d, Value valid, int64_t width) {
        Type type = width == 1 ? element : VectorType::get({width}, element);
        auto value = scf::IfOp::create(
            lb, loc, valid,
            [&](OpBuilder &tb, Location) {
              Value srcRow = arith::AddIOp::create(tb, loc, op.getRow(), r);
              scf::YieldOp::create(
                  tb, loc,
                  width == 1 ? loadTileElement(tb, loc, op, srcRow, d)
                             : loadTileVector(tb, loc, op, srcRow, d, width));
            },
            [&](OpBuilder &eb, Location) {
              scf::YieldOp::create(
                  eb, loc,
                  arith::ConstantOp::create(eb, loc, eb.getZeroAttr(type))
                      .getResult());
            });
        return value.getResult(0);
      },
      [&](OpBuilder &lb, Value v, Value r, Value d, Value, int64_t width) {
        SmallVector<Value> at{r};
        if (d)
          at.push_back(d);
        if (width == 1)
          memref::StoreOp::create(lb, loc, v, op.getDest(), at);
        else
          vector::StoreOp::create(lb, loc, v, op.getDest(), at,
                                  /*nontemporal=*/false,
                                  llvm::MaybeAlign(tileAlignment));
      });
  op.erase();
}

/// out[b, row + r, h, d] (+)= T(tile[r, d]) for r < rows (a row per thread
/// made every warp's store touch 32 rows).
static void lowerTileStoreCooperatively(attn::TileStoreOp op, Value tid,
                                        int64_t threads) {
  auto tile = cast<MemRefType>(op.getTile().getType());
  Location loc = op.getLoc();
  OpBuilder b(op);
  // (A store from column c on keeps the base's alignment only where c does:
  // scalars.)
  auto [vec, aligned] = op.getColumn()
                            ? std::pair<int64_t, Value>{1, Value()}
                            : vectorGroup(b, loc, tile, op.getDest());
  int64_t tileAlignment = vec * elementBytes(tile);
  copyTileCooperatively(
      op, tile, op.getRows(), tid, threads, vec, aligned,
      [](OpBuilder &, Value, Value, Value, int64_t) { return Value(); },
      [&](OpBuilder &lb, Value, Value r, Value d, Value valid, int64_t width) {
        auto guard = scf::IfOp::create(lb, loc, valid, /*withElse=*/false);
        OpBuilder tb = guard.getThenBodyBuilder();
        if (width == 1)
          storeTileElement(tb, loc, op, r, d);
        else
          storeTileVector(tb, loc, op, r, d, width, tileAlignment);
      });
  op.erase();
}

static LogicalResult mapProgramGrid(attn::ProgramGridOp grid,
                                    int64_t maxSharedMemory) {
  int64_t threads = grid.getBlockM();
  if (threads < 1 || threads > 1024)
    return grid.emitOpError()
           << "attn-map-to-gpu maps one thread per query row: BlockM = "
           << threads << " must be in [1, 1024]";

  // Tiles are named by their allocas alone (attn-bufferize-tiles folds the
  // loops' and conditionals' forwarded buffers): a tile carried as a value
  // would keep its stack type after the move to shared memory.
  WalkResult carried = grid.walk([&](Operation *op) {
    if (isa<scf::ForOp, scf::IfOp>(op) &&
        llvm::any_of(op->getResultTypes(), llvm::IsaPred<MemRefType>)) {
      op->emitOpError() << "attn-map-to-gpu: a tile buffer flows through the "
                           "loop or conditional; run attn-bufferize-tiles";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (carried.wasInterrupted())
    return failure();

  // The program's tiles: every static alloca of the grid body.
  SmallVector<memref::AllocaOp> tiles;
  WalkResult walk = grid.walk([&](memref::AllocaOp alloca) {
    MemRefType type = alloca.getType();
    if (!type.hasStaticShape() || !type.getElementType().isIntOrFloat()) {
      alloca.emitOpError() << "attn-map-to-gpu: only static tiles of scalars "
                              "can be placed in shared memory";
      return WalkResult::interrupt();
    }
    tiles.push_back(alloca);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  SmallVector<int64_t> offsets;
  int64_t bytes = 0;
  for (memref::AllocaOp tile : tiles) {
    MemRefType type = tile.getType();
    offsets.push_back(bytes);
    bytes += llvm::alignTo(type.getRank() == 2
                               ? type.getDimSize(0) * sharedRowPitch(type)
                               : type.getNumElements() * elementBytes(type),
                           16);
  }
  if (bytes > maxSharedMemory)
    return grid.emitOpError()
           << "attn-map-to-gpu: the program's tiles need " << bytes
           << " bytes of shared memory, more than the " << maxSharedMemory
           << " available; choose smaller block-m/block-n";

  OpBuilder b(grid);
  Location loc = grid.getLoc();
  auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); };
  SmallVector<Value, 3> ub = grid.getUpperBounds();
  Value one = idx(1);
  // Grid (q-block, q-head, sequence): the q-block count may exceed 65535.
  auto launch = gpu::LaunchOp::create(
      b, loc, ub[2], ub[1], ub[0], idx(threads), one, one,
      arith::ConstantIntOp::create(b, loc, b.getI32Type(), bytes));
  launch->setAttr(kLaunchTilesAttrName,
                  b.getDictionaryAttr(
                      {b.getNamedAttr("block_m", b.getI64IntegerAttr(threads))}));
  Block &body = launch.getBody().front();
  b.setInsertionPointToStart(&body);
  auto terminator = gpu::TerminatorOp::create(b, loc);
  b.setInsertionPoint(terminator);

  // Shared memory: one dynamic buffer, a view per tile.
  auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(),
                                              gpu::AddressSpace::Workgroup);
  Value buffer = gpu::DynamicSharedMemoryOp::create(
      b, loc,
      MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                      MemRefLayoutAttrInterface{}, workgroup));
  SmallVector<Value> views;
  for (auto [tile, offset] : llvm::zip(tiles, offsets)) {
    MemRefType type = tile.getType();
    SmallVector<int64_t> shape(type.getShape());
    int64_t pitch = type.getRank() == 2
                        ? sharedRowPitch(type) / elementBytes(type)
                        : 0;
    if (pitch)
      shape[1] = pitch; // the padded rows, then the tile's columns of them
    auto shared = MemRefType::get(shape, type.getElementType(),
                                  MemRefLayoutAttrInterface{}, workgroup);
    Value view = memref::ViewOp::create(b, loc, shared, buffer, idx(offset),
                                        ValueRange{});
    if (pitch && pitch != type.getDimSize(1))
      view = memref::SubViewOp::create(
          b, loc, view, ArrayRef<int64_t>{0, 0}, type.getShape(),
          ArrayRef<int64_t>{1, 1});
    views.push_back(view);
  }

  // The program body, with (seq, head, q-block) = (block z, y, x).
  Block *programBody = grid.getBodyBlock();
  gpu::KernelDim3 blockIds = launch.getBlockIds();
  grid.getInductionVars()[0].replaceAllUsesWith(blockIds.z);
  grid.getInductionVars()[1].replaceAllUsesWith(blockIds.y);
  grid.getInductionVars()[2].replaceAllUsesWith(blockIds.x);
  spliceBody(programBody, terminator);
  for (auto [tile, view] : llvm::zip(tiles, views)) {
    tile.getResult().replaceAllUsesWith(view);
    tile.erase();
  }
  grid.erase();

  // Alloca scopes hold no alloca any more: dissolve them.
  SmallVector<memref::AllocaScopeOp> scopes;
  launch.walk([&](memref::AllocaScopeOp scope) { scopes.push_back(scope); });
  for (memref::AllocaScopeOp scope : scopes) {
    spliceBody(&scope.getBodyRegion().front(), scope);
    scope.erase();
  }

  // Row loops: thread t owns row t.
  Value tid = launch.getThreadIds().x;
  SmallVector<scf::ForOp> rowLoops;
  launch.walk([&](scf::ForOp loop) {
    if (loop->hasAttr(kRowLoopAttrName))
      rowLoops.push_back(loop);
  });
  for (scf::ForOp loop : rowLoops) {
    OpBuilder lb(loop);
    Value lo = arith::CmpIOp::create(lb, loop.getLoc(),
                                     arith::CmpIPredicate::uge, tid,
                                     loop.getLowerBound());
    Value hi = arith::CmpIOp::create(lb, loop.getLoc(),
                                     arith::CmpIPredicate::ult, tid,
                                     loop.getUpperBound());
    Value mine = arith::AndIOp::create(lb, loop.getLoc(), lo, hi);
    auto guard = scf::IfOp::create(lb, loop.getLoc(), mine, false);
    loop.getInductionVar().replaceAllUsesWith(tid);
    spliceBody(loop.getBody(), guard.thenBlock()->getTerminator());
    loop.erase();
  }

  // exp2/log2/tanh from PTX approximations (ex2.approx, lg2.approx, as
  // FlashAttention uses): the math dialect's GPU lowering would call
  // libdevice (__nv_exp2f, ...), an unresolved extern call in the PTX when
  // libdevice is not found at compile time.
  auto approx = [](OpBuilder &mb, Location loc, StringRef ptx, Value x) {
    return NVVM::InlinePtxOp::create(mb, loc, TypeRange{mb.getF32Type()},
                                     ValueRange{x}, ValueRange{}, ptx, Value())
        ->getResult(0);
  };
  launch.walk([&](Operation *op) {
    // fma as LLVM's intrinsic (PTX fma.rn), not libdevice's __nv_fmaf.
    if (auto fma = dyn_cast<math::FmaOp>(op)) {
      OpBuilder mb(op);
      Value r = LLVM::FMAOp::create(mb, op->getLoc(), fma.getA(), fma.getB(),
                                    fma.getC());
      op->getResult(0).replaceAllUsesWith(r);
      op->erase();
      return;
    }
    if (!isa<math::Exp2Op, math::Log2Op, math::TanhOp>(op) ||
        !op->getResult(0).getType().isF32())
      return;
    OpBuilder mb(op);
    Location loc = op->getLoc();
    Value x = op->getOperand(0), r;
    if (isa<math::Exp2Op>(op)) {
      r = approx(mb, loc, "ex2.approx.ftz.f32 $0, $1;", x);
    } else if (isa<math::Log2Op>(op)) {
      r = approx(mb, loc, "lg2.approx.ftz.f32 $0, $1;", x);
    } else {
      // tanh x = 1 - 2 / (2^(2·log2(e)·x) + 1): absolute error ~1e-7 (the
      // hardware tanh.approx is ~5e-4, too coarse for softcapped logits);
      // saturates to ±1 for large |x| as exp2 goes to inf or 0.
      auto f32 = [&](double v) {
        return arith::ConstantOp::create(mb, loc, mb.getF32FloatAttr(v));
      };
      Value t = approx(mb, loc, "ex2.approx.ftz.f32 $0, $1;",
                       arith::MulFOp::create(mb, loc, x,
                                             f32(2 * 1.4426950408889634)));
      Value q = arith::DivFOp::create(mb, loc, f32(2),
                                      arith::AddFOp::create(mb, loc, t, f32(1)));
      r = arith::SubFOp::create(mb, loc, f32(1), q);
    }
    op->getResult(0).replaceAllUsesWith(r);
    op->erase();
  });

  SmallVector<attn::TileLoadOp> loads;
  launch.walk([&](attn::TileLoadOp op) { loads.push_back(op); });
  for (attn::TileLoadOp op : loads)
    lowerTileLoadCooperatively(op, tid, threads);
  SmallVector<attn::TileStoreOp> stores;
  launch.walk([&](attn::TileStoreOp op) { stores.push_back(op); });
  for (attn::TileStoreOp op : stores)
    lowerTileStoreCooperatively(op, tid, threads);

  return success();
}

namespace {
struct AttnMapToGpuPass final
    : flashmlir::impl::AttnMapToGpuPassBase<AttnMapToGpuPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<attn::ProgramGridOp> grids;
    getOperation().walk([&](attn::ProgramGridOp op) { grids.push_back(op); });
    for (attn::ProgramGridOp grid : grids) {
      // One thread per query row: the backward's preprocess and postprocess
      // are that shape (per q-block: D = rowsum(dO∘O) − dLSE and dQ_acc's
      // zeros, dQ = scale·dQ_acc); its KV-stationary main grid is not (the
      // warp-specialized level builds it).
      if (grid.getKindOrDefault() == attn::ProgramKind::GradKv) {
        grid.emitOpError() << "attn-map-to-gpu maps forward grids and the "
                              "backward's preprocess and postprocess (the "
                              "KV-stationary main grid is the warp-specialized "
                              "level's)";
        return signalPassFailure();
      }
      if (failed(mapProgramGrid(grid, maxSharedMemory)))
        return signalPassFailure();
    }
    // Every remaining tile op must have been inside a grid.
    WalkResult leftover = getOperation().walk([](Operation *op) {
      if (isa<attn::AttnDialect>(op->getDialect())) {
        op->emitOpError() << "attn-map-to-gpu: run attn-tile, "
                             "attn-online-softmax, attn-bufferize-tiles and "
                             "attn-tiles-to-loops{loads=0 stores=0 "
                             "programs=0} first";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (leftover.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
