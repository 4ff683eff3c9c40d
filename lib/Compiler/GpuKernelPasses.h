//===- GpuKernelPasses.h - The GPU pipelines' kernel fix-ups ----*- C++ -*-===//
//
// Private to lib/Compiler: see GpuKernelPasses.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_COMPILER_GPUKERNELPASSES_H
#define FLASHMLIR_COMPILER_GPUKERNELPASSES_H

#include "mlir/Pass/Pass.h"

#include <memory>
#include <string>

namespace flashmlir {
/// gpu.module: gpu.dynamic_shared_memory declared as an external array.
std::unique_ptr<mlir::Pass> createDeclareDynamicSharedMemoryPass();
/// gpu.module: nvvm.maxntid and nvvm.minctasm on kernels using setmaxnreg.
std::unique_ptr<mlir::Pass> createSetRegisterCapPass();
/// module, after outlining: attn.grid_constants on the kernels.
std::unique_ptr<mlir::Pass> createTensorMapsByValuePass();
/// gpu.module, kernels as llvm.func: the listed parameters byval grid
/// constants.
std::unique_ptr<mlir::Pass> createMarkGridConstantsPass();
/// func, before outlining: dynamically shaped memrefs a gpu.launch uses
/// passed as a pointer and sizes.
std::unique_ptr<mlir::Pass> createDynamicMemrefsAsPointersPass();
/// Verifies the operation it runs on; fails when it is invalid.
std::unique_ptr<mlir::Pass> createVerifyIRPass();
/// Fails with `message` (an invalid pipeline option).
std::unique_ptr<mlir::Pass> createRejectOptionPass(std::string message);
/// The first four, for attn-opt.
void registerGpuKernelPasses();
} // namespace flashmlir

#endif // FLASHMLIR_COMPILER_GPUKERNELPASSES_H
