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
#include "flashmlir/Target/Passes.h"
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


void flashmlir::buildCpuLoweringPipeline(OpPassManager &pm) {
  // 0. The tiles must fit the stack of the thread that runs the kernel.
  pm.addPass(createAttnCpuCheckStackPass());
  // 1-2. C interface for the entry points; alloca scopes in place.
  pm.addPass(createAttnCpuEmitCInterfacePass());
  pm.addPass(createAttnCpuInlineAllocaScopesPass());

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
    registerAttnCpuCheckStackPass();
    registerAttnCpuEmitCInterfacePass();
    registerAttnCpuInlineAllocaScopesPass();
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
