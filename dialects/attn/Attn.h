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

#define GET_TYPEDEF_CLASSES
#include "attn/AttnTypes.h.inc"

#define GET_OP_CLASSES
#include "attn/AttnOps.h.inc"

namespace mlir::attn::detail {
/// Verifies the optional score_mod and mask_mod regions shared by
/// attn.attention and attn.block_update: their signatures, their attn.yield
/// and that they do not write memory.
LogicalResult verifyModifierRegions(Operation *op, Region &scoreMod,
                                    Region &maskMod);
/// The same for one region (empty regions are valid); `name` names the
/// region in diagnostics (a score_mod's derivative has its signature).
LogicalResult verifyScoreModRegion(Operation *op, Region &scoreMod,
                                   StringRef name = "score_mod");
LogicalResult verifyMaskModRegion(Operation *op, Region &maskMod);
/// Names the modifier regions' block arguments (%score, %b, %h, %q_idx,
/// %kv_idx) in the printed IR.
void nameModifierRegionArguments(Region &region, bool isScoreMod,
                                 OpAsmSetValueNameFn setNameFn);
} // namespace mlir::attn::detail

#endif // ATTN_ATTN_H
