//===- AttnBufferizeTiles.cpp - --attn-bufferize-tiles ---------------------===//
//
// One-shot bufferization of the L2 tiles (the CPU and SIMT paths):
//   1. every tile op writes its destination in place (attn-online-softmax
//      builds them so: scratch tiles are tensor.empty values at the top of
//      the program, the running state is updated in place);
//   2. each tensor.empty becomes one static memref.alloca at the top of its
//      program: O(BlockM·D + BlockN·D) per program, never per KV block;
//   3. a copy (an op that could not write in place) is a compiler bug here,
//      not a slow path: it is diagnosed;
//   4. the loops and conditionals then carry the same buffer around: those
//      iter_args and results fold away (each tile is one buffer, named once).
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Transforms/Passes.h"

#include "attn/Attn.h"
#include "attn/AttnBufferization.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNBUFFERIZETILESPASS
#include "flashmlir/Transforms/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

namespace {
struct AttnBufferizeTilesPass final
    : flashmlir::impl::AttnBufferizeTilesPassBase<AttnBufferizeTilesPass> {
  using Base::Base;

  void getDependentDialects(DialectRegistry &registry) const override {
    Base::getDependentDialects(registry);
    attn::registerBufferizableOpInterfaceExternalModels(registry);
    scf::registerBufferizableOpInterfaceExternalModels(registry);
    tensor::registerBufferizableOpInterfaceExternalModels(registry);
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    for (Type type : func.getArgumentTypes())
      if (isa<TensorType>(type)) {
        func.emitOpError() << "attn-bufferize-tiles expects memref operands "
                              "(the tiles alone are values): bufferize "
                              "attn.attention first";
        return signalPassFailure();
      }

    bufferization::OneShotBufferizationOptions options;
    options.allocationFn = [&](OpBuilder &b, Location loc, MemRefType type,
                               ValueRange dynamicSizes,
                               unsigned) -> FailureOr<Value> {
      if (!type.hasStaticShape() || !dynamicSizes.empty())
        return failure();
      // A buffer asked for inside a loop would be a fresh alloca per
      // iteration (a tensor.empty there, or a copy): tiles are allocated
      // once per program.
      Operation *parent = b.getInsertionBlock()->getParentOp();
      if (parent->getParentOfType<LoopLikeOpInterface>() ||
          isa<LoopLikeOpInterface>(parent))
        return emitError(loc)
               << "attn-bufferize-tiles: a tile would be allocated inside a "
                  "loop (an allocation there, or an op that cannot write its "
                  "destination in place): tiles are allocated once per "
                  "program, at its top";
      return memref::AllocaOp::create(b, loc, type).getResult();
    };
    bufferization::BufferizationState state;
    if (failed(bufferization::runOneShotBufferize(func, options, state)))
      return signalPassFailure();
    WalkResult walk = func.walk([&](memref::CopyOp copy) {
      copy.emitOpError() << "attn-bufferize-tiles: a tile op could not write "
                            "its destination in place: tiles are never copied";
      return WalkResult::interrupt();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    // Forwarded buffers: scf.for iter_args yielded unchanged, scf.if results
    // equal on both sides.
    RewritePatternSet patterns(&getContext());
    scf::ForOp::getCanonicalizationPatterns(patterns, &getContext());
    scf::IfOp::getCanonicalizationPatterns(patterns, &getContext());
    (void)applyPatternsGreedily(func, std::move(patterns));
  }
};
} // namespace
