//===- RejectOption.cpp - --attn-reject-option ----------------------------===//
//
// A pipeline's invalid option as a failing pass (see include/flashmlir/Target/Passes.td).
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Target/Passes.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNREJECTOPTIONPASS
#include "flashmlir/Target/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

namespace {
struct AttnRejectOptionPass final
    : flashmlir::impl::AttnRejectOptionPassBase<AttnRejectOptionPass> {
  using Base::Base;
  void runOnOperation() override {
    getOperation()->emitError() << message;
    signalPassFailure();
  }
};
} // namespace
