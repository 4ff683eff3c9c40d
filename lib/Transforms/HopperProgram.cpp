//===- HopperProgram.cpp - The program walk, per role -----------------------===//
//
// Part of the --attn-lower-to-hopper emitter (HopperKernelEmitter.h).
//
//===----------------------------------------------------------------------===//

#include "HopperKernelEmitter.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace flashmlir;
using namespace flashmlir::hopper;

//===----------------------------------------------------------------------===//
// The walk over the program body
//===----------------------------------------------------------------------===//

LogicalResult HopperKernelEmitter::emitOps(Block &src, Role role,
                                           RoleState &state) {
  for (Operation &op : src.without_terminator()) {
    LogicalResult result =
        llvm::TypeSwitch<Operation *, LogicalResult>(&op)
            .Case<tensor::EmptyOp, bufferization::AllocTensorOp>(
                [&](Operation *) { return success(); })
            .Case([&](scf::IfOp ifOp) -> LogicalResult {
              if (ifOp.getNumResults() || !ifOp.getElseRegion().empty())
                return ifOp.emitOpError()
                       << "attn-lower-to-hopper: unexpected conditional in "
                          "the program";
              auto guard = scf::IfOp::create(
                  b, loc, mapped(ifOp.getCondition()), /*withElse=*/false);
              OpBuilder::InsertionGuard g(b);
              b.setInsertionPoint(guard.thenBlock()->getTerminator());
              return emitOps(*ifOp.thenBlock(), role, state);
            })
            .Case([&](scf::ForOp loop) -> LogicalResult {
              if (role == Role::Consumer && plan.pv == PvSchedule::Overlap &&
                  !prologueSkips.count(loop)) {
                SmallVector<scf::ForOp> loops(src.getOps<scf::ForOp>());
                if (failed(emitOverlapPrologue(loops, state)))
                  return failure();
              }
              return emitKvLoop(loop, role, state);
            })
            .Case([&](attn::TileLoadOp load) {
              // K/V loads are issued with their block_update.
              if (!isa<scf::ForOp>(load->getParentOp()))
                emitQueryLoad(load, role);
              return success();
            })
            .Case([&](attn::BlockInitOp) {
              if (role == Role::Consumer) {
                // m = -inf, l = 0, O = 0
                Value negInf =
                    wg.f32(-std::numeric_limits<double>::infinity());
                state.max[0] = state.max[1] = negInf;
                state.sum[0] = state.sum[1] = wg.f32(0);
                state.acc.assign(plan.headDimV / 2, wg.f32(0));
                if (plan.pv == PvSchedule::Overlap)
                  state.pendingP.assign(plan.blockN / 4, wg.i32(0));
              }
              state.tileStart = state.count;
              prologueSkips.clear();
              return success();
            })
            .Case([&](attn::BlockUpdateOp) -> LogicalResult {
              return op.emitOpError()
                     << "attn-lower-to-hopper: block_update outside a KV loop";
            })
            .Case([&](attn::BlockFinalizeOp finalize) {
              if (role == Role::Consumer)
                emitEpilogue(finalize, state);
              return success();
            })
            .Default([&](Operation *other) -> LogicalResult {
              // Index arithmetic and reads of cu_seqlens / shapes.
              if (other->getNumRegions() ||
                  (!isMemoryEffectFree(other) &&
                   !isa<memref::LoadOp, memref::DimOp>(other)))
                return other->emitOpError()
                       << "attn-lower-to-hopper: unexpected op in the program";
              b.clone(*other, mapping);
              return success();
            });
    if (failed(result))
      return failure();
  }
  return success();
}

std::array<Value, 3> HopperKernelEmitter::ringPosition(Value count) {
  Value stage = arith::RemUIOp::create(b, loc, count, idx(plan.stages));
  Value round = arith::DivUIOp::create(b, loc, count, idx(plan.stages));
  Value parity = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ne,
      arith::RemUIOp::create(b, loc, round, idx(2)), idx(0));
  return {stage, round, parity};
}

