//===- TileOps.cpp - the consumers' ops on fragments -----------------------===//
//
// Part of the L3 -> NVGPU/NVVM conversion (KernelLowering.h). One conversion
// per op. A consumer thread of warpgroup c holds, of a 64 x N accumulator
// (WarpgroupBuilder.h), register r at row 16·w + l/4 + 8·rowHalfOf(r) and
// column columnOf(r) + 2·(l mod 4); per-row values are its two rows.
//
//===----------------------------------------------------------------------===//

#include "KernelLowering.h"

#include "mlir/IR/Matchers.h"

#include <limits>

using namespace mlir;
using namespace flashmlir;
using namespace flashmlir::hopper;

//===----------------------------------------------------------------------===//
// Channels
//===----------------------------------------------------------------------===//

LogicalResult KernelLowering::emitGet(attn::ChannelGetOp get) {
  Value channel = get.getChannel();
  ChannelResources &res = channels[channel];
  Value stage, parity;
  if (res.stationary) {
    // This CTA's tile n fills the slot in phase n of its full barriers:
    // waited for at once (every block reads it).
    stage = idx(0);
    parity = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ne,
        arith::RemUIOp::create(b, loc, tileIter, idx(2)), idx(0));
    for (Value full : res.full)
      nvgpu::MBarrierTryWaitParityOp::create(b, loc, full, parity,
                                             idx(10000000), stage);
  } else {
    Value &count = counts[channel];
    auto [s, round, p] = ringPosition(count, res.depth);
    stage = s, parity = p;
    count = arith::AddIOp::create(b, loc, count, idx(1));
  }
  tokenStage[get.getToken()] = stage;
  for (auto [part, tile] : llvm::enumerate(get.getTiles())) {
    Fragment f;
    f.kind = Fragment::Shared;
    Value bytes =
        res.stationary ? Value() : stageOffset(stage, res.bytes[part]);
    if (res.descriptor[part])
      f.descriptor = bytes ? wg.advance(res.descriptor[part], bytes)
                           : res.descriptor[part];
    f.offset = arith::AddIOp::create(
        b, loc, base,
        res.stationary
            ? idx(res.offset[part])
            : arith::AddIOp::create(
                  b, loc, idx(res.offset[part]),
                  arith::MulIOp::create(b, loc, stage,
                                        idx(res.bytes[part]))));
    f.layout = res.layout[part];
    f.chunkBytes = res.rows[part] * f.layout.bytes;
    f.perRow = res.tensorMap[part] < 0;
    f.rows = res.rows[part];
    frags[tile] = f;
    // A ring's parts: each waited for where it is first read (K before the
    // turn that issues Q·Kᵀ, V before its P·V or the end of the block).
    if (!res.stationary)
      unawaited[tile] = {channel, static_cast<int64_t>(part), stage, parity};
  }
  return success();
}

void KernelLowering::awaitTile(Value tile) {
  auto it = unawaited.find(tile);
  if (it == unawaited.end())
    return;
  PendingWait wait = it->second;
  unawaited.erase(it);
  nvgpu::MBarrierTryWaitParityOp::create(
      b, loc, channels[wait.channel].full[wait.part], wait.parity,
      idx(10000000), wait.stage);
}

void KernelLowering::awaitTilesOf(Operation *op) {
  op->walk([&](Operation *nested) {
    for (Value operand : nested->getOperands())
      awaitTile(operand);
  });
}

std::optional<SlotPart> flashmlir::hopper::slotPartOf(Value tile, int depth) {
  if (depth > 8)
    return std::nullopt;
  if (auto get = tile.getDefiningOp<attn::ChannelGetOp>())
    return SlotPart{get, get.getToken(),
                    int64_t(cast<OpResult>(tile).getResultNumber())};
  if (auto slice = tile.getDefiningOp<tensor::ExtractSliceOp>())
    return slotPartOf(slice.getSource(), depth + 1);
  auto arg = dyn_cast<BlockArgument>(tile);
  auto loop = arg ? dyn_cast<scf::ForOp>(arg.getOwner()->getParentOp())
                  : scf::ForOp();
  if (!loop || arg.getArgNumber() == 0)
    return std::nullopt;
  ValueRange yielded = loop.getYieldedValues();
  std::optional<SlotPart> inner =
      slotPartOf(yielded[arg.getArgNumber() - 1], depth + 1);
  if (!inner)
    return std::nullopt;
  // The token as this block sees it: the iter_arg it is carried in, if any.
  Value token;
  for (auto [k, value] : llvm::enumerate(yielded))
    if (inner->token && value == inner->token)
      token = loop.getRegionIterArgs()[k];
  return SlotPart{inner->get, token, inner->part};
}

