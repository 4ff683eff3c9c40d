//===- AttnConvertToNVGPU.cpp - --attn-convert-to-nvgpu --------------------===//
//
// The warp-specialized level (L3) to Hopper kernels (see Passes.td): each
// program grid with its plan, checked again against the grid, is lowered by
// KernelLowering.
//
//===----------------------------------------------------------------------===//

#include "KernelLowering.h"

#include "flashmlir/Conversion/Passes.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNCONVERTTONVGPUPASS
#include "flashmlir/Conversion/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;
using namespace flashmlir::hopper;

namespace {
struct AttnConvertToNVGPUPass final
    : flashmlir::impl::AttnConvertToNVGPUPassBase<AttnConvertToNVGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<attn::ProgramGridOp> grids;
    getOperation().walk([&](attn::ProgramGridOp op) { grids.push_back(op); });
    for (attn::ProgramGridOp grid : grids) {
      // The backward's preprocess and postprocess are the SIMT mapping's
      // (no MMA: docs/WarpSpecialization.md), left for attn-map-to-gpu; its
      // main grid is converted here.
      if (!isWarpSpecializable(grid))
        continue;
      FailureOr<KernelPlan> plan =
          planFromAttr(grid, maxSharedMemory, getArgument());
      if (failed(plan) ||
          failed(KernelLowering(grid, getOperation(), *plan).run()))
        return signalPassFailure();
    }
  }
};
} // namespace
