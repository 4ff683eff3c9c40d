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
      // The backward: its main grid stops at the warp-specialized level for
      // now (docs/WarpSpecialization.md says what converting it takes); the
      // preprocess and postprocess are the SIMT mapping's.
      if (attn::ProgramKind kind = grid.getKindOrDefault();
          kind != attn::ProgramKind::Forward) {
        grid.emitOpError()
            << getArgument() << ": the backward's "
            << attn::stringifyProgramKind(kind) << " grid is not converted "
            << (kind == attn::ProgramKind::GradKv
                    ? "yet (its warp-specialized level is built; the "
                      "conversion still needs the staged P and dS, "
                      "MN-major wgmma operands, rank-1 channel parts and "
                      "the dQ accumulate store)"
                    : "here: it maps to the SIMT kernel (attn-map-to-gpu)");
        return signalPassFailure();
      }
      FailureOr<KernelPlan> plan =
          planFromAttr(grid, maxSharedMemory, getArgument());
      if (failed(plan) ||
          failed(KernelLowering(grid, getOperation(), *plan).run()))
        return signalPassFailure();
    }
  }
};
} // namespace