LogicalResult KernelLowering::emitRelease(attn::ChannelReleaseOp release) {
  // The slot goes back to the producer's next TMA write: no MMA of this block
  // that reads the part may still be in flight. compute-sanitizer cannot see
  // this race (TMA and wgmma are async-proxy accesses), so it is checked here.
  std::pair<Value, int64_t> part{release.getToken(),
                                 int64_t(release.getPart())};
  SmallVector<Value> mayRun(inFlight);
  if (!enclosingComplete)
    for (SmallVector<Value> *outer : enclosingFlight)
      mayRun.append(*outer);
  for (Value issued : mayRun) {
    auto it = mmaReads.find(issued);
    if (it == mmaReads.end() || !llvm::is_contained(it->second.parts, part))
      continue;
    InFlightDiagnostic diag =
        release.emitOpError()
        << "attn-convert-to-nvgpu: releases part " << part.second
        << " of a slot that an MMA still in flight reads (wait for it first)";
    diag.attachNote(it->second.mma->getLoc()) << "the MMA";
    return diag;
  }
  ChannelResources &res = channels[release.getChannel()];
  Value empty = res.empty[release.getPart()];
  if (!empty)
    return success(); // never refilled (a one-CTA-per-tile kernel's Q)
  nvgpu::MBarrierArriveOp::create(b, loc, empty,
                                  tokenStage.lookup(release.getToken()));
  return success();
}

LogicalResult KernelLowering::emitStage(attn::TileStageOp stage) {
  // The k-th tile_stage of its block writes buffer k of its consumer (the
  // plan's two per consumer: the backward's P and dS): the ops of other
  // blocks (the masked and the interior q-block loops) run after this
  // block's MMAs drained, so they share the buffers. Consumer c's buffer k
  // is at stagedOffset + (2c + k)·R·128 bytes: R rows of 64 16-bit columns
  // in the 128-byte swizzle (one chunk), what an MN-major descriptor of
  // the transposed tile reads.
  auto type = cast<RankedTensorType>(stage.getTile().getType());
  int64_t rows = type.getDimSize(0), columns = type.getDimSize(1);
  int64_t k = 0;
  for (Operation *op = stage->getPrevNode(); op; op = op->getPrevNode())
    k += isa<attn::TileStageOp>(op);
  int64_t tileBytes = rows * columns * 2;
  if (rows % kFragmentRows || columns != 64 || k >= 2 ||
      plan.stagedBytes < plan.consumers * 2 * tileBytes)
    return stage.emitOpError()
           << "attn-convert-to-nvgpu: the plan stages two tiles of 64 columns "
              "per consumer and block (the backward's P and dS, "
           << plan.stagedBytes / std::max<int64_t>(4 * plan.consumers, 1)
           << " bytes each), got a " << rows << "x" << columns
           << " tile, stage " << k << " of its block";
  // A gathered stage is read by every consumer's MMAs: before it is
  // rewritten, those of the previous contents must be complete (each
  // consumer waits for its own in the iteration that issued it: no loop may
  // carry one into the stage's next run, checked here, as compute-sanitizer
  // cannot see the race) and every consumer past them (the meeting).
  bool gathered = llvm::any_of(stage->getUsers(),
                               llvm::IsaPred<attn::TileGatherOp>);
  if (gathered) {
    auto readsThisStage = [&](Value v) {
      auto mma = v.getDefiningOp<attn::MmaAsyncOp>();
      auto reader =
          mma ? mma.getLhs().getDefiningOp<attn::TileGatherOp>() : nullptr;
      return reader && reader.getTile().getDefiningOp() == stage;
    };
    for (auto loop = stage->getParentOfType<scf::ForOp>(); loop;
         loop = loop->getParentOfType<scf::ForOp>())
      if (llvm::any_of(loop.getBody()->getTerminator()->getOperands(),
                       readsThisStage))
        return stage.emitOpError()
               << "attn-convert-to-nvgpu: a loop carries an MMA that reads "
                  "this gathered stage into the stage's next run (wait for "
                  "it in its iteration)";
    syncConsumers();
  }
  SmallVector<Value> regs = registersOf(frags[stage.getTile()]);
  Value offset = arith::AddIOp::create(
      b, loc, idx(plan.stagedOffset + k * tileBytes),
      arith::MulIOp::create(b, loc, lanes.consumer, idx(2 * tileBytes)));
  SwizzledRows layout = SwizzledRows::forWidth(columns);
  // A register j of a 64-row block's A fragment holds row half j mod 2,
  // columns 8·(j/2)..: word(h, j) is register 2j + h of the block.
  int64_t perBlock = columns / 4;
  for (int64_t blk = 0; blk < rowBlocks(rows); ++blk)
    storeFragmentRows(wg.freshThreadId(), Value(), offset, rows * layout.bytes,
                      layout, columns,
                      [&](int64_t h, int64_t j) {
                        return regs[blk * perBlock + 2 * j + h];
                      },
                      blk * kFragmentRows);
  // The generic-proxy writes made visible to wgmma (async proxy), then the
  // warpgroup's threads meet before an MMA reads the buffer.
  MLIRContext *ctx = b.getContext();
  NVVM::FenceProxyOp::create(
      b, loc, NVVM::ProxyKind::async_shared,
      NVVM::SharedSpaceAttr::get(ctx, NVVM::SharedSpace::shared_cta));
  syncConsumer(lanes.consumer);
  Fragment f;
  f.kind = Fragment::Shared;
  f.offset = arith::AddIOp::create(b, loc, base, offset);
  f.descriptor = wg.descriptor(
      arith::IndexCastOp::create(
          b, loc, b.getI64Type(),
          arith::AddIOp::create(b, loc, lanes.address, f.offset)),
      rows * layout.bytes, layout.atomBytes(), layout.descriptorMode());
  f.layout = layout;
  f.chunkBytes = rows * layout.bytes;
  frags[stage.getResult()] = f;
  return success();
}

