//===- AttnLowerToHopper.cpp - --attn-lower-to-hopper ----------------------===//
//
// The warp-specialized Hopper lowering of the tiled level (see Passes.td):
//   1. the plan (HopperPlan.h): attn.hopper_plan from --attn-plan-hopper,
//      read back and checked again;
//   2. program grid -> gpu.launch; shared memory, mbarriers, tensor maps;
//   3. the program body emitted twice, once per role, by one walk over L1:
//      producer (TMA) and consumers (wgmma + online softmax in registers),
//      inside a persistent tile loop when the plan says so (grid order, or
//      pairs of causal q-blocks);
//   4. the KV loops carry the running state (count, m, l, O, and under the
//      overlapped P·V the previous block's P) as iter_args; that schedule
//      peels each tile's first block into a prologue.
//
//===----------------------------------------------------------------------===//
#include "HopperKernelEmitter.h"

#include "flashmlir/Transforms/Passes.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNLOWERTOHOPPERPASS
#include "flashmlir/Transforms/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;
using namespace flashmlir::hopper;

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

LogicalResult HopperKernelEmitter::run() {
  if (failed(addTensorMapArguments()))
    return failure();
  OpBuilder::InsertionGuard g(b);
  emitLaunch();
  // Warpgroup 0 produces, warpgroups 1.. consume; the roles are disjoint
  // branches (setmaxnreg needs that).
  Value producer = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ult, tid, idx(128));
  auto roles = scf::IfOp::create(b, loc, producer, /*withElse=*/true);
  Block &program = *grid.getBodyBlock();
  {
    OpBuilder::InsertionGuard g2(b);
    b.setInsertionPoint(roles.thenBlock()->getTerminator());
    if (failed(emitRole(Role::Producer, program)))
      return failure();
    b.setInsertionPoint(roles.elseBlock()->getTerminator());
    if (failed(emitRole(Role::Consumer, program)))
      return failure();
  }
  grid.erase();
  return success();
}

namespace {
struct AttnLowerToHopperPass final
    : flashmlir::impl::AttnLowerToHopperPassBase<AttnLowerToHopperPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<attn::ProgramGridOp> grids;
    getOperation().walk([&](attn::ProgramGridOp op) { grids.push_back(op); });
    for (attn::ProgramGridOp grid : grids) {
      FailureOr<KernelPlan> plan =
          planFromAttr(grid, maxSharedMemory, getArgument());
      if (failed(plan) ||
          failed(HopperKernelEmitter(grid, getOperation(), *plan).run()))
        return signalPassFailure();
    }
  }
};
} // namespace
