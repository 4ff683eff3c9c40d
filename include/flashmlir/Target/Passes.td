//===- Passes.td - flashmlir target passes -----------------*- tablegen -*-===//
//
// The back halves of the two targets (lib/Target/NVPTX, lib/Target/CPU):
// what the pipelines (lib/Compiler/GpuPipeline.cpp, CpuPipeline.cpp) run
// around upstream's lowering to LLVM so that the kernels reach PTX, or the
// host JIT, with the ABI their launchers expect, and nothing invalid reaches
// a backend.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_TARGET_PASSES_TD
#define FLASHMLIR_TARGET_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// NVPTX: bare pointers, tensor maps as grid constants, extern dynamic shared
// memory, register caps for setmaxnreg, one verification before PTX.
//===----------------------------------------------------------------------===//

def AttnDynamicMemrefsAsPointersPass
    : Pass<"attn-dynamic-memrefs-as-pointers", "::mlir::func::FuncOp"> {
  let summary = "Passes dynamically shaped memref arguments of gpu.launch as "
                "a pointer and sizes, rebuilt inside the kernel";
  let description = [{
    Before outlining. Kernels take bare pointers (no memref descriptors),
    which exist only for static shapes; a memref argument with dynamic sizes
    that a `gpu.launch` reads or writes becomes, on the host, a `memref<1xT>`
    view of its base (the pointer) plus its sizes from
    `memref.extract_strided_metadata` (index operands the launch metadata
    expresses as `{"dim": [argument, axis]}`; not `memref.dim`, which
    outlining would sink back into the kernel). In the kernel the
    identity-layout view is rebuilt:

        strides[rank-1] = 1,  strides[i] = strides[i+1] · sizes[i+1]
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def AttnTensorMapsByValuePass
    : Pass<"attn-tensor-maps-by-value", "::mlir::ModuleOp"> {
  let summary = "Lists on each outlined kernel the parameters that carry TMA "
                "tensor maps by value (attn.grid_constants)";
  let description = [{
    After outlining. The tensor maps (CUtensorMap, 128 bytes) reach the
    kernels by value, as `.param .align 64 .b8 [128]` grid constants that TMA
    reads in place, instead of as pointers to a copy in device memory: the
    host encodes them per launch and copies nothing (a pinned copy cost
    ~100 µs of host time per call with new tensors every call,
    bench/jit_timing.py). This pass lists, on each `gpu.func` a launch calls,
    the parameters fed from an `attn.tensor_map` function argument;
    `attn-mark-grid-constants` makes them byval grid constants once the
    kernel is an `llvm.func` (the NVVM verifier accepts `nvvm.grid_constant`
    on kernel functions only).
  }];
}

def AttnMarkGridConstantsPass
    : Pass<"attn-mark-grid-constants", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Makes the kernel parameters listed in attn.grid_constants "
                "byval nvvm.grid_constant tensor maps";
  let description = [{
    On kernels lowered to `llvm.func`: each listed parameter becomes
    `ptr byval([128 x i8]) align 64` with `nvvm.grid_constant`, so the kernel
    reads the tensor map in parameter space (TMA takes its address). Kernel
    parameters map one to one to the `gpu.func`'s under the bare-pointer
    calling convention; a listed parameter that is not a pointer there is an
    error.
  }];
}

def AttnDeclareDynamicSharedMemoryPass
    : Pass<"attn-declare-dynamic-shared-memory", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Declares gpu.dynamic_shared_memory as an external "
                "zero-length array (extern __shared__)";
  let description = [{
    MLIR's `gpu.dynamic_shared_memory` lowering otherwise creates an
    *internal* global of type `[0 x i8]`; every access past it is out of
    bounds of a defined object, which LLVM may exploit. It did: at -O3 the
    SIMT kernel computed wrong outputs for shapes whose KV loops fold to one
    iteration (right at -O0..-O2). The lowering reuses an existing
    zero-length global of the right address space and alignment, so
    declaring it first, external, is enough.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def AttnSetRegisterCapPass
    : Pass<"attn-set-register-cap", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Gives kernels nvvm.maxntid and the nvvm.minctasm their "
                "register budgets allow (1 without setmaxnreg)";
  let description = [{
    ptxas honours `setmaxnreg` only with a register cap at entry: without
    both `.maxntid` and `.minnctapersm` it ignores the reallocation (info
    C7508) and the consumers keep the entry budget. minctasm is the CTAs per
    SM the budgets were planned for, 64K registers over threads × (their
    mean budget, rounded up to 8): 1 for FA3's 24 + 2 × 240 at 384 threads,
    2 for 24 + 232 at 256. Kernels without `setmaxnreg` (the SIMT ones) get
    minctasm = 1: shared memory bounds their occupancy, and ptxas's own cap
    from the block size alone spilled one (FP8, BlockN 32).
  }];
}

def AttnVerifyIRPass : Pass<"attn-verify-ir"> {
  let summary = "Verifies the IR and fails if it is invalid (before PTX "
                "serialization)";
  let description = [{
    The compile API's back half runs upstream's conversions without a
    verification after each (it is slow on large kernels) and runs this once
    before the LLVM translation, so that no invalid IR reaches NVPTX code
    generation, which would end the process. The `gpu.module` verifier also
    checks each NVVM op against the target chip.
  }];
}

def AttnRejectOptionPass : Pass<"attn-reject-option"> {
  let summary = "Fails with its message (an invalid pipeline option)";
  let description = [{
    A pipeline builder cannot fail, so the GPU pipelines put this pass first
    when an option is invalid (e.g. an unknown chip): the pass manager then
    stops with the message before any code generation.
  }];
  let options = [
    Option<"message", "message", "std::string", /*default=*/"\"\"",
           "The diagnostic to emit">,
  ];
}

//===----------------------------------------------------------------------===//
// CPU: the host JIT's entry points and the tiles on the stack.
//===----------------------------------------------------------------------===//

def AttnCpuCheckStackPass : Pass<"attn-cpu-check-stack", "::mlir::ModuleOp"> {
  let summary = "Refuses functions whose stack allocations exceed 2 MiB";
  let description = [{
    The CPU path's tiles live on the stack of the thread that runs the kernel
    (8 MiB by default on Linux, often less for other threads); the default
    tiles take ~0.2 MiB at D = 256, 256 x 256 tiles at D = 256 about 1.1 MiB.
    `attn-tile` with block-m=32768 compiled and the run died of a stack
    overflow, so a function whose static allocas sum past 2 MiB (a bound on
    what is live at once) is refused, as is an alloca of a dynamic size.
  }];
}

def AttnCpuEmitCInterfacePass
    : Pass<"attn-cpu-emit-c-interface", "::mlir::ModuleOp"> {
  let summary = "Marks public func.func definitions with "
                "llvm.emit_c_interface";
  let description = [{
    The JIT calls the entry points through their `_mlir_ciface_` wrappers.
    Upstream's `llvm-request-c-wrappers` marks declarations too, which would
    ask the JIT for wrappers of external functions.
  }];
}

def AttnCpuInlineAllocaScopesPass
    : Pass<"attn-cpu-inline-alloca-scopes", "::mlir::ModuleOp"> {
  let summary = "Inlines memref.alloca_scope bodies between "
                "llvm.intr.stacksave and llvm.intr.stackrestore";
  let description = [{
    A scope's body is a single block, so it is spliced in place (inner scopes
    first): valid inside scf regions, unlike the block-splitting lowering of
    `finalize-memref-to-llvm`, which must run after scf-to-cf and therefore
    sees scopes that scf-to-cf has made invalid.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // FLASHMLIR_TARGET_PASSES_TD
