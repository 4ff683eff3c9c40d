//===- AttnTile.cpp - --attn-tile: programs over (seq, head, q-block) ------===//
//
// Algorithm (see Passes.td for the full description):
//   1. pick BlockM x BlockN (options or TileHeuristics);
//   2. attn.program_grid over (sequence, q-head, q-block);
//   3. per program: sequence offsets/lengths, GQA kv-head, diagonal shift;
//   4. KV-block ranges from MaskBounds: skipped / boundary / interior (or,
//      with a block mask, the mask's lists of partial and full blocks);
//   5. tile_load Q once, block_init, stream K/V through loops of
//      block_update that carry the running state (acc, m, l) as values,
//      block_finalize into out and lse.
// attn.attention_grad: three grids, KV-stationary in the middle
// (AttnTileGrad.cpp).
//
//===----------------------------------------------------------------------===//

#include "AttnTileGrad.h"

#include "flashmlir/Transforms/MaskBounds.h"
#include "flashmlir/Transforms/Passes.h"
#include "flashmlir/Transforms/TileHeuristics.h"

#include "attn/Attn.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNTILEPASS
#include "flashmlir/Transforms/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

namespace {

/// Where one program's query rows and keys live, and what it computes.
struct ProgramCoords {
  Value seq, head, kvHead; // sequence (= batch unless varlen), q-head, kv-head
  Value batch;             // batch index into the operands (0 under varlen)
  Value qBegin, qLen;      // the sequence's first row in `query`, its length
  Value kBegin, kLen;      // likewise for `key`/`value`
  Value q0, rows;          // the tile's first query position, its row count
  Value diag;              // Sk - Sq under bottom-right alignment, else 0
  /// FP8: the descales of Q, K and V for (seq, kvHead), null otherwise.
  Value qScale, kScale, vScale;
};

/// The per-program tiles: O(BlockM·D + BlockN·D), never O(Sq·Sk). The
/// Q tile is loaded once; the running state (acc, m, l) is carried from loop
/// to loop as values.
struct ProgramTiles {
  Value query;
  /// The K and V tiles' initial (empty) values, made once per program: each
  /// KV block's loads overwrite them, so a bufferized program holds one K
  /// and one V buffer.
  Value keyInit, valueInit;
  Value acc, max, sum;
};

class AttentionTiler {
public:
  AttentionTiler(attn::AttentionOp op, TileSizes tiles, TileTarget target)
      : op(op), tiles(tiles), target(target), b(op), loc(op.getLoc()),
        ia(b, loc) {}

  void run();

private:
  Value dim(Value shaped, int64_t i) {
    return b.createOrFold<memref::DimOp>(loc, shaped, i);
  }
  Value loadOffset(Value cuSeqlens, Value index, Value total);
  void emitProgram(Value seq, Value head, Value qBlock);
  void emitProgramBody(ProgramCoords &c);
  /// A KV loop over blocks [lo, hi): kb = the induction variable, or
  /// `blockOf(iv)` (block-mask lists).
  void emitKvLoop(const ProgramCoords &c, ProgramTiles &t, Value lo,
                  Value hi, bool masked,
                  function_ref<Value(Value)> blockOf = nullptr);
  void emitBlockListLoops(const ProgramCoords &c, ProgramTiles &t);
  /// The type of a [rows, cols] tile loaded from `source`: f32 on the CPU
  /// and for scaled (FP8) loads, else the source's element type (the
  /// tensor cores read bf16/f16 tiles as they are).
  RankedTensorType loadedTileType(Value source, int64_t rows, int64_t cols,
                                  bool scaled);
  /// A fresh tile of `type` (bufferization.alloc_tensor).
  Value emptyTile(RankedTensorType type);
  /// attn.tile_load of `rows` rows of `source` into `init`.
  Value loadTile(Value source, Value init, Value batch, Value row, Value head,
                 Value rows, Value scale);
  /// `v`, or 0 where dim `d` of `list` is 1 (a broadcast block mask).
  Value broadcastIndex(Value v, Value list, int64_t d);

