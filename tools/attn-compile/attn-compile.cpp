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
static cl::opt<std::string> chip("chip", cl::desc("Target chip"),
                                 cl::init("sm_90a"), cl::cat(category));
static cl::opt<std::string>
    kernelKind("kernel",
               cl::desc("Kernel: hopper (warp-specialized wgmma/TMA) or simt "
                        "(bring-up, one thread per query row)"),
               cl::init("hopper"), cl::cat(category));
static cl::opt<int64_t>
    blockM("block-m",
           cl::desc("Query rows per block (0 = heuristic; simt: 64)"),
           cl::init(0), cl::cat(category));
static cl::opt<int64_t>
    blockN("block-n", cl::desc("Keys per KV block (0 = heuristic; simt: 32)"),
           cl::init(0), cl::cat(category));
static cl::opt<int64_t>
    stages("stages",
           cl::desc("hopper: K/V shared-memory stages (0 = as many as fit)"),
           cl::init(0), cl::cat(category));
static cl::opt<bool>
    pingPong("ping-pong",
             cl::desc("hopper: consumers take turns to issue Q·Kᵀ"),
             cl::init(true), cl::cat(category));
static cl::opt<std::string> pvSchedule(
    "pv-schedule",
    cl::desc("hopper: when each block's P·V is issued: auto, serial, deferred "
             "or overlap"),
    cl::init("auto"), cl::cat(category));
static cl::opt<int64_t> persistentCtas(
    "persistent-ctas",
    cl::desc("hopper: CTAs of the persistent kernel (the SM count) where "
             "the plan uses one; 0 = one CTA per tile"),
    cl::init(132), cl::cat(category));
static cl::opt<std::string> schedule(
    "schedule",
    cl::desc("hopper: tiles over CTAs: auto (the heuristic), tiles (one CTA "
             "per tile) or persistent (wherever the kernel can be)"),
    cl::init("auto"), cl::cat(category));
static cl::opt<std::string> epilogue(
    "epilogue",
    cl::desc("hopper: how O is written: auto, direct (stores from the "
             "registers), tma (an O buffer and a TMA store) or tma_in_q "
             "(staged in Q's buffer)"),
    cl::init("auto"), cl::cat(category));
static cl::opt<int64_t> ctasPerSm(
    "ctas-per-sm",
    cl::desc("hopper: CTAs resident per SM to build for (1 to 4)"),
    cl::init(1), cl::cat(category));
static cl::opt<bool> gpuModule(
    "gpu-module",
    cl::desc("The input already holds gpu.module kernels (hand-written "
             "building blocks): only lower and serialize them"),
    cl::init(false), cl::cat(category));
static cl::opt<int> optLevel("opt-level",
                             cl::desc("LLVM optimization level of the kernel"),
                             cl::init(3), cl::cat(category));

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

  if (kernelKind != "hopper" && kernelKind != "simt")
    return fail("unknown --kernel '" + kernelKind + "'; expected hopper or simt");
  if (blockM < 0 || blockN < 0 || stages < 0 || persistentCtas < 0)
    return fail("--block-m, --block-n, --stages and --persistent-ctas must "
                "not be negative");
  // Before anything runs: ptxas and the back end would take a bad chip.
  if (Error err = flashmlir::checkChip(chip, !gpuModule && kernelKind == "hopper"))
    return fail("--chip: " + toString(std::move(err)));
  StringRef source = (*input)->getBuffer();
  flashmlir::AttnToPtxSimtOptions simt;
  simt.chip = chip;
  simt.blockM = blockM ? blockM : 64;
  simt.blockN = blockN ? blockN : 32;
  simt.optLevel = optLevel;
  flashmlir::AttnToPtxOptions hopper;
  hopper.chip = chip;
  hopper.blockM = blockM;
  hopper.blockN = blockN;
  hopper.stages = stages;
  hopper.pingPong = pingPong;
  hopper.pvSchedule = pvSchedule;
  hopper.persistentCtas = persistentCtas;
  hopper.epilogue = epilogue;
  hopper.schedule = schedule;
  hopper.ctasPerSm = ctasPerSm;
  hopper.optLevel = optLevel;
  Expected<flashmlir::GpuCompileResult> result =
      flashmlir::runRecoverably<flashmlir::GpuCompileResult>(
          "attn-compile: the compiler failed",
          [&]() -> Expected<flashmlir::GpuCompileResult> {
            if (gpuModule)
              return flashmlir::compileGpuModulesToPtx(source, simt);
            if (kernelKind == "simt")
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
    std::string arch = "-arch=" + chip;
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
        jsonFile, flashmlir::formatLaunchMetadata(*result, chip) + "\n");
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
