//===- CpuKernel.cpp - compile and run memref-level IR on the host --------===//
//
// compile():
//  1. parse and verify the source in a fresh MLIRContext, every diagnostic
//     going to a string (SourceMgrDiagnosticHandler, with source snippets);
//  2. check the entry: a public func.func definition, memref arguments of a
//     supported element type, no results; record its signature;
//  3. run the front-end passes, then buildCpuLoweringPipeline, and check that
//     only LLVM dialect ops are left and that every external function they
//     call exists in this process;
//  4. translate to LLVM IR, optimize it and JIT it for the host CPU, then look
//     the packed C-interface wrapper up once, so that unresolved symbols are
//     compile errors and run() is a plain call.
//
// run() builds one StridedMemRefType-layout descriptor per argument
// ({allocated, aligned, offset, sizes[rank], strides[rank]}, all 64-bit on the
// hosts we support) and calls `_mlir__mlir_ciface_<entry>` with a pointer to a
// pointer to each.
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Compiler/CpuKernel.h"
#include "flashmlir/Compiler/TensorBufferization.h"
#include "flashmlir/Compiler/CpuPipeline.h"
#include "flashmlir/Compiler/InputLimits.h"
#include "flashmlir/Compiler/Recovery.h"

#include "attn/Attn.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <mutex>

using namespace mlir;
using namespace flashmlir;

//===----------------------------------------------------------------------===//
// Names and errors
//===----------------------------------------------------------------------===//

char CpuKernelError::ID = 0;

void CpuKernelError::log(llvm::raw_ostream &os) const { os << message; }

std::error_code CpuKernelError::convertToErrorCode() const {
  return llvm::inconvertibleErrorCode();
}

static llvm::Error makeError(CpuErrorKind kind, const llvm::Twine &message) {
  return llvm::make_error<CpuKernelError>(kind, message.str());
}

llvm::StringRef flashmlir::elementKindName(ElementKind kind) {
  switch (kind) {
  case ElementKind::F16:
    return "f16";
  case ElementKind::BF16:
    return "bf16";
  case ElementKind::F32:
    return "f32";
  case ElementKind::F64:
    return "f64";
  case ElementKind::I32:
    return "i32";
  case ElementKind::I64:
    return "i64";
  case ElementKind::F8E4M3FN:
    return "f8E4M3FN";
  }
  llvm_unreachable("unknown ElementKind");
}

unsigned flashmlir::elementKindSize(ElementKind kind) {
  switch (kind) {
  case ElementKind::F8E4M3FN:
    return 1;
  case ElementKind::F16:
  case ElementKind::BF16:
    return 2;
  case ElementKind::F32:
  case ElementKind::I32:
    return 4;
  case ElementKind::F64:
  case ElementKind::I64:
    return 8;
  }
  llvm_unreachable("unknown ElementKind");
}

static std::optional<ElementKind> elementKindOf(Type type) {
  if (type.isF16())
    return ElementKind::F16;
  if (type.isBF16())
    return ElementKind::BF16;
  if (type.isF32())
    return ElementKind::F32;
  if (type.isF64())
    return ElementKind::F64;
  // Signless only: si32/ui32 memrefs do not come out of the lowering.
  if (type.isSignlessInteger(32))
    return ElementKind::I32;
  if (type.isSignlessInteger(64))
    return ElementKind::I64;
  if (isa<Float8E4M3FNType>(type))
    return ElementKind::F8E4M3FN;
  return std::nullopt;
}

llvm::StringRef flashmlir::cpuStageName(CpuStage stage) {
  switch (stage) {
  case CpuStage::Input:
    return "input";
  case CpuStage::FrontEnd:
    return "front-end";
  case CpuStage::Lowered:
    return "lowered";
  case CpuStage::LLVMIR:
    return "llvm-ir";
  }
  llvm_unreachable("unknown CpuStage");
}

std::array<CpuStage, 4> flashmlir::allCpuStages() {
  return {CpuStage::Input, CpuStage::FrontEnd, CpuStage::Lowered,
          CpuStage::LLVMIR};
}