  attn::AttentionOp op;
  TileSizes tiles;
  TileTarget target;
  OpBuilder b;
  Location loc;
  IndexArith ia;
  Value groupSize, seqQTotal, seqKTotal;
};

} // namespace

/// cu_seqlens[index] clamped to [0, total]: a memory-safety backstop (the
/// host validates the offsets; a bad one must still not make the kernel
/// read or write outside the packed tensors).
Value AttentionTiler::loadOffset(Value cuSeqlens, Value index, Value total) {
  Value raw = memref::LoadOp::create(b, loc, cuSeqlens, index);
  Value offset = arith::IndexCastOp::create(b, loc, b.getIndexType(), raw);
  return ia.min(ia.max(offset, ia.constant(0)), total);
}

void AttentionTiler::run() {
  // Grid: (sequence, q-head, q-block).
  Value numSeq = op.isVarlen()
                     ? ia.sub(dim(op.getCuSeqlensQ(), 0), ia.constant(1))
                     : dim(op.getQuery(), 0);
  Value headsQ = dim(op.getQuery(), 2);
  // GQA: q-head h reads kv-head h / (Hq / Hkv) in place.
  groupSize = b.createOrFold<arith::DivUIOp>(loc, headsQ,
                                             dim(op.getKey(), 2));
  seqQTotal = dim(op.getQuery(), 1);
  seqKTotal = dim(op.getKey(), 1);
  // Under varlen, the packed total bounds every sequence's q-block count.
  Value numQBlocks = ia.ceilDiv(seqQTotal, ia.constant(tiles.blockM));

  auto grid = attn::ProgramGridOp::create(
      b, loc, ValueRange{numSeq, headsQ, numQBlocks}, tiles.blockM,
      op.hasBlockMask());
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(grid.getBodyBlock()->getTerminator());
    ValueRange ivs = grid.getInductionVars();
    emitProgram(ivs[0], ivs[1], ivs[2]);
  }
  op.erase();
}

RankedTensorType AttentionTiler::loadedTileType(Value source, int64_t rows,
                                                int64_t cols, bool scaled) {
  Type element = cast<MemRefType>(source.getType()).getElementType();
  if (target == TileTarget::Cpu || scaled)
    element = b.getF32Type();
  return RankedTensorType::get({rows, cols}, element);
}

Value AttentionTiler::emptyTile(RankedTensorType type) {
  // alloc_tensor, not tensor.empty: a tile of its own that CSE never merges
  // with another (K's and V's would then share one buffer).
  return bufferization::AllocTensorOp::create(b, loc, type, ValueRange{});
}

Value AttentionTiler::loadTile(Value source, Value init, Value batch,
                               Value row, Value head, Value rows,
                               Value scale) {
  return attn::TileLoadOp::create(b, loc, init.getType(), source, batch, row,
                                  head, rows, scale, init)
      .getResult();
}

void AttentionTiler::emitProgram(Value seq, Value head, Value qBlock) {
  ProgramCoords c;
  c.seq = seq;
  c.head = head;
  c.q0 = ia.mulConstant(qBlock, tiles.blockM);
  if (op.isVarlen()) {
    Value next = ia.add(seq, ia.constant(1));
    c.batch = ia.constant(0);
    // Sequences within the packed tensors whatever the offsets: begin and
    // end clamped to [0, total], the length to at least 0.
    c.qBegin = loadOffset(op.getCuSeqlensQ(), seq, seqQTotal);
    c.qLen = ia.max(ia.sub(loadOffset(op.getCuSeqlensQ(), next, seqQTotal),
                           c.qBegin),
                    ia.constant(0));
    c.kBegin = loadOffset(op.getCuSeqlensK(), seq, seqKTotal);
    c.kLen = ia.max(ia.sub(loadOffset(op.getCuSeqlensK(), next, seqKTotal),
                           c.kBegin),
                    ia.constant(0));
    // Programs past the end of a shorter sequence do nothing.
    Value inSequence = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                             c.q0, c.qLen);
    auto ifOp = scf::IfOp::create(b, loc, inSequence, /*withElse=*/false);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  } else {
    c.batch = seq;
    c.qBegin = c.kBegin = ia.constant(0);
    c.qLen = seqQTotal;
    c.kLen = seqKTotal;
  }
  emitProgramBody(c);
}

