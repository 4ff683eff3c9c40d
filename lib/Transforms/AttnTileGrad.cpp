//===- AttnTileGrad.cpp - --attn-tile for attn.attention_grad -------------===//
//
// The backward of FlashAttention (as FlashAttention-3's) as three program
// grids, run in order:
//   1. preprocess, (sequence, q-head, q-block): load O and dO (and dLSE),
//      D = attn.block_grad_delta, stored into the `delta` workspace; the
//      block's rows of the dQ accumulator zeroed;
//   2. main, (sequence, kv-head, kv-block), KV-stationary: load K and V once,
//      dK = dV = 0 (attn.block_grad_init), then for every query head of the
//      KV head's group (GQA: dK and dV are summed inside the program, so no
//      two programs write the same dK/dV rows and no atomics are needed) the
//      q-blocks that see the program's keys — ranges from computeQBlockRange
//      (MaskBounds.h): boundary blocks `masked`, interior ones not; with a
//      block mask, the q-blocks whose lists name the program's key block
//      (partial: masked, full: not) — each an attn.block_grad_update whose
//      dQ part is added to the accumulator (tile_store ... accumulate: the
//      programs of one q-block's keys all add to its rows); finally
//      attn.block_grad_finalize stores scale·dK and dV;
//   3. postprocess, (sequence, q-head, q-block): dQ = scale·dQ_acc, rounded
//      to dQ's type (a scaled tile load, a tile store).
// Tiles are values, as in the forward (AttnTile.cpp): f32 on the CPU, the
// operands' own type on sm_90a; LSE, D and the accumulators f32.
//
//===----------------------------------------------------------------------===//

#include "AttnTileGrad.h"

#include "flashmlir/Transforms/MaskBounds.h"

#include "attn/Attn.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace flashmlir;

namespace {

/// Where one sequence's queries and keys live.
struct SequenceCoords {
  Value seq;          // the sequence (= batch unless varlen)
  Value batch;        // batch index into the operands (0 under varlen)
  Value qBegin, qLen; // the sequence's first row in `query`, its length
  Value kBegin, kLen; // likewise for `key`/`value`
  Value diag;         // kLen - qLen under bottom-right alignment, else 0
                      // (main programs only)
};

/// The tiles a main program loads per q-block: made once, overwritten by
/// each q-block's loads (one buffer each once bufferized).
struct QBlockTiles {
  Value query, dout, lse, delta;
};

class AttentionGradTiler {
public:
  AttentionGradTiler(attn::AttentionGradOp op, TileSizes tiles,
                     TileTarget target)
      : op(op), tiles(tiles), target(target), b(op), loc(op.getLoc()),
        ia(b, loc) {}

  void run();

private:
  Value dim(Value shaped, int64_t i) {
    return b.createOrFold<memref::DimOp>(loc, shaped, i);
  }
  Value loadOffset(Value cuSeqlens, Value index);
  /// The coordinates of sequence `seq` (its keys' too with `keys`).
  SequenceCoords sequence(Value seq, bool keys);
  /// Under varlen, an scf.if on `first < length` (a program past its
  /// sequence's end does nothing); the builder moves into it.
  void guardInSequence(Value first, Value length);
  /// A grid of `kind` over (sequences, heads, blocks) of `blockRows`; the
  /// builder moves into its body. Returns its coordinates.
  ValueRange grid(attn::ProgramKind kind, Value heads, Value blocks,
                  int64_t blockRows);

  /// A (sequence, q-head, q-block) program of the pre- or postprocess:
  /// its sequence, head, first row in the packed tensors and row count.
  struct QBlockProgram {
    SequenceCoords c;
    Value head, row, rows;
  };
  QBlockProgram qBlockProgram(attn::ProgramKind kind);
  void emitPreprocess();
  void emitMain();
  void emitPostprocess();
  /// The q-block loops of query head `head` against the program's keys
  /// [k0, k0 + cols); `state` (dK, dV) in and out.
  void emitQBlockLoops(const SequenceCoords &c, Value head, Value k0,
                       Value cols, Value key, Value value,
                       const QBlockTiles &t, SmallVector<Value> &state);
  /// The q-blocks a block mask lists for the program's key block.
  void emitBlockListLoops(const SequenceCoords &c, Value head, Value k0,
                          Value cols, Value key, Value value,
                          const QBlockTiles &t, SmallVector<Value> &state);
  /// One loop over q-blocks [lo, hi) of block_grad_updates.
  void emitQBlockLoop(const SequenceCoords &c, Value head, Value k0,
                      Value cols, Value key, Value value,
                      const QBlockTiles &t, Value lo, Value hi, bool masked,
                      SmallVector<Value> &state);

