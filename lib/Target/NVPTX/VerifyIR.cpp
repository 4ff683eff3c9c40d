//===- VerifyIR.cpp - --attn-verify-ir ------------------------------------===//
//
// One verification before PTX serialization (see include/flashmlir/Target/Passes.td).
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Target/Passes.h"

#include "mlir/IR/Verifier.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNVERIFYIRPASS
#include "flashmlir/Target/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

namespace {
struct AttnVerifyIRPass final
    : flashmlir::impl::AttnVerifyIRPassBase<AttnVerifyIRPass> {
  void runOnOperation() override {
    if (failed(verify(getOperation())))
      signalPassFailure();
  }
};
} // namespace
