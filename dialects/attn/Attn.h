//===- Attn.h - attn dialect: dialect, attributes and ops -------*- C++ -*-===//
//
// The one header users of the attn dialect include.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_ATTN_H
#define ATTN_ATTN_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "attn/AttnDialect.h.inc"
#include "attn/AttnEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "attn/AttnAttrs.h.inc"

#define GET_OP_CLASSES
#include "attn/AttnOps.h.inc"

#endif // ATTN_ATTN_H