  RankedTensorType loadedTileType(Value source, ArrayRef<int64_t> shape);
  Value emptyTile(RankedTensorType type) {
    // alloc_tensor, not tensor.empty: a tile of its own that CSE never
    // merges with another.
    return bufferization::AllocTensorOp::create(b, loc, type, ValueRange{});
  }
  Value loadTile(Value source, Value init, Value batch, Value row, Value head,
                 Value rows, Value scale = Value()) {
    return attn::TileLoadOp::create(b, loc, init.getType(), source, batch, row,
                                    head, rows, scale, init)
        .getResult();
  }
  /// `v`, or 0 where dim `d` of `list` is 1 (a broadcast block mask).
  Value broadcastIndex(Value v, Value list, int64_t d);

  attn::AttentionGradOp op;
  TileSizes tiles;
  TileTarget target;
  OpBuilder b;
  Location loc;
  IndexArith ia;
  Value numSeq, headsQ, headsKV, groupSize, seqQTotal, seqKTotal;
};

} // namespace

Value AttentionGradTiler::loadOffset(Value cuSeqlens, Value index) {
  Value raw = memref::LoadOp::create(b, loc, cuSeqlens, index);
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), raw);
}

SequenceCoords AttentionGradTiler::sequence(Value seq, bool keys) {
  SequenceCoords c;
  c.seq = seq;
  if (op.isVarlen()) {
    Value next = ia.add(seq, ia.constant(1));
    c.batch = ia.constant(0);
    c.qBegin = loadOffset(op.getCuSeqlensQ(), seq);
    c.qLen = ia.sub(loadOffset(op.getCuSeqlensQ(), next), c.qBegin);
    if (keys) {
      c.kBegin = loadOffset(op.getCuSeqlensK(), seq);
      c.kLen = ia.sub(loadOffset(op.getCuSeqlensK(), next), c.kBegin);
    }
  } else {
    c.batch = seq;
    c.qBegin = c.kBegin = ia.constant(0);
    c.qLen = seqQTotal;
    c.kLen = seqKTotal;
  }
  return c;
}

void AttentionGradTiler::guardInSequence(Value first, Value length) {
  if (!op.isVarlen())
    return;
  Value inSequence = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                           first, length);
  auto ifOp = scf::IfOp::create(b, loc, inSequence, /*withElse=*/false);
  b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
}

ValueRange AttentionGradTiler::grid(attn::ProgramKind kind, Value heads,
                                    Value blocks, int64_t blockRows) {
  auto grid = attn::ProgramGridOp::create(
      b, loc, ValueRange{numSeq, heads, blocks}, blockRows,
      /*blockSparse=*/op.hasBlockMask() && kind == attn::ProgramKind::GradKv);
  grid.setKindAttr(attn::ProgramKindAttr::get(b.getContext(), kind));
  b.setInsertionPoint(grid.getBodyBlock()->getTerminator());
  return grid.getInductionVars();
}

RankedTensorType AttentionGradTiler::loadedTileType(Value source,
                                                    ArrayRef<int64_t> shape) {
  Type element = cast<MemRefType>(source.getType()).getElementType();
  if (target == TileTarget::Cpu)
    element = b.getF32Type();
  return RankedTensorType::get(shape, element);
}

Value AttentionGradTiler::broadcastIndex(Value v, Value list, int64_t d) {
  Value isOne = b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                              dim(list, d), ia.constant(1));
  return b.createOrFold<arith::SelectOp>(loc, isOne, ia.constant(0), v);
}

void AttentionGradTiler::run() {
  numSeq = op.isVarlen() ? ia.sub(dim(op.getCuSeqlensQ(), 0), ia.constant(1))
                         : dim(op.getQuery(), 0);
  headsQ = dim(op.getQuery(), 2);
  headsKV = dim(op.getKey(), 2);
  // GQA: kv-head g serves the query heads [g·G, (g + 1)·G), G = Hq / Hkv.
  groupSize = b.createOrFold<arith::DivUIOp>(loc, headsQ, headsKV);
  seqQTotal = dim(op.getQuery(), 1);
  seqKTotal = dim(op.getKey(), 1);
  for (auto emit : {&AttentionGradTiler::emitPreprocess,
                    &AttentionGradTiler::emitMain,
                    &AttentionGradTiler::emitPostprocess}) {
    OpBuilder::InsertionGuard guard(b);
    (this->*emit)();
  }
  op.erase();
}

