//===- attn-compile.cpp - attn.attention to a PTX kernel + launch metadata -===//
//
//   attn-compile input.mlir -o kernel.ptx [--json kernel.json]
//                [--chip sm_90a] [--block-m 64] [--block-n 32]
//
// Compiles every function of `input.mlir` (attn.attention on static memrefs)
// through the SIMT bring-up GPU path and writes the PTX and, as JSON, how to
// launch each kernel (parameters as function-argument indices, grid, block,
// dynamic shared memory).
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Compiler/GpuPipeline.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input.mlir>"),
                                      cl::Required);
static cl::opt<std::string> outputFile("o", cl::desc("PTX output file"),
                                       cl::value_desc("file"), cl::Required);
static cl::opt<std::string> jsonFile("json",
                                     cl::desc("Launch metadata (JSON) file"),
                                     cl::value_desc("file"));
static cl::opt<std::string> chip("chip", cl::desc("Target chip"),
                                 cl::init("sm_90a"));
static cl::opt<int64_t> blockM("block-m", cl::desc("Query rows per block"),
                               cl::init(64));
static cl::opt<int64_t> blockN("block-n", cl::desc("Keys per KV block"),
                               cl::init(32));
static cl::opt<bool> gpuModule(
    "gpu-module",
    cl::desc("The input already holds gpu.module kernels (hand-written "
             "building blocks): only lower and serialize them"),
    cl::init(false));
static cl::opt<int> optLevel("opt-level",
                             cl::desc("LLVM optimization level of the kernel"),
                             cl::init(3));

static int fail(const Twine &message) {
  WithColor::error(errs(), "attn-compile") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "flashmlir kernel compiler\n");

  auto input = MemoryBuffer::getFileOrSTDIN(inputFile);
  if (!input)
    return fail("cannot read '" + inputFile + "': " +
                input.getError().message());

  flashmlir::AttnToPtxSimtOptions options;
  options.chip = chip;
  options.blockM = blockM;
  options.blockN = blockN;
  options.optLevel = optLevel;
  Expected<flashmlir::GpuCompileResult> result =
      gpuModule ? flashmlir::compileGpuModulesToPtx((*input)->getBuffer(), options)
                : flashmlir::compileAttentionToPtx((*input)->getBuffer(), options);
  if (!result)
    return fail(toString(result.takeError()));

  std::error_code ec;
  ToolOutputFile ptx(outputFile, ec, sys::fs::OF_Text);
  if (ec)
    return fail("cannot write '" + outputFile + "': " + ec.message());
  ptx.os() << result->ptx;
  ptx.keep();

  if (!jsonFile.empty()) {
    json::Array kernels;
    for (const flashmlir::GpuKernelInfo &k : result->kernels) {
      json::Array args;
      for (int a : k.arguments)
        args.push_back(a);
      kernels.push_back(json::Object{
          {"name", k.name},
          {"arguments", std::move(args)},
          {"grid", json::Array{k.grid[0], k.grid[1], k.grid[2]}},
          {"block", json::Array{k.block[0], k.block[1], k.block[2]}},
          {"dynamic_shared_memory", k.dynamicSharedMemory}});
    }
    ToolOutputFile out(jsonFile, ec, sys::fs::OF_Text);
    if (ec)
      return fail("cannot write '" + jsonFile + "': " + ec.message());
    out.os() << formatv("{0:2}", json::Value(json::Object{
                                     {"chip", std::string(chip)},
                                     {"kernels", std::move(kernels)}}))
             << "\n";
    out.keep();
  }
  return 0;
}
