//===- attn-compile.cpp - attn.attention to a PTX kernel + launch metadata -===//
//
//   attn-compile input.mlir -o kernel.ptx [--json kernel.json]
//                [--cubin kernel.cubin] [--kernel hopper|simt] [--chip sm_90a]
//                [--block-m M] [--block-n N] [--stages S] [--persistent-ctas N]
//
// Compiles every function of `input.mlir` (attn.attention on static memrefs)
// through the Hopper pipeline (attn-to-ptx; default) or the SIMT bring-up
// path (attn-to-ptx-simt) and writes the PTX and, as JSON, how to launch each
// kernel: parameters as function-argument indices, grid, block, dynamic
// shared memory, and the tensor maps the host must encode. --cubin also
// assembles the PTX with ptxas (from $PATH, else $CUDA_ROOT/bin or
// /usr/local/cuda/bin) and prints its register/spill report.
//
// Every failure (bad input, options, a chip the kernel is not built for, an
// unwritable output) ends with a diagnostic and exit code 1, and leaves no
// output file behind: the files are kept only once all of them are written.
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Compiler/GpuPipeline.h"
#include "flashmlir/Compiler/InputLimits.h"
#include "flashmlir/Compiler/KernelOptions.h"
#include "flashmlir/Compiler/Recovery.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

/// attn-compile's own options: --help lists these, not LLVM's.
static cl::OptionCategory category("attn-compile options");

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input.mlir>"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string> outputFile("o", cl::desc("PTX output file"),
                                       cl::value_desc("file"), cl::Required,
                                       cl::cat(category));
static cl::opt<std::string> jsonFile("json",
                                     cl::desc("Launch metadata (JSON) file"),
                                     cl::value_desc("file"), cl::cat(category));
static cl::opt<std::string>
    cubinFile("cubin",
              cl::desc("Also assemble the PTX with ptxas into this cubin"),
              cl::value_desc("file"), cl::cat(category));
// The kernel options, from their one definition (KernelOptions.def): the
// flag spellings, types, defaults and descriptions; their values are checked
// against it before anything runs.
#define FLASHMLIR_COMPILE_FLAG(PREFIX, FIELD, FLAG, KEY, TYPE, DEFAULT, MIN,   \
                               MAX, VALUES, DESC)                              \
  static cl::opt<TYPE> FIELD##Flag(FLAG, cl::desc(PREFIX DESC),                \
                                   cl::init(DEFAULT), cl::cat(category));
#define FLASHMLIR_KERNEL_OPTION(...) FLASHMLIR_COMPILE_FLAG("", __VA_ARGS__)
#define FLASHMLIR_PLAN_OPTION(...) FLASHMLIR_COMPILE_FLAG("hopper: ", __VA_ARGS__)
#include "flashmlir/Compiler/KernelOptions.def"
#undef FLASHMLIR_COMPILE_FLAG

static cl::opt<bool> gpuModule(
    "gpu-module",
    cl::desc("The input already holds gpu.module kernels (hand-written "
             "building blocks): only lower and serialize them"),
    cl::init(false), cl::cat(category));

static cl::opt<bool> testDropDelta(
    "test-drop-delta",
    cl::desc("(dev only) the backward without D (attn-online-softmax's "
             "test-drop-delta): a kernel the GPU numerics must reject"),
    cl::init(false), cl::Hidden, cl::cat(category));

static int fail(const Twine &message) {
  WithColor::error(errs(), "attn-compile") << message << "\n";
  return 1;
}

/// Writes `text` to `path` as a ToolOutputFile that the caller keeps once
/// every output is written (else it is removed). Fails on any write error.
static Expected<std::unique_ptr<ToolOutputFile>>
writeOutput(StringRef path, StringRef text) {
  std::error_code ec;
  auto file = std::make_unique<ToolOutputFile>(path, ec, sys::fs::OF_Text);
  if (!ec) {
    file->os() << text;
    file->os().flush();
    ec = file->os().error();
    file->os().clear_error(); // reported below, not fatal at destruction
  }
  if (ec)
    return createStringError(ec, "cannot write '" + path + "': " +
                                     ec.message());
  return std::move(file);
}

