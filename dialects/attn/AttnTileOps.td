//===- AttnTileOps.td - attn dialect: tiled level (L1) -----*- tablegen -*-===//
//
// The ops that --attn-tile produces: one program (batch, q-head, q-block)
// loads its Q tile once, streams K/V tiles and folds each KV block into a
// running softmax state, then writes its output rows. --attn-online-softmax
// expands the block_* ops into the running-form arithmetic.
//
// The running state of a program, for each of its BM query rows i:
//   m[i]      = max over seen keys of  s[i,j] * log2(e)      (base-2 domain)
//   l[i]      = sum over seen keys of  2^(s[i,j] * log2(e) - m[i])
//   acc[i, :] = sum over seen keys of  2^(s[i,j] * log2(e) - m[i]) * V[j, :]
// so that O = acc / l and LSE = (m + log2 l) * ln 2.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TILE_OPS_TD
#define ATTN_TILE_OPS_TD

include "attn/AttnBase.td"
include "attn/AttnAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpAsmInterface.td"

/// A tile buffer: a static 2-D (rows x cols) or 1-D (rows) f32 memref.
def Attn_TileMemRef : MemRefRankOf<[F32], [1, 2]>;

def Attn_TileLoadOp : Attn_Op<"tile_load"> {
  let summary = "Copies rows of one head of a [B, S, H, D] operand into an f32 tile";
  let description = [{
    Fills the static [R, D] f32 tile `dest` from `source` [B, S, H, D]:

        dest[r, d] = r < rows ? f32(source[batch, row + r, head, d]) · scale : 0

    with `scale` 1 when absent (FP8 inputs: the operand's descale for this
    sequence and KV head). Rows past `rows` are zero so a partial tile holds
    defined values. On the GPU this is a TMA load into shared memory; on the
    CPU, a loop nest.

    ```mlir
    attn.tile_load %k[%b, %row, %kvh] rows(%n) into %kt
        : memref<2x1000x4x128xbf16>, memref<128x128xf32>
    attn.tile_load %k8[%b, %row, %kvh] rows(%n) scale(%dk) into %kt
        : memref<2x1000x4x128xf8E4M3FN>, memref<128x128xf32>
    ```
  }];
  let arguments = (ins
    Arg<AnyMemRef, "source operand [B, S, H, D]", [MemRead]>:$source,
    Index:$batch, Index:$row, Index:$head, Index:$rows,
    Optional<F32>:$scale,
    Arg<Attn_TileMemRef, "destination tile [R, D]", [MemWrite]>:$dest
  );
  let assemblyFormat = [{
    $source `[` $batch `,` $row `,` $head `]` `rows` `(` $rows `)`
    (`scale` `(` $scale^ `)`)? `into` $dest
    attr-dict `:` type($source) `,` type($dest)
  }];
  let hasVerifier = 1;
}

def Attn_BlockInitOp : Attn_Op<"block_init"> {
  let summary = "Starts a running softmax state: m = -inf, l = 0, acc = 0";
  let description = [{
    ```mlir
    attn.block_init %acc, %m, %l : memref<64x128xf32>, memref<64xf32>, memref<64xf32>
    ```
  }];
  let arguments = (ins
    Arg<Attn_TileMemRef, "accumulator [BM, Dv]", [MemWrite]>:$acc,
    Arg<Attn_TileMemRef, "running max [BM]", [MemWrite]>:$max,
    Arg<Attn_TileMemRef, "running sum [BM]", [MemWrite]>:$sum
  );
  let assemblyFormat = [{
    $acc `,` $max `,` $sum attr-dict `:` type($acc) `,` type($max) `,` type($sum)
  }];
  let hasVerifier = 1;
}

