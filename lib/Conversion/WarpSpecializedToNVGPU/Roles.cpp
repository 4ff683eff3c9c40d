//===- Roles.cpp - the roles, the tile loops, the walk ---------------------===//
//
// Part of the L3 -> NVGPU/NVVM conversion (KernelLowering.h).
//
//===----------------------------------------------------------------------===//

#include "KernelLowering.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace flashmlir;
using namespace flashmlir::hopper;

LogicalResult KernelLowering::run() {
  if (failed(findRoles()) || failed(addTensorMapArguments()))
    return failure();
  OpBuilder::InsertionGuard g(b);
  emitLaunch();
  // Warpgroup 0 produces, warpgroups 1.. consume; the roles are disjoint
  // branches (setmaxnreg needs that).
  Value producer = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ult, tid, idx(128));
  auto branches = scf::IfOp::create(b, loc, producer, /*withElse=*/true);
  {
    OpBuilder::InsertionGuard g2(b);
    b.setInsertionPoint(branches.thenBlock()->getTerminator());
    if (failed(emitRole(Role::Producer)))
      return failure();
    b.setInsertionPoint(branches.elseBlock()->getTerminator());
    if (failed(emitRole(Role::Consumer)))
      return failure();
  }
  grid.erase();
  return success();
}

SmallVector<Value> KernelLowering::ringCounts() {
  SmallVector<Value> values;
  for (Value ring : rings)
    values.push_back(counts[ring]);
  return values;
}

void KernelLowering::setRingCounts(ValueRange &from) {
  for (Value ring : rings)
    counts[ring] = from.front(), from = from.drop_front();
}

std::array<Value, 3> KernelLowering::ringPosition(Value count, int64_t depth) {
  Value stage = arith::RemUIOp::create(b, loc, count, idx(depth));
  Value round = arith::DivUIOp::create(b, loc, count, idx(depth));
  Value parity = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ne,
      arith::RemUIOp::create(b, loc, round, idx(2)), idx(0));
  return {stage, round, parity};
}