AttentionGradTiler::QBlockProgram
AttentionGradTiler::qBlockProgram(attn::ProgramKind kind) {
  // Under varlen, the packed total bounds every sequence's q-block count.
  ValueRange ivs =
      grid(kind, headsQ, ia.ceilDiv(seqQTotal, ia.constant(tiles.blockM)),
           tiles.blockM);
  Value q0 = ia.mulConstant(ivs[2], tiles.blockM);
  SequenceCoords c = sequence(ivs[0], /*keys=*/false);
  guardInSequence(q0, c.qLen);
  Value rows = ia.min(ia.constant(tiles.blockM), ia.sub(c.qLen, q0));
  Value row = ia.add(c.qBegin, q0);
  return {c, ivs[1], row, rows};
}

void AttentionGradTiler::emitPreprocess() {
  auto [c, head, row, rows] = qBlockProgram(attn::ProgramKind::GradPreprocess);
  int64_t headDim = op.getHeadDim(), headDimV = op.getValueHeadDim();

  // D = rowsum(dO∘O) − dLSE
  Value out = loadTile(
      op.getOut(),
      emptyTile(loadedTileType(op.getOut(), {tiles.blockM, headDimV})),
      c.batch, row, head, rows);
  Value dout = loadTile(
      op.getDout(),
      emptyTile(loadedTileType(op.getDout(), {tiles.blockM, headDimV})),
      c.batch, row, head, rows);
  Value dlse;
  if (Value dlseSource = op.getDlse())
    dlse = loadTile(dlseSource,
                    emptyTile(RankedTensorType::get({tiles.blockM},
                                                    b.getF32Type())),
                    c.batch, row, head, rows);
  Value delta = attn::BlockGradDeltaOp::create(
      b, loc, RankedTensorType::get({tiles.blockM}, b.getF32Type()), out,
      dout, dlse);
  attn::TileStoreOp::create(b, loc, delta, op.getDelta(), c.batch, row, head,
                            rows, /*accumulate=*/false);

  // dQ_acc = 0 on the block's rows (the main programs add to them).
  auto zero = attn::BlockGradInitOp::create(
      b, loc,
      TypeRange{RankedTensorType::get({tiles.blockM, headDim},
                                      b.getF32Type())});
  attn::TileStoreOp::create(b, loc, zero.getTiles()[0], op.getDqAccum(),
                            c.batch, row, head, rows, /*accumulate=*/false);
}