LogicalResult HopperKernelEmitter::emitKvBody(
    scf::ForOp loop, function_ref<void(attn::BlockUpdateOp)> onUpdate) {
  LogicalResult result = success();
  for (Operation &op : loop.getBody()->without_terminator()) {
    if (isa<attn::TileLoadOp, tensor::EmptyOp, bufferization::AllocTensorOp>(
            op))
      continue;
    if (auto update = dyn_cast<attn::BlockUpdateOp>(op)) {
      onUpdate(update);
      continue;
    }
    // Index arithmetic, and reads of a block mask's lists.
    if (op.getNumRegions() ||
        (!isMemoryEffectFree(&op) && !isa<memref::LoadOp>(op))) {
      result = op.emitOpError()
               << "attn-lower-to-hopper: unexpected op in a KV loop";
      continue;
    }
    b.clone(op, mapping);
  }
  return result;
}

LogicalResult HopperKernelEmitter::emitOverlapPrologue(
    MutableArrayRef<scf::ForOp> loops, RoleState &state) {
  // The KV loops of attn-tile differ only in their bounds and in `masked`:
  // the first loop's body stands for any of them (the prologue masks).
  scf::ForOp body = loops.front();
  for (scf::ForOp loop : loops) {
    auto &ops = loop.getBody()->getOperations();
    auto &ref = body.getBody()->getOperations();
    if (ops.size() != ref.size() ||
        !llvm::all_of(llvm::zip(ops, ref), [](auto pair) {
          return std::get<0>(pair).getName() == std::get<1>(pair).getName();
        }))
      return loop.emitOpError()
             << "attn-lower-to-hopper: pv_schedule = \"overlap\" needs KV "
                "loops with the same body (attn-tile's)";
  }
  // The tile's first block: the lower bound of the first non-empty loop;
  // that loop starts one block later (skip = 1).
  Value any = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0);
  Value first = mapped(body.getLowerBound());
  for (scf::ForOp loop : loops) {
    Value lb = mapped(loop.getLowerBound());
    Value nonEmpty = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                           lb, mapped(loop.getUpperBound()));
    Value isFirst = arith::AndIOp::create(
        b, loc, nonEmpty,
        arith::XOrIOp::create(
            b, loc, any,
            arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1)));
    first = arith::SelectOp::create(b, loc, isFirst, lb, first);
    prologueSkips[loop] = arith::IndexCastOp::create(
        b, loc, b.getIndexType(),
        arith::ExtUIOp::create(b, loc, b.getI32Type(), isFirst));
    any = arith::OrIOp::create(b, loc, any, nonEmpty);
  }

  // if (any) { block `first`: Q·Kᵀ, softmax } -> m, l, P; count += any.
  RoleState out = state;
  SmallVector<Value> carried{state.max[0], state.max[1], state.sum[0],
                             state.sum[1]};
  carried.append(state.pendingP.begin(), state.pendingP.end());
  auto ifOp = scf::IfOp::create(b, loc, ValueRange(carried).getTypes(), any,
                                /*withElse=*/true);
  LogicalResult result = success();
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    mapping.map(body.getInductionVar(), first);
    RoleState inner = state;
    result = emitKvBody(body, [&](attn::BlockUpdateOp update) {
      auto [stage, round, parity] = ringPosition(state.count);
      emitConsumerBlock(update, stage, parity, inner, /*prologue=*/true);
    });
    SmallVector<Value> yielded{inner.max[0], inner.max[1], inner.sum[0],
                               inner.sum[1]};
    yielded.append(inner.pendingP.begin(), inner.pendingP.end());
    scf::YieldOp::create(b, loc, yielded);
    b.setInsertionPointToStart(ifOp.elseBlock());
    scf::YieldOp::create(b, loc, carried);
  }
  ValueRange r = ifOp.getResults();
  state.max[0] = r[0], state.max[1] = r[1], state.sum[0] = r[2],
  state.sum[1] = r[3];
  state.pendingP.assign(r.begin() + 4, r.end());
  state.count = arith::AddIOp::create(
      b, loc, state.count,
      arith::IndexCastOp::create(
          b, loc, b.getIndexType(),
          arith::ExtUIOp::create(b, loc, b.getI32Type(), any)));
  return result;
}