LogicalResult KernelLowering::emitGather(attn::TileGatherOp gather) {
  // Consumer j's buffer of this stage is 2j·(its bytes) from consumer 0's
  // (the plan's two buffers per consumer, emitStage): the gathered tile's
  // 64-column chunks are those buffers, so a K-major descriptor steps from
  // one consumer's to the next every four k16 steps. Every stage is written
  // and fenced (emitStage) before the consumers meet.
  Fragment f = frags.lookup(gather.getTile());
  auto staged = cast<RankedTensorType>(gather.getTile().getType());
  if (f.kind != Fragment::Shared || staged.getDimSize(1) != 64 ||
      f.layout.columns() != 64)
    return gather.emitOpError()
           << "attn-convert-to-nvgpu: gathers staged tiles of 64 columns";
  syncConsumers();
  int64_t between = 2 * f.chunkBytes;
  f.offset = arith::SubIOp::create(
      b, loc, f.offset,
      arith::MulIOp::create(b, loc, lanes.consumer, idx(between)));
  f.descriptor = wg.descriptor(
      arith::IndexCastOp::create(
          b, loc, b.getI64Type(),
          arith::AddIOp::create(b, loc, lanes.address, f.offset)),
      f.chunkBytes, f.layout.atomBytes(), f.layout.descriptorMode());
  f.chunkBytes = between;
  frags[gather.getResult()] = f;
  return success();
}

//===----------------------------------------------------------------------===//
// MMAs
//===----------------------------------------------------------------------===//

SmallVector<Value> KernelLowering::unpackPending(const Fragment &f) {
  SmallVector<Value> regs;
  for (Value block : f.pending)
    llvm::append_range(regs, wg.unpack(block, f.columns));
  return regs;
}

