//===- EmitCInterface.cpp - --attn-cpu-emit-c-interface ---------------------===//
//
// The JIT entry points' C wrappers (see include/flashmlir/Target/Passes.td).
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Target/Passes.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNCPUEMITCINTERFACEPASS
#include "flashmlir/Target/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

namespace {
struct AttnCpuEmitCInterfacePass final
    : flashmlir::impl::AttnCpuEmitCInterfacePassBase<AttnCpuEmitCInterfacePass> {
  void runOnOperation() override {
    auto attrName = LLVM::LLVMDialect::getEmitCWrapperAttrName();
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func.isPublic() && !func.isDeclaration())
        func->setAttr(attrName, UnitAttr::get(&getContext()));
  }
};
} // namespace