LogicalResult HopperKernelEmitter::emitKvLoop(scf::ForOp loop, Role role,
                                              RoleState &state) {
  attn::BlockUpdateOp update;
  for (Operation &op : *loop.getBody())
    if (auto u = dyn_cast<attn::BlockUpdateOp>(op))
      update = u;
  if (!update)
    return loop.emitOpError()
           << "attn-lower-to-hopper: expected a KV-block loop of attn-tile";

  LogicalResult result = success();
  Value lowerBound = mapped(loop.getLowerBound());
  if (Value skip = prologueSkips.lookup(loop); skip && role == Role::Consumer)
    lowerBound = arith::AddIOp::create(
        b, loc, lowerBound,
        arith::MulIOp::create(b, loc, skip, mapped(loop.getStep())));
  auto newLoop = buildFor(
      lowerBound, mapped(loop.getUpperBound()), mapped(loop.getStep()),
      state.flatten(), [&](Value iv, ValueRange args) {
        mapping.map(loop.getInductionVar(), iv);
        RoleState inner = state;
        inner.assign(args);
        LogicalResult body = emitKvBody(loop, [&](attn::BlockUpdateOp u) {
          auto [stage, round, parity] = ringPosition(inner.count);
          if (role == Role::Producer)
            emitProducerBlock(u, stage, round);
          else
            emitConsumerBlock(u, stage, parity, inner);
          inner.count = arith::AddIOp::create(b, loc, inner.count, idx(1));
        });
        if (failed(body))
          result = failure();
        scf::YieldOp::create(b, loc, inner.flatten());
      });
  state.assign(newLoop.getResults());
  // A deferred P·V of the loop's last block completes here: accumulators in
  // flight must not flow through the loop's results into the next loop
  // (ptxas would serialize every wgmma, C7515).
  if (role == Role::Consumer && plan.pv == PvSchedule::Deferred)
    wg.waitGroup(0);
  return result;
}