SmallVector<Value> KernelLowering::registersOf(Fragment &f,
                                               bool sumPartials) {
  if (f.kind == Fragment::Shared && f.perRow) {
    // A per-row tile in shared memory (a q-block's LSE or D): the thread's
    // two rows, 16w + l/4 and 8 below, read from the slot.
    SmallVector<Value> rows;
    auto sharedPtr = LLVM::LLVMPointerType::get(b.getContext(), 3);
    for (int64_t h = 0; h < 2 * rowBlocks(f.rows); ++h) {
      // Row half h mod 2 of block h/2: row 64·(h/2) + 8·(h mod 2) + 16w + l/4.
      int64_t row = kFragmentRows * (h / 2) + 8 * (h % 2);
      Value at = arith::AddIOp::create(
          b, loc, arith::AddIOp::create(b, loc, lanes.address, f.offset),
          arith::MulIOp::create(
              b, loc,
              arith::AddIOp::create(b, loc, lanes.rowInGroup, idx(row)),
              idx(4)));
      rows.push_back(LLVM::LoadOp::create(
          b, loc, b.getF32Type(),
          LLVM::IntToPtrOp::create(
              b, loc, sharedPtr,
              Value(arith::IndexCastOp::create(b, loc, b.getI64Type(), at)))));
    }
    return rows;
  }
  if (f.kind == Fragment::Pending) {
    f.regs = unpackPending(f);
    f.kind = Fragment::Registers;
  }
  if (!f.quadPartial || !sumPartials)
    return f.regs;
  SmallVector<Value> rows;
  for (Value partial : f.regs)
    rows.push_back(wg.quadSum(partial));
  return rows;
}

