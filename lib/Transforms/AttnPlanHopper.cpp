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
  AttnPlanHopperPass() = default;
  // The options below register themselves with the pass being built; the
  // pass infrastructure copies their values into a clone.
  AttnPlanHopperPass(const AttnPlanHopperPass &other) : Base(other) {}
  AttnPlanHopperPass(const KernelOptions &kernel,
                     AttnPlanHopperPassOptions own)
      : Base(std::move(own)) {
#define FLASHMLIR_PLAN_OPTION(FIELD, ...) FIELD = kernel.FIELD;
#include "flashmlir/Compiler/KernelOptions.def"
  }

  void runOnOperation() override {
    PlanOptions options;
#define FLASHMLIR_PLAN_OPTION(FIELD, ...) options.FIELD = FIELD;
#include "flashmlir/Compiler/KernelOptions.def"
    options.maxSharedMemory = maxSharedMemory;
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

  // The kernel options of the plan (KernelOptions.def's plan rows: names,
  // defaults, descriptions); planKernel checks their values against it.
#define FLASHMLIR_PLAN_OPTION(FIELD, FLAG, KEY, TYPE, DEFAULT, MIN, MAX,       \
                              VALUES, DESC)                                    \
  Option<TYPE> FIELD{*this, FLAG, llvm::cl::desc(DESC),                        \
                     llvm::cl::init(DEFAULT)};
#include "flashmlir/Compiler/KernelOptions.def"
};
} // namespace

std::unique_ptr<Pass>
flashmlir::createAttnPlanHopperPass(const KernelOptions &kernel,
                                    AttnPlanHopperPassOptions own) {
  return std::make_unique<AttnPlanHopperPass>(kernel, std::move(own));
}
