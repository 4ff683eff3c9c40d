//===- GpuPipeline.cpp - attn.attention to PTX ----------------------------===//

#include "flashmlir/Compiler/GpuPipeline.h"
#include "flashmlir/Compiler/InputLimits.h"
#include "flashmlir/Compiler/TensorBufferization.h"
#include "flashmlir/Conversion/Passes.h"
#include "flashmlir/Transforms/Passes.h"

#include "flashmlir/Target/NVPTX.h"
#include "flashmlir/Target/Passes.h"

#include "attn/Attn.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/GPUCommon/GPUToLLVM.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/TypeSwitch.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVM.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

using namespace mlir;
using namespace flashmlir;

/// --attn-warp-specialize on one function, on the online-softmax level:
/// attn-plan-hopper (decide: #attn.hopper_plan), attn-partition-roles (the
/// producer and consumer roles, the channels), attn-pipeline-mma (the P·V
/// schedule as asynchronous MMAs), attn-consumer-turns (ping-pong).
template <typename Options>
static void addWarpSpecialize(OpPassManager &funcPm, const Options &opts) {
  funcPm.addPass(createAttnPlanHopperPass(opts.planOptions()));
  funcPm.addPass(createAttnPartitionRolesPass());
  funcPm.addPass(createAttnPipelineMmaPass());
  funcPm.addPass(createAttnConsumerTurnsPass());
}

/// The canonicalizer for the fully unrolled kernels: bottom-up worklist order.
/// Why: on the Hopper kernel (~5k ops) the default top-down traversal takes
/// 12x longer for the same result (d=256 causal: 96 ms vs 8 ms, identical
/// output), a third of the whole compile.
static std::unique_ptr<Pass> createKernelCanonicalizerPass() {
  GreedyRewriteConfig config;
  config.setUseTopDownTraversal(false);
  return createCanonicalizerPass(config);
}

/// The online-softmax level's grids to SIMT kernels: the tiles as loops over
/// shared-memory buffers, each grid a gpu.launch.
static void addSimtMapping(OpPassManager &funcPm) {
  funcPm.addPass(createAttnBufferizeTilesPass());
  AttnTilesToLoopsPassOptions loops;
  loops.loads = false;    // copied cooperatively by attn-map-to-gpu
  loops.stores = false;   // likewise
  loops.programs = false; // mapped onto the launch grid by attn-map-to-gpu
  funcPm.addPass(createAttnTilesToLoopsPass(loops));
  funcPm.addPass(createAttnMapToGpuPass());
}

/// attn passes to the outlined Hopper kernel: tile, lower to the
/// warp-specialized kernel, fold the static index arithmetic, sink, outline.
static void addHopperFrontHalf(OpPassManager &pm,
                               const AttnToPtxOptions &opts) {
  addTensorBufferization(pm);
  OpPassManager &funcPm = pm.nest<func::FuncOp>();
  AttnTilePassOptions tile;
  tile.target = "sm_90a";
  tile.blockM = opts.blockM;
  tile.blockN = opts.blockN;
  funcPm.addPass(createAttnTilePass(tile));
  funcPm.addPass(createAttnScoreModGradPass()); // a backward's dS/dS'
  AttnOnlineSoftmaxPassOptions softmax;
  softmax.testDropDelta = opts.testDropDelta;
  funcPm.addPass(createAttnOnlineSoftmaxPass(softmax));
  addWarpSpecialize(funcPm, opts);
  funcPm.addPass(createAttnConvertToNVGPUPass());
  funcPm.addPass(createAttnNarrowModifierArithPass());
  // The grids without MMAs (the backward's preprocess and postprocess) to
  // the SIMT kernel; nothing is left of a forward here.
  addSimtMapping(funcPm);
  funcPm.addPass(createKernelCanonicalizerPass());
  funcPm.addPass(createCSEPass());
  pm.addPass(createGpuLaunchSinkIndexComputationsPass());
}