LogicalResult KernelLowering::emitMma(attn::MmaAsyncOp mma) {
  awaitTilesOf(mma);
  RankedTensorType type = mma.getResult().getType().getValue();
  int64_t n = type.getDimSize(1);
  Fragment &lhs = frags[mma.getLhs()];
  Fragment &rhs = frags[mma.getRhs()];
  // A run of MMAs shares one fence: every A register is written before it.
  if (!lastWasMma)
    wg.fence();
  // The backward's k-step descriptors in place: most of its operands' slots
  // are the same every q-block (K_c, V_c, the staged P and dS), and LLVM
  // kept each step's descriptor from before the loop, two registers apiece.
  auto step = [&](Value desc, int64_t bytes) {
    return plan.backward ? wg.advanceInPlace(desc, bytes)
                         : wg.advance(desc, bytes);
  };
  Fragment out;
  // Both operands in shared memory: S = Q·Kᵀ (A and B K-major), dV += Pᵀ·dO
  // and dK += dSᵀ·Q (the staged A and B both MN-major), dQ = dS·K_c (the
  // staged A K-major, B MN-major).
  bool kMajorB = mma.getTransposeRhs() && !mma.getTransposeLhs();
  bool mnMajorA = mma.getTransposeLhs() && !mma.getTransposeRhs();
  bool stagedA = !mma.getTransposeLhs() && !mma.getTransposeRhs() &&
                 (mma.getLhs().getDefiningOp<attn::TileStageOp>() ||
                  mma.getLhs().getDefiningOp<attn::TileGatherOp>());
  if (lhs.kind == Fragment::Shared && rhs.kind == Fragment::Shared &&
      (kMajorB || mnMajorA || stagedA)) {
    // K/16 k-steps. A K-major operand's step k reads 32 bytes of each row,
    // at byte 32·(k mod s) of chunk k/s, where s = W/32 steps fit in a
    // chunk's rows of W bytes (4 in 64-column chunks); an MN-major one's
    // step is 16 rows (16·W bytes) further down, every chunk of M or N in
    // one wgmma (the descriptors' leading byte offsets step over the
    // chunks). An A of R > 64 rows (K-major) is R/64 wgmma chains, each 64
    // rows (64·W bytes) further down. A zero destination is not read.
    auto lhsType = cast<ShapedType>(mma.getLhs().getType());
    if (mnMajorA && lhsType.getDimSize(1) != 64)
      return mma.emitOpError() << "attn-convert-to-nvgpu: a transposed A "
                                  "operand has 64 columns (the M of one "
                                  "wgmma)";
    int64_t depth = lhsType.getDimSize(mnMajorA ? 0 : 1);
    int64_t blocks = mnMajorA ? 1 : rowBlocks(lhsType.getDimSize(0));
    auto fill = mma.getDest().getDefiningOp<attn::TileFillOp>();
    bool fromZero = fill && matchPattern(fill.getValue(), m_AnyZeroFloat());
    SmallVector<Value> regs;
    if (!fromZero)
      regs = registersOf(frags[mma.getDest()]);
    int64_t steps = lhs.layout.bytes / 32;
    auto kMajorStep = [&](const Fragment &f, int64_t k) {
      return (k / steps) * f.chunkBytes + (k % steps) * 32;
    };
    auto mnMajorStep = [&](const Fragment &f, int64_t k) {
      return k * 16 * f.layout.bytes;
    };
    for (int64_t blk = 0; blk < blocks; ++blk) {
      Value acc;
      if (!fromZero) {
        acc = LLVM::UndefOp::create(b, loc, wg.accumulatorType(n));
        for (int64_t i = 0; i < n / 2; ++i)
          acc = LLVM::InsertValueOp::create(b, loc, acc,
                                            regs[blk * (n / 2) + i], i);
      }
      int64_t rowsBytes = blk * kFragmentRows * lhs.layout.bytes;
      for (int64_t k = 0; k < depth / 16; ++k)
        acc = wg.mmaSharedShared(
            acc,
            step(lhs.descriptor,
                 rowsBytes + (mnMajorA ? mnMajorStep(lhs, k) : kMajorStep(lhs, k))),
            step(rhs.descriptor,
                 kMajorB ? kMajorStep(rhs, k) : mnMajorStep(rhs, k)),
            n, /*accumulate=*/k > 0 || !fromZero, mnMajorA,
            /*mnMajorB=*/!kMajorB);
      out.pending.push_back(acc);
    }
    out.kind = Fragment::Pending;
    out.columns = n;
  } else if (lhs.kind == Fragment::Registers && rhs.kind == Fragment::Shared &&
             !mma.getTransposeLhs() && !mma.getTransposeRhs()) {
    // O += P·V: P's registers as A (four per k16 step), V N-major: 16 rows
    // (16·W bytes: 2048 in 64-column chunks) per step, all of Dv's chunks
    // (N = Dv) in each wgmma. No fence here: every A register is written
    // before the run's fence (a register written between two wgmma makes
    // ptxas fence again, C7519, serializing the chain).
    if (type.getDimSize(0) != kFragmentRows)
      return mma.emitOpError() << "attn-convert-to-nvgpu: a register A "
                                  "operand has 64 rows";
    SmallVector<Value> acc = registersOf(frags[mma.getDest()]);
    int64_t depth = cast<ShapedType>(mma.getRhs().getType()).getDimSize(0);
    ArrayRef<Value> a = lhs.regs;
    for (int64_t t = 0; t < depth / 16; ++t)
      acc = wg.mmaRegisterShared(acc, a.slice(4 * t, 4),
                                 step(rhs.descriptor, t * 16 * rhs.layout.bytes));
    out.regs = acc;
  } else {
    return mma.emitOpError() << "attn-convert-to-nvgpu: the tensor cores take "
                                "Q·Kᵀ and a staged A (transposed or not) "
                                "times B from shared memory, and P·V with P "
                                "in registers and V in shared memory";
  }
  wg.commitGroup();
  frags[mma.getResult()] = out;
  SlotReads &reads = mmaReads[mma.getResult()];
  reads.mma = mma;
  for (Value operand : {mma.getLhs(), mma.getRhs()})
    if (auto part = slotPartOf(operand); part && part->token)
      reads.parts.push_back({part->token, part->part});
  inFlight.push_back(mma.getResult());
  drained = false;
  return success();
}

void KernelLowering::emitWait(attn::MmaWaitOp wait) {
  Value pending = wait.getPending();
  Fragment f = frags.lookup(pending);
  if (!ready.contains(pending)) {
    // wgmma.wait_group(N): at most N younger groups stay in flight.
    auto it = llvm::find(inFlight, pending);
    if (it != inFlight.end()) {
      int64_t younger = std::distance(it, inFlight.end()) - 1;
      wg.waitGroup(younger);
      enclosingComplete = true;
      inFlight.erase(inFlight.begin(), std::next(it));
      drained |= younger == 0;
    } else if (!(drained && inFlight.empty())) {
      // Issued before this block (carried in): every MMA of the block is
      // younger.
      wg.waitGroup(inFlight.size());
      drained |= inFlight.empty();
      enclosingComplete = true;
    }
  }
  f.regs = registersOf(f);
  f.kind = Fragment::Registers;
  frags[wait.getResult()] = f;
}

