//===- GpuKernelPasses.cpp - The GPU pipelines' kernel fix-ups -------------===//
//
// Small passes the GPU pipelines (GpuPipeline.cpp) run around upstream's
// conversions: the dynamic shared memory declared extern, the register cap
// setmaxnreg needs, the tensor maps passed by value as grid constants, and a
// pass that fails for an invalid pipeline option. Registered with attn-opt
// for their lit tests (test/Target/Hopper/{set-register-cap,grid-constants}.mlir).
//
//===----------------------------------------------------------------------===//

#include "GpuKernelPasses.h"

#include "flashmlir/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/Pass.h"

#include <algorithm>

using namespace mlir;
using namespace flashmlir;

namespace {
/// Fails with `message`: a pipeline option that a pipeline builder (which
/// cannot fail) found invalid.
struct RejectOptionPass final : PassWrapper<RejectOptionPass, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(RejectOptionPass)
  explicit RejectOptionPass(std::string message) : message(std::move(message)) {}
  StringRef getArgument() const override { return "attn-reject-option"; }
  void runOnOperation() override {
    getOperation()->emitError() << message;
    signalPassFailure();
  }
  std::string message;
};

/// Verifies the whole operation (and fails if it is invalid): the compile
/// API's back half runs upstream's conversions without a verification after
/// each, and runs this before the LLVM translation instead, so that no
/// invalid IR reaches NVPTX code generation (which would end the process).
/// The gpu.module verifier also checks each NVVM op against the target chip.
struct VerifyIRPass final : PassWrapper<VerifyIRPass, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(VerifyIRPass)
  StringRef getArgument() const override { return "attn-verify-ir"; }
  StringRef getDescription() const override {
    return "Verifies the IR (before PTX serialization)";
  }
  void runOnOperation() override {
    if (failed(verify(getOperation())))
      signalPassFailure();
  }
};

/// On an outlined kernel: its parameters that carry tensor maps by value.
constexpr llvm::StringLiteral kGridConstantsAttrName = "attn.grid_constants";

/// Declares the dynamic shared memory of each GPU module as an *external*
/// zero-length array, the CUDA idiom `extern __shared__ char smem[]`.
///
/// Why: MLIR's gpu.dynamic_shared_memory lowering otherwise creates an
/// internal global of type [0 x i8]; every access past it is out of bounds of
/// a defined object, which LLVM may exploit. We saw exactly that: at -O3 the
/// SIMT kernel computed wrong outputs for shapes whose KV loops fold to one
/// iteration (right at -O0..-O2). The lowering reuses an existing zero-length
/// global of the right address space and alignment, so declaring it first is
/// enough.
struct DeclareDynamicSharedMemoryPass final
    : PassWrapper<DeclareDynamicSharedMemoryPass,
                  OperationPass<gpu::GPUModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(DeclareDynamicSharedMemoryPass)
  StringRef getArgument() const override {
    return "attn-declare-dynamic-shared-memory";
  }
  StringRef getDescription() const override {
    return "Declare gpu.dynamic_shared_memory as an external zero-length "
           "array (extern __shared__)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<LLVM::LLVMDialect>();
  }
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

/// Gives kernels that reallocate registers (nvvm.setmaxregister) the register
/// cap at entry that ptxas needs to honour setmaxnreg: nvvm.maxntid (the
/// block size) and nvvm.minctasm. Without both, ptxas ignores the
/// reallocation (info C7508) and the consumers keep the entry budget.
/// minctasm is the CTAs per SM the budgets were planned for: 64K registers
/// over threads x (their mean budget, rounded up to 8) — 1 for FA3's
/// 24 + 2 x 240 at 384 threads, 2 for 24 + 232 at 256. Kernels without
/// setmaxnreg (the SIMT ones) get minctasm = 1: shared memory bounds their
/// occupancy, and ptxas's own register cap spilled one.
struct SetRegisterCapPass final
    : PassWrapper<SetRegisterCapPass, OperationPass<gpu::GPUModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(SetRegisterCapPass)
  StringRef getArgument() const override { return "attn-set-register-cap"; }
  StringRef getDescription() const override {
    return "Give kernels nvvm.maxntid and the nvvm.minctasm their register "
           "budgets allow (1 without setmaxnreg)";
  }
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

/// Passes the tensor maps (CUtensorMap, 128 bytes) to the kernels by value,
/// as `.param .align 64 .b8 [128]` grid constants that TMA reads in place,
/// instead of as pointers to a copy in device memory: a launch then carries
/// them (the host encodes them; nothing is copied to the GPU or kept per
/// tensor address: with new tensors every call, the pinned copy cost ~100 µs
/// of host time per call, bench/jit_timing.py). Lists on each outlined kernel
/// (attn.grid_constants) the parameters a launch feeds from an
/// attn.tensor_map function argument; MarkGridConstantsPass makes them
/// byval grid constants once the kernel is an llvm.func (the NVVM verifier
/// accepts nvvm.grid_constant on nvvm.kernel functions only).
struct PassTensorMapsByValuePass final
    : PassWrapper<PassTensorMapsByValuePass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PassTensorMapsByValuePass)
  StringRef getArgument() const override {
    return "attn-tensor-maps-by-value";
  }
  StringRef getDescription() const override {
    return "Pass the kernels' tensor maps as 128-byte grid-constant "
           "parameters";
  }
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