std::optional<CpuStage> flashmlir::parseCpuStage(llvm::StringRef name) {
  for (CpuStage stage : allCpuStages())
    if (cpuStageName(stage) == name)
      return stage;
  return std::nullopt;
}

/// "[2, ?, 8]" for diagnostics.
static std::string formatDims(llvm::ArrayRef<int64_t> dims) {
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(dims, os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << '?';
    else
      os << d;
  });
  os << ']';
  return text;
}

//===----------------------------------------------------------------------===//
// Front-end pipelines
//===----------------------------------------------------------------------===//

llvm::Expected<std::function<void(OpPassManager &)>>
flashmlir::parseFrontEndPipeline(llvm::StringRef pipeline) {
  llvm::StringRef body = pipeline.trim();
  if (body.empty())
    return std::function<void(OpPassManager &)>();
  // The compile pass manager is anchored on builtin.module already, so the
  // anchored form contributes its body.
  if (body.consume_front("builtin.module(")) {
    if (!body.consume_back(")"))
      return makeError(CpuErrorKind::InvalidOption,
                       "front-end pipeline '" + pipeline +
                           "': unbalanced 'builtin.module(' ... ')'");
  }
  if (llvm::Error err = checkNestingDepth(pipeline, "the front-end pipeline"))
    return makeError(CpuErrorKind::InvalidOption,
                     llvm::toString(std::move(err)));
  std::string errors;
  llvm::raw_string_ostream os(errors);
  OpPassManager probe("builtin.module");
  if (failed(parsePassPipeline(body, probe, os)))
    return makeError(CpuErrorKind::InvalidOption,
                     "invalid front-end pipeline '" + pipeline +
                         "': " + llvm::StringRef(errors).trim());
  std::string text = body.str();
  return std::function<void(OpPassManager &)>([text](OpPassManager &pm) {
    // Parsed once above; the registry cannot shrink in between.
    (void)parsePassPipeline(text, pm, llvm::errs());
  });
}

//===----------------------------------------------------------------------===//
// compile()
//===----------------------------------------------------------------------===//

/// One-time process set-up: the native target for the JIT, and the MLIR C
/// runner utilities (memrefCopy, for strided memref.copy) made visible to it.
static void initializeHostJit() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
#ifdef FLASHMLIR_C_RUNNER_UTILS
    // Loaded RTLD_GLOBAL, so the JIT's current-process generator resolves its
    // symbols. Optional: only non-contiguous memref.copy needs it.
    if (llvm::sys::fs::exists(FLASHMLIR_C_RUNNER_UTILS))
      llvm::sys::DynamicLibrary::LoadLibraryPermanently(
          FLASHMLIR_C_RUNNER_UTILS);
#endif
  });
}

static DialectRegistry makeRegistry() {
  DialectRegistry registry;
  registry
      .insert<attn::AttnDialect, arith::ArithDialect, cf::ControlFlowDialect,
              func::FuncDialect, index::IndexDialect, LLVM::LLVMDialect,
              math::MathDialect, memref::MemRefDialect, scf::SCFDialect,
              tensor::TensorDialect, vector::VectorDialect>();
  registerTensorBufferizationInterfaces(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  return registry;
}

static std::string printOp(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  op->print(os);
  return text;
}

/// Whether the function may write memory through `arg`: follows views of it
/// and asks each user for its memory effects on it. Anything it cannot
/// account for (calls, loops carrying the memref, unknown ops) counts as a
/// write.
static bool mayWriteThrough(Value arg) {
  SmallVector<Value> worklist = {arg};
  llvm::SmallPtrSet<Operation *, 16> seenViews;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (auto view = dyn_cast<ViewLikeOpInterface>(user);
          view && view.getViewSource() == value) {
        if (seenViews.insert(user).second)
          llvm::append_range(worklist, user->getResults());
        continue;
      }
      auto effects = dyn_cast<MemoryEffectOpInterface>(user);
      if (!effects)
        return true;
      SmallVector<MemoryEffects::EffectInstance> list;
      effects.getEffects(list);
      for (const MemoryEffects::EffectInstance &effect : list) {
        bool writes =
            isa<MemoryEffects::Write, MemoryEffects::Free>(effect.getEffect());
        // An effect not attached to a value may be on this buffer too.
        if (writes && (!effect.getValue() || effect.getValue() == value))
          return true;
      }
      // A memref result that is not a view may alias the buffer unseen.
      if (llvm::any_of(user->getResultTypes(), llvm::IsaPred<BaseMemRefType>))
        return true;
    }
  }
  return false;
}