LogicalResult KernelLowering::emitTurn(attn::ConsumerTurnOp turn, Role role) {
  Block &body = turn.getBody().front();
  // The turn's operands (K's slot) have landed before the turn is taken.
  awaitTilesOf(turn);
  if (plan.pingPong) // my turn to issue
    NVVM::BarrierOp::create(b, loc, Type(), lanes.turnBarrier, wg.i32(256),
                            NVVM::BarrierReductionAttr(), Value());
  lastWasMma = false;
  if (failed(emitOps(body, role, /*ownScope=*/false)))
    return failure();
  if (plan.pingPong) // the next consumer's turn
    NVVM::BarrierArriveOp::create(b, loc, lanes.nextTurnBarrier, wg.i32(256));
  // The turn's results are its MMAs, in flight in the enclosing block.
  auto yield = cast<attn::YieldOp>(body.getTerminator());
  for (auto [inner, outer] : llvm::zip(yield.getValues(), turn.getResults())) {
    frags[outer] = frags.lookup(inner);
    if (auto it = mmaReads.find(inner); it != mmaReads.end())
      mmaReads[outer] = it->second;
    for (Value &v : inFlight)
      if (v == inner)
        v = outer;
  }
  return success();
}

SmallVector<Value> KernelLowering::splat(RankedTensorType type, Value value) {
  return SmallVector<Value>(fragmentRegisters(type), value);
}

void KernelLowering::emitFill(attn::TileFillOp fill) {
  Fragment f;
  f.regs = splat(cast<RankedTensorType>(fill.getResult().getType()),
                 mapped(fill.getValue()));
  frags[fill.getResult()] = f;
}

//===----------------------------------------------------------------------===//
// Row sums as quad partials
//===----------------------------------------------------------------------===//
//
// A row of an accumulator spans the four lanes of a quad. The running
// softmax denominator l_j = alpha_j · l_{j-1} + sum_c P_j[c] stays correct
// when every lane keeps only its own columns' share: alpha_j is the same on
// the four lanes, so the sum of the lanes' shares is l_j. The quad's
// shuffles then run once, where the row's whole value is read (the
// epilogue), not after every KV block.
//
// A value is held as partials when it is
//   - tile_reduce add into partials or zeros,
//   - a per-row tile_map `x * y` with x partials or zeros and y whole
//     (a product of zeros is zeros, so partials),
//   - a loop-carried value whose init and yield are (partials or zeros),
//   - an scf.if result whose yields are.
// The loop and branch results are assumed partial and dropped until the
// rules hold (a greatest fixpoint).

static bool isZeroFill(Value v) {
  auto fill = v.getDefiningOp<attn::TileFillOp>();
  return fill && matchPattern(fill.getValue(), m_AnyZeroFloat());
}

static bool isRowOfF32(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.getRank() == 1 && type.getElementType().isF32();
}

/// The inputs x, y of a per-row `tile_map ins(x, y) { yield x * y }`.
static std::optional<std::pair<Value, Value>> rowProduct(attn::TileMapOp map) {
  Block &body = map.getBody().front();
  if (!isRowOfF32(map.getResult()) || map.getInputs().size() != 2 ||
      !llvm::hasSingleElement(body.without_terminator()))
    return std::nullopt;
  auto mul = dyn_cast<arith::MulFOp>(body.front());
  auto yield = cast<attn::YieldOp>(body.getTerminator());
  if (!mul || yield.getValues().front() != mul.getResult())
    return std::nullopt;
  auto lhs = dyn_cast<BlockArgument>(mul.getLhs());
  auto rhs = dyn_cast<BlockArgument>(mul.getRhs());
  if (!lhs || !rhs || lhs == rhs || lhs.getOwner() != &body ||
      rhs.getOwner() != &body)
    return std::nullopt;
  return std::make_pair(map.getInputs()[lhs.getArgNumber()],
                        map.getInputs()[rhs.getArgNumber()]);
}

bool KernelLowering::isRowPartial(Operation *op) const {
  auto partialOrZero = [&](Value v) {
    return rowPartials.contains(v) || isZeroFill(v);
  };
  if (auto map = dyn_cast<attn::TileMapOp>(op))
    if (auto xy = rowProduct(map)) {
      auto [x, y] = *xy;
      return (partialOrZero(x) && !rowPartials.contains(y)) ||
             (partialOrZero(y) && !rowPartials.contains(x));
    }
  if (auto reduce = dyn_cast<attn::TileReduceOp>(op))
    return reduce.getKind() == attn::ReductionKind::Add &&
           partialOrZero(reduce.getDest());
  return false;
}

