//===- WarpgroupBuilder.cpp - wgmma, fragments and softmax math ------------===//

#include "WarpgroupBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace flashmlir::hopper;

Value WarpgroupBuilder::i32(int64_t v) {
  return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
}
Value WarpgroupBuilder::i64(int64_t v) {
  return arith::ConstantIntOp::create(b, loc, b.getI64Type(), v);
}
Value WarpgroupBuilder::index(int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}
Value WarpgroupBuilder::f32(double v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}

Value WarpgroupBuilder::descriptor(Value address, int64_t lbo, int64_t sbo,
                                   int64_t layoutType) {
  Value start = arith::ShRUIOp::create(
      b, loc, arith::AndIOp::create(b, loc, address, i64(0x3FFFF)), i64(4));
  uint64_t layout = (uint64_t(layoutType) << 62) |
                    (uint64_t(sbo >> 4) << 32) | (uint64_t(lbo >> 4) << 16);
  return arith::OrIOp::create(b, loc, start, i64(layout));
}

Value WarpgroupBuilder::advance(Value desc, int64_t bytes) {
  if (bytes == 0)
    return desc;
  return arith::AddIOp::create(b, loc, desc, i64(bytes >> 4));
}

Value WarpgroupBuilder::advance(Value desc, Value bytesI64) {
  return arith::AddIOp::create(
      b, loc, desc, arith::ShRUIOp::create(b, loc, bytesI64, i64(4)));
}

Value WarpgroupBuilder::advanceInPlace(Value desc, int64_t bytes) {
  if (bytes == 0)
    return desc;
  MLIRContext *ctx = b.getContext();
  Value units =
      LLVM::InlineAsmOp::create(
          b, loc, b.getI64Type(), ValueRange{},
          b.getStringAttr("mov.b64 $0, " + std::to_string(bytes >> 4) + ";"),
          b.getStringAttr("=l"),
          /*has_side_effects=*/b.getUnitAttr(), /*is_align_stack=*/UnitAttr(),
          LLVM::TailCallKindAttr::get(
              ctx, LLVM::tailcallkind::TailCallKind::None),
          LLVM::AsmDialectAttr::get(ctx, LLVM::AsmDialect::AD_ATT), ArrayAttr())
          .getResult(0);
  return arith::AddIOp::create(b, loc, desc, units);
}

Type WarpgroupBuilder::accumulatorType(int64_t n) {
  SmallVector<Type> fields(n / 2, b.getF32Type());
  return LLVM::LLVMStructType::getLiteral(b.getContext(), fields);
}

SmallVector<Value> WarpgroupBuilder::unpack(Value accumulator, int64_t n) {
  SmallVector<Value> regs;
  for (int64_t r = 0; r < n / 2; ++r)
    regs.push_back(LLVM::ExtractValueOp::create(b, loc, accumulator, r));
  return regs;
}

static NVVM::WGMMATypes wgmmaType(Type t) {
  return t.isBF16() ? NVVM::WGMMATypes::bf16 : NVVM::WGMMATypes::f16;
}

Value WarpgroupBuilder::mmaSharedShared(Value acc, Value descA, Value descB,
                                        int64_t n, bool accumulate,
                                        bool mnMajorA, bool mnMajorB) {
  MLIRContext *ctx = b.getContext();
  Type accType = accumulatorType(n);
  if (!acc)
    acc = LLVM::UndefOp::create(b, loc, accType);
  auto type = NVVM::WGMMATypesAttr::get(ctx, wgmmaType(elementType));
  auto one = NVVM::WGMMAScaleInAttr::get(ctx, NVVM::WGMMAScaleIn::one);
  return NVVM::WgmmaMmaAsyncOp::create(
      b, loc, accType, acc, descA, descB,
      NVVM::MMAShapeAttr::get(ctx, 64, n, 16), type, type,
      NVVM::WGMMATypesAttr::get(ctx, NVVM::WGMMATypes::f32),
      NVVM::WGMMAScaleOutAttr::get(ctx, accumulate ? NVVM::WGMMAScaleOut::one
                                                   : NVVM::WGMMAScaleOut::zero),
      // NVVM's layouts: A row-major is K-major, B column-major is K-major.
      one, one,
      NVVM::MMALayoutAttr::get(ctx, mnMajorA ? NVVM::MMALayout::col
                                             : NVVM::MMALayout::row),
      NVVM::MMALayoutAttr::get(ctx, mnMajorB ? NVVM::MMALayout::row
                                             : NVVM::MMALayout::col),
      NVVM::MMAIntOverflowAttr());
}

