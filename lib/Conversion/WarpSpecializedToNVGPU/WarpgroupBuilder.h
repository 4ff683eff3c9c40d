//===- WarpgroupBuilder.h - wgmma, fragments and softmax math --*- C++ -*-===//
//
// The instruction-level pieces of the Hopper kernel that
// --attn-convert-to-nvgpu assembles: shared-memory matrix descriptors, the
// two wgmma forms attention needs, the accumulator fragment map, quad
// reductions and exp2. Each choice was first verified on an H100 by building
// blocks (since retired; the kernels' GPU tests cover them).
//
// Accumulator fragment of an m64nN f32 tile (N/2 registers per thread): in
// warp w of the warpgroup, lane l holds for register r
//     row = 16·w + l/4 + 8·((r/2) mod 2)
//     col = 8·(r/4) + 2·(l mod 4) + (r mod 2)
// so a row is spread over the 4 lanes of a quad and reduced by two shuffles.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_LIB_CONVERSION_WARPSPECIALIZEDTONVGPU_WARPGROUPBUILDER_H
#define FLASHMLIR_LIB_CONVERSION_WARPSPECIALIZEDTONVGPU_WARPGROUPBUILDER_H

#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallVector.h"

namespace flashmlir::hopper {

/// Row half of accumulator register r (0: row l/4, 1: row l/4 + 8).
inline int64_t rowHalfOf(int64_t r) { return (r / 2) % 2; }
/// Column of register r, less the lane's 2·(l mod 4).
inline int64_t columnOf(int64_t r) { return 8 * (r / 4) + r % 2; }

class WarpgroupBuilder {
public:
  /// `elementType`: the 16-bit GEMM operand type (bf16 or f16).
  WarpgroupBuilder(mlir::OpBuilder &b, mlir::Location loc,
                   mlir::Type elementType)
      : b(b), loc(loc), elementType(elementType) {}

  mlir::Value i32(int64_t v);
  mlir::Value i64(int64_t v);
  mlir::Value index(int64_t v);
  mlir::Value f32(double v);

  /// The wgmma matrix descriptor of a swizzled tile at shared-window byte
  /// address `address` (i64):
  ///   desc = (address & 0x3FFFF) >> 4 | (lbo >> 4) << 16 | (sbo >> 4) << 32
  ///          | layoutType << 62     (1, 2, 3: 128, 64, 32-byte swizzle)
  mlir::Value descriptor(mlir::Value address, int64_t lbo, int64_t sbo,
                         int64_t layoutType);
  /// `desc` with its start address advanced by `bytes` (a multiple of 16).
  mlir::Value advance(mlir::Value desc, int64_t bytes);
  mlir::Value advance(mlir::Value desc, mlir::Value bytesI64);
  /// advance() by an offset LLVM cannot see (an opaque register move where
  /// it is used): the advanced descriptor is computed in place, not hoisted
  /// out of the loops and kept in two registers per k-step.
  mlir::Value advanceInPlace(mlir::Value desc, int64_t bytes);

  /// !llvm.struct of n/2 f32: the accumulator of one m64nN wgmma.
  mlir::Type accumulatorType(int64_t n);
  mlir::SmallVector<mlir::Value> unpack(mlir::Value accumulator, int64_t n);

  /// D = A·B (accumulate = false) or D += A·B for m64nNk16 with A and B in
  /// shared memory, K-major (S = Q·Kᵀ) or MN-major (the transpose bits:
  /// dV += Pᵀ·dO). `acc` may be null when not accumulating.
  mlir::Value mmaSharedShared(mlir::Value acc, mlir::Value descA,
                              mlir::Value descB, int64_t n, bool accumulate,
                              bool mnMajorA = false, bool mnMajorB = false);
  /// D += A·B for m64nNk16 with A in registers (four 2-element packs, see
  /// packPair) and B N-major in shared memory (O += P·V). NVVM has only the
  /// shared-memory-A form, so this is inline PTX.
  mlir::SmallVector<mlir::Value> mmaRegisterShared(
      mlir::ArrayRef<mlir::Value> acc, mlir::ArrayRef<mlir::Value> a,
      mlir::Value descB);

  void fence();
  void commitGroup();
  void waitGroup(int64_t pending);

  /// The i32 holding (lo, hi) rounded to the operand type: an A register.
  mlir::Value packPair(mlir::Value lo, mlir::Value hi);
  /// x combined with the other 3 lanes of its quad (xor shuffles 1, 2).
  mlir::Value quadMax(mlir::Value x);
  mlir::Value quadSum(mlir::Value x);
  /// quadMax propagating NaN (arith.maximumf): a NaN score reaches the row's
  /// max.
  mlir::Value quadMaximum(mlir::Value x);
  /// ex2.approx / lg2.approx (no libdevice call).
  mlir::Value exp2(mlir::Value x);
  mlir::Value log2(mlir::Value x);
  /// a·b + c in one rounding.
  mlir::Value fma(mlir::Value a, mlir::Value b, mlir::Value c);
  /// tanh.approx.f32 (one MUFU op; relative error ~2^-11, the PTX ISA's
  /// bound). The exact form 1 − 2/(2^(2·log2(e)·x) + 1) costs an exp2 and a
  /// reciprocal per score, two quarter-rate ops beside the softmax's exp2:
  /// softcap ran 20–48% faster with this one (bench/RESULTS.md), and the
  /// GPU matrix's softcap cases, up to |s/softcap| ~ 2.5, meet the accuracy
  /// rule against float64.
  mlir::Value tanh(mlir::Value x);
  /// x (f32) through an opaque register copy: LLVM cannot see that it came
  /// from an integer conversion (it rewrites f32(i) + c as f32(i + c), one
  /// quarter-rate conversion per use instead of one for all).
  mlir::Value opaqueF32(mlir::Value x);
  /// x (i32) through an opaque register copy: LLVM cannot see that it is
  /// the truncation of a wider value, so it keeps a comparison with it in i32
  /// (it otherwise widens icmp(trunc a, trunc b) back to the i64 operands).
  mlir::Value opaqueI32(mlir::Value x);
  /// %tid.x (index) read again where it is used: values derived from the
  /// launch's thread id would otherwise be shared with the ones computed
  /// before the KV loop and kept live across it (the TMA epilogue's lane
  /// addresses spilled a document-mask kernel, 92 bytes, ptxas -v).
  mlir::Value freshThreadId();
  /// The constant `v` (index) materialized where it is used, through an
  /// opaque register move: LLVM would hoist every copy's constant out of the
  /// producer's loops, each then holding a register across them.
  mlir::Value opaqueIndex(int64_t v);

  mlir::OpBuilder &builder() { return b; }
  mlir::Location location() const { return loc; }

private:
  enum class Combine { MaxNum, Maximum, Add };
  mlir::Value quadReduce(mlir::Value x, Combine combine);

  mlir::OpBuilder &b;
  mlir::Location loc;
  mlir::Type elementType;
};

} // namespace flashmlir::hopper

#endif // FLASHMLIR_LIB_CONVERSION_WARPSPECIALIZEDTONVGPU_WARPGROUPBUILDER_H