LogicalResult KernelLowering::emitRole(Role role) {
  counts.clear();
  for (Value ring : rings)
    counts[ring] = idx(0);
  if (role == Role::Producer) {
    NVVM::SetMaxRegisterOp::create(
        b, loc, b.getI32IntegerAttr(plan.producerRegisters),
        NVVM::SetMaxRegisterActionAttr::get(
            b.getContext(), NVVM::SetMaxRegisterAction::decrease));
    // One thread issues every copy; the others of the warpgroup are done.
    Value elected = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                          tid, idx(0));
    auto ifOp = scf::IfOp::create(b, loc, elected, /*withElse=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    return emitTiles(role, roles.getProducer().front());
  }

  NVVM::SetMaxRegisterOp::create(
      b, loc, b.getI32IntegerAttr(plan.consumerRegisters),
      NVVM::SetMaxRegisterActionAttr::get(
          b.getContext(), NVVM::SetMaxRegisterAction::increase));
  // c = tid / 128 - 1; warp w, lane l within the warpgroup.
  Value local = arith::RemUIOp::create(b, loc, tid, idx(128));
  Value warp = arith::DivUIOp::create(b, loc, local, idx(32));
  Value lane = arith::RemUIOp::create(b, loc, local, idx(32));
  Value quad = arith::RemUIOp::create(b, loc, lane, idx(4));
  lanes.consumer = arith::SubIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, tid, idx(128)), idx(1));
  // rowInGroup = 16w + l/4; rowInTile = 64c + rowInGroup
  lanes.rowInGroup = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, warp, idx(16)),
      arith::DivUIOp::create(b, loc, lane, idx(4)));
  lanes.rowInTile = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, lanes.consumer, idx(64)),
      lanes.rowInGroup);
  lanes.laneColumn = toI32(arith::MulIOp::create(b, loc, quad, idx(2)));
  lanes.quadLeader =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, quad, idx(0));
  if (plan.pingPong) {
    // Consumer c waits on named barrier 1 + c and hands the turn to
    // consumer (c + 1) mod n; the last one opens the first turn.
    Value c = toI32(lanes.consumer);
    int64_t n = plan.consumers;
    lanes.turnBarrier = arith::AddIOp::create(b, loc, c, wg.i32(1));
    lanes.nextTurnBarrier = arith::AddIOp::create(
        b, loc,
        arith::RemUIOp::create(b, loc,
                               arith::AddIOp::create(b, loc, c, wg.i32(1)),
                               wg.i32(n)),
        wg.i32(1));
    Value last = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, c,
                                       wg.i32(n - 1));
    auto opener = scf::IfOp::create(b, loc, last, /*withElse=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(opener.thenBlock()->getTerminator());
    NVVM::BarrierArriveOp::create(b, loc, wg.i32(1), wg.i32(256));
  }
  lanes.address = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, smem);
  // Descriptors of each 2-D channel part's slot 0 (SwizzledRows: rows of
  // W = 128, 64 or 32 bytes): 8-row groups 8·W bytes apart; a part an MMA
  // reads MN-major (the forward's V) has its chunks of W/2 columns
  // rows·W bytes apart along M or N (the leading byte offset; unused by
  // K-major reads, 16 there).
  auto addressOf = [&](int64_t offset) {
    return arith::IndexCastOp::create(
        b, loc, b.getI64Type(),
        arith::AddIOp::create(b, loc, lanes.address,
                              arith::AddIOp::create(b, loc, base, idx(offset))));
  };
  for (Value channel : channelList) {
    ChannelResources &res = channels[channel];
    res.descriptor.clear();
    for (auto [part, offset] : llvm::enumerate(res.offset)) {
      if (res.tensorMap[part] < 0) {
        res.descriptor.push_back(Value()); // rank-1: read by the threads
        continue;
      }
      SwizzledRows layout = res.layout[part];
      res.descriptor.push_back(
          wg.descriptor(addressOf(offset), res.leadingBytes[part],
                        layout.atomBytes(), layout.descriptorMode()));
    }
  }
  findRowPartials(roles.getConsumer());
  if (failed(emitTiles(role, roles.getConsumer().front())))
    return failure();
  // The last TMA store (O's, or dQ's reduce-add) must have read its shared
  // memory before the CTA exits.
  if (plan.storesThroughTma() || dqMap >= 0)
    onLeader(threadConsumerLeader()[2], [&] {
      NVVM::CpAsyncBulkWaitGroupOp::create(b, loc, 0, b.getUnitAttr());
    });
  return success();
}

LogicalResult KernelLowering::emitTiles(Role role, Block &body) {
  if (role == Role::Consumer)
    mapping.map(roles.getConsumer().getArgument(0), lanes.consumer);
  if (!plan.ctas)
    return emitOps(body, role);
  // for t = blockIdx.x; t < tiles; t += ctas, carrying the ring's count and
  // this CTA's tile number, in the order the hardware launches a grid
  // (q-block fastest):
  //   q-block = last - t mod QB, head = (t / QB) mod H, seq = t / (QB·H)
  // so the CTAs running at once share a head and its K/V stays in L2 (an
  // order with the head fastest re-read K/V from HBM per tile and measured
  // 3-12% slower), and each head's longest causal tiles come first.
  if (plan.pairedTiles)
    return emitPairedTiles(role, body);
  SmallVector<Value, 3> ub = grid.getUpperBounds();
  LogicalResult result = success();
  SmallVector<Value> carried = ringCounts();
  carried.push_back(idx(0));
  buildFor(ctaId, workUnits, idx(plan.ctas), carried,
           [&](Value tile, ValueRange args) {
             Value headsAndQBlocks = arith::MulIOp::create(b, loc, ub[1], ub[2]);
             Value seq = arith::DivUIOp::create(b, loc, tile, headsAndQBlocks);
             Value head = arith::RemUIOp::create(
                 b, loc, arith::DivUIOp::create(b, loc, tile, ub[2]), ub[1]);
             Value qBlock = arith::SubIOp::create(
                 b, loc, arith::SubIOp::create(b, loc, ub[2], idx(1)),
                 arith::RemUIOp::create(b, loc, tile, ub[2]));
             if (failed(emitTileIteration(role, body, args, {seq, head, qBlock})))
               result = failure();
           });
  return result;
}

LogicalResult KernelLowering::emitTileIteration(Role role, Block &body,
                                                ValueRange args,
                                                std::array<Value, 3> tile) {
  for (auto [iv, value] : llvm::zip(grid.getInductionVars(), tile))
    mapping.map(iv, value);
  setRingCounts(args);
  tileIter = args.front();
  LogicalResult result = emitOps(body, role);
  SmallVector<Value> yields = ringCounts();
  yields.push_back(arith::AddIOp::create(b, loc, tileIter, idx(1)));
  scf::YieldOp::create(b, loc, yields);
  return result;
}

LogicalResult KernelLowering::emitPairedTiles(Role role, Block &body) {
  // Masked programs: for u = blockIdx.x; u < units; u += ctas, over pairs of
  // one head's q-blocks whose causal costs sum to QB + 1 KV blocks, in the
  // hardware's order (pair fastest, so that the CTAs running at once share a
  // head's K/V in L2):
  //   P = ceil(QB / 2), p = u mod P, head = (u / P) mod H, seq = u / (P·H)
  //   tiles: q-block QB - 1 - p (the longer first), then p if p < QB - 1 - p
  // (the carried tile number n counts tiles, for the Q barriers' phases).
  SmallVector<Value, 3> ub = grid.getUpperBounds();
  Value pairs = constantOr(
      ub[2], [](int64_t qb) { return (qb + 1) / 2; },
      [&] { return arith::CeilDivUIOp::create(b, loc, ub[2], idx(2)); });
  Value lastQBlock = constantOr(
      ub[2], [](int64_t qb) { return qb - 1; },
      [&] { return arith::SubIOp::create(b, loc, ub[2], idx(1)); });
  LogicalResult result = success();
  SmallVector<Value> carried = ringCounts();
  carried.push_back(idx(0));
  buildFor(
      ctaId, workUnits, idx(plan.ctas), carried,
      [&](Value unit, ValueRange args) {
        Value seq = arith::DivUIOp::create(
            b, loc, unit, arith::MulIOp::create(b, loc, pairs, ub[1]));
        Value head = arith::RemUIOp::create(
            b, loc, arith::DivUIOp::create(b, loc, unit, pairs), ub[1]);
        Value pair = arith::RemUIOp::create(b, loc, unit, pairs);
        Value longer = arith::SubIOp::create(b, loc, lastQBlock, pair);
        Value two = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                          pair, longer);
        Value members = arith::SelectOp::create(b, loc, two, idx(2), idx(1));
        auto inner = buildFor(
            idx(0), members, idx(1), args,
            [&](Value member, ValueRange args2) {
              Value first = arith::CmpIOp::create(
                  b, loc, arith::CmpIPredicate::eq, member, idx(0));
              Value qBlock =
                  arith::SelectOp::create(b, loc, first, longer, pair);
              if (failed(emitTileIteration(role, body, args2,
                                           {seq, head, qBlock})))
                result = failure();
            });
        scf::YieldOp::create(b, loc, inner.getResults());
      });
  return result;
}

//===----------------------------------------------------------------------===//
// Values through loops and conditionals
//===----------------------------------------------------------------------===//

int64_t flashmlir::hopper::fragmentRegisters(RankedTensorType type) {
  auto layout = dyn_cast_or_null<attn::LayoutAttr>(type.getEncoding());
  int64_t blocks = rowBlocks(type.getDimSize(0));
  if (!layout || type.getRank() == 1)
    return 2 * blocks;
  int64_t n = type.getDimSize(1);
  return blocks *
         (layout.getKind() == attn::LayoutKind::OperandA ? n / 4 : n / 2);
}

static bool isShared(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  auto layout = tensor ? dyn_cast_or_null<attn::LayoutAttr>(tensor.getEncoding())
                       : nullptr;
  return layout && layout.getKind() == attn::LayoutKind::Shared;
}

SmallVector<Value> KernelLowering::poisonValues(Value poison) {
  // Values of a branch that ran no block: never read.
  SmallVector<Value> zeros;
  for (Type t : flattenTypes(poison))
    zeros.push_back(t.isIndex()        ? idx(0)
                    : t.isInteger(32) ? wg.i32(0)
                    : t.isInteger(64) ? wg.i64(0)
                                      : wg.f32(0));
  return zeros;
}

SmallVector<Value> KernelLowering::flatten(Value v) {
  // A poison a canonicalization hoisted out of the roles: fresh values at
  // each use (a binding could be out of scope at the next).
  if (auto poison = v.getDefiningOp<ub::PoisonOp>();
      poison && !grid->isAncestor(poison))
    return poisonValues(v);
  if (isa<attn::TokenType>(v.getType()))
    return {tokenStage.lookup(v)};
  auto it = frags.find(v);
  if (it == frags.end())
    return {mapped(v)};
  Fragment &f = it->second;
  if (f.kind == Fragment::Shared)
    return {f.descriptor, f.offset};
  if (f.kind == Fragment::Pending) {
    // An SS MMA carried in flight: its registers as they are.
    f.regs = unpackPending(f);
    f.kind = Fragment::Registers;
  }
  return f.regs;
}

SmallVector<Type> KernelLowering::flattenTypes(Value v) {
  Type type = v.getType();
  if (isa<attn::TokenType>(type))
    return {b.getIndexType()};
  if (auto async = dyn_cast<attn::AsyncType>(type))
    type = async.getValue();
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return {type};
  if (isShared(tensor))
    return {b.getI64Type(), b.getIndexType()};
  auto layout = cast<attn::LayoutAttr>(tensor.getEncoding());
  Type reg = layout.getKind() == attn::LayoutKind::OperandA
                 ? Type(b.getI32Type())
                 : Type(b.getF32Type());
  return SmallVector<Type>(fragmentRegisters(tensor), reg);
}

void KernelLowering::bind(Value v, ValueRange &from, const Fragment *like) {
  int64_t n = flattenTypes(v).size();
  ValueRange values = from.take_front(n);
  from = from.drop_front(n);
  if (isa<attn::TokenType>(v.getType())) {
    tokenStage[v] = values[0];
    return;
  }
  Type type = v.getType();
  if (auto async = dyn_cast<attn::AsyncType>(type))
    type = async.getValue();
  if (!isa<RankedTensorType>(type)) {
    mapping.map(v, values[0]);
    return;
  }
  Fragment f;
  if (isShared(type)) {
    f.kind = Fragment::Shared;
    f.descriptor = values[0];
    f.offset = values[1];
    f.chunkBytes = like ? like->chunkBytes : 0;
    // The layout of the tile's rows (its width), whatever `like` is: a
    // loop-carried V may start as a poison placeholder.
    f.layout = SwizzledRows::forWidth(cast<RankedTensorType>(type).getDimSize(1));
  } else {
    f.regs.assign(values.begin(), values.end());
    f.quadPartial = rowPartials.contains(v);
  }
  frags[v] = f;
}

LogicalResult KernelLowering::emitFor(scf::ForOp loop, Role role) {
  SmallVector<Value> inits;
  SmallVector<Fragment> likes;
  for (auto [init, arg] :
       llvm::zip(loop.getInitArgs(), loop.getRegionIterArgs())) {
    awaitTile(init);
    SmallVector<Value> flat = registersAs(init, rowPartials.contains(arg));
    inits.append(flat.begin(), flat.end());
    likes.push_back(frags.lookup(init));
  }
  llvm::append_range(inits, ringCounts());
  LogicalResult result = success();
  auto newLoop = buildFor(
      mapped(loop.getLowerBound()), mapped(loop.getUpperBound()),
      mapped(loop.getStep()), inits, [&](Value iv, ValueRange args) {
        mapping.map(loop.getInductionVar(), iv);
        for (auto [arg, like] : llvm::zip(loop.getRegionIterArgs(), likes))
          bind(arg, args, &like);
        setRingCounts(args);
        if (failed(emitOps(*loop.getBody(), role)))
          result = failure();
        SmallVector<Value> yields;
        for (auto [v, arg] :
             llvm::zip(loop.getBody()->getTerminator()->getOperands(),
                       loop.getRegionIterArgs())) {
          awaitTile(v);
          SmallVector<Value> flat = registersAs(v, rowPartials.contains(arg));
          yields.append(flat.begin(), flat.end());
        }
        llvm::append_range(yields, ringCounts());
        scf::YieldOp::create(b, loc, yields);
      });
  ValueRange results = newLoop.getResults();
  for (auto [res, like] : llvm::zip(loop.getResults(), likes))
    bind(res, results, &like);
  setRingCounts(results);
  return result;
}

LogicalResult KernelLowering::emitIf(scf::IfOp ifOp, Role role) {
  // The results' static shape (a shared tile's chunk stride) from the first
  // branch that defines it.
  SmallVector<Fragment> likes(ifOp.getNumResults());
  SmallVector<Type> types;
  for (Value r : ifOp.getResults()) {
    SmallVector<Type> t = flattenTypes(r);
    types.append(t.begin(), t.end());
  }
  types.append(rings.size(), b.getIndexType());
  bool withElse = !ifOp.getElseRegion().empty() || ifOp.getNumResults();
  auto newIf = scf::IfOp::create(b, loc, types, mapped(ifOp.getCondition()),
                                 /*withElseRegion=*/true);
  SmallVector<Value> countsBefore = ringCounts();
  LogicalResult result = success();
  auto branch = [&](Region &src, Block *dst) {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(dst);
    ValueRange before(countsBefore);
    setRingCounts(before);
    SmallVector<Value> yields;
    if (!src.empty()) {
      if (failed(emitOps(src.front(), role)))
        result = failure();
      for (auto [i, v] :
           llvm::enumerate(src.front().getTerminator()->getOperands())) {
        awaitTile(v);
        if (auto it = frags.find(v);
            it != frags.end() && it->second.kind == Fragment::Shared &&
            it->second.chunkBytes)
          likes[i] = it->second;
        SmallVector<Value> flat =
            registersAs(v, rowPartials.contains(ifOp.getResult(i)));
        yields.append(flat.begin(), flat.end());
      }
    }
    llvm::append_range(yields, ringCounts());
    scf::YieldOp::create(b, loc, yields);
  };
  branch(ifOp.getThenRegion(), newIf.thenBlock());
  branch(ifOp.getElseRegion(), newIf.elseBlock());
  (void)withElse;
  ValueRange results = newIf.getResults();
  for (auto [res, like] : llvm::zip(ifOp.getResults(), likes))
    bind(res, results, &like);
  setRingCounts(results);
  return result;
}

