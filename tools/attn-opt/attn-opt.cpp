//===- attn-opt.cpp - the flashmlir optimizer driver -----------------------===//
//
// mlir-opt for flashmlir: parses, verifies and prints the attn dialect and
// runs flashmlir's passes next to the core MLIR ones (canonicalize, cse, ...).
// Every upstream dialect the lowering goes through is registered so each
// stage's output can be read back in.
//
//===----------------------------------------------------------------------===//

#include "attn/Attn.h"
#include "attn/AttnBufferization.h"
#include "flashmlir/Compiler/CpuPipeline.h"
#include "flashmlir/Conversion/Passes.h"
#include "flashmlir/Compiler/GpuPipeline.h"
#include "flashmlir/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  // one-shot-bufferize & co., to test the attn ops' bufferization models.
  mlir::bufferization::registerBufferizationPasses();
  flashmlir::registerAttnPasses();
  flashmlir::registerFlashMLIRConversionPasses();
  flashmlir::registerCpuLoweringPipeline();
  flashmlir::registerGpuPipelines();

  mlir::DialectRegistry registry;
  flashmlir::registerGpuCompilationInterfaces(registry);
  mlir::attn::registerBufferizableOpInterfaceExternalModels(registry);
  registry.insert<mlir::attn::AttnDialect, mlir::arith::ArithDialect,
                  mlir::bufferization::BufferizationDialect,
                  mlir::cf::ControlFlowDialect, mlir::func::FuncDialect,
                  mlir::gpu::GPUDialect, mlir::index::IndexDialect,
                  mlir::LLVM::LLVMDialect, mlir::NVVM::NVVMDialect,
                  mlir::math::MathDialect, mlir::memref::MemRefDialect,
                  mlir::nvgpu::NVGPUDialect, mlir::scf::SCFDialect,
                  mlir::tensor::TensorDialect, mlir::ub::UBDialect,
                  mlir::vector::VectorDialect>();

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "flashmlir optimizer driver\n", registry));
}