/// Records the entry's signature, or explains why it cannot be a CPU kernel.
static llvm::Error recordSignature(func::FuncOp func,
                                   SmallVectorImpl<MemRefParam> &params) {
  std::string where = ("entry '" + func.getSymName() + "'").str();
  if (func.getNumResults() != 0)
    return makeError(CpuErrorKind::Compile,
                     where + " returns values; CPU kernels write their "
                             "results into memref arguments and return "
                             "nothing");
  for (auto [index, arg] : llvm::enumerate(func.getArguments())) {
    std::string argName = where + " argument #" + std::to_string(index);
    std::string typeText;
    llvm::raw_string_ostream(typeText) << arg.getType();
    auto type = dyn_cast<MemRefType>(arg.getType());
    if (!type)
      return makeError(CpuErrorKind::Compile,
                       argName + " has type " + typeText +
                           "; CPU kernels take ranked memrefs only");
    std::optional<ElementKind> kind = elementKindOf(type.getElementType());
    if (!kind)
      return makeError(CpuErrorKind::Compile,
                       argName + " has type " + typeText +
                           "; supported element types are f16, bf16, f32, "
                           "f64, i32, i64 and f8E4M3FN");
    if (type.getMemorySpace())
      return makeError(CpuErrorKind::Compile,
                       argName + " has type " + typeText +
                           "; host memrefs have no memory space");
    MemRefParam param;
    param.type = typeText;
    param.kind = *kind;
    llvm::append_range(param.sizes, type.getShape());
    if (!type.getLayout().isIdentity()) {
      int64_t offset;
      if (failed(type.getStridesAndOffset(param.strides, offset)))
        return makeError(CpuErrorKind::Compile,
                         argName + " has type " + typeText +
                             "; its layout is not strided");
      // run() passes offset 0 with `data` at element (0, ..., 0).
      if (!ShapedType::isDynamic(offset) && offset != 0)
        return makeError(CpuErrorKind::Compile,
                         argName + " has type " + typeText +
                             "; a static non-zero offset is not supported");
    }
    param.mayWrite = mayWriteThrough(arg);
    params.push_back(std::move(param));
  }
  return llvm::Error::success();
}

CpuKernel::CpuKernel() = default;
CpuKernel::~CpuKernel() = default;

llvm::Expected<std::unique_ptr<CpuKernel>>
CpuKernel::compile(llvm::StringRef mlirSource, llvm::StringRef entry,
                   const CpuCompileOptions &options) {
  if (llvm::Error err = checkMlirSource(mlirSource, "the MLIR source"))
    return makeError(CpuErrorKind::Compile, llvm::toString(std::move(err)));
  return runRecoverably<std::unique_ptr<CpuKernel>>(
      "cpu_compile: the compiler failed",
      [&] { return compileUnguarded(mlirSource, entry, options); });
}

