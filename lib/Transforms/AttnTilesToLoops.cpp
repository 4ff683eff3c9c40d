//===- AttnTilesToLoops.cpp - --attn-tiles-to-loops ------------------------===//
//
// The bufferized L2 tile ops as loop nests (the CPU and SIMT paths). Every
// nest's outer loop runs over the rows of the op's destination and is marked
// attn.row_loop: rows are independent in every tile op, so the SIMT mapping
// gives each row to a thread. The formulas, per op:
//   tile_load    dest[r, d] = r < rows ? T(source[batch, row + r, head, d]) : 0
//                (rank 1: dest[r] = r < rows ? T(source[batch, head, row + r]) : 0)
//   tile_fill    dest[i, j] = v
//   tile_matmul  dest[i, j] += Σ_k f32(op(lhs)[i, k]) · f32(op(rhs)[k, j])
//   tile_reduce  dest[i] = combine(dest[i], tile[i, 0..C))
//   tile_map     dest[i, j] = body(x[i, j] or x[i], ...)
//   tile_mask    dest[i, j] = visible(i, j) ? tile[i, j] : -inf  (mask_mod's
//                positions clamped into the block's rows and cols)
//   tile_score_mod dest[i, j] = body(tile[i, j], seq, head, q_pos + i,
//                                    kv_pos + j)  (i < rows, j < cols)
//   tile_store   dest[batch, row + i, head, column + d] (+)= T(tile[i, d])
//                (i < rows; column 0 unless given)
//
//===----------------------------------------------------------------------===//

#include "TileElements.h"

#include "flashmlir/Transforms/Passes.h"

#include "attn/Attn.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

namespace flashmlir {
#define GEN_PASS_DEF_ATTNTILESTOLOOPSPASS
#include "flashmlir/Transforms/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

namespace {
/// Loop nests over tiles at one position.
struct LoopBuilder {
  OpBuilder b;
  Location loc;

  explicit LoopBuilder(Operation *op) : b(op), loc(op->getLoc()) {}

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value load(Value memref, ValueRange indices) {
    return memref::LoadOp::create(b, loc, memref, indices);
  }
  void store(Value value, Value memref, ValueRange indices) {
    memref::StoreOp::create(b, loc, value, memref, indices);
  }
  /// f32(x): widens f16/bf16 elements (f32 stays).
  Value toF32(Value x) {
    if (x.getType().isF32())
      return x;
    return arith::ExtFOp::create(b, loc, b.getF32Type(), x);
  }

  /// for (iv = lb; iv < ub; ++iv) body(iv, carried) -> carried
  ValueRange loop(Value lb, Value ub, ValueRange inits,
                  function_ref<SmallVector<Value>(Value, ValueRange)> body,
                  bool rowLoop = false) {
    auto forOp = scf::ForOp::create(
        b, loc, lb, ub, idx(1), inits,
        [&](OpBuilder &nested, Location, Value iv, ValueRange args) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          scf::YieldOp::create(b, loc, body(iv, args));
        });
    if (rowLoop)
      forOp->setAttr(kRowLoopAttrName, b.getUnitAttr());
    return forOp.getResults();
  }
  void loop(Value lb, Value ub, function_ref<void(Value)> body,
            bool rowLoop = false) {
    loop(
        lb, ub, {},
        [&](Value iv, ValueRange) {
          body(iv);
          return SmallVector<Value>{};
        },
        rowLoop);
  }
  /// The rows of `tile` (a row loop), then (rank 2) its columns.
  void forEach(Value tile, function_ref<void(Value, Value)> body) {
    auto type = cast<MemRefType>(tile.getType());
    loop(
        idx(0), idx(type.getDimSize(0)),
        [&](Value i) {
          if (type.getRank() == 1)
            return body(i, Value());
          loop(idx(0), idx(type.getDimSize(1)), [&](Value j) { body(i, j); });
        },
        /*rowLoop=*/true);
  }
  /// Clones `region`'s body with `args` for its block arguments; returns the
  /// yielded value.
  Value inlineBody(Region &region, ValueRange args) {
    Block &block = region.front();
    IRMapping mapping;
    mapping.map(block.getArguments(), args);
    for (Operation &op : block.without_terminator())
      b.clone(op, mapping);
    auto yield = cast<attn::YieldOp>(block.getTerminator());
    return mapping.lookupOrDefault(yield.getValues().front());
  }
};
} // namespace