void KernelLowering::findRowPartials(Region &consumer) {
  DenseSet<Value> assumed;
  consumer.walk([&](Operation *op) {
    if (isa<scf::ForOp, scf::IfOp>(op))
      for (Value r : op->getResults())
        if (isRowOfF32(r))
          assumed.insert(r);
  });
  auto partialOrZero = [&](Value v) {
    return rowPartials.contains(v) || isZeroFill(v);
  };
  for (bool changed = true; changed;) {
    rowPartials = assumed;
    consumer.walk([&](scf::ForOp loop) {
      for (auto [arg, res] :
           llvm::zip(loop.getRegionIterArgs(), loop.getResults()))
        if (assumed.contains(res))
          rowPartials.insert(arg);
    });
    // Program order: an op's operands are classified before it.
    consumer.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isRowPartial(op))
        rowPartials.insert(op->getResult(0));
    });
    changed = false;
    consumer.walk([&](Operation *op) {
      auto drop = [&](unsigned i, ArrayRef<Value> sources) {
        Value r = op->getResult(i);
        if (!assumed.contains(r) ||
            (llvm::all_of(sources, partialOrZero) &&
             llvm::any_of(sources,
                          [&](Value v) { return rowPartials.contains(v); })))
          return;
        assumed.erase(r);
        changed = true;
      };
      if (auto loop = dyn_cast<scf::ForOp>(op)) {
        Operation *yield = loop.getBody()->getTerminator();
        for (unsigned i = 0; i < loop.getNumResults(); ++i)
          drop(i, {loop.getInitArgs()[i], yield->getOperand(i)});
      } else if (auto ifOp = dyn_cast<scf::IfOp>(op)) {
        for (unsigned i = 0; i < ifOp.getNumResults(); ++i)
          drop(i, {ifOp.thenYield().getOperand(i),
                   ifOp.elseYield().getOperand(i)});
      }
    });
  }
}

SmallVector<Value> KernelLowering::registersAs(Value v, bool partial) {
  auto it = frags.find(v);
  if (it == frags.end() || it->second.kind == Fragment::Shared ||
      it->second.quadPartial == partial)
    return flatten(v);
  if (!partial)
    return registersOf(it->second);
  // Whole rows as partials: zeros are both; otherwise the quad's first lane
  // keeps the row's value.
  SmallVector<Value> regs = registersOf(it->second);
  if (isZeroFill(v))
    return regs;
  Value zero = wg.f32(0.0f);
  for (Value &r : regs)
    r = arith::SelectOp::create(b, loc, lanes.quadLeader, r, zero);
  return regs;
}

//===----------------------------------------------------------------------===//
// Element-wise and row ops
//===----------------------------------------------------------------------===//

void KernelLowering::emitReduce(attn::TileReduceOp reduce) {
  bool max = reduce.getKind() == attn::ReductionKind::Max;
  bool partials = rowPartials.contains(reduce.getResult());
  SmallVector<Value> tile = registersOf(frags[reduce.getTile()]);
  SmallVector<Value> dest =
      registersOf(frags[reduce.getDest()], /*sumPartials=*/!partials);
  auto combine = [&](Value x, Value y) -> Value {
    return max ? Value(arith::MaximumFOp::create(b, loc, x, y))
               : Value(arith::AddFOp::create(b, loc, x, y));
  };
  Fragment out;
  int64_t perBlock = cast<ShapedType>(reduce.getTile().getType()).getDimSize(1) / 2;
  for (int64_t h = 0; h < static_cast<int64_t>(dest.size()); ++h) {
    // The thread's columns of its row h (row half h mod 2 of block h/2),
    // then its quad's.
    Value partial;
    for (auto [r, x] : llvm::enumerate(tile))
      if (rowValueOf(r, perBlock) == h)
        partial = partial ? combine(partial, x) : x;
    if (!partials)
      partial = max ? wg.quadMaximum(partial) : wg.quadSum(partial);
    out.regs.push_back(combine(dest[h], partial));
  }
  out.quadPartial = partials;
  frags[reduce.getResult()] = out;
}