void AttentionGradTiler::emitMain() {
  ValueRange ivs =
      grid(attn::ProgramKind::GradKv, headsKV,
           ia.ceilDiv(seqKTotal, ia.constant(tiles.blockN)), tiles.blockN);
  Value kvHead = ivs[1];
  Value k0 = ia.mulConstant(ivs[2], tiles.blockN);
  SequenceCoords c = sequence(ivs[0], /*keys=*/true);
  guardInSequence(k0, c.kLen);
  c.diag = op.getMaskOrDefault().getAlignment() ==
                   attn::MaskAlignment::BottomRight
               ? ia.sub(c.kLen, c.qLen)
               : ia.constant(0);
  Value cols = ia.min(ia.constant(tiles.blockN), ia.sub(c.kLen, k0));
  Value kRow = ia.add(c.kBegin, k0);
  int64_t headDim = op.getHeadDim(), headDimV = op.getValueHeadDim();

  // K and V stay resident for the whole program.
  Value key = loadTile(
      op.getKey(), emptyTile(loadedTileType(op.getKey(), {tiles.blockN, headDim})),
      c.batch, kRow, kvHead, cols);
  Value value = loadTile(
      op.getValue(),
      emptyTile(loadedTileType(op.getValue(), {tiles.blockN, headDimV})),
      c.batch, kRow, kvHead, cols);
  Type f32 = b.getF32Type();
  QBlockTiles t;
  t.query = emptyTile(loadedTileType(op.getQuery(), {tiles.blockM, headDim}));
  t.dout = emptyTile(loadedTileType(op.getDout(), {tiles.blockM, headDimV}));
  t.lse = emptyTile(RankedTensorType::get({tiles.blockM}, f32));
  t.delta = emptyTile(RankedTensorType::get({tiles.blockM}, f32));
  auto init = attn::BlockGradInitOp::create(
      b, loc,
      TypeRange{RankedTensorType::get({tiles.blockN, headDim}, f32),
                RankedTensorType::get({tiles.blockN, headDimV}, f32)});
  SmallVector<Value> state(init.getTiles());

  // The query heads of the group, one after the other: dK and dV are sums
  // over them, kept in the program.
  std::optional<int64_t> group = getConstantIntValue(groupSize);
  if (group && *group == 1) {
    emitQBlockLoops(c, kvHead, k0, cols, key, value, t, state);
  } else {
    auto loop = scf::ForOp::create(b, loc, ia.constant(0), groupSize,
                                   ia.constant(1), state);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value head = ia.add(arith::MulIOp::create(b, loc, kvHead, groupSize),
                        loop.getInductionVar());
    SmallVector<Value> inner(loop.getRegionIterArgs());
    emitQBlockLoops(c, head, k0, cols, key, value, t, inner);
    scf::YieldOp::create(b, loc, inner);
    state.assign(loop.getResults().begin(), loop.getResults().end());
  }

  attn::BlockGradFinalizeOp::create(
      b, loc, state[0], state[1], cols, op.getDk(), op.getDv(), c.batch, kRow,
      kvHead, b.getF32FloatAttr(op.getEffectiveScale()));
}

void AttentionGradTiler::emitQBlockLoops(const SequenceCoords &c, Value head,
                                         Value k0, Value cols, Value key,
                                         Value value, const QBlockTiles &t,
                                         SmallVector<Value> &state) {
  attn::MaskAttr mask = op.getMaskOrDefault();
  if (op.hasBlockMask())
    return emitBlockListLoops(c, head, k0, cols, key, value, t, state);
  if (mask.isFullyVisible() && !op.hasMaskMod()) {
    // No structural mask: every q-block is interior, the ragged last one
    // included (its padding rows add nothing).
    emitQBlockLoop(c, head, k0, cols, key, value, t, ia.constant(0),
                   ia.ceilDiv(c.qLen, ia.constant(tiles.blockM)),
                   /*masked=*/false, state);
    return;
  }
  KvBlockRange<Value> range = computeQBlockRange<Value>(
      ia, mask.getWindowLeft(), mask.getWindowRight(), k0, cols, c.qLen,
      c.diag, tiles.blockM);
  if (op.hasMaskMod()) {
    // mask_mod may hide any key: every visited q-block is a boundary block.
    emitQBlockLoop(c, head, k0, cols, key, value, t, range.lo, range.hi,
                   /*masked=*/true, state);
    return;
  }
  // The transposed window's left side is the mask's right one: a causal mask
  // (unbounded left, right 0) has boundary q-blocks before its interior and
  // none after; an unbounded right side leaves [lo, interiorLo) empty.
  bool lowBounded = mask.getWindowRight() >= 0;
  bool highBounded = mask.getWindowLeft() >= 0;
  if (lowBounded)
    emitQBlockLoop(c, head, k0, cols, key, value, t, range.lo,
                   range.interiorLo, /*masked=*/true, state);
  emitQBlockLoop(c, head, k0, cols, key, value, t,
                 lowBounded ? range.interiorLo : range.lo,
                 highBounded ? range.interiorHi : range.hi,
                 /*masked=*/false, state);
  if (highBounded)
    emitQBlockLoop(c, head, k0, cols, key, value, t, range.interiorHi,
                   range.hi, /*masked=*/true, state);
}