static SmallVector<Value> at(Value tile, Value i, Value j) {
  if (cast<MemRefType>(tile.getType()).getRank() == 1)
    return {i};
  return {i, j};
}

static void lowerTileLoad(attn::TileLoadOp op) {
  LoopBuilder l(op);
  auto dest = cast<MemRefType>(op.getDest().getType());
  Value tileRows = l.idx(dest.getDimSize(0));
  Value rows = arith::MinSIOp::create(l.b, l.loc, op.getRows(), tileRows);
  Value zero = arith::ConstantOp::create(
      l.b, l.loc, l.b.getZeroAttr(dest.getElementType()));
  l.loop(
      l.idx(0), tileRows,
      [&](Value r) {
        // Valid rows are converted; rows past the count are zero, so the
        // tile holds defined values.
        Value valid = arith::CmpIOp::create(l.b, l.loc,
                                            arith::CmpIPredicate::slt, r, rows);
        Value srcRow = arith::AddIOp::create(l.b, l.loc, op.getRow(), r);
        auto element = [&](Value d) {
          auto ifOp = scf::IfOp::create(
              l.b, l.loc, valid,
              [&](OpBuilder &tb, Location loc) {
                scf::YieldOp::create(tb, loc,
                                     loadTileElement(tb, loc, op, srcRow, d));
              },
              [&](OpBuilder &eb, Location loc) {
                scf::YieldOp::create(eb, loc, zero);
              });
          l.store(ifOp.getResult(0), op.getDest(), at(op.getDest(), r, d));
        };
        // A rank-1 tile: one value per row (from [B, H, S]).
        if (dest.getRank() == 1)
          return element(Value());
        l.loop(l.idx(0), l.idx(dest.getDimSize(1)), element);
      },
      /*rowLoop=*/true);
}

static void lowerTileFill(attn::TileFillOp op) {
  LoopBuilder l(op);
  l.forEach(op.getDest(), [&](Value i, Value j) {
    l.store(op.getValue(), op.getDest(), at(op.getDest(), i, j));
  });
}

static void lowerTileMatmul(attn::TileMatmulOp op) {
  LoopBuilder l(op);
  Value lhs = op.getLhs(), rhs = op.getRhs(), dest = op.getDest();
  auto lhsType = cast<MemRefType>(lhs.getType());
  int64_t depth = lhsType.getDimSize(op.getTransposeLhs() ? 0 : 1);
  l.forEach(dest, [&](Value i, Value j) {
    Value init = l.load(dest, {i, j});
    Value sum = l.loop(l.idx(0), l.idx(depth), init,
                       [&](Value k, ValueRange acc) {
                         Value a = l.load(lhs, op.getTransposeLhs()
                                                   ? ValueRange{k, i}
                                                   : ValueRange{i, k});
                         Value b = l.load(rhs, op.getTransposeRhs()
                                                   ? ValueRange{j, k}
                                                   : ValueRange{k, j});
                         Value af = l.toF32(a);
                         Value bf = l.toF32(b);
                         Value prod =
                             arith::MulFOp::create(l.b, l.loc, af, bf);
                         return SmallVector<Value>{
                             arith::AddFOp::create(l.b, l.loc, acc[0], prod)};
                       })[0];
    l.store(sum, dest, {i, j});
  });
}

static void lowerTileReduce(attn::TileReduceOp op) {
  LoopBuilder l(op);
  auto tile = cast<MemRefType>(op.getTile().getType());
  bool max = op.getKind() == attn::ReductionKind::Max;
  l.loop(
      l.idx(0), l.idx(tile.getDimSize(0)),
      [&](Value i) {
        Value init = l.load(op.getDest(), {i});
        Value r = l.loop(l.idx(0), l.idx(tile.getDimSize(1)), init,
                         [&](Value j, ValueRange acc) {
                           Value x = l.load(op.getTile(), {i, j});
                           Value next =
                               max ? arith::MaximumFOp::create(l.b, l.loc,
                                                               acc[0], x)
                                         .getResult()
                                   : arith::AddFOp::create(l.b, l.loc, acc[0],
                                                           x)
                                         .getResult();
                           return SmallVector<Value>{next};
                         })[0];
        l.store(r, op.getDest(), {i});
      },
      /*rowLoop=*/true);
}

