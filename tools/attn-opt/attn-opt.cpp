//===- attn-opt.cpp - the flashmlir optimizer driver -----------------------===//
//
// mlir-opt for flashmlir: parses, verifies and prints the attn dialect and
// runs flashmlir's passes next to the core MLIR ones (canonicalize, cse, ...).
// Every upstream dialect the lowering goes through is registered so each
// stage's output can be read back in. Text nested deeper than
// kMaxNestingDepth (InputLimits.h) — the input or a pass pipeline on the
// command line — is refused before MLIR's recursive parsers see it.
//
//===----------------------------------------------------------------------===//

#include "attn/Attn.h"
#include "attn/AttnBufferization.h"
#include "flashmlir/Compiler/CpuPipeline.h"
#include "flashmlir/Conversion/Passes.h"
#include "flashmlir/Compiler/GpuPipeline.h"
#include "flashmlir/Compiler/InputLimits.h"
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
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "attn-opt") << message << "\n";
  return 1;
}

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

  // A pass pipeline is parsed as the options are: check the arguments first
  // (response files expanded, as the option parser will).
  llvm::BumpPtrAllocator allocator;
  llvm::SmallVector<const char *> args(argv, argv + argc);
  llvm::cl::ExpansionContext expansion(allocator,
                                       llvm::cl::TokenizeGNUCommandLine);
  if (llvm::Error err = expansion.expandResponseFiles(args))
    return fail(llvm::toString(std::move(err)));
  for (size_t i = 1; i < args.size(); ++i)
    if (llvm::Error err = flashmlir::checkNestingDepth(
            args[i], "command-line argument " + std::to_string(i)))
      return fail(llvm::toString(std::move(err)));
  auto [inputFilename, outputFilename] = mlir::registerAndParseCLIOptions(
      argc, argv, "flashmlir optimizer driver\n", registry);
  mlir::MlirOptMainConfig config = mlir::MlirOptMainConfig::createFromCLOptions();
  if (config.shouldShowDialects() || config.shouldListPasses())
    return mlir::asMainReturnCode(
        mlir::MlirOptMain(argc, argv, inputFilename, outputFilename, registry));

  // MlirOptMain's own driver, with the input's nesting checked in between.
  llvm::InitLLVM init(argc, argv);
  std::string message;
  std::unique_ptr<llvm::MemoryBuffer> input =
      mlir::openInputFile(inputFilename, &message);
  if (!input)
    return fail(message);
  if (llvm::Error err = flashmlir::checkMlirSource(
          input->getBuffer(), "'" + inputFilename + "'"))
    return fail(llvm::toString(std::move(err)));
  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(outputFilename, &message);
  if (!output)
    return fail(message);
  if (mlir::failed(mlir::MlirOptMain(output->os(), std::move(input), registry,
                                     config)))
    return 1;
  // A failed write (a full disk, -o /dev/full) is an error, not the fatal
  // "IO failure on output stream" of the stream's destructor.
  output->os().flush();
  if (std::error_code ec = output->os().error()) {
    output->os().clear_error();
    return fail("cannot write '" + outputFilename + "': " + ec.message());
  }
  output->keep();
  return 0;
}
