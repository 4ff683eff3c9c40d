//===- InlineAllocaScopes.cpp - --attn-cpu-inline-alloca-scopes -------------===//
//
// Alloca scopes spliced in place (see include/flashmlir/Target/Passes.td).
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Target/Passes.h"

#include "mlir/IR/Builders.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNCPUINLINEALLOCASCOPESPASS
#include "flashmlir/Target/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

namespace {
struct AttnCpuInlineAllocaScopesPass final
    : flashmlir::impl::AttnCpuInlineAllocaScopesPassBase<AttnCpuInlineAllocaScopesPass> {
  void runOnOperation() override {
    // Post-order: inner scopes are inlined into their (still valid) parent
    // scope before the parent itself is inlined.
    getOperation().walk([](memref::AllocaScopeOp scope) {
      Region &region = scope.getBodyRegion();
      if (region.empty()) {
        scope.erase();
        return;
      }
      Block &body = region.front();
      auto ret = cast<memref::AllocaScopeReturnOp>(body.getTerminator());
      OpBuilder builder(scope);
      Location loc = scope.getLoc();
      Value stack = LLVM::StackSaveOp::create(
          builder, loc, LLVM::LLVMPointerType::get(scope.getContext()));
      scope->getBlock()->getOperations().splice(
          Block::iterator(scope), body.getOperations(), body.begin(),
          Block::iterator(ret));
      LLVM::StackRestoreOp::create(builder, loc, stack);
      scope.replaceAllUsesWith(ret.getResults());
      scope.erase();
    });
  }
};
} // namespace
