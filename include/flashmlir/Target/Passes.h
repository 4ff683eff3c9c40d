//===- Passes.h - flashmlir target passes -----------------------*- C++ -*-===//
//
// The NVPTX back half's passes (Passes.td); lib/Target.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_TARGET_PASSES_H
#define FLASHMLIR_TARGET_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace flashmlir {

#define GEN_PASS_DECL
#include "flashmlir/Target/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "flashmlir/Target/Passes.h.inc"

/// On an outlined kernel: its parameters that carry tensor maps by value
/// (attn-tensor-maps-by-value writes it, attn-mark-grid-constants reads it).
inline constexpr llvm::StringLiteral kGridConstantsAttrName =
    "attn.grid_constants";

} // namespace flashmlir

#endif // FLASHMLIR_TARGET_PASSES_H
