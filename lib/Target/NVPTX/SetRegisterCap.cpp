//===- SetRegisterCap.cpp - --attn-set-register-cap -----------------------===//
//
// The register cap setmaxnreg needs (see include/flashmlir/Target/Passes.td).
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Target/Passes.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Builders.h"

#include <algorithm>

namespace flashmlir {
#define GEN_PASS_DEF_ATTNSETREGISTERCAPPASS
#include "flashmlir/Target/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

namespace {
struct AttnSetRegisterCapPass final
    : flashmlir::impl::AttnSetRegisterCapPassBase<AttnSetRegisterCapPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<gpu::GPUFuncOp>()) {
      int64_t decrease = 0, increase = 0;
      func.walk([&](NVVM::SetMaxRegisterOp op) {
        bool up = op.getAction() == NVVM::SetMaxRegisterAction::increase;
        (up ? increase : decrease) = op.getRegCount();
      });
      DenseI32ArrayAttr block = func.getKnownBlockSizeAttr();
      if (!block)
        continue;
      Builder b(func);
      if (!(increase || decrease)) {
        // The SIMT kernels: their occupancy is bounded by their shared
        // memory (tens of KB per CTA), not by registers, yet from the block
        // size alone ptxas capped a 64-thread kernel at 56 registers and
        // spilled (FP8, BlockN 32); minctasm = 1 lifts that cap.
        func->setAttr(NVVM::NVVMDialect::getMaxntidAttrName(), block);
        func->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                      b.getI32IntegerAttr(1));
        func.removeKnownBlockSizeAttr();
        continue;
      }
      int64_t threads = 1;
      for (int32_t d : block.asArrayRef())
        threads *= d;
      // One warpgroup decreases (the producer), the others increase.
      int64_t warpgroups = std::max<int64_t>(1, threads / 128);
      int64_t mean = (decrease + (warpgroups - 1) * increase + warpgroups - 1) /
                     warpgroups;
      mean = (mean + 7) / 8 * 8;
      int64_t ctas = std::max<int64_t>(1, 65536 / (threads * std::max<int64_t>(mean, 1)));
      func->setAttr(NVVM::NVVMDialect::getMaxntidAttrName(), block);
      func->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                    b.getI32IntegerAttr(ctas));
      // .reqntid and .maxntid may not both be given.
      func.removeKnownBlockSizeAttr();
    }
  }
};
} // namespace
