//===- DeclareDynamicSharedMemory.cpp - extern dynamic shared memory ----===//
//
// gpu.dynamic_shared_memory declared as an external array (see include/flashmlir/Target/Passes.td).
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Target/Passes.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Builders.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNDECLAREDYNAMICSHAREDMEMORYPASS
#include "flashmlir/Target/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

namespace {
struct AttnDeclareDynamicSharedMemoryPass final
    : flashmlir::impl::AttnDeclareDynamicSharedMemoryPassBase<
          AttnDeclareDynamicSharedMemoryPass> {
  void runOnOperation() override {
    gpu::GPUModuleOp module = getOperation();
    bool used = false;
    module.walk([&](gpu::DynamicSharedMemoryOp) { used = true; });
    if (!used)
      return;
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    auto type = LLVM::LLVMArrayType::get(b.getI8Type(), 0);
    LLVM::GlobalOp::create(b, module.getLoc(), type, /*isConstant=*/false,
                           LLVM::Linkage::External,
                           "__flashmlir_dynamic_smem", Attribute(),
                           /*alignment=*/NVVM::kSharedMemoryAlignmentBit / 8,
                           static_cast<unsigned>(NVVM::NVVMMemorySpace::Shared));
  }
};
} // namespace