LogicalResult HopperKernelEmitter::emitRole(Role role, Block &program) {
  RoleState state;
  state.count = idx(0);
  if (role == Role::Producer) {
    NVVM::SetMaxRegisterOp::create(
        b, loc,
        b.getI32IntegerAttr(plan.producerRegisters),
        NVVM::SetMaxRegisterActionAttr::get(
            b.getContext(), NVVM::SetMaxRegisterAction::decrease));
    // One thread issues every copy; the others of the warpgroup are done.
    Value elected = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                          tid, idx(0));
    auto ifOp = scf::IfOp::create(b, loc, elected, /*withElse=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    return emitTiles(program, role, state);
  }

  NVVM::SetMaxRegisterOp::create(
      b, loc,
      b.getI32IntegerAttr(plan.consumerRegisters),
      NVVM::SetMaxRegisterActionAttr::get(
          b.getContext(), NVVM::SetMaxRegisterAction::increase));
  // c = tid / 128 - 1; warp w, lane l within the warpgroup.
  Value local = arith::RemUIOp::create(b, loc, tid, idx(128));
  Value warp = arith::DivUIOp::create(b, loc, local, idx(32));
  Value lane = arith::RemUIOp::create(b, loc, local, idx(32));
  Value quad = arith::RemUIOp::create(b, loc, lane, idx(4));
  lanes.consumer = arith::SubIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, tid, idx(128)), idx(1));
  // rowInTile = 64c + 16w + l/4
  lanes.rowInTile = arith::AddIOp::create(
      b, loc,
      arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, lanes.consumer, idx(64)),
          arith::MulIOp::create(b, loc, warp, idx(16))),
      arith::DivUIOp::create(b, loc, lane, idx(4)));
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

  // Descriptors: K-major Q and K (rows of 128 bytes, 8-row groups 1024 bytes
  // apart); N-major V (its 64-column chunks BlockN·128 bytes apart).
  Value address = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, smem);
  auto addressOf = [&](Value offset) {
    return arith::IndexCastOp::create(
        b, loc, b.getI64Type(),
        arith::AddIOp::create(b, loc, address,
                              arith::AddIOp::create(b, loc, base, offset)));
  };
  Value qRows = arith::MulIOp::create(b, loc, lanes.consumer,
                                      idx(64 * kSwizzleBytes));
  lanes.qDesc = wg.descriptor(
      addressOf(arith::AddIOp::create(b, loc, qRows, idx(plan.qOffset))), 16,
      1024);
  lanes.kDesc = wg.descriptor(addressOf(idx(plan.kOffset)), 16, 1024);
  lanes.vDesc = wg.descriptor(addressOf(idx(plan.vOffset)),
                              plan.blockN * kSwizzleBytes, 1024);
  if (failed(emitTiles(program, role, state)))
    return failure();
  // The last TMA store must have read its shared memory before the CTA
  // exits.
  if (plan.storesThroughTma())
    onLeader(threadConsumerLeader()[2], [&] {
      NVVM::CpAsyncBulkWaitGroupOp::create(b, loc, 0, b.getUnitAttr());
    });
  return success();
}

LogicalResult HopperKernelEmitter::emitTiles(Block &program, Role role,
                                             RoleState &state) {
  if (!plan.ctas)
    return emitOps(program, role, state);
  // for t = blockIdx.x; t < tiles; t += ctas, carrying the ring's block
  // count and this CTA's tile number, in the order the hardware launches a
  // grid (q-block fastest):
  //   q-block = last - t mod QB, head = (t / QB) mod H, seq = t / (QB·H)
  // so the CTAs running at once share a head and its K/V stays in L2 (an
  // order with the head fastest re-read K/V from HBM per tile and measured
  // 3-12% slower), and each head's longest causal tiles come first.
  if (plan.pairedTiles)
    return emitPairedTiles(program, role, state);
  SmallVector<Value, 3> ub = grid.getUpperBounds();
  LogicalResult result = success();
  buildFor(
      ctaId, workUnits, idx(plan.ctas), ValueRange{state.count, idx(0)},
      [&](Value tile, ValueRange args) {
        Value headsAndQBlocks = arith::MulIOp::create(b, loc, ub[1], ub[2]);
        Value seq = arith::DivUIOp::create(b, loc, tile, headsAndQBlocks);
        Value head = arith::RemUIOp::create(
            b, loc, arith::DivUIOp::create(b, loc, tile, ub[2]), ub[1]);
        Value qBlock = arith::SubIOp::create(
            b, loc, arith::SubIOp::create(b, loc, ub[2], idx(1)),
            arith::RemUIOp::create(b, loc, tile, ub[2]));
        if (failed(emitTileIteration(program, role, state, args,
                                     {seq, head, qBlock})))
          result = failure();
      });
  return result;
}

LogicalResult HopperKernelEmitter::emitTileIteration(
    Block &program, Role role, RoleState &state, ValueRange args,
    std::array<Value, 3> tile) {
  for (auto [iv, value] : llvm::zip(grid.getInductionVars(), tile))
    mapping.map(iv, value);
  state.count = args[0];
  tileIter = args[1];
  LogicalResult result = emitOps(program, role, state);
  scf::YieldOp::create(
      b, loc,
      ValueRange{state.count, arith::AddIOp::create(b, loc, tileIter, idx(1))});
  return result;
}

LogicalResult HopperKernelEmitter::emitPairedTiles(Block &program, Role role,
                                                  RoleState &state) {
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
  buildFor(
      ctaId, workUnits, idx(plan.ctas), ValueRange{state.count, idx(0)},
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
            idx(0), members, idx(1), ValueRange{args[0], args[1]},
            [&](Value member, ValueRange args2) {
              Value first = arith::CmpIOp::create(
                  b, loc, arith::CmpIPredicate::eq, member, idx(0));
              Value qBlock =
                  arith::SelectOp::create(b, loc, first, longer, pair);
              if (failed(emitTileIteration(program, role, state, args2,
                                           {seq, head, qBlock})))
                result = failure();
            });
        scf::YieldOp::create(b, loc, inner.getResults());
      });
  return result;
}