def Attn_BlockUpdateOp : Attn_Op<"block_update", [
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>
  ]> {
  let summary = "Folds one KV block into a running softmax state";
  let description = [{
    For query rows i < `rows` and key columns j < `cols` of the tiles:

        s[i,j] = scale * dot(q[i, :], k[j, :])
        s[i,j] = softcap * tanh(s[i,j] / softcap)               if softcap > 0
        s[i,j] = score_mod(s[i,j], seq, head, q_pos + i, kv_pos + j)
        s[i,j] = -inf  if `masked` and key kv_pos + j is hidden from query
                       q_pos + i by `mask` (window around the diagonal
                       shifted by `diag`) or by mask_mod

    then merges s into the running state (m, l, acc) of the tiled level (see
    the header of AttnTileOps.td). Rows past `rows` are left untouched.
    Blocks without `masked` contain no hidden key, by construction of the
    tiling: no mask arithmetic is done for them.

    ```mlir
    attn.block_update q(%qt) k(%kt) v(%vt) state(%acc, %m, %l)
        rows(%nr) cols(%nc) seq(%b) head(%h) q_pos(%q0) kv_pos(%k0) diag(%d)
        masked {mask = #attn.mask<causal, bottom_right>, scale = 0.125 : f32}
        : memref<64x128xf32>, memref<128x128xf32>, memref<128x128xf32>,
          memref<64x128xf32>, memref<64xf32>, memref<64xf32>
    ```
  }];
  let arguments = (ins
    Arg<Attn_TileMemRef, "Q tile [BM, D]", [MemRead]>:$query,
    Arg<Attn_TileMemRef, "K tile [BN, D]", [MemRead]>:$key,
    Arg<Attn_TileMemRef, "V tile [BN, Dv]", [MemRead]>:$value,
    Arg<Attn_TileMemRef, "accumulator [BM, Dv]", [MemRead, MemWrite]>:$acc,
    Arg<Attn_TileMemRef, "running max [BM]", [MemRead, MemWrite]>:$max,
    Arg<Attn_TileMemRef, "running sum [BM]", [MemRead, MemWrite]>:$sum,
    Index:$rows, Index:$cols,
    Index:$seq, Index:$head, Index:$q_pos, Index:$kv_pos, Index:$diag,
    UnitAttr:$masked,
    Attn_MaskAttr:$mask,
    F32Attr:$scale,
    OptionalAttr<F32Attr>:$softcap
  );
  let regions = (region MaxSizedRegion<1>:$score_mod,
                        MaxSizedRegion<1>:$mask_mod);
  let assemblyFormat = [{
    `q` `(` $query `)` `k` `(` $key `)` `v` `(` $value `)`
    `state` `(` $acc `,` $max `,` $sum `)`
    `rows` `(` $rows `)` `cols` `(` $cols `)`
    `seq` `(` $seq `)` `head` `(` $head `)`
    `q_pos` `(` $q_pos `)` `kv_pos` `(` $kv_pos `)` `diag` `(` $diag `)`
    (`masked` $masked^)?
    attr-dict-with-keyword
    (`score_mod` $score_mod^)?
    (`mask_mod` $mask_mod^)?
    `:` type($query) `,` type($key) `,` type($value) `,`
        type($acc) `,` type($max) `,` type($sum)
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

def Attn_BlockFinalizeOp : Attn_Op<"block_finalize"> {
  let summary = "Writes O = acc / l (and LSE) for the rows of a program";
  let description = [{
    For rows i < `rows`:

        out[batch, row + i, head, :] = l[i] > 0 ? acc[i, :] / l[i] : 0
        lse[batch, head, row + i]    = l[i] > 0 ? (m[i] + log2 l[i]) * ln 2
                                                : -inf

    A row that saw no visible key has l = 0 and yields 0 and -inf.

    ```mlir
    attn.block_finalize state(%acc, %m, %l) rows(%nr)
        into %out[%b, %row, %h] lse(%lse)
        : memref<64x128xf32>, memref<64xf32>, memref<64xf32>,
          memref<2x1000x16x128xbf16>, memref<2x16x1000xf32>
    ```
  }];
  let arguments = (ins
    Arg<Attn_TileMemRef, "accumulator [BM, Dv]", [MemRead]>:$acc,
    Arg<Attn_TileMemRef, "running max [BM]", [MemRead]>:$max,
    Arg<Attn_TileMemRef, "running sum [BM]", [MemRead]>:$sum,
    Index:$rows,
    Arg<AnyMemRef, "output [B, S, H, Dv]", [MemWrite]>:$out,
    Index:$batch, Index:$row, Index:$head,
    Arg<Optional<AnyMemRef>, "log-sum-exp [B, H, S]", [MemWrite]>:$lse
  );
  let assemblyFormat = [{
    `state` `(` $acc `,` $max `,` $sum `)` `rows` `(` $rows `)`
    `into` $out `[` $batch `,` $row `,` $head `]`
    (`lse` `(` $lse^ `)`)?
    attr-dict `:` type($acc) `,` type($max) `,` type($sum) `,` type($out)
    (`,` type($lse)^)?
  }];
  let hasVerifier = 1;
}

#endif // ATTN_TILE_OPS_TD