//===----------------------------------------------------------------------===//
// The walk
//===----------------------------------------------------------------------===//

LogicalResult KernelLowering::emitOps(Block &src, Role role, bool ownScope) {
  // MMAs complete in issue order; the waits of this block count the ones
  // issued in it.
  SmallVector<Value> outerFlight;
  bool outerDrained = drained, outerComplete = enclosingComplete;
  if (ownScope) {
    outerFlight = std::move(inFlight);
    inFlight.clear();
    drained = false;
    // The enclosing blocks' MMAs stay in flight here until a wait.
    enclosingFlight.push_back(&outerFlight);
    enclosingComplete = false;
  }
  // A loop body's shared tiles carried to the next block (the V of a
  // deferred or overlapped P·V) are awaited before the block's last MMA wait,
  // not at the yield: the full barrier's try_wait then overlaps the tensor
  // cores instead of following them (d=256 causal 8k on an H100: 629 -> 640
  // TFLOP/s, the old generator's placement).
  Operation *lastWait = nullptr;
  if (isa<scf::ForOp>(src.getParentOp()))
    for (Operation &op : src.without_terminator())
      if (isa<attn::MmaWaitOp>(op))
        lastWait = &op;
  LogicalResult result = success();
  for (Operation &op : src.without_terminator()) {
    bool isMma = isa<attn::MmaAsyncOp, attn::ConsumerTurnOp>(op);
    if (&op == lastWait)
      for (Value carried : src.getTerminator()->getOperands())
        awaitTile(carried);
    LogicalResult r =
        llvm::TypeSwitch<Operation *, LogicalResult>(&op)
            .Case<bufferization::AllocTensorOp, attn::TileLoadOp>(
                [&](Operation *) { return success(); })
            .Case([&](attn::ChannelPutOp put) { return emitPut(put); })
            .Case([&](attn::ChannelGetOp get) { return emitGet(get); })
            .Case([&](attn::ChannelReleaseOp release) {
              return emitRelease(release);
            })
            .Case([&](tensor::ExtractSliceOp slice) -> LogicalResult {
              // The consumer's rows of a shared tile: rows [o, o + 64) at
              // o·W bytes within each chunk (W: its rows' bytes); its
              // columns [c, c + n): whole chunks (c and n multiples of the
              // chunk's columns), chunk c/C at (c/C)·chunkBytes.
              Fragment f = frags.lookup(slice.getSource());
              if (f.kind != Fragment::Shared)
                return slice.emitOpError()
                       << "attn-convert-to-nvgpu: slices of shared tiles only";
              int64_t chunkColumns = f.layout.columns();
              auto sourceType =
                  cast<RankedTensorType>(slice.getSource().getType());
              OpFoldResult col = slice.getMixedOffsets()[1];
              std::optional<int64_t> staticCol = getConstantIntValue(col);
              int64_t width = slice.getResultType().getDimSize(1);
              if (width != sourceType.getDimSize(1) &&
                  (width % chunkColumns ||
                   (staticCol && *staticCol % chunkColumns)))
                return slice.emitOpError()
                       << "attn-convert-to-nvgpu: a slice of a shared tile's "
                          "columns takes whole chunks of "
                       << chunkColumns << " columns";
              awaitTile(slice.getSource());
              OpFoldResult row = slice.getMixedOffsets()[0];
              Value firstRow = isa<Value>(row)
                                   ? mapped(cast<Value>(row))
                                   : idx(*getConstantIntValue(row));
              Value bytes = arith::MulIOp::create(b, loc, firstRow,
                                                  idx(f.layout.bytes));
              if (!staticCol || *staticCol)
                bytes = arith::AddIOp::create(
                    b, loc, bytes,
                    arith::MulIOp::create(
                        b, loc,
                        arith::DivUIOp::create(
                            b, loc,
                            staticCol ? idx(*staticCol)
                                      : mapped(cast<Value>(col)),
                            idx(chunkColumns)),
                        idx(f.chunkBytes)));
              f.descriptor = wg.advance(
                  f.descriptor,
                  arith::IndexCastOp::create(b, loc, b.getI64Type(), bytes)
                      .getResult());
              f.offset = arith::AddIOp::create(b, loc, f.offset, bytes);
              frags[slice.getResult()] = f;
              return success();
            })
            .Case([&](attn::TileGatherOp gather) { return emitGather(gather); })
            .Case([&](ub::PoisonOp poison) {
              SmallVector<Value> zeros = poisonValues(poison.getResult());
              ValueRange values(zeros);
              bind(poison.getResult(), values);
              return success();
            })
            .Case([&](attn::TileFillOp fill) {
              emitFill(fill);
              return success();
            })
            .Case([&](attn::TileStageOp stage) { return emitStage(stage); })
            .Case([&](attn::MmaAsyncOp mma) { return emitMma(mma); })
            .Case([&](attn::MmaWaitOp wait) {
              emitWait(wait);
              return success();
            })
            .Case([&](attn::MmaReadyOp op) {
              frags[op.getResult()] = frags.lookup(op.getValue());
              ready.insert(op.getResult());
              return success();
            })
            .Case([&](attn::ConsumerTurnOp turn) { return emitTurn(turn, role); })
            .Case([&](attn::TileReduceOp reduce) {
              emitReduce(reduce);
              return success();
            })
            .Case([&](attn::TileMapOp map) { return emitMap(map); })
            .Case([&](attn::TileMaskOp mask) {
              emitMask(mask);
              return success();
            })
            .Case([&](attn::TileScoreModOp mod) {
              emitScoreMod(mod);
              return success();
            })
            .Case([&](attn::TileStoreOp store) { return emitStore(store); })
            .Case([&](scf::ForOp loop) { return emitFor(loop, role); })
            .Case([&](scf::IfOp ifOp) { return emitIf(ifOp, role); })
            .Default([&](Operation *other) -> LogicalResult {
              // Index arithmetic and reads of cu_seqlens, shapes and
              // block-mask lists.
              // Tiles are converted by their ops above, never cloned.
              bool tiles = llvm::any_of(other->getResultTypes(), [](Type t) {
                return isa<TensorType, attn::AsyncType, attn::TokenType,
                           attn::ChannelType>(t);
              });
              if (other->getNumRegions() || tiles ||
                  isa_and_nonnull<attn::AttnDialect>(other->getDialect()) ||
                  (!isMemoryEffectFree(other) &&
                   !isa<memref::LoadOp, memref::DimOp>(other)))
                return other->emitOpError()
                       << "attn-convert-to-nvgpu: unexpected op in a role";
              b.clone(*other, mapping);
              return success();
            });
    lastWasMma = isMma;
    if (failed(r)) {
      // What follows may read the failed op's results.
      result = failure();
      break;
    }
  }
  if (ownScope) {
    enclosingFlight.pop_back();
    enclosingComplete = outerComplete;
    inFlight = std::move(outerFlight);
    drained = outerDrained;
  }
  return result;
}
