//===- TensorMapsByValue.cpp - --attn-tensor-maps-by-value ----------------===//
//
// The kernel parameters that carry tensor maps (see include/flashmlir/Target/Passes.td).
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Target/Passes.h"
#include "flashmlir/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNTENSORMAPSBYVALUEPASS
#include "flashmlir/Target/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

namespace {
struct AttnTensorMapsByValuePass final
    : flashmlir::impl::AttnTensorMapsByValuePassBase<AttnTensorMapsByValuePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder b(module);
    module.walk([&](gpu::LaunchFuncOp launch) {
      auto kernel = SymbolTable::lookupNearestSymbolFrom<gpu::GPUFuncOp>(
          launch, launch.getKernel());
      if (!kernel)
        return;
      SmallVector<int64_t> params;
      for (auto [i, operand] : llvm::enumerate(launch.getKernelOperands())) {
        auto arg = dyn_cast<BlockArgument>(operand);
        auto func =
            arg ? dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp()) : nullptr;
        if (func && func.getArgAttr(arg.getArgNumber(), kTensorMapAttrName))
          params.push_back(i);
      }
      if (!params.empty())
        kernel->setAttr(kGridConstantsAttrName, b.getDenseI64ArrayAttr(params));
    });
  }
};
} // namespace
