//===- CheckStack.cpp - --attn-cpu-check-stack ------------------------------===//
//
// Tiles that fit the stack (see include/flashmlir/Target/Passes.td).
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Target/Passes.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNCPUCHECKSTACKPASS
#include "flashmlir/Target/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

namespace {
/// The most stack the static allocas of one function may take (see
/// Passes.td).
constexpr int64_t kMaxStackBytes = int64_t(2) << 20;

struct AttnCpuCheckStackPass final
    : flashmlir::impl::AttnCpuCheckStackPassBase<AttnCpuCheckStackPass> {
  void runOnOperation() override {
    getOperation().walk([&](func::FuncOp func) {
      int64_t bytes = 0;
      WalkResult walk = func.walk([&](memref::AllocaOp alloca) {
        MemRefType type = alloca.getType();
        int64_t bits = type.getElementTypeBitWidth();
        if (!type.hasStaticShape() || bits <= 0) {
          alloca.emitOpError() << "the CPU path takes stack allocations of a "
                                  "static size only, got "
                               << type;
          return WalkResult::interrupt();
        }
        bytes += type.getNumElements() * ((bits + 7) / 8);
        if (bytes > kMaxStackBytes) {
          func.emitOpError()
              << "its tiles take more than " << kMaxStackBytes
              << " bytes of stack (the CPU path keeps them on the stack of "
                 "the thread that runs the kernel): choose a smaller block-m / "
                 "block-n";
          return WalkResult::interrupt();
        }
        return WalkResult::advance();
      });
      if (walk.wasInterrupted())
        signalPassFailure();
    });
  }
};
} // namespace