SmallVector<Value>
WarpgroupBuilder::mmaRegisterShared(ArrayRef<Value> acc, ArrayRef<Value> a,
                                    Value descB) {
  // Operands: $0..$R-1 the accumulators (outputs, tied to inputs $R..$2R-1),
  // $2R..$2R+3 the A registers, $2R+4 B's descriptor, $2R+5 scale-d (an
  // immediate 1: D += A·B). The trailing 1, 1, 1 are scale-a, scale-b and
  // tnspB (B is N-major: V stored [keys][Dv]).
  int64_t regs = acc.size(), n = 2 * regs;
  std::string list;
  for (int64_t i = 0; i < regs; ++i)
    list += (i ? ", $" : "$") + std::to_string(i);
  std::string type = elementType.isBF16() ? "bf16" : "f16";
  std::string ptx = llvm::formatv(
      "{{\n.reg .pred p;\nsetp.ne.b32 p, ${0}, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n{1}k16.f32.{2}.{2} {{{3}}, "
      "{{${4}, ${5}, ${6}, ${7}}, ${8}, p, 1, 1, 1;\n}",
      2 * regs + 5, n, type, list, 2 * regs, 2 * regs + 1, 2 * regs + 2,
      2 * regs + 3, 2 * regs + 4);
  std::string constraints;
  for (int64_t i = 0; i < regs; ++i)
    constraints += "=f,";
  for (int64_t i = 0; i < regs; ++i)
    constraints += std::to_string(i) + ",";
  constraints += "r,r,r,r,l,n";

  SmallVector<Value> operands(acc.begin(), acc.end());
  operands.append(a.begin(), a.end());
  operands.push_back(descB);
  operands.push_back(i32(1));
  MLIRContext *ctx = b.getContext();
  auto asmOp = LLVM::InlineAsmOp::create(
      b, loc, accumulatorType(n), operands, b.getStringAttr(ptx),
      b.getStringAttr(constraints), b.getUnitAttr(), UnitAttr(),
      LLVM::TailCallKindAttr::get(ctx, LLVM::tailcallkind::TailCallKind::None),
      LLVM::AsmDialectAttr::get(ctx, LLVM::AsmDialect::AD_ATT), ArrayAttr());
  return unpack(asmOp.getResult(0), n);
}

void WarpgroupBuilder::fence() { NVVM::WgmmaFenceAlignedOp::create(b, loc); }
void WarpgroupBuilder::commitGroup() {
  NVVM::WgmmaGroupSyncAlignedOp::create(b, loc);
}
void WarpgroupBuilder::waitGroup(int64_t pending) {
  NVVM::WgmmaWaitGroupSyncOp::create(b, loc, b.getI64IntegerAttr(pending));
}

Value WarpgroupBuilder::packPair(Value lo, Value hi) {
  auto pair = VectorType::get({2}, elementType);
  Value v = LLVM::UndefOp::create(b, loc, pair);
  v = LLVM::InsertElementOp::create(
      b, loc, v, arith::TruncFOp::create(b, loc, elementType, lo), i32(0));
  v = LLVM::InsertElementOp::create(
      b, loc, v, arith::TruncFOp::create(b, loc, elementType, hi), i32(1));
  return LLVM::BitcastOp::create(b, loc, b.getI32Type(), v);
}

Value WarpgroupBuilder::quadReduce(Value x, Combine combine) {
  for (int32_t offset : {1, 2}) {
    Value other =
        gpu::ShuffleOp::create(b, loc, x, offset, 32, gpu::ShuffleMode::XOR)
            .getShuffleResult();
    switch (combine) {
    case Combine::MaxNum:
      x = arith::MaxNumFOp::create(b, loc, x, other);
      break;
    case Combine::Maximum:
      x = arith::MaximumFOp::create(b, loc, x, other);
      break;
    case Combine::Add:
      x = arith::AddFOp::create(b, loc, x, other);
      break;
    }
  }
  return x;
}
Value WarpgroupBuilder::quadMax(Value x) {
  return quadReduce(x, Combine::MaxNum);
}
Value WarpgroupBuilder::quadMaximum(Value x) {
  return quadReduce(x, Combine::Maximum);
}
Value WarpgroupBuilder::quadSum(Value x) { return quadReduce(x, Combine::Add); }