/// attn passes to the outlined GPU kernel: tile, online softmax, the tiles as
/// loops over shared-memory buffers, map onto the GPU, fold the static index arithmetic, sink it into the launch, outline.
static void addFrontHalf(OpPassManager &pm, const AttnToPtxSimtOptions &opts) {
  addTensorBufferization(pm);
  OpPassManager &funcPm = pm.nest<func::FuncOp>();
  AttnTilePassOptions tile;
  tile.target = "sm_90a";
  tile.blockM = opts.blockM;
  tile.blockN = opts.blockN;
  funcPm.addPass(createAttnTilePass(tile));
  funcPm.addPass(createAttnOnlineSoftmaxPass());
  addSimtMapping(funcPm);
  // Fold the index arithmetic of static shapes into constants, which are
  // sunk into the kernel: kernels then take only the memrefs.
  funcPm.addPass(createKernelCanonicalizerPass());
  funcPm.addPass(createCSEPass());
  pm.addPass(createGpuLaunchSinkIndexComputationsPass());
}

/// A pipeline whose options are wrong is one pass that fails with `err`.
static bool rejectedOption(OpPassManager &pm, llvm::StringRef pipeline,
                           llvm::Error err) {
  if (!err)
    return false;
  pm.addPass(createAttnRejectOptionPass(
      {pipeline.str() + ": " + llvm::toString(std::move(err))}));
  return true;
}

void flashmlir::buildAttnToPtxSimtPipeline(OpPassManager &pm,
                                           const AttnToPtxSimtOptions &opts) {
  if (rejectedOption(pm, "attn-to-ptx-simt",
                     checkChip(opts.chip, /*hopper=*/false)))
    return;
  addFrontHalf(pm, opts);
  addKernelOutlining(pm);
  addNVPTXBackHalf(pm, opts.chip, opts.optLevel);
}

void flashmlir::buildAttnToPtxPipeline(OpPassManager &pm,
                                       const AttnToPtxOptions &opts) {
  if (!llvm::is_contained({"isa", "bin", "fatbin"}, opts.format)) {
    pm.addPass(createAttnRejectOptionPass(
        {"attn-to-ptx: format must be isa (PTX), bin (cubin) or fatbin, got '" +
         opts.format + "'"}));
    return;
  }
  if (rejectedOption(pm, "attn-to-ptx", checkChip(opts.chip, /*hopper=*/true)))
    return;
  addHopperFrontHalf(pm, opts);
  addKernelOutlining(pm);
  addNVPTXBackHalf(pm, opts.chip, opts.optLevel, opts.format);
}

namespace {
struct WarpSpecializeOptions
    : HopperPlanPipelineOptions<WarpSpecializeOptions> {
};
} // namespace

/// --attn-warp-specialize: the Hopper lowering's stages, on every function.
static void buildWarpSpecializePipeline(OpPassManager &pm,
                                        const WarpSpecializeOptions &opts) {
  addWarpSpecialize(pm.nest<func::FuncOp>(), opts);
}

void flashmlir::registerGpuPipelines() {
  static const bool registered = [] {
    // The GPU pipelines' own steps, runnable alone for their lit tests.
    registerFlashMLIRTargetPasses();
    PassPipelineRegistration<AttnToPtxOptions>(
        "attn-to-ptx",
        "attn.attention on static memrefs to PTX through the warp-specialized "
        "Hopper lowering (TMA producer, wgmma consumers; sm_90a)",
        buildAttnToPtxPipeline);
    PassPipelineRegistration<WarpSpecializeOptions>(
        "attn-warp-specialize",
        "The warp-specialized level from the online-softmax level, stage by "
        "stage: attn-plan-hopper, attn-partition-roles, attn-pipeline-mma, "
        "attn-consumer-turns",
        buildWarpSpecializePipeline);
    PassPipelineRegistration<AttnToPtxSimtOptions>(
        "attn-to-ptx-simt",
        "attn.attention on static memrefs to PTX through the SIMT bring-up "
        "lowering (one thread per query row)",
        buildAttnToPtxSimtPipeline);
    return true;
  }();
  (void)registered;
}