static void lowerTileMap(attn::TileMapOp op) {
  LoopBuilder l(op);
  l.forEach(op.getDest(), [&](Value i, Value j) {
    SmallVector<Value> args;
    for (Value input : op.getInputs())
      args.push_back(l.load(input, at(input, i, j)));
    l.store(l.inlineBody(op.getBody(), args), op.getDest(),
            at(op.getDest(), i, j));
  });
}

/// visible(i, j) = j < cols and (L < 0 or kj >= qi + diag - L) and
/// (R < 0 or kj <= qi + diag + R) and mask_mod(seq, head, qi, kj)
static void lowerTileMask(attn::TileMaskOp op) {
  LoopBuilder l(op);
  OpBuilder &b = l.b;
  attn::MaskAttr mask = op.getMask();
  Value negInf = arith::ConstantOp::create(
      b, l.loc, b.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
  l.forEach(op.getDest(), [&](Value i, Value j) {
    Value qi = arith::AddIOp::create(b, l.loc, op.getQPos(), i);
    Value kj = arith::AddIOp::create(b, l.loc, op.getKvPos(), j);
    Value keep = arith::CmpIOp::create(b, l.loc, arith::CmpIPredicate::slt, j,
                                       op.getCols());
    auto both = [&](Value cond) {
      keep = arith::AndIOp::create(b, l.loc, keep, cond);
    };
    if (op.getHideRows())
      both(arith::CmpIOp::create(b, l.loc, arith::CmpIPredicate::slt, i,
                                 op.getRows()));
    Value center = arith::AddIOp::create(b, l.loc, qi, op.getDiag());
    if (mask.getWindowLeft() >= 0) {
      Value lo = arith::SubIOp::create(b, l.loc, center,
                                       l.idx(mask.getWindowLeft()));
      both(arith::CmpIOp::create(b, l.loc, arith::CmpIPredicate::sge, kj, lo));
    }
    if (mask.getWindowRight() >= 0) {
      Value hi = arith::AddIOp::create(b, l.loc, center,
                                       l.idx(mask.getWindowRight()));
      both(arith::CmpIOp::create(b, l.loc, arith::CmpIPredicate::sle, kj, hi));
    }
    if (!op.getMaskMod().empty()) {
      // mask_mod's positions clamped into the block: it never reads past
      // the tensors it indexes (the rows past `rows` are not the block's,
      // the columns past `cols` are hidden anyway).
      auto clampTo = [&](Value pos, Value base, Value count) -> Value {
        Value lastOffset = arith::MaxSIOp::create(
            b, l.loc, arith::SubIOp::create(b, l.loc, count, l.idx(1)),
            l.idx(0));
        return arith::MinSIOp::create(
            b, l.loc, pos, arith::AddIOp::create(b, l.loc, base, lastOffset));
      };
      both(l.inlineBody(op.getMaskMod(),
                        {op.getSeq(), op.getHead(),
                         clampTo(qi, op.getQPos(), op.getRows()),
                         clampTo(kj, op.getKvPos(), op.getCols())}));
    }
    Value s = l.load(op.getTile(), {i, j});
    l.store(arith::SelectOp::create(b, l.loc, keep, s, negInf), op.getDest(),
            {i, j});
  });
}

static void lowerTileScoreMod(attn::TileScoreModOp op) {
  LoopBuilder l(op);
  l.loop(
      l.idx(0), op.getRows(),
      [&](Value i) {
        Value qi = arith::AddIOp::create(l.b, l.loc, op.getQPos(), i);
        l.loop(l.idx(0), op.getCols(), [&](Value j) {
          Value kj = arith::AddIOp::create(l.b, l.loc, op.getKvPos(), j);
          Value s = l.load(op.getTile(), {i, j});
          l.store(l.inlineBody(op.getScoreMod(),
                               {s, op.getSeq(), op.getHead(), qi, kj}),
                  op.getDest(), {i, j});
        });
      },
      /*rowLoop=*/true);
}

static void lowerTileStore(attn::TileStoreOp op) {
  LoopBuilder l(op);
  auto tile = cast<MemRefType>(op.getTile().getType());
  Value rows = arith::MinSIOp::create(l.b, l.loc, op.getRows(),
                                      l.idx(tile.getDimSize(0)));
  l.loop(
      l.idx(0), rows,
      [&](Value i) {
        if (tile.getRank() == 1)
          return storeTileElement(l.b, l.loc, op, i, Value());
        l.loop(l.idx(0), l.idx(tile.getDimSize(1)), [&](Value d) {
          storeTileElement(l.b, l.loc, op, i, d);
        });
      },
      /*rowLoop=*/true);
}

/// The grid as an scf.parallel whose body is a memref.alloca_scope: a
/// program's tile allocas are freed when it ends.
static void lowerProgramGrid(attn::ProgramGridOp grid) {
  OpBuilder b(grid);
  Location loc = grid.getLoc();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto parallel = scf::ParallelOp::create(
      b, loc, ValueRange{zero, zero, zero}, grid.getUpperBounds(),
      ValueRange{one, one, one},
      [&](OpBuilder &nested, Location, ValueRange ivs) {
        auto scope =
            memref::AllocaScopeOp::create(nested, loc, TypeRange{});
        Block *body = new Block();
        scope.getBodyRegion().push_back(body);
        OpBuilder inner = OpBuilder::atBlockEnd(body);
        auto ret = memref::AllocaScopeReturnOp::create(inner, loc, ValueRange{});
        Block *program = grid.getBodyBlock();
        for (auto [iv, arg] : llvm::zip(ivs, program->getArguments()))
          arg.replaceAllUsesWith(iv);
        body->getOperations().splice(ret->getIterator(),
                                     program->getOperations(), program->begin(),
                                     std::prev(program->end()));
        scf::ReduceOp::create(nested, loc);
      });
  (void)parallel;
  grid.erase();
}

namespace {
struct AttnTilesToLoopsPass final
    : flashmlir::impl::AttnTilesToLoopsPassBase<AttnTilesToLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<Operation *> ops, grids;
    WalkResult walk = getOperation().walk([&](Operation *op) {
      if (programs && isa<attn::ProgramGridOp>(op)) {
        grids.push_back(op);
        return WalkResult::advance();
      }
      if (!isa<attn::TileLoadOp, attn::TileFillOp, attn::TileMatmulOp,
               attn::TileReduceOp, attn::TileMapOp, attn::TileMaskOp,
               attn::TileScoreModOp, attn::TileStoreOp>(op))
        return WalkResult::advance();
      if (llvm::any_of(op->getOperandTypes(), llvm::IsaPred<TensorType>)) {
        op->emitOpError() << "attn-tiles-to-loops expects bufferized tiles "
                             "(run attn-bufferize-tiles first)";
        return WalkResult::interrupt();
      }
      if (auto load = dyn_cast<attn::TileLoadOp>(op)) {
        Type element =
            cast<MemRefType>(load.getSource().getType()).getElementType();
        if (!isTileLoadable(element)) {
          op->emitOpError()
              << "attn-tiles-to-loops cannot convert " << element << " to f32";
          return WalkResult::interrupt();
        }
        if (!loads)
          return WalkResult::advance();
      }
      if (!stores && isa<attn::TileStoreOp>(op))
        return WalkResult::advance();
      ops.push_back(op);
      return WalkResult::skip();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    // Grids last: their bodies move, the tile ops inside them first.
    ops.append(grids.rbegin(), grids.rend());
    for (Operation *op : ops) {
      if (auto grid = dyn_cast<attn::ProgramGridOp>(op)) {
        lowerProgramGrid(grid);
        continue;
      }
      llvm::TypeSwitch<Operation *>(op)
          .Case(lowerTileLoad)
          .Case(lowerTileFill)
          .Case(lowerTileMatmul)
          .Case(lowerTileReduce)
          .Case(lowerTileMap)
          .Case(lowerTileMask)
          .Case(lowerTileScoreMod)
          .Case(lowerTileStore);
      op->erase();
    }
  }
};
} // namespace