static Value approx(OpBuilder &b, Location loc, StringRef ptx, Value x) {
  return NVVM::InlinePtxOp::create(b, loc, TypeRange{b.getF32Type()},
                                   ValueRange{x}, ValueRange{}, ptx, Value())
      ->getResult(0);
}
Value WarpgroupBuilder::exp2(Value x) {
  return approx(b, loc, "ex2.approx.ftz.f32 $0, $1;", x);
}
Value WarpgroupBuilder::log2(Value x) {
  return approx(b, loc, "lg2.approx.ftz.f32 $0, $1;", x);
}
Value WarpgroupBuilder::fma(Value a, Value x, Value c) {
  return LLVM::FMAOp::create(b, loc, a, x, c);
}
/// `x` through an inline-asm register copy (constraint "r" or "f"), which
/// LLVM cannot see through.
static Value opaqueMove(OpBuilder &b, Location loc, Value x,
                        StringRef constraint) {
  MLIRContext *ctx = b.getContext();
  return LLVM::InlineAsmOp::create(
             b, loc, x.getType(), ValueRange{x},
             b.getStringAttr("mov.b32 $0, $1;"),
             b.getStringAttr(("=" + constraint + "," + constraint).str()),
             /*has_side_effects=*/UnitAttr(), /*is_align_stack=*/UnitAttr(),
             LLVM::TailCallKindAttr::get(
                 ctx, LLVM::tailcallkind::TailCallKind::None),
             LLVM::AsmDialectAttr::get(ctx, LLVM::AsmDialect::AD_ATT),
             ArrayAttr())
      .getResult(0);
}
Value WarpgroupBuilder::opaqueF32(Value x) {
  return opaqueMove(b, loc, x, "f");
}
Value WarpgroupBuilder::opaqueI32(Value x) {
  return opaqueMove(b, loc, x, "r");
}

Value WarpgroupBuilder::freshThreadId() {
  MLIRContext *ctx = b.getContext();
  Value tid =
      LLVM::InlineAsmOp::create(
          b, loc, b.getI32Type(), ValueRange{},
          b.getStringAttr("mov.u32 $0, %tid.x;"), b.getStringAttr("=r"),
          /*has_side_effects=*/b.getUnitAttr(), /*is_align_stack=*/UnitAttr(),
          LLVM::TailCallKindAttr::get(
              ctx, LLVM::tailcallkind::TailCallKind::None),
          LLVM::AsmDialectAttr::get(ctx, LLVM::AsmDialect::AD_ATT), ArrayAttr())
          .getResult(0);
  return arith::IndexCastUIOp::create(b, loc, b.getIndexType(), tid);
}

Value WarpgroupBuilder::opaqueIndex(int64_t v) {
  MLIRContext *ctx = b.getContext();
  Value r =
      LLVM::InlineAsmOp::create(
          b, loc, b.getI32Type(), ValueRange{},
          b.getStringAttr("mov.u32 $0, " + std::to_string(v) + ";"),
          b.getStringAttr("=r"),
          /*has_side_effects=*/b.getUnitAttr(), /*is_align_stack=*/UnitAttr(),
          LLVM::TailCallKindAttr::get(
              ctx, LLVM::tailcallkind::TailCallKind::None),
          LLVM::AsmDialectAttr::get(ctx, LLVM::AsmDialect::AD_ATT), ArrayAttr())
          .getResult(0);
  return arith::IndexCastUIOp::create(b, loc, b.getIndexType(), r);
}

Value WarpgroupBuilder::tanh(Value x) {
  MLIRContext *ctx = b.getContext();
  return LLVM::InlineAsmOp::create(
             b, loc, b.getF32Type(), ValueRange{x},
             b.getStringAttr("tanh.approx.f32 $0, $1;"), b.getStringAttr("=f,f"),
             UnitAttr(), UnitAttr(),
             LLVM::TailCallKindAttr::get(
                 ctx, LLVM::tailcallkind::TailCallKind::None),
             LLVM::AsmDialectAttr::get(ctx, LLVM::AsmDialect::AD_ATT),
             ArrayAttr())
      .getResult(0);
}