void AttentionTiler::emitProgramBody(ProgramCoords &c) {
  attn::MaskAttr mask = op.getMaskOrDefault();
  c.rows = ia.min(ia.constant(tiles.blockM), ia.sub(c.qLen, c.q0));
  c.kvHead = arith::DivUIOp::create(b, loc, c.head, groupSize);
  c.diag = mask.getAlignment() == attn::MaskAlignment::BottomRight
               ? ia.sub(c.kLen, c.qLen)
               : ia.constant(0);
  // FP8: S = scale·(dq·q)(dk·k)ᵀ and O = P·(dv·v) = dv·(P·v), with the
  // descales of this sequence and KV head, applied as the tiles load (the
  // tiled level's scores and accumulator stay the definition's).
  if (op.isFp8()) {
    auto descale = [&](Value d) {
      return memref::LoadOp::create(b, loc, d, ValueRange{c.seq, c.kvHead})
          .getResult();
    };
    c.qScale = descale(op.getQDescale());
    c.kScale = descale(op.getKDescale());
    c.vScale = descale(op.getVDescale());
  }

  int64_t headDim = op.getHeadDim(), headDimV = op.getValueHeadDim();
  ProgramTiles t;
  // Q stays resident for the whole program; K/V stream through the loops.
  t.query = loadTile(op.getQuery(),
                     emptyTile(loadedTileType(op.getQuery(), tiles.blockM,
                                              headDim, c.qScale != nullptr)),
                     c.batch, ia.add(c.qBegin, c.q0), c.head, c.rows, c.qScale);
  t.keyInit = emptyTile(
      loadedTileType(op.getKey(), tiles.blockN, headDim, c.kScale != nullptr));
  t.valueInit = emptyTile(loadedTileType(op.getValue(), tiles.blockN, headDimV,
                                         c.vScale != nullptr));
  Type f32 = b.getF32Type();
  auto init = attn::BlockInitOp::create(
      b, loc, RankedTensorType::get({tiles.blockM, headDimV}, f32),
      RankedTensorType::get({tiles.blockM}, f32),
      RankedTensorType::get({tiles.blockM}, f32));
  t.acc = init.getAcc();
  t.max = init.getMax();
  t.sum = init.getSum();

  Value blockN = ia.constant(tiles.blockN);
  if (op.hasBlockMask()) {
    emitBlockListLoops(c, t);
  } else if (mask.isFullyVisible() && !op.hasMaskMod()) {
    // No structural mask: every block is interior, the ragged last block
    // included (its column count bounds the loops; nothing is hidden).
    emitKvLoop(c, t, ia.constant(0), ia.ceilDiv(c.kLen, blockN),
               /*masked=*/false);
  } else {
    KvBlockRange<Value> range = computeKvBlockRange<Value>(
        ia, mask.getWindowLeft(), mask.getWindowRight(), c.q0, c.rows, c.kLen,
        c.diag, tiles.blockN);
    if (op.hasMaskMod()) {
      // mask_mod may hide any key: every visited block is a boundary block.
      emitKvLoop(c, t, range.lo, range.hi, /*masked=*/true);
    } else {
      // Without a left window bound the first boundary range is empty
      // (lo = interiorLo = 0) but its bounds do not fold: not emitting it
      // saves a copy of the block body (12% of a causal kernel's compile).
      bool leftBounded = mask.getWindowLeft() >= 0;
      if (leftBounded)
        emitKvLoop(c, t, range.lo, range.interiorLo, /*masked=*/true);
      emitKvLoop(c, t, leftBounded ? range.interiorLo : range.lo,
                 range.interiorHi, /*masked=*/false);
      emitKvLoop(c, t, range.interiorHi, range.hi, /*masked=*/true);
    }
  }

  attn::BlockFinalizeOp::create(b, loc, t.acc, t.max, t.sum, c.rows,
                                op.getOut(), c.batch, ia.add(c.qBegin, c.q0),
                                c.head, op.getLse());
}

