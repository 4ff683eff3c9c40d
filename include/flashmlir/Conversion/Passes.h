//===- Passes.h - flashmlir conversion passes -------------------*- C++ -*-===//

#ifndef FLASHMLIR_CONVERSION_PASSES_H
#define FLASHMLIR_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace flashmlir {

#define GEN_PASS_DECL
#include "flashmlir/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "flashmlir/Conversion/Passes.h.inc"

} // namespace flashmlir

#endif // FLASHMLIR_CONVERSION_PASSES_H
