//===- AttnNarrowModifierArith.cpp - --attn-narrow-modifier-arith ----------===//
//
// The stage after --attn-convert-to-nvgpu: the integer arithmetic that
// the conversion cloned from score_mod / mask_mod bodies (marked
// attn.modifier) in i32 where integer range analysis proves it fits. The
// bodies compute on index / i64 positions (an ALiBi bias: f32(kv_idx -
// q_idx)); the emitter clamps the positions to the tensors' extents, which
// bounds every intermediate, and the i64 index math spilled every kernel that
// kept it. As --arith-int-range-narrowing does, but only on the marked ops:
// the rest of the kernel is left as emitted (and measured).
//
//===----------------------------------------------------------------------===//
#include "flashmlir/Transforms/Passes.h"

#include "mlir/Analysis/DataFlow/IntegerRangeAnalysis.h"
#include "mlir/Analysis/DataFlow/Utils.h"
#include "mlir/Analysis/DataFlowFramework.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNNARROWMODIFIERARITHPASS
#include "flashmlir/Transforms/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

namespace {
/// index_cast(index_cast(x : iN -> index) : index -> iM), M > N -> extsi x:
/// what the narrowing leaves where a modifier casts a position to i64.
struct WidenThroughIndex final : OpRewritePattern<arith::IndexCastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::IndexCastOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getIn().getDefiningOp<arith::IndexCastOp>();
    auto from = inner ? dyn_cast<IntegerType>(inner.getIn().getType()) : nullptr;
    auto to = dyn_cast<IntegerType>(op.getType());
    if (!from || !to || from.getWidth() >= to.getWidth())
      return failure();
    rewriter.replaceOpWithNewOp<arith::ExtSIOp>(op, to, inner.getIn());
    return success();
  }
};

/// sitofp(extsi x) -> sitofp x (the extension keeps the value): an i32
/// conversion instead of the multi-instruction i64 one.
struct ConvertBeforeExtension final : OpRewritePattern<arith::SIToFPOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::SIToFPOp op,
                                PatternRewriter &rewriter) const override {
    auto ext = op.getIn().getDefiningOp<arith::ExtSIOp>();
    if (!ext)
      return failure();
    rewriter.replaceOpWithNewOp<arith::SIToFPOp>(op, op.getType(), ext.getIn());
    return success();
  }
};

/// Erased ops leave the solver (their results' ranges no longer hold).
struct SolverListener final : RewriterBase::Listener {
  explicit SolverListener(DataFlowSolver &solver) : solver(solver) {}
  void notifyOperationErased(Operation *op) override {
    solver.eraseState(solver.getProgramPointAfter(op));
    for (Value result : op->getResults())
      solver.eraseState(result);
  }
  DataFlowSolver &solver;
};

struct AttnNarrowModifierArithPass final
    : flashmlir::impl::AttnNarrowModifierArithPassBase<
          AttnNarrowModifierArithPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    // The marked ops in program order; the mark is this pass's input only.
    SmallVector<Operation *> marked;
    func.walk([&](Operation *op) {
      if (op->removeAttr(kModifierOpAttrName))
        marked.push_back(op);
    });
    if (marked.empty())
      return;
    // On the whole function: the ranges come from the emitter's clamps and
    // the grid bounds defined above the launch.
    DataFlowSolver solver;
    dataflow::loadBaselineAnalyses(solver);
    solver.load<dataflow::IntegerRangeAnalysis>();
    if (failed(solver.initializeAndRun(func)))
      return; // an optimization: without ranges the i64 arithmetic stays
    RewritePatternSet patterns(&getContext());
    arith::populateIntRangeNarrowingPatterns(patterns, solver, {32});
    patterns.add<WidenThroughIndex, ConvertBeforeExtension>(&getContext());
    SolverListener listener(solver);
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps)
        .setUseTopDownTraversal(false)
        .setListener(&listener);
    (void)applyOpPatternsGreedily(marked, std::move(patterns), config);
  }
};
} // namespace
