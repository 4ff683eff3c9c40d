//===- AttnBufferization.cpp - bufferization of the attn ops ---------------===//
//
// attn.attention, attn.attention_grad and the L2 tile ops are in
// destination-passing style: on tensors each result is the new value of its
// init; one-shot bufferization writes it into the init's buffer and rebuilds
// the op on memrefs (the same op, no results). What each op reads:
//   - every non-init operand;
//   - its init only where it accumulates into it (tile_matmul, tile_reduce);
//     the others overwrite every element, so their init may be a fresh
//     buffer (tensor.empty) without a copy.
// The element-wise ops (tile_map, tile_mask, tile_score_mod) may write over
// an input of their own shape in place.
//
//===----------------------------------------------------------------------===//

#include "attn/AttnBufferization.h"
#include "attn/Attn.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/Operation.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::bufferization;

namespace {

/// Rebuilds `op` on the buffers of its tensor operands, without results,
/// moving its regions over.
LogicalResult bufferizeInPlace(Operation *op, RewriterBase &rewriter,
                               const BufferizationOptions &options,
                               BufferizationState &state) {
  auto dps = cast<DestinationStyleOpInterface>(op);
  SmallVector<Value> operands, results;
  for (OpOperand &operand : op->getOpOperands()) {
    Value value = operand.get();
    if (!isa<TensorType>(value.getType())) {
      operands.push_back(value);
      continue;
    }
    FailureOr<Value> buffer = getBuffer(rewriter, value, options, state);
    if (failed(buffer))
      return failure();
    operands.push_back(*buffer);
    if (dps.isDpsInit(&operand))
      results.push_back(*buffer);
  }
  rewriter.setInsertionPoint(op);
  OperationState opState(op->getLoc(), op->getName(), operands,
                         /*types=*/TypeRange(), op->getAttrs());
  for (unsigned i = 0; i < op->getNumRegions(); ++i)
    opState.addRegion();
  Operation *bufferized = rewriter.create(opState);
  for (auto [from, to] :
       llvm::zip(op->getRegions(), bufferized->getRegions()))
    rewriter.inlineRegionBefore(from, to, to.end());
  replaceOpWithBufferizedValues(rewriter, op, results);
  return success();
}

/// An L2 tile op or attn.attention: reads its inputs, writes its inits;
/// `AccumulatesIntoDest` ops also read their init.
template <typename OpTy, bool AccumulatesIntoDest, bool Elementwise>
struct TileOpModel
    : DstBufferizableOpInterfaceExternalModel<
          TileOpModel<OpTy, AccumulatesIntoDest, Elementwise>, OpTy> {
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &) const {
    return AccumulatesIntoDest ||
           !cast<DestinationStyleOpInterface>(op).isDpsInit(&operand);
  }

  bool bufferizesToElementwiseAccess(Operation *op, const AnalysisState &,
                                     ArrayRef<OpOperand *> operands) const {
    // Element (i, j) of the result depends on element (i, j) of each
    // same-shaped operand only (a broadcast row vector is read by many
    // elements, so it does not qualify).
    if (!Elementwise)
      return false;
    auto dest = cast<ShapedType>(
        cast<DestinationStyleOpInterface>(op).getDpsInits()[0].getType());
    return llvm::all_of(operands, [&](OpOperand *operand) {
      auto type = dyn_cast<ShapedType>(operand->get().getType());
      return type && type.getShape() == dest.getShape();
    });
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    return bufferizeInPlace(op, rewriter, options, state);
  }
};

/// attn.tile_store reads its tile and writes a memref operand: only the tile
/// changes form.
struct TileStoreModel
    : BufferizableOpInterface::ExternalModel<TileStoreModel, TileStoreOp> {
  bool bufferizesToMemoryRead(Operation *, OpOperand &,
                              const AnalysisState &) const {
    return true;
  }
  bool bufferizesToMemoryWrite(Operation *, OpOperand &,
                               const AnalysisState &) const {
    return false;
  }
  AliasingValueList getAliasingValues(Operation *, OpOperand &,
                                      const AnalysisState &) const {
    return {};
  }
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto store = cast<TileStoreOp>(op);
    FailureOr<Value> tile =
        getBuffer(rewriter, store.getTile(), options, state);
    if (failed(tile))
      return failure();
    rewriter.modifyOpInPlace(op, [&] { store.getTileMutable().assign(*tile); });
    return success();
  }
};

} // namespace

void mlir::attn::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, AttnDialect *) {
    AttentionOp::attachInterface<TileOpModel<AttentionOp, false, false>>(*ctx);
    // The backward zeroes dq_accum and writes delta before it reads them: no
    // init is read.
    AttentionGradOp::attachInterface<
        TileOpModel<AttentionGradOp, false, false>>(*ctx);
    TileLoadOp::attachInterface<TileOpModel<TileLoadOp, false, false>>(*ctx);
    TileFillOp::attachInterface<TileOpModel<TileFillOp, false, false>>(*ctx);
    TileMatmulOp::attachInterface<TileOpModel<TileMatmulOp, true, false>>(
        *ctx);
    TileReduceOp::attachInterface<TileOpModel<TileReduceOp, true, false>>(
        *ctx);
    TileMapOp::attachInterface<TileOpModel<TileMapOp, false, true>>(*ctx);
    TileMaskOp::attachInterface<TileOpModel<TileMaskOp, false, true>>(*ctx);
    TileScoreModOp::attachInterface<TileOpModel<TileScoreModOp, false, true>>(
        *ctx);
    TileStoreOp::attachInterface<TileStoreModel>(*ctx);
  });
}