llvm::Expected<std::unique_ptr<CpuKernel>>
CpuKernel::compileUnguarded(llvm::StringRef mlirSource, llvm::StringRef entry,
                            const CpuCompileOptions &options) {
  if (options.optLevel < 0 || options.optLevel > 3)
    return makeError(CpuErrorKind::InvalidOption,
                     "optimization level " + llvm::Twine(options.optLevel) +
                         " is not in [0, 3]");
  initializeHostJit();

  std::unique_ptr<CpuKernel> kernel(new CpuKernel());
  kernel->entry = entry.str();

  // A context per kernel: nothing MLIR outlives compile(). One function is
  // compiled at a time, so a thread pool would only cost start-up time.
  MLIRContext context(makeRegistry(), MLIRContext::Threading::DISABLED);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(mlirSource, "<cpu_compile>"),
      llvm::SMLoc());
  std::string diagnostics;
  llvm::raw_string_ostream diagOS(diagnostics);
  SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context, diagOS);
  auto fail = [&](CpuErrorKind kind, const llvm::Twine &what) {
    std::string message = what.str();
    if (!diagnostics.empty())
      message += ":\n" + llvm::StringRef(diagnostics).rtrim().str();
    return makeError(kind, message);
  };
  auto keep = [&](CpuStage stage, Operation *op) {
    if (options.dumpStages)
      kernel->stages[static_cast<size_t>(stage)] = printOp(op);
  };

  // 1. Parse (the parser verifies).
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(&context));
  if (!module)
    return fail(CpuErrorKind::Compile, "failed to parse the kernel source");
  keep(CpuStage::Input, *module);

  // 2. The entry point, before any pass can obscure a wrong name.
  auto lookupEntry = [&]() -> llvm::Expected<func::FuncOp> {
    auto func = module->lookupSymbol<func::FuncOp>(entry);
    if (func && func.isPublic() && !func.isDeclaration())
      return func;
    std::string known;
    llvm::raw_string_ostream os(known);
    llvm::interleaveComma(
        llvm::make_filter_range(
            module->getOps<func::FuncOp>(),
            [](func::FuncOp f) { return f.isPublic() && !f.isDeclaration(); }),
        os, [&](func::FuncOp f) { os << "'" << f.getSymName() << "'"; });
    std::string why = !func                  ? "no func.func is named"
                      : func.isDeclaration() ? "only a declaration is named"
                                             : "a private function is named";
    return makeError(CpuErrorKind::InvalidOption,
                     "unknown entry '" + entry + "': " + why + " '" + entry +
                         "' (public functions: " +
                         (known.empty() ? std::string("none") : known) + ")");
  };
  if (auto func = lookupEntry(); !func)
    return func.takeError();

  // 3a. Front end.
  {
    PassManager pm(&context);
    if (options.frontEnd)
      options.frontEnd(pm);
    if (failed(pm.run(*module)))
      return fail(CpuErrorKind::Compile, "front-end passes failed");
  }
  keep(CpuStage::FrontEnd, *module);
  {
    llvm::Expected<func::FuncOp> func = lookupEntry();
    if (!func)
      return fail(CpuErrorKind::Compile,
                  "the front-end passes removed the entry: " +
                      llvm::toString(func.takeError()));
    if (llvm::Error err = recordSignature(*func, kernel->params))
      return std::move(err);
  }

  // 3b. CPU lowering.
  {
    PassManager pm(&context);
    buildCpuLoweringPipeline(pm);
    if (failed(pm.run(*module)))
      return fail(CpuErrorKind::Compile, "the CPU lowering failed");
  }
  keep(CpuStage::Lowered, *module);
  std::string leftovers;
  llvm::raw_string_ostream leftoverOS(leftovers);
  unsigned numLeft = 0;
  module->walk([&](Operation *op) {
    if (op == module->getOperation() ||
        isa<LLVM::LLVMDialect>(op->getDialect()))
      return;
    if (numLeft++ < 5)
      leftoverOS << "\n  '" << op->getName() << "' at " << op->getLoc();
  });
  if (numLeft)
    return fail(CpuErrorKind::Compile,
                "the CPU lowering left " + llvm::Twine(numLeft) +
                    " non-LLVM op(s), which no pass of the pipeline "
                    "converts:" +
                    leftovers);

  // The JIT resolves external functions (libm, malloc, the C runner
  // utilities) in this process; name the missing ones here, since ORC only
  // reports them to stderr.
  SmallVector<std::string> unresolved;
  for (auto func : module->getOps<LLVM::LLVMFuncOp>())
    if (func.isExternal() &&
        !llvm::sys::DynamicLibrary::SearchForAddressOfSymbol(
            func.getSymName().str()))
      unresolved.push_back(("'" + func.getSymName() + "'").str());
  if (!unresolved.empty())
    return fail(CpuErrorKind::Compile,
                "the kernel calls external function(s) " +
                    llvm::join(unresolved, ", ") +
                    ", which are not defined in the module nor found in "
                    "this process");

  // 4. LLVM IR, optimized and JIT-compiled for this host.
  auto tmBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!tmBuilder)
    return fail(CpuErrorKind::Compile,
                "cannot target the host: " +
                    llvm::toString(tmBuilder.takeError()));
  static constexpr llvm::CodeGenOptLevel codeGenLevels[] = {
      llvm::CodeGenOptLevel::None, llvm::CodeGenOptLevel::Less,
      llvm::CodeGenOptLevel::Default, llvm::CodeGenOptLevel::Aggressive};
  llvm::CodeGenOptLevel codeGenLevel = codeGenLevels[options.optLevel];
  tmBuilder->setCodeGenOptLevel(codeGenLevel);
  auto tm = tmBuilder->createTargetMachine();
  if (!tm)
    return fail(CpuErrorKind::Compile,
                "cannot create the host target machine: " +
                    llvm::toString(tm.takeError()));
  auto optimize = makeOptimizingTransformer(options.optLevel,
                                            /*sizeLevel=*/0, tm->get());
  std::string llvmIR;
  // ExecutionEngine::create cantFail()s the transformer's result, so an
  // optimizer error is kept here and reported after creation.
  std::string transformError;
  auto transformer = [&](llvm::Module *llvmModule) -> llvm::Error {
    if (llvm::Error err = optimize(llvmModule))
      transformError = llvm::toString(std::move(err));
    if (options.dumpStages) {
      llvm::raw_string_ostream os(llvmIR);
      llvmModule->print(os, nullptr);
    }
    return llvm::Error::success();
  };
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = codeGenLevel;
  engineOptions.enablePerfNotificationListener = false;
  auto engine = ExecutionEngine::create(*module, engineOptions, std::move(*tm));
  if (!engine)
    return fail(CpuErrorKind::Compile, "JIT compilation failed: " +
                                           llvm::toString(engine.takeError()));
  if (!transformError.empty())
    return fail(CpuErrorKind::Compile,
                "LLVM optimization failed: " + transformError);
  kernel->engine = std::move(*engine);
  kernel->stages[static_cast<size_t>(CpuStage::LLVMIR)] = std::move(llvmIR);

  // Runs global constructors once, here rather than racily in run().
  kernel->engine->initialize();
  auto packed = kernel->engine->lookupPacked("_mlir_ciface_" + entry.str());
  if (!packed)
    return fail(CpuErrorKind::Compile, "cannot link entry '" + entry + "': " +
                                           llvm::toString(packed.takeError()));
  kernel->packedEntry = *packed;
  return kernel;
}

