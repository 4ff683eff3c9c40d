//===- AttnOnlineSoftmaxGrad.h - the backward L2 expansion -----*- C++ -*-===//
//
// The expansion of the backward's L1 ops (AttnOnlineSoftmaxGrad.cpp), called
// by --attn-online-softmax (AttnOnlineSoftmax.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_TRANSFORMS_ATTNONLINESOFTMAXGRAD_H
#define FLASHMLIR_TRANSFORMS_ATTNONLINESOFTMAXGRAD_H

#include "OnlineTiles.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace flashmlir {

/// Expands every attn.block_grad_init, block_grad_delta, block_grad_update and
/// block_grad_finalize in `func` into L2 tile ops. `testDropDelta` (dev only)
/// leaves D out of dS. Fails, with a diagnostic, on a block_grad_update with a
/// score_mod but no score_mod_grad.
mlir::LogicalResult expandBlockGradOps(mlir::func::FuncOp func,
                                       ScratchTiles &scratch,
                                       bool testDropDelta);

} // namespace flashmlir

#endif // FLASHMLIR_TRANSFORMS_ATTNONLINESOFTMAXGRAD_H
