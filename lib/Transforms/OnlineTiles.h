//===- OnlineTiles.h - shared pieces of the L2 expansion --------*- C++ -*-===//
//
// What --attn-online-softmax's forward (AttnOnlineSoftmax.cpp) and backward
// (AttnOnlineSoftmaxGrad.cpp) expansions share: a builder of L2 tile ops with
// scratch tiles at the top of the program, and the score tile of one block
// (S = Q·Kᵀ, softcap, score_mod, the mask), written once.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_TRANSFORMS_ONLINETILES_H
#define FLASHMLIR_TRANSFORMS_ONLINETILES_H

#include "attn/Attn.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"

#include <tuple>

namespace flashmlir {

inline constexpr double kLog2E = 1.4426950408889634;
inline constexpr double kLn2 = 0.6931471805599453;

/// The scratch tiles of the programs of one function: one per (program body,
/// tile type, purpose).
using ScratchTiles =
    llvm::DenseMap<std::tuple<mlir::Block *, mlir::Type, llvm::StringRef>,
                   mlir::Value>;

/// Builds L2 tile ops at one position, with scratch tiles at the top of the
/// enclosing program.
class TileBuilder {
public:
  TileBuilder(mlir::Operation *at, ScratchTiles &scratch);

  mlir::OpBuilder b;
  mlir::Location loc;

  mlir::Value f32(double v);
  /// The program's scratch tile of `type` for `purpose`
  /// (bufferization.alloc_tensor at the top of the program, made once).
  mlir::Value scratchTile(mlir::RankedTensorType type, llvm::StringRef purpose);
  /// A tile of `type` of its own at the top of the program (never shared).
  mlir::Value freshTile(mlir::RankedTensorType type);
  /// The per-row (rank-1, f32) type of a tile's rows.
  mlir::RankedTensorType rows(mlir::ShapedType tile);
  /// dest[...] = value
  mlir::Value fill(double value, mlir::Value dest);
  /// dest[i, j] = body(inputs[i, j] or inputs[i]); `body` builds the scalar
  /// function of the map at the builder it is given.
  mlir::Value
  map(mlir::ValueRange inputs, mlir::Value dest,
      llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::ValueRange)>
          body);

private:
  ScratchTiles &scratch;
  mlir::Block *programBlock;
};

/// An f32 constant.
mlir::Value constantF32(mlir::OpBuilder &b, mlir::Location loc, double v);

/// What one block's scores depend on (the operands and attributes of
/// attn.block_update and attn.block_grad_update).
struct ScoreOperands {
  mlir::Value query, key;
  mlir::Value rows, cols, seq, head, qPos, kvPos, diag;
  bool masked;
  mlir::attn::MaskAttr mask;
  double scale;
  mlir::FloatAttr softcap; ///< null when off
  mlir::Region *scoreMod, *maskMod;
  /// The backward: score_mod's derivative in the score (null or empty when
  /// there is no score_mod).
  mlir::Region *scoreModGrad = nullptr;
  /// The backward: the block's rows past `rows` hidden too (attn.tile_mask's
  /// hide_rows), and a block with rows < BlockM masked even when interior.
  bool hideRows = false;
};

/// The scores of one block and what the softmax needs of them.
struct ScoreTile {
  /// S: -inf where hidden; with softcap / score_mod the natural-domain score.
  mlir::Value scores;
  /// The factor that makes S a base-2 logit: scale·log2 e when S is the raw
  /// Q·Kᵀ (no softcap, no score_mod: the scale folds into the exp2's fma),
  /// else log2 e.
  double c;
  /// With `withDerivative`: G = ∂z/∂x, z the score after softcap and
  /// score_mod, x = scale·Q·Kᵀ (null when z = x): the factor of dS in the
  /// backward. Defined everywhere (0 outside rows × cols when a score_mod's
  /// derivative is in it).
  mlir::Value derivative;
};

/// Builds, at `t`, the score tile of one block (formulas in the .cpp, above
/// the IR they build).
ScoreTile buildScoreTile(TileBuilder &t, const ScoreOperands &in,
                         bool withDerivative);

} // namespace flashmlir

#endif // FLASHMLIR_TRANSFORMS_ONLINETILES_H