//===----------------------------------------------------------------------===//
// run()
//===----------------------------------------------------------------------===//

llvm::StringRef CpuKernel::stageIR(CpuStage stage) const {
  return stages[static_cast<size_t>(stage)];
}

// Descriptors are built as arrays of 64-bit words.
static_assert(sizeof(void *) == sizeof(int64_t),
              "CpuKernel needs a 64-bit host");

llvm::Error CpuKernel::run(llvm::ArrayRef<MemRefArg> args) const {
  if (args.size() != params.size()) {
    std::string expected;
    llvm::raw_string_ostream os(expected);
    llvm::interleaveComma(params, os,
                          [&](const MemRefParam &p) { os << p.type; });
    return makeError(CpuErrorKind::ArgumentType,
                     "'" + entry + "' takes " + llvm::Twine(params.size()) +
                         " argument(s) (" + expected + "), got " +
                         llvm::Twine(args.size()));
  }

  // Descriptor words: allocated, aligned, offset, sizes..., strides...
  SmallVector<SmallVector<int64_t, 11>> descriptors(args.size());
  for (auto [index, arg, param] : llvm::enumerate(args, params)) {
    std::string name =
        "argument #" + std::to_string(index) + " (" + param.type + ")";
    auto bad = [&](CpuErrorKind kind, const llvm::Twine &why) {
      return makeError(kind, "'" + entry + "' " + name + ": " + why);
    };
    if (arg.kind != param.kind)
      return bad(CpuErrorKind::ArgumentType,
                 "expected " + elementKindName(param.kind) + " elements, got " +
                     elementKindName(arg.kind));
    size_t rank = param.sizes.size();
    if (arg.sizes.size() != rank || arg.strides.size() != rank)
      return bad(CpuErrorKind::ArgumentValue,
                 "expected rank " + llvm::Twine(rank) + ", got rank " +
                     llvm::Twine(arg.sizes.size()) + " with sizes " +
                     formatDims(arg.sizes));
    int64_t numElements = 1;
    for (auto [dim, size] : llvm::enumerate(arg.sizes)) {
      if (size < 0)
        return bad(CpuErrorKind::ArgumentValue,
                   "negative size in " + formatDims(arg.sizes));
      if (!ShapedType::isDynamic(param.sizes[dim]) && size != param.sizes[dim])
        return bad(CpuErrorKind::ArgumentValue,
                   "dimension " + llvm::Twine(dim) + " must be " +
                       llvm::Twine(param.sizes[dim]) + ", got sizes " +
                       formatDims(arg.sizes));
      numElements *= size;
    }
    if (arg.readOnly && param.mayWrite)
      return bad(CpuErrorKind::ArgumentValue,
                 "the buffer is read-only, but the kernel may write to it");
    auto address = reinterpret_cast<uintptr_t>(arg.data);
    if (!arg.data && numElements != 0)
      return bad(CpuErrorKind::ArgumentValue, "null data pointer");
    if (address % elementKindSize(arg.kind) != 0)
      return bad(CpuErrorKind::ArgumentValue,
                 "data pointer is not aligned to its " +
                     elementKindName(arg.kind) + " elements");

    // Strides the kernel assumes; a dimension of size 1 may carry any stride
    // (numpy gives them arbitrary ones), so the assumed one is passed.
    SmallVector<int64_t> strides(arg.strides.begin(), arg.strides.end());
    if (param.strides.empty()) {
      int64_t expected = 1;
      for (size_t dim = rank; dim-- > 0;) {
        if (numElements != 0 && arg.sizes[dim] != 1 &&
            arg.strides[dim] != expected)
          return bad(CpuErrorKind::ArgumentValue,
                     "the identity layout needs row-major contiguous "
                     "strides, got " +
                         formatDims(arg.strides) + " (in elements) for sizes " +
                         formatDims(arg.sizes) +
                         "; copy it or give the memref a strided layout");
        strides[dim] = expected;
        expected *= arg.sizes[dim];
      }
    } else {
      for (size_t dim = 0; dim < rank; ++dim) {
        int64_t want = param.strides[dim];
        if (ShapedType::isDynamic(want))
          continue;
        if (numElements != 0 && arg.sizes[dim] != 1 && arg.strides[dim] != want)
          return bad(CpuErrorKind::ArgumentValue,
                     "dimension " + llvm::Twine(dim) + " must have stride " +
                         llvm::Twine(want) + ", got strides " +
                         formatDims(arg.strides));
        strides[dim] = want;
      }
    }

    SmallVector<int64_t, 11> &desc = descriptors[index];
    desc.push_back(static_cast<int64_t>(address));
    desc.push_back(static_cast<int64_t>(address));
    desc.push_back(0);
    llvm::append_range(desc, arg.sizes);
    llvm::append_range(desc, strides);
  }

  // The C interface takes each descriptor by pointer; the packed wrapper
  // takes a pointer to each of those pointers.
  SmallVector<void *> descriptorPtrs, packedArgs;
  for (SmallVector<int64_t, 11> &desc : descriptors)
    descriptorPtrs.push_back(desc.data());
  for (void *&ptr : descriptorPtrs)
    packedArgs.push_back(&ptr);
  packedEntry(packedArgs.data());
  return llvm::Error::success();
}
