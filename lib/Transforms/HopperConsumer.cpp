//===- HopperConsumer.cpp - A consumer's KV block ---------------------------===//
//
// Part of the --attn-lower-to-hopper emitter (HopperKernelEmitter.h).
//
//===----------------------------------------------------------------------===//

#include "HopperKernelEmitter.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"
#include <cmath>
#include <limits>

using namespace mlir;
using namespace flashmlir;
using namespace flashmlir::hopper;

Value HopperKernelEmitter::stageOffset(Value stage, int64_t stageBytes) {
  Value stageI64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), stage);
  return arith::MulIOp::create(b, loc, stageI64, wg.i64(stageBytes));
}

SmallVector<Value> HopperKernelEmitter::packP(ArrayRef<Value> p) {
  // A of k-step t = P's registers 8t .. 8t+7 as four pairs.
  SmallVector<Value> a;
  for (int64_t r = 0; r + 1 < static_cast<int64_t>(p.size()); r += 2)
    a.push_back(wg.packPair(p[r], p[r + 1]));
  return a;
}

void HopperKernelEmitter::issuePv(SmallVector<Value> &acc, ArrayRef<Value> a,
                                  Value stage) {
  // O += P·V: BlockN/16 k-steps, A = four packed registers per step, B = 16
  // rows of V (2048 bytes) per step. No fence here: every A register must be
  // written before the caller's fence (a register written between two wgmma
  // makes ptxas fence again there, C7519, serializing the chain).
  Value vDesc =
      wg.advance(lanes.vDesc, stageOffset(stage, plan.vStageBytes));
  for (int64_t t = 0; t < plan.blockN / 16; ++t)
    acc = wg.mmaRegisterShared(acc, a.slice(4 * t, 4),
                               wg.advance(vDesc, t * 16 * kSwizzleBytes));
  wg.commitGroup();
}