/// On the kernels lowered to llvm.func: the parameters attn.grid_constants
/// lists become `ptr byval([128 x i8]) align 64` with nvvm.grid_constant, so
/// the kernel reads the tensor map in parameter space (TMA takes its
/// address) instead of a copy. Kernel parameters map one to one to the
/// gpu.func's under the bare-pointer calling convention.
struct MarkGridConstantsPass final
    : PassWrapper<MarkGridConstantsPass, OperationPass<gpu::GPUModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(MarkGridConstantsPass)
  StringRef getArgument() const override { return "attn-mark-grid-constants"; }
  StringRef getDescription() const override {
    return "Make the kernel parameters listed in attn.grid_constants byval "
           "nvvm.grid_constant tensor maps";
  }
  void runOnOperation() override {
    for (auto func : getOperation().getOps<LLVM::LLVMFuncOp>()) {
      auto params = func->getAttrOfType<DenseI64ArrayAttr>(kGridConstantsAttrName);
      if (!params)
        continue;
      Builder b(func);
      auto byval = LLVM::LLVMArrayType::get(b.getI8Type(), 128);
      for (int64_t i : params.asArrayRef()) {
        if (i >= func.getNumArguments() ||
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
/// Before outlining: a memref argument with dynamic sizes that a gpu.launch
/// reads or writes reaches the kernel as a bare pointer plus its sizes.
///
/// Why: kernels take bare pointers (no descriptors), which exist only for
/// static shapes. On the host the argument becomes a memref<1xT> view of its
/// base (the pointer) and its sizes come from memref.extract_strided_metadata
/// (index kernel operands that the launch metadata expresses as {"dim":
/// [argument, axis]}; not memref.dim, which outlining would sink back into
/// the kernel); in the kernel the identity-layout view is rebuilt:
///   strides[3] = 1, strides[i] = strides[i + 1] · sizes[i + 1].
struct DynamicMemrefsAsPointersPass final
    : PassWrapper<DynamicMemrefsAsPointersPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(DynamicMemrefsAsPointersPass)
  StringRef getArgument() const override {
    return "attn-dynamic-memrefs-as-pointers";
  }
  StringRef getDescription() const override {
    return "Passes dynamically shaped memref arguments of gpu.launch as a "
           "pointer and sizes, rebuilt inside the kernel";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, memref::MemRefDialect>();
  }
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    func.walk([&](gpu::LaunchOp launch) {
      for (BlockArgument arg : func.getArguments()) {
        auto type = dyn_cast<MemRefType>(arg.getType());
        if (!type || type.hasStaticShape() || !type.getLayout().isIdentity())
          continue;
        Region &body = launch.getBody();
        bool used = llvm::any_of(arg.getUses(), [&](OpOperand &use) {
          return body.isAncestor(use.getOwner()->getParentRegion());
        });
        if (!used)
          continue;
        OpBuilder b(launch);
        Location loc = launch.getLoc();
        auto flatType = MemRefType::get({1}, type.getElementType(),
                                        MemRefLayoutAttrInterface(),
                                        type.getMemorySpace());
        Value flat = memref::ReinterpretCastOp::create(
            b, loc, flatType, arg, /*offset=*/0, ArrayRef<int64_t>{1},
            ArrayRef<int64_t>{1});
        auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, arg);
        b.setInsertionPointToStart(&body.front());
        int64_t rank = type.getRank();
        SmallVector<OpFoldResult> sizes(rank), strides(rank);
        Value stride = arith::ConstantIndexOp::create(b, loc, 1);
        for (int64_t i = rank - 1; i >= 0; --i) {
          Value size = type.isDynamicDim(i)
                           ? metadata.getSizes()[i]
                           : arith::ConstantIndexOp::create(
                                 b, loc, type.getDimSize(i)).getResult();
          sizes[i] = type.isDynamicDim(i) ? OpFoldResult(size)
                                          : b.getIndexAttr(type.getDimSize(i));
          strides[i] = stride;
          stride = arith::MulIOp::create(b, loc, stride, size);
        }
        auto viewType = MemRefType::get(
            type.getShape(), type.getElementType(),
            StridedLayoutAttr::get(b.getContext(), 0,
                                   SmallVector<int64_t>(rank, ShapedType::kDynamic)),
            type.getMemorySpace());
        Value view = memref::ReinterpretCastOp::create(
            b, loc, viewType, flat, b.getIndexAttr(0), sizes, strides);
        Value cast = memref::CastOp::create(b, loc, type, view);
        arg.replaceUsesWithIf(cast, [&](OpOperand &use) {
          return body.isAncestor(use.getOwner()->getParentRegion());
        });
      }
    });
  }
};
} // namespace

std::unique_ptr<Pass> flashmlir::createDynamicMemrefsAsPointersPass() {
  return std::make_unique<DynamicMemrefsAsPointersPass>();
}
std::unique_ptr<Pass> flashmlir::createDeclareDynamicSharedMemoryPass() {
  return std::make_unique<DeclareDynamicSharedMemoryPass>();
}
std::unique_ptr<Pass> flashmlir::createSetRegisterCapPass() {
  return std::make_unique<SetRegisterCapPass>();
}
std::unique_ptr<Pass> flashmlir::createTensorMapsByValuePass() {
  return std::make_unique<PassTensorMapsByValuePass>();
}
std::unique_ptr<Pass> flashmlir::createMarkGridConstantsPass() {
  return std::make_unique<MarkGridConstantsPass>();
}
std::unique_ptr<Pass> flashmlir::createVerifyIRPass() {
  return std::make_unique<VerifyIRPass>();
}
std::unique_ptr<Pass> flashmlir::createRejectOptionPass(std::string message) {
  return std::make_unique<RejectOptionPass>(std::move(message));
}

void flashmlir::registerGpuKernelPasses() {
  PassRegistration<DeclareDynamicSharedMemoryPass>();
  PassRegistration<SetRegisterCapPass>();
  PassRegistration<PassTensorMapsByValuePass>();
  PassRegistration<MarkGridConstantsPass>();
  PassRegistration<DynamicMemrefsAsPointersPass>();
}
