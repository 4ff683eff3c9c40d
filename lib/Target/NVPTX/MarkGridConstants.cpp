//===- MarkGridConstants.cpp - --attn-mark-grid-constants -----------------===//
//
// Tensor-map parameters as byval grid constants (see include/flashmlir/Target/Passes.td).
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Target/Passes.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Builders.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNMARKGRIDCONSTANTSPASS
#include "flashmlir/Target/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

namespace {
struct AttnMarkGridConstantsPass final
    : flashmlir::impl::AttnMarkGridConstantsPassBase<AttnMarkGridConstantsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<LLVM::LLVMFuncOp>()) {
      auto params = func->getAttrOfType<DenseI64ArrayAttr>(kGridConstantsAttrName);
      if (!params)
        continue;
      Builder b(func);
      auto byval = LLVM::LLVMArrayType::get(b.getI8Type(), 128);
      for (int64_t i : params.asArrayRef()) {
        if (i < 0 || i >= func.getNumArguments() ||
            !isa<LLVM::LLVMPointerType>(func.getArgument(i).getType())) {
          func.emitOpError() << "attn.grid_constants: parameter " << i
                             << " is not a pointer of the lowered kernel";
          return signalPassFailure();
        }
        func.setArgAttr(i, LLVM::LLVMDialect::getByValAttrName(),
                        TypeAttr::get(byval));
        func.setArgAttr(i, LLVM::LLVMDialect::getAlignAttrName(),
                        b.getI64IntegerAttr(64));
        func.setArgAttr(i, NVVM::NVVMDialect::getGridConstantAttrName(),
                        b.getUnitAttr());
      }
      func->removeAttr(kGridConstantsAttrName);
    }
  }
};
} // namespace