Value AttentionTiler::broadcastIndex(Value v, Value list, int64_t d) {
  Value isOne = b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                              dim(list, d), ia.constant(1));
  return b.createOrFold<arith::SelectOp>(loc, isOne, ia.constant(0), v);
}

/// Kernel block i of a list (r = BN_mask / BlockN kernel blocks per mask
/// block) is  kb = list[i / r] · r + i mod r.  With full blocks too, the
/// masked loop takes i in [0, n·r) and the unmasked one i in [n·r, (n+f)·r);
/// both bodies read  list = (i / r < n) ? partial : full  at that position
/// minus n, so the two loops differ only in their bounds and `masked`, like
/// attn-tile's range loops (the Hopper overlap prologue relies on it).
/// Counts clamp to [0, KB], block numbers to the key blocks that exist.
void AttentionTiler::emitBlockListLoops(const ProgramCoords &c,
                                        ProgramTiles &t) {
  int64_t r = op.getBlockMaskCols() / tiles.blockN;
  Value counts = op.getKvNumBlocks(), indices = op.getKvIndices();
  Value fullCounts = op.getFullKvNumBlocks();
  Value fullIndices = op.getFullKvIndices();
  Value zero = ia.constant(0);
  Value listLen = dim(indices, 3);
  Value maskRow = b.createOrFold<arith::DivUIOp>(
      loc, c.q0, ia.constant(op.getBlockMaskRows()));
  Value lastMaskBlock = ia.sub(
      ia.ceilDiv(c.kLen, ia.constant(op.getBlockMaskCols())), ia.constant(1));
  SmallVector<Value> at{broadcastIndex(c.batch, counts, 0),
                        broadcastIndex(c.head, counts, 1), maskRow};
  auto loadIndex = [&](Value list, ValueRange position) -> Value {
    Value raw = memref::LoadOp::create(b, loc, list, position);
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), raw);
  };
  auto count = [&](Value list) {
    return ia.min(ia.max(loadIndex(list, at), zero), listLen);
  };
  Value partial = count(counts);
  Value lastInList = ia.sub(listLen, ia.constant(1));
  auto blockOf = [&](Value i) -> Value {
    Value j = i, sub = zero;
    if (r > 1) {
      j = arith::DivUIOp::create(b, loc, i, ia.constant(r));
      sub = arith::RemUIOp::create(b, loc, i, ia.constant(r));
    }
    auto entry = [&](Value list, Value position) {
      SmallVector<Value> p(at);
      p.push_back(arith::MinUIOp::create(b, loc, position, lastInList));
      return loadIndex(list, p);
    };
    Value block = entry(indices, j);
    if (fullIndices) {
      // j - n wraps below 0 (unsigned): min clamps it; not selected then.
      Value isPartial = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                              j, partial);
      block = arith::SelectOp::create(
          b, loc, isPartial, block,
          entry(fullIndices, arith::SubIOp::create(b, loc, j, partial)));
    }
    block = ia.min(ia.max(block, zero), lastMaskBlock);
    return r > 1 ? ia.add(ia.mulConstant(block, r), sub) : block;
  };
  // Both loops' bounds before either loop (the overlap prologue reads them
  // all where the first loop starts).
  Value partialEnd = ia.mulConstant(partial, r);
  Value fullEnd =
      fullIndices ? ia.mulConstant(ia.add(partial, count(fullCounts)), r)
                  : Value();
  emitKvLoop(c, t, zero, partialEnd, /*masked=*/true, blockOf);
  if (fullIndices)
    emitKvLoop(c, t, partialEnd, fullEnd, /*masked=*/false, blockOf);
}

