//===- AttnPlanHopper.cpp - --attn-plan-hopper ----------------------------===//
//
// Records the decisions of the Hopper kernel (HopperPlan.h) on every program
// grid as attn.hopper_plan, for the later stages of --attn-warp-specialize
// and --attn-convert-to-nvgpu to build.
//
//===----------------------------------------------------------------------===//

#include "HopperPlan.h"

#include "flashmlir/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNPLANHOPPERPASS
#include "flashmlir/Transforms/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;
using namespace flashmlir::hopper;

namespace {
struct AttnPlanHopperPass final
    : flashmlir::impl::AttnPlanHopperPassBase<AttnPlanHopperPass> {
  using Base::Base;

  void runOnOperation() override {
    if (stages < 0 || stages > 8) {
      getOperation().emitError()
          << getArgument()
          << ": stages must be in [1, 8] (or 0 for as many as fit), got "
          << static_cast<int64_t>(stages);
      return signalPassFailure();
    }
    if (persistentCtas < 0) {
      getOperation().emitError() << getArgument()
                                 << ": persistent-ctas must be >= 0, got "
                                 << static_cast<int64_t>(persistentCtas);
      return signalPassFailure();
    }
    PlanOptions options;
    options.stages = stages;
    options.maxSharedMemory = maxSharedMemory;
    options.pingPong = pingPong;
    options.pvSchedule = pvSchedule;
    options.persistentCtas = persistentCtas;
    options.schedule = schedule;
    options.epilogue = epilogue;
    options.ctasPerSm = ctasPerSm;
    WalkResult walk = getOperation().walk([&](attn::ProgramGridOp grid) {
      // The backward's preprocess and postprocess stay off the
      // warp-specialized level (no MMA: the SIMT mapping builds them).
      if (!isWarpSpecializable(grid))
        return WalkResult::advance();
      FailureOr<KernelPlan> plan = planKernel(grid, options, getArgument());
      if (failed(plan))
        return WalkResult::interrupt();
      grid.setPlanAttr(planToAttr(&getContext(), *plan));
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