Value KernelLowering::inlineScalarBody(Block &body, ValueRange args,
                                       Operation *stop) {
  IRMapping local;
  local.map(body.getArguments(), args);
  // Values from above (constants a CSE moved out of the body into the role)
  // are the role's converted ones.
  auto lookup = [&](Value v) {
    return local.contains(v) ? local.lookup(v) : mapped(v);
  };
  for (Operation &op : body.without_terminator()) {
    if (&op == stop)
      break;
    auto operand = [&](unsigned i) { return lookup(op.getOperand(i)); };
    Value r;
    if (isa<math::Exp2Op>(op) && op.getResult(0).getType().isF32())
      r = wg.exp2(operand(0));
    else if (isa<math::Log2Op>(op) && op.getResult(0).getType().isF32())
      r = wg.log2(operand(0));
    else if (isa<math::TanhOp>(op) && op.getResult(0).getType().isF32())
      r = wg.tanh(operand(0));
    else if (isa<math::FmaOp>(op))
      r = wg.fma(operand(0), operand(1), operand(2));
    if (r) {
      local.map(op.getResult(0), r);
      continue;
    }
    for (Value v : op.getOperands())
      if (!local.contains(v))
        local.map(v, mapped(v));
    b.clone(op, local);
  }
  return lookup(stop ? stop->getOperand(0)
                     : cast<attn::YieldOp>(body.getTerminator())
                           .getValues()
                           .front());
}

LogicalResult KernelLowering::emitMap(attn::TileMapOp map) {
  auto type = cast<RankedTensorType>(map.getResult().getType());
  Block &body = map.getBody().front();
  // x * y of a partial and a whole row is partial (findRowPartials).
  bool partials = rowPartials.contains(map.getResult());
  SmallVector<SmallVector<Value>> inputs;
  for (Value input : map.getInputs()) {
    awaitTile(input); // a per-row tile read from its slot
    inputs.push_back(registersOf(frags[input], /*sumPartials=*/!partials));
  }
  // A 2-D element r's per-row inputs: its row's (rowValueOf); the registers
  // of one 64-row block of the result.
  int64_t perBlock = type.getRank() == 1 ? 2 : type.getDimSize(1) / 2;
  auto argsFor = [&](int64_t r, bool row) {
    SmallVector<Value> args;
    for (auto [input, regs] : llvm::zip(map.getInputs(), inputs)) {
      bool perRow = cast<ShapedType>(input.getType()).getRank() == 1;
      args.push_back(regs[row || !perRow ? r : rowValueOf(r, perBlock)]);
    }
    return args;
  };
  int64_t blocks = rowBlocks(type.getDimSize(0));
  Fragment out;
  if (type.getRank() == 1) {
    for (int64_t h = 0; h < 2 * blocks; ++h)
      out.regs.push_back(inlineScalarBody(body, argsFor(h, /*row=*/true)));
    out.quadPartial = partials;
    frags[map.getResult()] = out;
    return success();
  }
  auto layout = cast<attn::LayoutAttr>(type.getEncoding());
  int64_t n = type.getDimSize(1);
  if (layout.getKind() == attn::LayoutKind::OperandA) {
    // P in V's type as wgmma A registers: the f32 elements rounded in pairs
    // (one cvt per pair). The body ends in that rounding.
    auto yield = cast<attn::YieldOp>(body.getTerminator());
    auto round = yield.getValues().front().getDefiningOp<arith::TruncFOp>();
    if (!round || round.getIn().getType() != b.getF32Type())
      return map.emitOpError()
             << "attn-convert-to-nvgpu: an A operand is an f32 tile rounded "
                "to the MMA's type (its body must end in arith.truncf)";
    // The body up to the rounding, per element, then the pairs.
    SmallVector<Value> wide;
    for (int64_t r = 0; r < blocks * n / 2; ++r)
      wide.push_back(
          inlineScalarBody(body, argsFor(r, /*row=*/false), round));
    for (int64_t r = 0; r + 1 < blocks * n / 2; r += 2)
      out.regs.push_back(wg.packPair(wide[r], wide[r + 1]));
    frags[map.getResult()] = out;
    return success();
  }
  for (int64_t r = 0; r < blocks * n / 2; ++r)
    out.regs.push_back(inlineScalarBody(body, argsFor(r, /*row=*/false)));
  frags[map.getResult()] = out;
  return success();
}