/// ptxas from $PATH, else the CUDA toolkit's.
static ErrorOr<std::string> findPtxas() {
  ErrorOr<std::string> ptxas = sys::findProgramByName("ptxas");
  if (ptxas)
    return ptxas;
  SmallVector<StringRef, 2> dirs;
  std::optional<std::string> root = sys::Process::GetEnv("CUDA_ROOT");
  if (root)
    dirs.push_back(*root);
  dirs.push_back("/usr/local/cuda");
  for (StringRef dir : dirs) {
    SmallString<128> bin(dir);
    sys::path::append(bin, "bin");
    if ((ptxas = sys::findProgramByName("ptxas", {bin})))
      break;
  }
  return ptxas;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "flashmlir kernel compiler\n");

  auto input = MemoryBuffer::getFileOrSTDIN(inputFile);
  if (!input)
    return fail("cannot read '" + inputFile + "': " +
                input.getError().message());

  flashmlir::KernelOptions kernel;
#define FLASHMLIR_KERNEL_OPTION(FIELD, ...) kernel.FIELD = FIELD##Flag;
#include "flashmlir/Compiler/KernelOptions.def"
  if (Error err = flashmlir::checkKernelOptions(
          kernel, flashmlir::OptionSpelling::Flag))
    return fail("--" + toString(std::move(err)));
  // Before anything runs: ptxas and the back end would take a bad chip.
  if (Error err = flashmlir::checkChip(kernel.chip,
                                       !gpuModule && kernel.kernel == "hopper"))
    return fail("--chip: " + toString(std::move(err)));
  StringRef source = (*input)->getBuffer();
  flashmlir::AttnToPtxSimtOptions simt;
  simt.assign(kernel);
  flashmlir::AttnToPtxOptions hopper;
  hopper.assign(kernel);
  hopper.testDropDelta = testDropDelta;
  Expected<flashmlir::GpuCompileResult> result =
      flashmlir::runRecoverably<flashmlir::GpuCompileResult>(
          "attn-compile: the compiler failed",
          [&]() -> Expected<flashmlir::GpuCompileResult> {
            if (gpuModule)
              return flashmlir::compileGpuModulesToPtx(source, simt);
            if (kernel.kernel == "simt")
              return flashmlir::compileAttentionToPtx(source, simt);
            return flashmlir::compileAttentionToHopperPtx(source, hopper);
          });
  if (!result)
    return fail(toString(result.takeError()));

  // Every output is removed again unless all of them are written.
  Expected<std::unique_ptr<ToolOutputFile>> ptx =
      writeOutput(outputFile, result->ptx);
  if (!ptx)
    return fail(toString(ptx.takeError()));

  std::unique_ptr<ToolOutputFile> cubin;
  if (!cubinFile.empty()) {
    ErrorOr<std::string> ptxas = findPtxas();
    if (!ptxas)
      return fail("--cubin needs ptxas (the CUDA toolkit): not in $PATH, "
                  "$CUDA_ROOT/bin or /usr/local/cuda/bin");
    // ptxas writes the cubin; registered for removal like the others.
    std::error_code ec;
    cubin = std::make_unique<ToolOutputFile>(cubinFile, ec, sys::fs::OF_None);
    if (ec)
      return fail("cannot write '" + cubinFile + "': " + ec.message());
    std::string arch = "-arch=" + kernel.chip;
    StringRef args[] = {*ptxas, arch, "-v", outputFile, "-o", cubinFile};
    std::string message;
    int rc = sys::ExecuteAndWait(*ptxas, args, std::nullopt, {}, 0, 0,
                                 &message);
    if (rc != 0)
      return fail("ptxas failed (exit " + std::to_string(rc) + ")" +
                  (message.empty() ? "" : ": " + message) + " on '" +
                  outputFile + "'");
  }

  std::unique_ptr<ToolOutputFile> json;
  if (!jsonFile.empty()) {
    Expected<std::unique_ptr<ToolOutputFile>> written = writeOutput(
        jsonFile, flashmlir::formatLaunchMetadata(*result, kernel.chip) + "\n");
    if (!written)
      return fail(toString(written.takeError()));
    json = std::move(*written);
  }
  (*ptx)->keep();
  if (cubin)
    cubin->keep();
  if (json)
    json->keep();
  return 0;
}