void AttentionTiler::emitKvLoop(const ProgramCoords &c, ProgramTiles &t,
                                Value lo, Value hi, bool masked,
                                function_ref<Value(Value)> blockOf) {
  auto loop = scf::ForOp::create(b, loc, lo, hi, ia.constant(1),
                                 ValueRange{t.acc, t.max, t.sum});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value kb = blockOf ? blockOf(loop.getInductionVar()) : loop.getInductionVar();

  Value k0 = ia.mulConstant(kb, tiles.blockN);
  Value cols = ia.min(ia.constant(tiles.blockN), ia.sub(c.kLen, k0));
  // A listed mask block wider than BlockN may end before its last kernel
  // block: that one holds no key (cols = 0, every score hidden).
  if (blockOf)
    cols = ia.max(cols, ia.constant(0));
  Value kRow = ia.add(c.kBegin, k0);
  Value key = loadTile(op.getKey(), t.keyInit, c.batch, kRow, c.kvHead, cols,
                       c.kScale);
  Value value = loadTile(op.getValue(), t.valueInit, c.batch, kRow, c.kvHead,
                         cols, c.vScale);

  double softcap = op.getEffectiveSoftcap();
  ValueRange state = loop.getRegionIterArgs();
  auto update = attn::BlockUpdateOp::create(
      b, loc, state.getTypes(), t.query, key, value, state[0], state[1],
      state[2], c.rows, cols, c.seq, c.head, c.q0, k0, c.diag,
      masked ? b.getUnitAttr() : UnitAttr(), op.getMaskOrDefault(),
      b.getF32FloatAttr(op.getEffectiveScale()),
      softcap > 0 ? b.getF32FloatAttr(softcap) : FloatAttr());
  // The modifiers travel with the block: score_mod always, mask_mod only
  // where masking happens.
  IRMapping mapping;
  op.getScoreMod().cloneInto(&update.getScoreMod(), mapping);
  if (masked)
    op.getMaskMod().cloneInto(&update.getMaskMod(), mapping);
  scf::YieldOp::create(b, loc, update.getResults());
  t.acc = loop.getResult(0);
  t.max = loop.getResult(1);
  t.sum = loop.getResult(2);
}

namespace {
struct AttnTilePass final : flashmlir::impl::AttnTilePassBase<AttnTilePass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<TileTarget> tileTarget = parseTileTarget(target);
    if (!tileTarget) {
      getOperation().emitError() << "attn-tile: unknown target '" << target
                                 << "'; expected sm_90a or cpu";
      return signalPassFailure();
    }
    if (blockM < 0 || blockN < 0) {
      getOperation().emitError()
          << "attn-tile: block-m and block-n must be positive (or 0 for the "
             "heuristic), got block-m="
          << static_cast<int64_t>(blockM)
          << " block-n=" << static_cast<int64_t>(blockN);
      return signalPassFailure();
    }

    SmallVector<attn::AttentionOp> ops;
    getOperation().walk([&](attn::AttentionOp op) { ops.push_back(op); });
    for (attn::AttentionOp op : ops) {
      if (!op.hasPureBufferSemantics()) {
        op.emitOpError() << "attn-tile expects operands on memrefs; bufferize "
                            "tensors first";
        return signalPassFailure();
      }
      TileSizes tiles = chooseTileSizes(op, *tileTarget);
      if (blockM > 0)
        tiles.blockM = blockM;
      if (blockN > 0)
        tiles.blockN = blockN;
      if (op.hasBlockMask() &&
          (op.getBlockMaskRows() % tiles.blockM ||
           op.getBlockMaskCols() % tiles.blockN)) {
        InFlightDiagnostic diag =
            op.emitOpError() << "attn-tile: tiles of " << tiles.blockM << " x "
                             << tiles.blockN
                             << " must divide the block mask's block_size ["
                             << op.getBlockMaskRows() << ", "
                             << op.getBlockMaskCols() << "]";
        if (*tileTarget == TileTarget::Hopper)
          diag << " (the Hopper kernel takes rows in 64s and keys in 16s: "
                  "a block size such as 128 x 128)";
        return signalPassFailure();
      }
      AttentionTiler(op, tiles, *tileTarget).run();
    }
    // The backward: three grids per attn.attention_grad (AttnTileGrad.cpp).
    if (failed(tileAttentionGrads(getOperation(), blockM, blockN,
                                  *tileTarget)))
      return signalPassFailure();
  }
};
} // namespace