/// The q-blocks of mask row mq (BM_mask / BlockM = r of them) are visited
/// when the lists of (b, h, mq) name the program's key block
/// nb = k0 / BN_mask: masked where it is listed partial, unmasked where full:
///   n = clamp(num[b, h, mq], 0, KB)       hit  = ∃ i < n: idx[b, h, mq, i] = nb
///   f = clamp(full_num[...], 0, KB)       full = ∃ i < f: full_idx[...]  = nb
/// (entries clamped to the key blocks that exist, as the forward reads them).
/// The lists are scanned (O(KB) per mask row): the forward's lists are the
/// op's only block mask.
void AttentionGradTiler::emitBlockListLoops(const SequenceCoords &c,
                                            Value head, Value k0, Value cols,
                                            Value key, Value value,
                                            const QBlockTiles &t,
                                            SmallVector<Value> &state) {
  int64_t rowsPerMaskBlock = op.getBlockMaskRows() / tiles.blockM;
  Value counts = op.getKvNumBlocks(), indices = op.getKvIndices();
  Value fullCounts = op.getFullKvNumBlocks();
  Value fullIndices = op.getFullKvIndices();
  Value zero = ia.constant(0);
  Value listLen = dim(indices, 3);
  Value maskBlock = b.createOrFold<arith::DivUIOp>(
      loc, k0, ia.constant(op.getBlockMaskCols()));
  Value lastMaskBlock = ia.sub(
      ia.ceilDiv(c.kLen, ia.constant(op.getBlockMaskCols())), ia.constant(1));
  Value batch = broadcastIndex(c.batch, counts, 0);
  Value listHead = broadcastIndex(head, counts, 1);
  Value qBlocks = ia.ceilDiv(c.qLen, ia.constant(tiles.blockM));
  Value maskRows =
      ia.ceilDiv(c.qLen, ia.constant(op.getBlockMaskRows()));

  auto loop = scf::ForOp::create(b, loc, zero, maskRows, ia.constant(1), state);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value mq = loop.getInductionVar();
  auto loadIndex = [&](Value list, ValueRange position) -> Value {
    Value raw = memref::LoadOp::create(b, loc, list, position);
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), raw);
  };
  auto listed = [&](Value countList, Value indexList) -> Value {
    Value n = ia.min(ia.max(loadIndex(countList, {batch, listHead, mq}), zero),
                     listLen);
    Value no = arith::ConstantIntOp::create(b, loc, 0, 1);
    auto scan = scf::ForOp::create(b, loc, zero, n, ia.constant(1),
                                   ValueRange{no});
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(scan.getBody());
    Value entry = ia.min(
        ia.max(loadIndex(indexList,
                         {batch, listHead, mq, scan.getInductionVar()}),
               zero),
        lastMaskBlock);
    Value same = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, entry,
                                       maskBlock);
    scf::YieldOp::create(
        b, loc,
        ValueRange{arith::OrIOp::create(b, loc, scan.getRegionIterArg(0), same)
                       .getResult()});
    return scan.getResult(0);
  };
  Value partial = listed(counts, indices);
  Value full = fullIndices ? listed(fullCounts, fullIndices) : Value();
  Value qbLo = ia.mulConstant(mq, rowsPerMaskBlock);
  Value qbHi = ia.min(ia.add(qbLo, ia.constant(rowsPerMaskBlock)), qBlocks);

  // partial ? masked loop : (full ? unmasked loop : nothing)
  TypeRange types = ValueRange(state).getTypes();
  auto ifPartial = scf::IfOp::create(b, loc, types, partial,
                                     /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(ifPartial.thenBlock());
    SmallVector<Value> s(loop.getRegionIterArgs());
    emitQBlockLoop(c, head, k0, cols, key, value, t, qbLo, qbHi,
                   /*masked=*/true, s);
    scf::YieldOp::create(b, loc, s);
    b.setInsertionPointToStart(ifPartial.elseBlock());
    SmallVector<Value> e(loop.getRegionIterArgs());
    if (full) {
      auto ifFull = scf::IfOp::create(b, loc, types, full,
                                      /*withElseRegion=*/true);
      b.setInsertionPointToStart(ifFull.thenBlock());
      SmallVector<Value> f(loop.getRegionIterArgs());
      emitQBlockLoop(c, head, k0, cols, key, value, t, qbLo, qbHi,
                     /*masked=*/false, f);
      scf::YieldOp::create(b, loc, f);
      b.setInsertionPointToStart(ifFull.elseBlock());
      scf::YieldOp::create(b, loc, loop.getRegionIterArgs());
      b.setInsertionPointAfter(ifFull);
      e.assign(ifFull.getResults().begin(), ifFull.getResults().end());
    }
    scf::YieldOp::create(b, loc, e);
  }
  scf::YieldOp::create(b, loc, ifPartial.getResults());
  state.assign(loop.getResults().begin(), loop.getResults().end());
}

