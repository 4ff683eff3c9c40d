//===- DynamicMemrefsAsPointers.cpp - --attn-dynamic-memrefs-as-pointers --===//
//
// Dynamically shaped memrefs reach kernels as a pointer and sizes (see
// include/flashmlir/Target/Passes.td).
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Target/Passes.h"

#include "mlir/IR/Builders.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNDYNAMICMEMREFSASPOINTERSPASS
#include "flashmlir/Target/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

namespace {
struct AttnDynamicMemrefsAsPointersPass final
    : flashmlir::impl::AttnDynamicMemrefsAsPointersPassBase<
          AttnDynamicMemrefsAsPointersPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    func.walk([&](gpu::LaunchOp launch) {
      for (BlockArgument arg : func.getArguments()) {
        auto type = dyn_cast<MemRefType>(arg.getType());
        if (!type || type.hasStaticShape() || !type.getLayout().isIdentity())
          continue;
        Region &body = launch.getBody();
        bool used = llvm::any_of(arg.getUses(), [&](OpOperand &use) {
          return body.isAncestor(use.getOwner()->getParentRegion());
        });
        if (!used)
          continue;
        OpBuilder b(launch);
        Location loc = launch.getLoc();
        auto flatType = MemRefType::get({1}, type.getElementType(),
                                        MemRefLayoutAttrInterface(),
                                        type.getMemorySpace());
        Value flat = memref::ReinterpretCastOp::create(
            b, loc, flatType, arg, /*offset=*/0, ArrayRef<int64_t>{1},
            ArrayRef<int64_t>{1});
        auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, arg);
        b.setInsertionPointToStart(&body.front());
        int64_t rank = type.getRank();
        SmallVector<OpFoldResult> sizes(rank), strides(rank);
        Value stride = arith::ConstantIndexOp::create(b, loc, 1);
        for (int64_t i = rank - 1; i >= 0; --i) {
          Value size = type.isDynamicDim(i)
                           ? metadata.getSizes()[i]
                           : arith::ConstantIndexOp::create(
                                 b, loc, type.getDimSize(i)).getResult();
          sizes[i] = type.isDynamicDim(i) ? OpFoldResult(size)
                                          : b.getIndexAttr(type.getDimSize(i));
          strides[i] = stride;
          stride = arith::MulIOp::create(b, loc, stride, size);
        }
        auto viewType = MemRefType::get(
            type.getShape(), type.getElementType(),
            StridedLayoutAttr::get(b.getContext(), 0,
                                   SmallVector<int64_t>(rank, ShapedType::kDynamic)),
            type.getMemorySpace());
        Value view = memref::ReinterpretCastOp::create(
            b, loc, viewType, flat, b.getIndexAttr(0), sizes, strides);
        Value cast = memref::CastOp::create(b, loc, type, view);
        arg.replaceUsesWithIf(cast, [&](OpOperand &use) {
          return body.isAncestor(use.getOwner()->getParentRegion());
        });
      }
    });
  }
};
} // namespace