void flashmlir::registerGpuCompilationInterfaces(DialectRegistry &registry) {
  registerTensorBufferizationInterfaces(registry);
  registry.insert<attn::AttnDialect, arith::ArithDialect, cf::ControlFlowDialect,
                  func::FuncDialect, gpu::GPUDialect, index::IndexDialect,
                  LLVM::LLVMDialect, NVVM::NVVMDialect, math::MathDialect,
                  memref::MemRefDialect, nvgpu::NVGPUDialect, scf::SCFDialect,
                  tensor::TensorDialect, ub::UBDialect,
                  vector::VectorDialect>();
  arith::registerConvertArithToLLVMInterface(registry);
  cf::registerConvertControlFlowToLLVMInterface(registry);
  registerConvertFuncToLLVMInterface(registry);
  gpu::registerConvertGpuToLLVMInterface(registry);
  index::registerConvertIndexToLLVMInterface(registry);
  registerConvertMathToLLVMInterface(registry);
  registerConvertMemRefToLLVMInterface(registry);
  registerConvertNVVMToLLVMInterface(registry);
  ub::registerConvertUBToLLVMInterface(registry);
  // The SIMT copies' 16-byte vectors (vector.load/store) in the kernels.
  vector::registerConvertVectorToLLVMInterface(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerBuiltinDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
}

static std::optional<int64_t> constantIndex(Value v) {
  APInt value;
  if (v && matchPattern(v, m_ConstantInt(&value)))
    return value.getSExtValue();
  return std::nullopt;
}

/// A host-side index value as an expression of the function arguments'
/// shapes, for the launcher to evaluate (dynamic sizes):
///   int | {"dim": [argument, axis]} | {"op": name, "args": [expr, ...]}
/// with name in add, sub, mul, divu, divs, ceildivu, ceildivs, remu, rems,
/// min, max, minu, maxu, select, and cmp_<predicate>. Fails on anything else.
static FailureOr<llvm::json::Value> hostSizeExpression(Value v) {
  if (std::optional<int64_t> c = constantIndex(v))
    return llvm::json::Value(*c);
  Operation *def = v.getDefiningOp();
  if (!def)
    return failure();
  if (auto dim = dyn_cast<memref::DimOp>(def)) {
    auto arg = dyn_cast<BlockArgument>(dim.getSource());
    std::optional<int64_t> axis = constantIndex(dim.getIndex());
    if (!arg || !isa<func::FuncOp>(arg.getOwner()->getParentOp()) || !axis)
      return failure();
    return llvm::json::Value(llvm::json::Object{
        {"dim", llvm::json::Array{arg.getArgNumber(), *axis}}});
  }
  if (auto metadata = dyn_cast<memref::ExtractStridedMetadataOp>(def)) {
    auto arg = dyn_cast<BlockArgument>(metadata.getSource());
    auto result = cast<OpResult>(v);
    // Results: base buffer, offset, sizes..., strides...
    int64_t axis = static_cast<int64_t>(result.getResultNumber()) - 2;
    if (!arg || !isa<func::FuncOp>(arg.getOwner()->getParentOp()) || axis < 0 ||
        axis >= static_cast<int64_t>(metadata.getSizes().size()))
      return failure();
    return llvm::json::Value(llvm::json::Object{
        {"dim", llvm::json::Array{arg.getArgNumber(), axis}}});
  }
  if (isa<arith::IndexCastOp, arith::IndexCastUIOp, arith::ExtSIOp,
          arith::ExtUIOp, arith::TruncIOp>(def))
    return hostSizeExpression(def->getOperand(0));
  std::string name =
      llvm::TypeSwitch<Operation *, std::string>(def)
          .Case([](arith::AddIOp) { return "add"; })
          .Case([](arith::SubIOp) { return "sub"; })
          .Case([](arith::MulIOp) { return "mul"; })
          .Case([](arith::DivUIOp) { return "divu"; })
          .Case([](arith::DivSIOp) { return "divs"; })
          .Case([](arith::CeilDivUIOp) { return "ceildivu"; })
          .Case([](arith::CeilDivSIOp) { return "ceildivs"; })
          .Case([](arith::RemUIOp) { return "remu"; })
          .Case([](arith::RemSIOp) { return "rems"; })
          .Case([](arith::MinSIOp) { return "min"; })
          .Case([](arith::MaxSIOp) { return "max"; })
          .Case([](arith::MinUIOp) { return "minu"; })
          .Case([](arith::MaxUIOp) { return "maxu"; })
          .Case([](arith::SelectOp) { return "select"; })
          .Case([](arith::CmpIOp cmp) {
            return "cmp_" + arith::stringifyCmpIPredicate(cmp.getPredicate()).str();
          })
          .Default([](Operation *) { return std::string(); });
  if (name.empty())
    return failure();
  llvm::json::Array args;
  for (Value operand : def->getOperands()) {
    FailureOr<llvm::json::Value> e = hostSizeExpression(operand);
    if (failed(e))
      return failure();
    args.push_back(std::move(*e));
  }
  return llvm::json::Value(
      llvm::json::Object{{"op", name}, {"args", std::move(args)}});
}

static std::string jsonText(const llvm::json::Value &v) {
  return llvm::formatv("{0}", v).str();
}

/// The arguments of each function that holds attn.attention ops, with what
/// the ops use them as (GpuKernelInfo::Argument). Read before the front
/// half, which replaces the ops.
static llvm::StringMap<std::vector<GpuKernelInfo::Argument>>
describeSignatures(ModuleOp module) {
  llvm::StringMap<std::vector<GpuKernelInfo::Argument>> signatures;
  module.walk([&](func::FuncOp func) {
    std::vector<GpuKernelInfo::Argument> args;
    for (Type type : func.getArgumentTypes()) {
      GpuKernelInfo::Argument arg;
      llvm::raw_string_ostream(arg.type) << type;
      if (auto shaped = dyn_cast<ShapedType>(type)) {
        llvm::raw_string_ostream(arg.element) << shaped.getElementType();
        if (shaped.hasRank())
          llvm::append_range(arg.shape, shaped.getShape());
      }
      args.push_back(std::move(arg));
    }
    auto addRole = [&](Value v, StringRef role) {
      auto blockArg = dyn_cast_or_null<BlockArgument>(v);
      if (!blockArg || blockArg.getOwner()->getParentOp() != func)
        return;
      std::vector<std::string> &roles = args[blockArg.getArgNumber()].roles;
      if (!llvm::is_contained(roles, role))
        roles.push_back(role.str());
    };
    func.walk([&](attn::AttentionOp op) {
      addRole(op.getQuery(), "q");
      addRole(op.getKey(), "k");
      addRole(op.getValue(), "v");
      addRole(op.getCuSeqlensQ(), "cu_seqlens_q");
      addRole(op.getCuSeqlensK(), "cu_seqlens_k");
      addRole(op.getQDescale(), "q_descale");
      addRole(op.getKDescale(), "k_descale");
      addRole(op.getVDescale(), "v_descale");
      for (Value list : op.getBlockMask())
        addRole(list, "block_mask");
      addRole(op.getOut(), "out");
      addRole(op.getLse(), "lse");
      for (Region *region : {&op.getScoreMod(), &op.getMaskMod()})
        region->walk([&](Operation *inner) {
          for (Value operand : inner->getOperands())
            addRole(operand, "captured");
        });
    });
    signatures[func.getSymName()] = std::move(args);
  });
  return signatures;
}

/// The launch limits of the CUDA driver: grid.x < 2^31, grid.y and grid.z
/// at most 65535, at most 1024 threads per block.
static LogicalResult checkLaunchLimits(gpu::LaunchFuncOp launch,
                                       const GpuKernelInfo &info) {
  static constexpr int64_t kMaxGrid[3] = {(int64_t(1) << 31) - 1, 65535,
                                          65535};
  for (int i = 0; i < 3; ++i)
    if (info.gridSizes[i].empty() && info.grid[i] > kMaxGrid[i])
      return launch.emitOpError()
             << "grid (" << info.grid[0] << ", " << info.grid[1] << ", "
             << info.grid[2] << ") cannot launch: grid." << "xyz"[i]
             << " is at most " << kMaxGrid[i]
             << " (fewer sequences, heads or longer query blocks)";
  if (info.block[0] * info.block[1] * info.block[2] > 1024)
    return launch.emitOpError() << "a block of more than 1024 threads";
  return success();
}

/// Records, before the NVVM lowering, how each kernel is launched: which
/// function arguments it takes, the sizes the host computes from their shapes
/// (dynamic shapes), its grid, block and shared memory.
static FailureOr<std::vector<GpuKernelInfo>>
describeLaunches(ModuleOp module, ArrayRef<DictionaryAttr> tilesInOrder,
                 const llvm::StringMap<std::vector<GpuKernelInfo::Argument>>
                     &signatures) {
  std::vector<GpuKernelInfo> kernels;
  auto constant = constantIndex;
  WalkResult walk = module.walk([&](gpu::LaunchFuncOp launch) {
    GpuKernelInfo info;
    info.name = launch.getKernelName().str();
    if (auto func = launch->getParentOfType<func::FuncOp>())
      info.signature = signatures.lookup(func.getSymName());
    for (Value operand : launch.getKernelOperands()) {
      auto arg = dyn_cast<BlockArgument>(operand);
      if (operand.getType().isIndex() &&
          !(arg && isa<func::FuncOp>(arg.getOwner()->getParentOp()))) {
        // A dynamic size: the launcher computes it from the shapes.
        FailureOr<llvm::json::Value> e = hostSizeExpression(operand);
        if (failed(e)) {
          launch.emitOpError() << "a kernel operand of index type is not a "
                                  "function of the arguments' shapes";
          return WalkResult::interrupt();
        }
        info.arguments.push_back(-1);
        info.sizes.push_back(jsonText(*e));
        continue;
      }
      info.sizes.emplace_back();
      // A dynamically shaped argument's base pointer
      // (attn-dynamic-memrefs-as-pointers).
      if (auto view = operand.getDefiningOp<memref::ReinterpretCastOp>())
        if (auto base = dyn_cast<BlockArgument>(view.getSource()))
          arg = base;
      if (!arg || !isa<func::FuncOp>(arg.getOwner()->getParentOp())) {
        // The launcher passes function arguments only: a memref the kernel
        // reads (a modifier's table) must be one; an index is a dynamic size.
        InFlightDiagnostic diag = launch.emitOpError();
        if (isa<MemRefType>(operand.getType())) {
          diag << "the kernel reads a " << operand.getType()
               << " that is not an argument of the enclosing function";
          if (Operation *def = operand.getDefiningOp())
            diag << " (defined by '" << def->getName() << "')";
          diag << ": tensors read by score_mod/mask_mod must be function "
                  "arguments";
        } else {
          diag << "kernel operand is not an argument of the enclosing "
                  "function (dynamic shapes are not supported by the GPU "
                  "kernels yet)";
        }
        return WalkResult::interrupt();
      }
      info.arguments.push_back(arg.getArgNumber());
      auto func = cast<func::FuncOp>(arg.getOwner()->getParentOp());
      if (auto map = func.getArgAttrOfType<DictionaryAttr>(
              arg.getArgNumber(), kTensorMapAttrName)) {
        GpuKernelInfo::TensorMap tm;
        tm.parameter = info.arguments.size() - 1;
        tm.operand = cast<IntegerAttr>(map.get("operand")).getInt();
        llvm::append_range(tm.box,
                           cast<DenseI64ArrayAttr>(map.get("box")).asArrayRef());
        tm.element = cast<StringAttr>(map.get("element")).str();
        tm.swizzle = cast<IntegerAttr>(map.get("swizzle")).getInt();
        info.tensorMaps.push_back(std::move(tm));
      }
    }
    // Outlining keeps the order of the launches (not their attributes).
    size_t index = kernels.size();
    DictionaryAttr tiles =
        index < tilesInOrder.size() ? tilesInOrder[index] : DictionaryAttr();
    if (tiles)
      for (NamedAttribute entry : tiles)
        if (auto value = dyn_cast<IntegerAttr>(entry.getValue()))
          info.tiles.emplace_back(entry.getName().str(), value.getInt());
    gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
    gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
    Value sizes[6] = {grid.x, grid.y, grid.z, block.x, block.y, block.z};
    for (int i = 0; i < 6; ++i) {
      std::optional<int64_t> size = constant(sizes[i]);
      if (!size && i < 3) {
        // A grid over dynamic sizes: the launcher evaluates it.
        FailureOr<llvm::json::Value> e = hostSizeExpression(sizes[i]);
        if (succeeded(e)) {
          info.grid[i] = 0;
          info.gridSizes[i] = jsonText(*e);
          continue;
        }
      }
      if (!size) {
        launch.emitOpError() << (i < 3 ? "grid sizes must be static or "
                                         "functions of the arguments' shapes"
                                       : "block sizes must be static");
        return WalkResult::interrupt();
      }
      (i < 3 ? info.grid[i] : info.block[i - 3]) = *size;
    }
    info.dynamicSharedMemory =
        constant(launch.getDynamicSharedMemorySize()).value_or(0);
    if (failed(checkLaunchLimits(launch, info)))
      return WalkResult::interrupt();
    kernels.push_back(std::move(info));
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  return kernels;
}

/// Moves every outlined kernel into the first gpu.module, so that a source
/// with several attention functions gives one PTX module.
static void mergeGpuModules(ModuleOp module) {
  SmallVector<gpu::GPUModuleOp> gpuModules(module.getOps<gpu::GPUModuleOp>());
  if (gpuModules.size() < 2)
    return;
  gpu::GPUModuleOp target = gpuModules.front();
  SymbolTable symbols(target);
  // Kernels outlined from one function's launches (the backward's three
  // grids) share a name: later ones are renamed (name_1, ...).
  llvm::DenseMap<std::pair<StringAttr, StringAttr>, StringAttr> renamed;
  for (gpu::GPUModuleOp other : llvm::drop_begin(gpuModules)) {
    for (Operation &op :
         llvm::make_early_inc_range(other.getBody()->getOperations())) {
      op.moveBefore(target.getBody(), target.getBody()->end());
      StringAttr name = SymbolTable::getSymbolName(&op);
      if (!name)
        continue;
      StringAttr unique = name;
      if (symbols.lookup(name))
        for (int n = 1; symbols.lookup(unique); ++n)
          unique = StringAttr::get(module.getContext(),
                                   name.getValue() + "_" + Twine(n));
      SymbolTable::setSymbolName(&op, unique);
      symbols.insert(&op);
      renamed[{other.getNameAttr(), name}] = unique;
    }
  }
  module.walk([&](gpu::LaunchFuncOp launch) {
    StringAttr name = launch.getKernelName();
    if (StringAttr unique =
            renamed.lookup({launch.getKernelModuleName(), name}))
      name = unique;
    launch.setKernelAttr(
        SymbolRefAttr::get(target.getNameAttr(), {FlatSymbolRefAttr::get(name)}));
  });
  for (gpu::GPUModuleOp other : llvm::drop_begin(gpuModules))
    other.erase();
}

namespace {
/// Keeps the module after the passes that start a new level of the lowering
/// (and before PTX serialization) as named stages: what `flashmlir.compile`
/// shows as `.asm`. A pass that runs once per function is kept after its
/// last run.
class StageCapture final : public PassManager::IRPrinterConfig {
public:
  explicit StageCapture(std::vector<CompileStage> &stages)
      : IRPrinterConfig(/*printModuleScope=*/true), stages(stages) {}

  void printBeforeIfEnabled(Pass *pass, Operation *,
                            PrintCallbackFn print) override {
    if (pass->getArgument() == "gpu-module-to-binary")
      keep("nvvm", print);
  }
  void printAfterIfEnabled(Pass *pass, Operation *,
                           PrintCallbackFn print) override {
    static constexpr llvm::StringLiteral kStages[] = {
        "attn-tile",           "attn-online-softmax", "attn-map-to-gpu",
        "attn-plan-hopper",    "attn-partition-roles", "attn-pipeline-mma",
        "attn-consumer-turns", "attn-convert-to-nvgpu",
        "attn-narrow-modifier-arith", "gpu-kernel-outlining"};
    if (llvm::is_contained(kStages, pass->getArgument()))
      keep(pass->getArgument(), print);
  }

private:
  void keep(StringRef name, PrintCallbackFn print) {
    std::string ir;
    llvm::raw_string_ostream os(ir);
    print(os);
    auto it = llvm::find_if(
        stages, [&](const CompileStage &s) { return s.name == name; });
    if (it != stages.end())
      it->ir = std::move(ir);
    else
      stages.push_back({name.str(), std::move(ir)});
  }
  std::vector<CompileStage> &stages;
};
} // namespace

/// Parses `source` and runs `front` (may be empty), records the launches,
/// then lowers and serializes to PTX.
/// `front` adds the passes up to outlining (none for gpu.module input).
static llvm::Expected<GpuCompileResult>
compileToPtx(llvm::StringRef source,
             llvm::function_ref<void(OpPassManager &)> front, StringRef chip,
             bool hopper, int optLevel, const GpuCompileControl &control) {
  // Options first: a chip the kernel is not built for would reach the NVPTX
  // backend's instruction selection, which ends the process.
  if (llvm::Error err = checkChip(chip, hopper))
    return std::move(err);
  if (llvm::Error err = checkMlirSource(source, "the MLIR source"))
    return std::move(err);
  if (optLevel < 0 || optLevel > 3)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "opt-level must be 0, 1, 2 or 3, got " +
                                       std::to_string(optLevel));
  DialectRegistry registry;
  registerGpuCompilationInterfaces(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // One thread: module-scope printing of stages needs it, and the callers'
  // crash recovery (Recovery.h) covers the calling thread only. A JIT
  // compile is one function, so nothing ran in parallel anyway.
  context.disableMultithreading();

  std::string diagnostics;
  llvm::raw_string_ostream diagStream(diagnostics);
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    diagStream << diag.getLocation() << ": " << diag << "\n";
    for (Diagnostic &note : diag.getNotes())
      diagStream << "  note: " << note << "\n";
    return success();
  });
  auto fail = [&](llvm::StringRef what) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   what + ":\n" + diagnostics);
  };

  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(source, &context, "<attention>");
  if (!module)
    return fail("parsing failed");

  GpuCompileResult result;
  auto captureInto = [&](PassManager &pm) {
    if (control.captureStages)
      pm.enableIRPrinting(std::make_unique<StageCapture>(result.stages));
  };
  if (control.captureStages) {
    std::string ir;
    llvm::raw_string_ostream os(ir);
    module->print(os);
    result.stages.push_back({"input", std::move(ir)});
  }
  if (front) {
    // Front half, then read the launches off the outlined IR, then the rest.
    llvm::StringMap<std::vector<GpuKernelInfo::Argument>> signatures =
        describeSignatures(*module);
    PassManager frontPm(&context);
    front(frontPm);
    captureInto(frontPm);
    if (failed(frontPm.run(*module)))
      return fail("the attn passes failed");
    SmallVector<DictionaryAttr> tiles;
    module->walk([&](gpu::LaunchOp launch) {
      tiles.push_back(
          launch->getAttrOfType<DictionaryAttr>(kLaunchTilesAttrName));
    });
    PassManager outliningPm(&context);
    addKernelOutlining(outliningPm);
    captureInto(outliningPm);
    if (failed(outliningPm.run(*module)))
      return fail("kernel outlining failed");
    mergeGpuModules(*module);
    FailureOr<std::vector<GpuKernelInfo>> kernels =
        describeLaunches(*module, tiles, signatures);
    if (failed(kernels))
      return fail("unsupported launch");
    result.kernels = std::move(*kernels);
  }

  // The back half is upstream's conversions, each verified by its own tests:
  // verifying the module after each of them cost 17% of a JIT compile (build
  // machine, 6 Hopper kernels: 1.235 s -> 1.057 s, the same PTX). It is
  // verified once instead, right before PTX serialization (attn-verify-ir in
  // addNVPTXBackHalf), so no invalid IR reaches NVPTX.
  // The front half (our passes) keeps the verifier after every pass;
  // attn-opt's pipelines verify after every pass too.
  PassManager back(&context);
  back.enableVerifier(false);
  addNVPTXBackHalf(back, chip, optLevel);
  captureInto(back);
  if (failed(back.run(*module)))
    return fail("NVVM lowering or PTX serialization failed");

  module->walk([&](gpu::BinaryOp binary) {
    for (Attribute object : binary.getObjects())
      if (auto obj = dyn_cast<gpu::ObjectAttr>(object))
        result.ptx += obj.getObject().getValue().str();
  });
  if (result.ptx.empty())
    return fail("no PTX was produced");
  return result;
}