void AttentionGradTiler::emitQBlockLoop(const SequenceCoords &c, Value head,
                                        Value k0, Value cols, Value key,
                                        Value value, const QBlockTiles &t,
                                        Value lo, Value hi, bool masked,
                                        SmallVector<Value> &state) {
  auto loop = scf::ForOp::create(b, loc, lo, hi, ia.constant(1), state);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value q0 = ia.mulConstant(loop.getInductionVar(), tiles.blockM);
  Value rows = ia.min(ia.constant(tiles.blockM), ia.sub(c.qLen, q0));
  Value qRow = ia.add(c.qBegin, q0);
  Value query = loadTile(op.getQuery(), t.query, c.batch, qRow, head, rows);
  Value dout = loadTile(op.getDout(), t.dout, c.batch, qRow, head, rows);
  Value lse = loadTile(op.getLse(), t.lse, c.batch, qRow, head, rows);
  Value delta = loadTile(op.getDelta(), t.delta, c.batch, qRow, head, rows);

  double softcap = op.getEffectiveSoftcap();
  ValueRange carried = loop.getRegionIterArgs();
  auto dqType = RankedTensorType::get(
      {tiles.blockM, op.getHeadDim()}, b.getF32Type());
  auto update = attn::BlockGradUpdateOp::create(
      b, loc, carried[0].getType(), carried[1].getType(), dqType, query, key,
      value, dout, lse, delta, carried[0], carried[1], rows, cols, c.seq, head,
      q0, k0, c.diag,
      masked ? b.getUnitAttr() : UnitAttr(), op.getMaskOrDefault(),
      b.getF32FloatAttr(op.getEffectiveScale()),
      softcap > 0 ? b.getF32FloatAttr(softcap) : FloatAttr());
  // The modifiers travel with the block: score_mod always, mask_mod only
  // where masking happens.
  IRMapping mapping;
  op.getScoreMod().cloneInto(&update.getScoreMod(), mapping);
  if (masked)
    op.getMaskMod().cloneInto(&update.getMaskMod(), mapping);
  // dQ's part: added to the accumulator's rows.
  attn::TileStoreOp::create(b, loc, update.getDquery(), op.getDqAccum(),
                            c.batch, qRow, head, rows, /*accumulate=*/true);
  scf::YieldOp::create(b, loc,
                       ValueRange{update.getNewDkey(), update.getNewDvalue()});
  state.assign(loop.getResults().begin(), loop.getResults().end());
}

void AttentionGradTiler::emitPostprocess() {
  auto [c, head, row, rows] = qBlockProgram(attn::ProgramKind::GradPostprocess);
  // dQ = scale·dQ_acc, in dQ's type
  Value scale = arith::ConstantOp::create(
      b, loc, b.getF32FloatAttr(op.getEffectiveScale()));
  Value acc = loadTile(
      op.getDqAccum(),
      emptyTile(RankedTensorType::get({tiles.blockM, op.getHeadDim()},
                                      b.getF32Type())),
      c.batch, row, head, rows, scale);
  attn::TileStoreOp::create(b, loc, acc, op.getDq(), c.batch, row, head, rows,
                            /*accumulate=*/false);
}

LogicalResult flashmlir::tileAttentionGrads(func::FuncOp func, int64_t blockM,
                                            int64_t blockN, TileTarget target) {
  SmallVector<attn::AttentionGradOp> ops;
  func.walk([&](attn::AttentionGradOp op) { ops.push_back(op); });
  for (attn::AttentionGradOp op : ops) {
    if (!op.hasPureBufferSemantics())
      return op.emitOpError() << "attn-tile expects operands on memrefs; "
                                 "bufferize tensors first";
    TileSizes tiles = chooseGradTileSizes(op, target);
    if (blockM > 0)
      tiles.blockM = blockM;
    if (blockN > 0)
      tiles.blockN = blockN;
    if (op.hasBlockMask() && (op.getBlockMaskRows() % tiles.blockM ||
                              op.getBlockMaskCols() % tiles.blockN))
      return op.emitOpError()
             << "attn-tile: tiles of " << tiles.blockM << " x " << tiles.blockN
             << " must divide the block mask's block_size ["
             << op.getBlockMaskRows() << ", " << op.getBlockMaskCols() << "]";
    AttentionGradTiler(op, tiles, target).run();
  }
  return success();
}
