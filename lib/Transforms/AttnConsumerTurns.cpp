//===- AttnConsumerTurns.cpp - --attn-consumer-turns -----------------------===//
//
// The fourth stage of --attn-warp-specialize, for plans with ping_pong: the
// consumer warpgroups take turns to issue their MMAs, so that one
// warpgroup's Q·Kᵀ runs on the tensor cores while another computes its
// softmax (FlashAttention-3's inter-warpgroup overlap). Each run of
// asynchronous MMAs that starts with a Q·Kᵀ (a transposed right-hand side:
// under the overlapped schedule the previous block's P·V follows it) is
// wrapped into an attn.consumer_turn yielding the runs' results.
//
//===----------------------------------------------------------------------===//

#include "HopperPlan.h"

#include "flashmlir/Transforms/Passes.h"

#include "attn/Attn.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNCONSUMERTURNSPASS
#include "flashmlir/Transforms/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

/// Wraps [first, last] (consecutive ops of one block) into a consumer_turn.
static void wrapInTurn(ArrayRef<Operation *> run) {
  OpBuilder b(run.front());
  SmallVector<Value> results;
  for (Operation *op : run)
    results.append(op->getResults().begin(), op->getResults().end());
  auto turn = attn::ConsumerTurnOp::create(b, run.front()->getLoc(),
                                           ValueRange(results).getTypes());
  Block *body = new Block();
  turn.getBody().push_back(body);
  for (Operation *op : run)
    op->moveBefore(body, body->end());
  OpBuilder::atBlockEnd(body).create<attn::YieldOp>(run.front()->getLoc(),
                                                   results);
  for (auto [inner, outer] : llvm::zip(results, turn.getResults()))
    inner.replaceUsesWithIf(outer, [&](OpOperand &use) {
      return !turn->isAncestor(use.getOwner());
    });
}

namespace {
struct AttnConsumerTurnsPass final
    : flashmlir::impl::AttnConsumerTurnsPassBase<AttnConsumerTurnsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<SmallVector<Operation *>> runs;
    WalkResult walk = getOperation().walk([&](attn::WarpSpecializeOp ws) {
      auto grid = ws->getParentOfType<attn::ProgramGridOp>();
      // The backward's plan is checked again: it has no ping-pong.
      if (grid && grid.getKindOrDefault() == attn::ProgramKind::GradKv &&
          failed(hopper::planFromAttr(grid, /*maxSharedMemory=*/232448,
                                      getArgument())))
        return WalkResult::interrupt();
      if (!grid || !grid.getPlanAttr() || !grid.getPlanAttr().getPingPong())
        return WalkResult::advance();
      ws.getConsumer().walk([&](attn::MmaAsyncOp mma) {
        if (!mma.getTransposeRhs() || mma->getParentOfType<attn::ConsumerTurnOp>())
          return;
        // The Q·Kᵀ and the MMAs issued right after it.
        SmallVector<Operation *> run{mma};
        for (Operation *next = mma->getNextNode();
             next && isa<attn::MmaAsyncOp>(next); next = next->getNextNode())
          run.push_back(next);
        runs.push_back(run);
      });
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    for (ArrayRef<Operation *> run : runs)
      wrapInTurn(run);
  }
};
} // namespace