llvm::Expected<GpuCompileResult>
flashmlir::compileAttentionToPtx(llvm::StringRef source,
                                 const AttnToPtxSimtOptions &options,
                                 const GpuCompileControl &control) {
  return compileToPtx(
      source, [&](OpPassManager &pm) { addFrontHalf(pm, options); },
      options.chip, /*hopper=*/false, options.optLevel, control);
}

llvm::Expected<GpuCompileResult>
flashmlir::compileAttentionToHopperPtx(llvm::StringRef source,
                                       const AttnToPtxOptions &options,
                                       const GpuCompileControl &control) {
  return compileToPtx(
      source, [&](OpPassManager &pm) { addHopperFrontHalf(pm, options); },
      options.chip, /*hopper=*/true, options.optLevel, control);
}

llvm::Expected<GpuCompileResult>
flashmlir::compileGpuModulesToPtx(llvm::StringRef source,
                                  const AttnToPtxSimtOptions &options,
                                  const GpuCompileControl &control) {
  return compileToPtx(source, nullptr, options.chip, /*hopper=*/false,
                      options.optLevel, control);
}

std::string flashmlir::formatLaunchMetadata(const GpuCompileResult &result,
                                            llvm::StringRef chip) {
  llvm::json::Array kernels;
  for (const GpuKernelInfo &k : result.kernels) {
    // A pointer argument's index, or {"size": expr} for a dynamic size.
    auto parse = [](const std::string &text) {
      llvm::Expected<llvm::json::Value> v = llvm::json::parse(text);
      return v ? std::move(*v) : llvm::json::Value(nullptr);
    };
    llvm::json::Array args;
    for (auto [i, a] : llvm::enumerate(k.arguments))
      if (a >= 0)
        args.push_back(a);
      else
        args.push_back(llvm::json::Object{{"size", parse(k.sizes[i])}});
    llvm::json::Array grid;
    for (int i = 0; i < 3; ++i)
      if (k.gridSizes[i].empty())
        grid.push_back(k.grid[i]);
      else
        grid.push_back(parse(k.gridSizes[i]));
    llvm::json::Array maps;
    for (const GpuKernelInfo::TensorMap &m : k.tensorMaps) {
      llvm::json::Array box;
      for (int64_t d : m.box)
        box.push_back(d);
      maps.push_back(llvm::json::Object{{"parameter", m.parameter},
                                        {"operand", m.operand},
                                        {"box", std::move(box)},
                                        {"element", m.element},
                                        {"swizzle", m.swizzle},
                                        // The 128 bytes are the parameter
                                        // (a grid constant), not a pointer.
                                        {"by_value", true}});
    }
    llvm::json::Object tiles;
    for (const auto &[name, value] : k.tiles)
      tiles[name] = value;
    llvm::json::Array signature;
    for (const GpuKernelInfo::Argument &a : k.signature) {
      llvm::json::Array shape, roles;
      for (int64_t d : a.shape)
        shape.push_back(ShapedType::isDynamic(d) ? int64_t(-1) : d);
      for (const std::string &role : a.roles)
        roles.push_back(role);
      signature.push_back(llvm::json::Object{{"type", a.type},
                                             {"element", a.element},
                                             {"shape", std::move(shape)},
                                             {"roles", std::move(roles)}});
    }
    kernels.push_back(llvm::json::Object{
        {"name", k.name},
        {"tensor_maps", std::move(maps)},
        {"arguments", std::move(args)},
        {"grid", std::move(grid)},
        {"block", llvm::json::Array{k.block[0], k.block[1], k.block[2]}},
        {"dynamic_shared_memory", k.dynamicSharedMemory},
        {"tiles", std::move(tiles)},
        {"signature", std::move(signature)}});
  }
  return llvm::formatv("{0:2}",
                       llvm::json::Value(llvm::json::Object{
                           {"chip", chip.str()},
                           {"kernels", std::move(kernels)}}));
}
