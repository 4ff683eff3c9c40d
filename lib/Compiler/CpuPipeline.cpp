//===- CpuPipeline.cpp - memref-level IR to host LLVM dialect -------------===//
//
// The pass order matters in three places:
//  - alloca scopes are inlined before scf-to-cf, which would otherwise turn a
//    scope's body into several blocks (invalid for memref.alloca_scope), and
//    after which the scope could not be inlined into an scf body either;
//  - f16/bf16 math and bf16 arithmetic are widened before arith-expand, so the
//    bf16 conversions they introduce are expanded to integer code too: the
//    results then do not depend on how the host's LLVM backend legalizes bf16
//    (on some targets and versions, a call to __truncsfbf2, which libgcc
//    before GCC 13 lacks);
//  - math-to-llvm runs before math-to-libm: LLVM intrinsics (exp2, log2,
//    tanh, ...) stay optimizable, and libm only gets what has no intrinsic.
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Compiler/CpuPipeline.h"
#include "flashmlir/Compiler/TensorBufferization.h"
#include "flashmlir/Transforms/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace {

/// Marks every public function definition with `llvm.emit_c_interface`.
/// Upstream's llvm-request-c-wrappers marks declarations too, which would ask
/// the JIT for `_mlir_ciface_` symbols of external functions.
struct EmitCInterfacePass final
    : PassWrapper<EmitCInterfacePass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(EmitCInterfacePass)

  StringRef getArgument() const override { return "attn-cpu-emit-c-interface"; }
  StringRef getDescription() const override {
    return "Mark public func.func definitions with llvm.emit_c_interface";
  }

  void runOnOperation() override {
    auto attrName = LLVM::LLVMDialect::getEmitCWrapperAttrName();
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func.isPublic() && !func.isDeclaration())
        func->setAttr(attrName, UnitAttr::get(&getContext()));
  }
};

/// The most stack the static allocas of one function may take: the CPU
/// path's tiles live on the stack of the thread that runs the kernel (8 MiB
/// by default on Linux, often less for other threads). The default tiles
/// take ~0.2 MiB at D = 256; 256 x 256 tiles at D = 256 about 1.1 MiB.
constexpr int64_t kMaxStackBytes = int64_t(2) << 20;

/// Refuses a function whose static allocas exceed kMaxStackBytes (attn-tile
/// with block-m=32768 compiled, and the run died of a stack overflow).
/// Counts every alloca of the function, a bound on what is live at once;
/// an alloca of a dynamic size is refused too.
struct CheckStackPass final
    : PassWrapper<CheckStackPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CheckStackPass)

  StringRef getArgument() const override { return "attn-cpu-check-stack"; }
  StringRef getDescription() const override {
    return "Refuse functions whose stack allocations exceed 2 MiB";
  }

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

/// Replaces each `memref.alloca_scope` by its body, bracketed by
/// llvm.intr.stacksave / llvm.intr.stackrestore. The body is a single block,
/// so it is spliced in place: this is valid inside scf regions, unlike the
/// block-splitting lowering of finalize-memref-to-llvm, which must run after
/// scf-to-cf and therefore sees scopes that scf-to-cf has made invalid.
struct InlineAllocaScopesPass final
    : PassWrapper<InlineAllocaScopesPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(InlineAllocaScopesPass)

  StringRef getArgument() const override {
    return "attn-cpu-inline-alloca-scopes";
  }
  StringRef getDescription() const override {
    return "Inline memref.alloca_scope bodies between llvm.intr.stacksave and "
           "llvm.intr.stackrestore";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<LLVM::LLVMDialect>();
  }

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

void flashmlir::buildCpuLoweringPipeline(OpPassManager &pm) {
  // 0. The tiles must fit the stack of the thread that runs the kernel.
  pm.addPass(std::make_unique<CheckStackPass>());
  // 1-2. C interface for the entry points; alloca scopes in place.
  pm.addPass(std::make_unique<EmitCInterfacePass>());
  pm.addPass(std::make_unique<InlineAllocaScopesPass>());

  // 3. Half-precision math and bf16 arithmetic are computed in f32. f16
  // arithmetic stays: LLVM lowers it exactly (F16C or promotion).
  arith::ArithEmulateUnsupportedFloatsOptions emulate;
  emulate.sourceTypeStrs = {"bf16"};
  emulate.targetTypeStr = "f32";
  pm.addNestedPass<func::FuncOp>(
      arith::createArithEmulateUnsupportedFloats(emulate));
  pm.addNestedPass<func::FuncOp>(math::createMathExtendToSupportedTypes());

  // 4. Structured control flow and views to plain arithmetic and branches.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));

  // 5. Everything to the LLVM dialect.
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void flashmlir::buildAttnToCpuLoopsPipeline(OpPassManager &pm,
                                            const AttnToCpuOptions &options) {
  addTensorBufferization(pm);
  OpPassManager &funcPm = pm.nest<func::FuncOp>();
  AttnTilePassOptions tile;
  tile.target = "cpu";
  tile.blockM = options.blockM;
  tile.blockN = options.blockN;
  funcPm.addPass(createAttnTilePass(tile));
  funcPm.addPass(createAttnScoreModGradPass());
  AttnOnlineSoftmaxPassOptions softmax;
  softmax.testDropAlpha = options.testDropAlpha;
  softmax.testDropDelta = options.testDropDelta;
  funcPm.addPass(createAttnOnlineSoftmaxPass(softmax));
  funcPm.addPass(createAttnBufferizeTilesPass());
  funcPm.addPass(createAttnTilesToLoopsPass());
}

void flashmlir::buildAttnToCpuPipeline(OpPassManager &pm,
                                       const AttnToCpuOptions &options) {
  buildAttnToCpuLoopsPipeline(pm, options);
  buildCpuLoweringPipeline(pm);
}

void flashmlir::registerCpuLoweringPipeline() {
  // The registries abort on a second registration of the same name.
  static const bool registered = [] {
    PassRegistration<CheckStackPass>();
    PassRegistration<EmitCInterfacePass>();
    PassRegistration<InlineAllocaScopesPass>();
    PassPipelineRegistration<>(
        "attn-lower-to-cpu",
        "Lower memref-level flashmlir IR (func, scf, memref, arith, math, "
        "index, cf) to the LLVM dialect for the host, with C interfaces",
        buildCpuLoweringPipeline);
    PassPipelineRegistration<AttnToCpuOptions>(
        "attn-to-cpu-loops",
        "The CPU front end: tile, the backward's score_mod derivatives, "
        "online softmax, bufferize the tiles, tile ops as loops",
        buildAttnToCpuLoopsPipeline);
    PassPipelineRegistration<AttnToCpuOptions>(
        "attn-to-cpu",
        "The whole CPU path: tile, online softmax and tile loops, then "
        "attn-lower-to-cpu",
        buildAttnToCpuPipeline);
    return true;
  }();
  (void)registered;
}