void HopperKernelEmitter::emitConsumerBlock(attn::BlockUpdateOp op,
                                            Value stage, Value parity,
                                            RoleState &state, bool prologue) {
  int64_t n = plan.blockN;
  Value ticks = idx(10000000);
  bool overlap = plan.pv == PvSchedule::Overlap;
  // Block i = count; under a late release, block i - 1's stage is
  // (i + stages - 1) mod stages.
  Value previousStage = arith::RemUIOp::create(
      b, loc, arith::AddIOp::create(b, loc, state.count, idx(plan.stages - 1)),
      idx(plan.stages));

  // S = Q·Kᵀ: D/16 k-steps; step k reads 32 bytes into 64-column chunk k/4.
  nvgpu::MBarrierTryWaitParityOp::create(b, loc, kFull, parity, ticks, stage);
  Value kDesc = wg.advance(lanes.kDesc, stageOffset(stage, plan.kStageBytes));
  if (plan.pingPong) // my turn to issue
    NVVM::BarrierOp::create(b, loc, Type(), lanes.turnBarrier, wg.i32(256),
                            NVVM::BarrierReductionAttr(), Value());
  wg.fence();
  Value scores;
  for (int64_t k = 0; k < plan.headDim / 16; ++k) {
    int64_t chunk = k / 4, within = (k % 4) * 32;
    scores = wg.mmaSharedShared(
        scores,
        wg.advance(lanes.qDesc, chunk * plan.blockM * kSwizzleBytes + within),
        wg.advance(kDesc, chunk * n * kSwizzleBytes + within), n,
        /*accumulate=*/k > 0);
  }
  wg.commitGroup();
  // Overlap: the previous block's P·V right behind this Q·Kᵀ, in its own
  // group. Every loop block has a previous one (the prologue took the
  // tile's first): a P·V under a condition left accumulators in flight
  // through an scf.if, and ptxas then serialized every wgmma (C7515).
  if (overlap && !prologue)
    issuePv(state.acc, state.pendingP, previousStage);
  if (plan.pingPong) // the next consumer's turn
    NVVM::BarrierArriveOp::create(b, loc, lanes.nextTurnBarrier, wg.i32(256));
  // Serial and deferred: completes this S and (deferred) the previous
  // block's P·V, which ran back to back with this Q·Kᵀ; the previous
  // block's stage is then free. Overlap: completes only this S.
  wg.waitGroup(overlap && !prologue ? 1 : 0);
  nvgpu::MBarrierArriveOp::create(b, loc, kEmpty, stage);
  if (plan.pv == PvSchedule::Deferred) {
    Value notFirst = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt,
                                           state.count, idx(0));
    auto release = scf::IfOp::create(b, loc, notFirst, /*withElse=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(release.thenBlock()->getTerminator());
    nvgpu::MBarrierArriveOp::create(b, loc, vEmpty, previousStage);
  }
  SmallVector<Value> s = wg.unpack(scores, n);

  // Score transform before the max: softcap · tanh(s·scale / softcap).
  double scale = op.getScale().convertToDouble();
  double c = scale * kLog2E; // s·c is the base-2 logit
  bool scaled = false;       // s already holds s·scale (c = log2 e)
  if (FloatAttr softcap = op.getSoftcapAttr()) {
    double cap = softcap.getValueAsDouble();
    for (Value &x : s)
      x = arith::MulFOp::create(
          b, loc, wg.tanh(arith::MulFOp::create(b, loc, x, wg.f32(scale / cap))),
          wg.f32(cap));
    c = kLog2E, scaled = true;
  }
  // score_mod on the natural-domain score: s = score_mod(s·scale, seq, head,
  // q_idx, kv_idx), then s·log2 e is the base-2 logit.
  if (!op.getScoreMod().empty()) {
    ScorePositions positions = scorePositions(op);
    if (!scaled)
      for (Value &x : s)
        x = arith::MulFOp::create(b, loc, x, wg.f32(scale));
    c = kLog2E, scaled = true;
    for (auto [r, x] : llvm::enumerate(s))
      x = inlineModifier(op.getScoreMod(),
                         {x, positions.seq, positions.head,
                          positions.q[rowHalfOf(r)], kvIndex(positions, r)});
  }

  // Masking: boundary blocks (and the overlap prologue's, which may be
  // either) always; an interior block only when it is the ragged last one
  // (cols < BlockN), decided at run time.
  if (op.getMasked() || prologue) {
    s = maskScores(op, s);
  } else {
    Value ragged = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                         mapped(op.getCols()), idx(n));
    SmallVector<Type> types(s.size(), b.getF32Type());
    auto ifOp = scf::IfOp::create(b, loc, types, ragged, /*withElse=*/true);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      scf::YieldOp::create(b, loc, maskScores(op, s));
      b.setInsertionPointToStart(ifOp.elseBlock());
      scf::YieldOp::create(b, loc, s);
    }
    s.assign(ifOp.getResults().begin(), ifOp.getResults().end());
  }

  // m_new = max(m, c · rowmax(s)); m_safe = m_new, or 0 while the row has
  // seen only hidden keys (keeps -inf - -inf out);
  // alpha = exp2(m - m_safe); p = exp2(s·c - m_safe);
  // l = l·alpha + rowsum(p)   (per-thread partial, summed over the quad at
  // the end).
  Value negInf = wg.f32(-std::numeric_limits<double>::infinity());
  Value alpha[2], negSafe[2];
  for (int h = 0; h < 2; ++h) {
    Value rowMax = negInf;
    for (auto [r, x] : llvm::enumerate(s))
      if (rowHalfOf(r) == h)
        rowMax = arith::MaxNumFOp::create(b, loc, rowMax, x);
    rowMax = wg.quadMax(rowMax);
    Value mNew = arith::MaxNumFOp::create(
        b, loc, state.max[h], arith::MulFOp::create(b, loc, rowMax, wg.f32(c)));
    Value isEmpty =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, mNew, negInf);
    Value mSafe = arith::SelectOp::create(b, loc, isEmpty, wg.f32(0), mNew);
    alpha[h] = wg.exp2(arith::SubFOp::create(b, loc, state.max[h], mSafe));
    negSafe[h] = arith::NegFOp::create(b, loc, mSafe);
    state.max[h] = mNew;
  }
  SmallVector<Value> p;
  for (auto [r, x] : llvm::enumerate(s))
    p.push_back(wg.exp2(wg.fma(x, wg.f32(c), negSafe[rowHalfOf(r)])));
  for (int h = 0; h < 2; ++h) {
    Value sum = arith::MulFOp::create(b, loc, state.sum[h], alpha[h]);
    for (auto [r, x] : llvm::enumerate(p))
      if (rowHalfOf(r) == h)
        sum = arith::AddFOp::create(b, loc, sum, x);
    state.sum[h] = sum;
  }

  // This block's V must have landed before its P·V is issued (here, or with
  // the next Q·Kᵀ under overlap).
  nvgpu::MBarrierTryWaitParityOp::create(b, loc, vFull, parity, ticks, stage);
  auto rescale = [&] {
    for (auto [r, x] : llvm::enumerate(state.acc))
      x = arith::MulFOp::create(b, loc, x, alpha[rowHalfOf(r)]);
  };
  if (overlap) {
    // O = (O + P_{i-1}·V_{i-1})·alpha_i once that P·V is done (the
    // prologue's O is still 0); P_i waits for the next Q·Kᵀ or the epilogue.
    // P_i is packed only once P·V_{i-1} is done: the carried P registers are
    // that P·V's inputs, and writing them while it runs made ptxas
    // serialize every wgmma (C7513).
    if (!prologue) {
      wg.waitGroup(0);
      nvgpu::MBarrierArriveOp::create(b, loc, vEmpty, previousStage);
      rescale();
    }
    state.pendingP = packP(p);
    return;
  }
  // O = O·alpha + P·V.
  rescale();
  SmallVector<Value> a = packP(p);
  wg.fence();
  issuePv(state.acc, a, stage);
  if (plan.pv == PvSchedule::Deferred)
    return; // in flight: the next block's wait (or the loop's) completes it
  wg.waitGroup(0);
  nvgpu::MBarrierArriveOp::create(b, loc, vEmpty, stage);
}
