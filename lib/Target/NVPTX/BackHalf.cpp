//===- BackHalf.cpp - outlined kernels to PTX -----------------------------===//
//
// The NVPTX back half the GPU pipelines share (include/flashmlir/Target/
// NVPTX.h): outlining, the chip table, the lowering to the LLVM and NVVM
// dialects and serialization.
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Target/NVPTX.h"
#include "flashmlir/Target/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/GPUCommon/GPUToLLVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/NVGPUToNVVM/NVGPUToNVVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void flashmlir::addKernelOutlining(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createAttnDynamicMemrefsAsPointersPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createAttnTensorMapsByValuePass());
}

namespace {
/// A chip the kernels are built for and the PTX ISA version that has it
/// (NVPTX refuses older ones; CUDA 13's ptxas still assembles every one).
/// sm_90a: 8.1, for the backward's red.global.add.v2.f32 (drivers from CUDA
/// 12.1 on load it).
struct ChipTarget {
  llvm::StringLiteral chip, ptxFeature;
};
} // namespace

static constexpr ChipTarget kChipTargets[] = {
    {"sm_80", "+ptx70"},   {"sm_86", "+ptx71"},   {"sm_87", "+ptx74"},
    {"sm_89", "+ptx78"},   {"sm_90", "+ptx78"},   {"sm_90a", "+ptx81"},
    {"sm_100", "+ptx86"},  {"sm_100a", "+ptx86"}, {"sm_120", "+ptx87"},
    {"sm_120a", "+ptx87"},
};

llvm::StringRef flashmlir::ptxFeatureForChip(llvm::StringRef chip) {
  for (const ChipTarget &t : kChipTargets)
    if (t.chip == chip)
      return t.ptxFeature;
  return {};
}

llvm::Error flashmlir::checkChip(llvm::StringRef chip, bool hopper) {
  if (hopper) {
    if (chip == "sm_90a")
      return llvm::Error::success();
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "chip '" + chip +
            "' is not a target of the Hopper kernel: it needs sm_90a "
            "(wgmma, TMA and setmaxnreg); the SIMT kernel takes other chips");
  }
  if (!ptxFeatureForChip(chip).empty())
    return llvm::Error::success();
  std::string known;
  for (const ChipTarget &t : kChipTargets)
    known += (known.empty() ? "" : ", ") + t.chip.str();
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "unknown chip '" + chip +
                                     "': the kernels are built for " + known);
}

// Upstream's conversions in the order of its gpu-lower-to-nvvm-pipeline
// (bare-pointer kernels, PTX output), with our passes around them; the grid
// constants need a step between the kernels' lowering to llvm.func and
// serialization.
void flashmlir::addNVPTXBackHalf(OpPassManager &pm, StringRef chip,
                                 int optLevel, StringRef format) {
  pm.addNestedPass<gpu::GPUModuleOp>(
      createAttnDeclareDynamicSharedMemoryPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createAttnSetRegisterCapPass());
  // Host and device: to the LLVM dialect, the NVVM target attached.
  pm.addPass(createConvertNVGPUToNVVMPass());
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertNVVMToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = chip.str();
  target.features = ptxFeatureForChip(chip).str();
  target.optLevel = optLevel;
  pm.addPass(createGpuNVVMAttachTarget(target));
  pm.addPass(createLowerAffinePass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // The kernels.
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createStripDebugInfoPass());
  ConvertGpuOpsToNVVMOpsOptions toNvvm;
  toNvvm.useBarePtrCallConv = true;
  kernels.addPass(createConvertGpuOpsToNVVMOps(toNvvm));
  kernels.addPass(LLVM::createNVVMOptimizeForTargetPass());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  kernels.addPass(createAttnMarkGridConstantsPass());
  // The host, and PTX.
  GpuToLLVMConversionPassOptions host;
  host.kernelBarePtrCallConv = true;
  pm.addPass(createGpuToLLVMConversionPass(host));
  // No invalid IR reaches the LLVM translation and NVPTX (whose failures end
  // the process): the compile API verifies here rather than after each pass.
  pm.addPass(createAttnVerifyIRPass());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = format.str();
  pm.addPass(createGpuModuleToBinaryPass(binary));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}
