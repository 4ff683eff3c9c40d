//===- AttnTileOps.td - attn dialect: tiled (L1) and online (L2) levels -*-===//
//
// L1 (--attn-tile): a grid of programs over (sequence, q-head, q-block); each
// loads its Q tile once, streams K/V tiles through loops over KV blocks that
// carry a running softmax state (acc, m, l) as values, and writes its rows.
//
// L2 (--attn-online-softmax): the same programs with the block_* ops expanded
// into value-semantic tile ops — the matmuls, row reductions, element-wise
// maps, the mask and the score modifier — so that every target lowers the
// math from one place: the CPU and SIMT paths bufferize the tiles and expand
// the ops into loops, the Hopper path maps each op onto register fragments.
//
// The running state of a program, for each of its BM query rows i:
//   m[i]      = max over seen keys of  s[i,j] * log2(e)      (base-2 domain)
//   l[i]      = sum over seen keys of  2^(s[i,j] * log2(e) - m[i])
//   acc[i, :] = sum over seen keys of  2^(s[i,j] * log2(e) - m[i]) * V[j, :]
// so that O = acc / l and LSE = (m + log2 l) * ln 2.
//
// Tiles are static rank-2 (rows x columns) or rank-1 (rows: per-row values)
// tensors; the L2 ops are in destination-passing style (`into %dest`) and also
// take memrefs (no result), the form bufferization produces.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TILE_OPS_TD
#define ATTN_TILE_OPS_TD

include "attn/AttnBase.td"
include "attn/AttnAttrs.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpAsmInterface.td"

/// A tile value: a static rank-1 or rank-2 tensor.
def Attn_TileTensor : TensorRankOf<[AnyType], [1, 2]>;
/// A tile in either form: a value (tensor) or a buffer (memref, after
/// bufferization).
def Attn_Tile : AnyTypeOf<[TensorRankOf<[AnyType], [1, 2]>,
                           MemRefRankOf<[AnyType], [1, 2]>]>;

/// An L2 op in destination-passing style over tiles.
class Attn_TileOp<string mnemonic, list<Trait> traits = []>
    : Attn_Op<mnemonic, !listconcat(traits, [
        DestinationStyleOpInterface,
        DeclareOpInterfaceMethods<MemoryEffectsOpInterface>])> {
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getDestMutable(); }
  }];
}

//===----------------------------------------------------------------------===//
// L1: the program grid
//===----------------------------------------------------------------------===//

def Attn_ProgramGridOp : Attn_Op<"program_grid", [
    RecursiveMemoryEffects,
    SingleBlockImplicitTerminator<"YieldOp">,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>
  ]> {
  let summary = "A grid of independent programs over (sequence, q-head, q-block)";
  let description = [{
    Runs its body once for every (seq, head, q_block) in
    [0, num_sequences) x [0, num_heads) x [0, num_q_blocks), in any order and
    in parallel: the programs share no state and write disjoint rows. Each
    program covers `block_m` query rows (the last one of a sequence fewer).
    `block_sparse`: the programs walk a block mask's lists (their cost then
    depends on the data). `plan`: the Hopper kernel's decisions for this grid
    (--attn-plan-hopper). `kind` (absent: `forward`) says what the programs
    compute; the backward's three grids (`grad_preprocess`, `grad_kv`,
    `grad_postprocess`) run one after the other, and a `grad_kv` grid is over
    (sequence, kv-head, kv-block) with `block_m` keys per program.

    ```mlir
    attn.program_grid (%seq, %head, %qb) in (%c2, %c16, %c8) block_m(128) {
      ...
    }
    ```
  }];
  let arguments = (ins
    Index:$num_sequences, Index:$num_heads, Index:$num_q_blocks,
    ConfinedAttr<I64Attr, [IntPositive]>:$block_m,
    UnitAttr:$block_sparse,
    OptionalAttr<Attn_HopperPlanAttr>:$plan,
    OptionalAttr<Attn_ProgramKindAttr>:$kind
  );
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "ValueRange":$bounds, "int64_t":$blockM,
                   "bool":$blockSparse)>
  ];
  let extraClassDeclaration = [{
    Block *getBodyBlock() { return &getBody().front(); }
    /// The program's (seq, head, q_block) coordinates.
    ValueRange getInductionVars() { return getBodyBlock()->getArguments(); }
    /// (num_sequences, num_heads, num_q_blocks).
    SmallVector<Value, 3> getUpperBounds() {
      return {getNumSequences(), getNumHeads(), getNumQBlocks()};
    }
    /// The kind, `forward` when the attribute is absent.
    ProgramKind getKindOrDefault() {
      return getKind() ? *getKind() : ProgramKind::Forward;
    }
  }];
}

//===----------------------------------------------------------------------===//
// L1/L2: tile loads and stores
//===----------------------------------------------------------------------===//

def Attn_TileLoadOp : Attn_TileOp<"tile_load"> {
  let summary = "Rows of one head of a [B, S, H, D] operand as a tile";
  let description = [{
    Fills the static [R, D] tile `dest` from `source` [B, S, H, D]:

        dest[r, d] = r < rows ? T(source[batch, row + r, head, d]) · scale : 0

    where T converts to the tile's element type: f32 (any source, scaled by
    `scale` when given: FP8 descales), or the source's own type (no scale:
    the Hopper path keeps bf16/f16 tiles for the tensor cores). Rows past
    `rows` are zero so a partial tile holds defined values, with one
    exception: on the warp-specialized Hopper path a rank-2 tile is a TMA box,
    which zero-fills only past the tensor's end, so a packed (varlen) source
    leaves the next sequence's rows there. Clients must not depend on those
    rows: the forward discards them, the backward hides them
    (attn.tile_mask's hide_rows). On the CPU this is a loop nest.

    A rank-1 tile [R] takes per-row values from a `source` [B, H, S] (the
    backward's LSE and D), as attn.tile_store writes them:

        dest[r] = r < rows ? T(source[batch, head, row + r]) · scale : 0

    ```mlir
    %kt = attn.tile_load %k[%b, %row, %kvh] rows(%n) into %e
        : memref<2x1000x4x128xbf16>, tensor<128x128xf32> -> tensor<128x128xf32>
    attn.tile_load %k8[%b, %row, %kvh] rows(%n) scale(%dk) into %buf
        : memref<2x1000x4x128xf8E4M3FN>, memref<128x128xf32>
    ```
  }];
  let arguments = (ins
    AnyMemRef:$source,
    Index:$batch, Index:$row, Index:$head, Index:$rows,
    Optional<F32>:$scale,
    Attn_Tile:$dest
  );
  let results = (outs Optional<Attn_TileTensor>:$result);
  let assemblyFormat = [{
    $source `[` $batch `,` $row `,` $head `]` `rows` `(` $rows `)`
    (`scale` `(` $scale^ `)`)? `into` $dest
    attr-dict `:` type($source) `,` type($dest) (`->` type($result)^)?
  }];
  let hasVerifier = 1;
}


def Attn_TileStoreOp : Attn_Op<"tile_store", [
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Writes the rows of a tile into one head of an operand";
  let description = [{
    A rank-2 tile [R, D] goes to rows of `dest` [B, S, H, D], a rank-1 tile
    [R] (per-row values: the LSE) to `dest` [B, H, S]:

        dest[batch, row + r, head, d] = T(tile[r, d])     r < rows
        dest[batch, head, row + r]    = T(tile[r])        r < rows

    T converts to the destination's element type (round to nearest even).
    `accumulate` adds instead of overwriting (f32 destinations: the backward's
    dQ, reduced over programs; atomically where programs overlap). A rank-2
    tile narrower than D goes to the columns from `column` on:

        dest[batch, row + r, head, column + d] (+)= T(tile[r, d])

    (the backward's dQ when its consumer warpgroups split D; the columns
    must lie within D).

    ```mlir
    attn.tile_store %o into %out[%b, %row, %h] rows(%n)
        : tensor<128x128xf32>, memref<2x1000x16x128xbf16>
    attn.tile_store %dq into %acc[%b, %row, %h] rows(%n) column(%c64)
        accumulate : tensor<64x64xf32>, memref<2x1000x16x128xf32>
    ```
  }];
  let arguments = (ins
    Attn_Tile:$tile,
    AnyMemRef:$dest,
    Index:$batch, Index:$row, Index:$head, Index:$rows,
    Optional<Index>:$column,
    UnitAttr:$accumulate
  );
  let assemblyFormat = [{
    $tile `into` $dest `[` $batch `,` $row `,` $head `]` `rows` `(` $rows `)`
    (`column` `(` $column^ `)`)? (`accumulate` $accumulate^)?
    attr-dict `:` type($tile) `,` type($dest)
  }];
  let builders = [
    // All of D's columns.
    OpBuilder<(ins "::mlir::Value":$tile, "::mlir::Value":$dest,
                   "::mlir::Value":$batch, "::mlir::Value":$row,
                   "::mlir::Value":$head, "::mlir::Value":$rows,
                   "bool":$accumulate), [{
      build($_builder, $_state, tile, dest, batch, row, head, rows,
            /*column=*/::mlir::Value(), accumulate);
    }]>
  ];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// L1: the running softmax as three ops
//===----------------------------------------------------------------------===//

def Attn_BlockInitOp : Attn_Op<"block_init", [Pure]> {
  let summary = "Starts a running softmax state: acc = 0, m = -inf, l = 0";
  let description = [{
    ```mlir
    %acc, %m, %l = attn.block_init
        : tensor<128x128xf32>, tensor<128xf32>, tensor<128xf32>
    ```
  }];
  let results = (outs Attn_TileTensor:$acc, Attn_TileTensor:$max,
                      Attn_TileTensor:$sum);
  let assemblyFormat = [{
    attr-dict `:` type($acc) `,` type($max) `,` type($sum)
  }];
  let hasVerifier = 1;
}

def Attn_BlockUpdateOp : Attn_Op<"block_update", [
    RecursiveMemoryEffects,
    AllTypesMatch<["acc", "new_acc"]>, AllTypesMatch<["max", "new_max"]>,
    AllTypesMatch<["sum", "new_sum"]>,
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
                       shifted by `diag`) or by mask_mod, or j >= cols

    and returns the state (acc, m, l) with s merged in (see the header of
    AttnTileOps.td); rows past `rows` hold unspecified values. Blocks without
    `masked` hold no hidden key by construction of the tiling (only a ragged
    last block's missing columns): no mask arithmetic is done for them.

    ```mlir
    %acc1, %m1, %l1 = attn.block_update q(%qt) k(%kt) v(%vt)
        state(%acc, %m, %l) rows(%nr) cols(%nc) seq(%b) head(%h)
        q_pos(%q0) kv_pos(%k0) diag(%d)
        masked {mask = #attn.mask<causal, bottom_right>, scale = 0.125 : f32}
        : tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128x128xbf16>,
          tensor<128x128xf32>, tensor<128xf32>, tensor<128xf32>
    ```
  }];
  let arguments = (ins
    Attn_TileTensor:$query, Attn_TileTensor:$key, Attn_TileTensor:$value,
    Attn_TileTensor:$acc, Attn_TileTensor:$max, Attn_TileTensor:$sum,
    Index:$rows, Index:$cols,
    Index:$seq, Index:$head, Index:$q_pos, Index:$kv_pos, Index:$diag,
    UnitAttr:$masked,
    Attn_MaskAttr:$mask,
    F32Attr:$scale,
    OptionalAttr<F32Attr>:$softcap
  );
  let results = (outs Attn_TileTensor:$new_acc, Attn_TileTensor:$new_max,
                      Attn_TileTensor:$new_sum);
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

        out[batch, row + i, head, :] = l[i] != 0 ? acc[i, :] / l[i] : 0
        lse[batch, head, row + i]    = l[i] != 0 ? (m[i] + log2 l[i]) * ln 2
                                                 : -inf

    A row that saw no visible key has l = 0 and yields 0 and -inf; a NaN
    in the row's state reaches O and LSE.

    ```mlir
    attn.block_finalize state(%acc, %m, %l) rows(%nr)
        into %out[%b, %row, %h] lse(%lse)
        : tensor<128x128xf32>, tensor<128xf32>, tensor<128xf32>,
          memref<2x1000x16x128xbf16>, memref<2x16x1000xf32>
    ```
  }];
  let arguments = (ins
    Attn_TileTensor:$acc, Attn_TileTensor:$max, Attn_TileTensor:$sum,
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

//===----------------------------------------------------------------------===//
// L1: the backward (attn.attention_grad), as four ops
//===----------------------------------------------------------------------===//
//
// --attn-tile makes three grids of an attn.attention_grad: a preprocess
// (block_grad_delta per q-block), the KV-stationary main grid (per kv-block:
// block_grad_init, loops of block_grad_update over the q-blocks of each query
// head of the group, block_grad_finalize) and a postprocess (a scaled tile
// load of the dQ accumulator). --attn-online-softmax expands the ops into
// the L2 tile ops above.

def Attn_BlockGradInitOp : Attn_Op<"block_grad_init", [Pure]> {
  let summary = "Zero f32 tiles: the backward's dK and dV accumulators";
  let description = [{
    Each result is an f32 tile of zeros: dK [BN, D] and dV [BN, Dv] at the
    start of a main program, or the zero rows the preprocess stores into the
    dQ accumulator.

    ```mlir
    %dk, %dv = attn.block_grad_init : tensor<64x128xf32>, tensor<64x128xf32>
    ```
  }];
  let results = (outs Variadic<Attn_TileTensor>:$tiles);
  let assemblyFormat = "attr-dict `:` type($tiles)";
  let hasVerifier = 1;
}

def Attn_BlockGradDeltaOp : Attn_Op<"block_grad_delta", [Pure]> {
  let summary = "D = rowsum(dO ∘ O) − dLSE for the rows of a q-block";
  let description = [{
    For the rows i of the tiles out O [BM, Dv] and dout dO [BM, Dv] (and
    the optional per-row dlse [BM]):

        delta[i] = sum_d f32(dO[i, d]) · f32(O[i, d]) − dLSE[i]

    D = Σ_j P[i, j] · dP[i, j], the row term of softmax's backward (since
    O = P·V), less the gradient reaching LSE (∂LSE/∂z = P).

    ```mlir
    %d = attn.block_grad_delta out(%o) dout(%do)
        : tensor<64x128xf32>, tensor<64x128xf32> -> tensor<64xf32>
    ```
  }];
  let arguments = (ins Attn_TileTensor:$out, Attn_TileTensor:$dout,
                       Optional<Attn_TileTensor>:$dlse);
  let results = (outs Attn_TileTensor:$delta);
  let assemblyFormat = [{
    `out` `(` $out `)` `dout` `(` $dout `)` (`dlse` `(` $dlse^ `)`)?
    attr-dict `:` type($out) `,` type($dout) (`,` type($dlse)^)?
    `->` type($delta)
  }];
  let hasVerifier = 1;
}

def Attn_BlockGradUpdateOp : Attn_Op<"block_grad_update", [
    RecursiveMemoryEffects,
    AllTypesMatch<["dkey", "new_dkey"]>, AllTypesMatch<["dvalue", "new_dvalue"]>,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>
  ]> {
  let summary = "Folds one q-block into the dK, dV of a KV block; its dQ part";
  let description = [{
    For query rows i < `rows` (q_pos + i) and key columns j < `cols`
    (kv_pos + j), the scores of attn.block_update,

        x[i,j] = scale · dot(q[i, :], k[j, :])
        z[i,j] = score_mod(softcap(x[i,j]), ...) or -inf where hidden
                 (`masked` blocks: the window around `diag`, mask_mod,
                 j >= cols; unmasked blocks hide nothing but j >= cols)

    and, with the forward's log-sum-exp `lse` and D (`delta`) of each row:

        P   = exp(z − LSE)          0 where LSE = -inf (a row with no key)
        dP  = dO · Vᵀ
        dz  = P ∘ (dP − D)
        dx  = dz ∘ ∂z/∂x            (1 − tanh²(x / softcap)) · score_mod'
        new_dkey   = dkey + dxᵀ · q          (scale applied at the end)
        new_dvalue = dvalue + Pᵀ · dO
        dq         = dx · k                  (scale applied at the end)

    Rows past `rows` and columns past `cols` contribute nothing (their
    dO, D, P or dx are 0). `score_mod_grad`, when present, is the score_mod's
    derivative in the score (same signature; --attn-score-mod-grad writes it
    from `score_mod`).

    ```mlir
    %dk1, %dv1, %dq = attn.block_grad_update q(%qt) k(%kt) v(%vt) dout(%dot)
        lse(%lt) delta(%dt) state(%dk, %dv) rows(%nr) cols(%nc) seq(%b)
        head(%h) q_pos(%q0) kv_pos(%k0) diag(%d) masked
        {mask = #attn.mask<causal, bottom_right>, scale = 0.125 : f32}
        : tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>,
          tensor<64x128xf32>, tensor<64xf32>, tensor<64xf32>,
          tensor<64x128xf32>, tensor<64x128xf32> -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins
    Attn_TileTensor:$query, Attn_TileTensor:$key, Attn_TileTensor:$value,
    Attn_TileTensor:$dout, Attn_TileTensor:$lse, Attn_TileTensor:$delta,
    Attn_TileTensor:$dkey, Attn_TileTensor:$dvalue,
    Index:$rows, Index:$cols,
    Index:$seq, Index:$head, Index:$q_pos, Index:$kv_pos, Index:$diag,
    UnitAttr:$masked,
    Attn_MaskAttr:$mask,
    F32Attr:$scale,
    OptionalAttr<F32Attr>:$softcap
  );
  let results = (outs Attn_TileTensor:$new_dkey, Attn_TileTensor:$new_dvalue,
                      Attn_TileTensor:$dquery);
  let regions = (region MaxSizedRegion<1>:$score_mod,
                        MaxSizedRegion<1>:$score_mod_grad,
                        MaxSizedRegion<1>:$mask_mod);
  let assemblyFormat = [{
    `q` `(` $query `)` `k` `(` $key `)` `v` `(` $value `)`
    `dout` `(` $dout `)` `lse` `(` $lse `)` `delta` `(` $delta `)`
    `state` `(` $dkey `,` $dvalue `)`
    `rows` `(` $rows `)` `cols` `(` $cols `)`
    `seq` `(` $seq `)` `head` `(` $head `)`
    `q_pos` `(` $q_pos `)` `kv_pos` `(` $kv_pos `)` `diag` `(` $diag `)`
    (`masked` $masked^)?
    attr-dict-with-keyword
    (`score_mod` $score_mod^)?
    (`score_mod_grad` $score_mod_grad^)?
    (`mask_mod` $mask_mod^)?
    `:` type($query) `,` type($key) `,` type($value) `,` type($dout) `,`
        type($lse) `,` type($delta) `,` type($dkey) `,` type($dvalue)
    `->` type($dquery)
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

def Attn_BlockGradFinalizeOp : Attn_Op<"block_grad_finalize"> {
  let summary = "Writes dK = scale · dK_acc and dV for the keys of a program";
  let description = [{
    For rows j < `rows`:

        dk_out[batch, row + j, head, :] = T(scale · dkey[j, :])
        dv_out[batch, row + j, head, :] = T(dvalue[j, :])

    T rounds to the destination's element type.

    ```mlir
    attn.block_grad_finalize state(%dk, %dv) rows(%nc)
        into %dko, %dvo[%b, %k0, %kvh] {scale = 0.125 : f32}
        : tensor<64x128xf32>, tensor<64x128xf32>,
          memref<2x1000x4x128xbf16>, memref<2x1000x4x128xbf16>
    ```
  }];
  let arguments = (ins
    Attn_TileTensor:$dkey, Attn_TileTensor:$dvalue, Index:$rows,
    Arg<AnyMemRef, "dK [B, Sk, Hkv, D]", [MemWrite]>:$dkey_out,
    Arg<AnyMemRef, "dV [B, Sk, Hkv, Dv]", [MemWrite]>:$dvalue_out,
    Index:$batch, Index:$row, Index:$head,
    F32Attr:$scale
  );
  let assemblyFormat = [{
    `state` `(` $dkey `,` $dvalue `)` `rows` `(` $rows `)`
    `into` $dkey_out `,` $dvalue_out `[` $batch `,` $row `,` $head `]`
    attr-dict `:` type($dkey) `,` type($dvalue) `,` type($dkey_out) `,`
    type($dvalue_out)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// L2: value-semantic tile ops
//===----------------------------------------------------------------------===//

def Attn_TileFillOp : Attn_TileOp<"tile_fill"> {
  let summary = "A tile with every element equal to a scalar";
  let description = [{
    ```mlir
    %z = attn.tile_fill %zero into %e : f32, tensor<64x128xf32> -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins AnyType:$value, Attn_Tile:$dest);
  let results = (outs Optional<Attn_TileTensor>:$result);
  let assemblyFormat = [{
    $value `into` $dest attr-dict `:` type($value) `,` type($dest)
    (`->` type($result)^)?
  }];
  let hasVerifier = 1;
}

def Attn_TileMatmulOp : Attn_TileOp<"tile_matmul"> {
  let summary = "dest += op(lhs) · op(rhs), accumulated in f32";
  let description = [{
    With op(x) = xᵀ where `transpose_lhs` / `transpose_rhs` says so:

        dest[i, j] += Σ_k f32(op(lhs)[i, k]) · f32(op(rhs)[k, j])

    The operands may be of any float type (bf16/f16 tiles on the tensor
    cores, f32 on the CPU); `dest` is f32. S = Q·Kᵀ is
    `attn.tile_matmul %q, %k transpose_rhs into %zeros`.

    ```mlir
    %s = attn.tile_matmul %q, %k transpose_rhs into %z
        : tensor<64x128xbf16>, tensor<128x128xbf16>, tensor<64x128xf32>
          -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins Attn_Tile:$lhs, Attn_Tile:$rhs, Attn_Tile:$dest,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs Optional<Attn_TileTensor>:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`transpose_lhs` $transpose_lhs^)?
    (`transpose_rhs` $transpose_rhs^)? `into` $dest
    attr-dict `:` type($lhs) `,` type($rhs) `,` type($dest)
    (`->` type($result)^)?
  }];
  let hasVerifier = 1;
}

def Attn_TileReduceOp : Attn_TileOp<"tile_reduce"> {
  let summary = "Folds each row of a tile into a per-row value";
  let description = [{
        dest[i] = combine(dest[i], tile[i, 0], ..., tile[i, C - 1])

    with combine = maximum (NaN-propagating, like arith.maximumf: a NaN score
    reaches the row's max) or add.

    ```mlir
    %m1 = attn.tile_reduce max %s into %m0
        : tensor<64x128xf32>, tensor<64xf32> -> tensor<64xf32>
    ```
  }];
  let arguments = (ins Attn_ReductionKind:$kind, Attn_Tile:$tile,
                       Attn_Tile:$dest);
  let results = (outs Optional<Attn_TileTensor>:$result);
  let assemblyFormat = [{
    $kind $tile `into` $dest attr-dict `:` type($tile) `,` type($dest)
    (`->` type($result)^)?
  }];
  let hasVerifier = 1;
}

def Attn_TileMapOp : Attn_TileOp<"tile_map", [
    SingleBlock, RecursiveMemoryEffects]> {
  let summary = "Applies a scalar function to every element of tiles";
  let description = [{
        dest[i, j] = f(x1[i, j] or x1[i], x2[i, j] or x2[i], ...)

    The inputs have the shape of `dest` or, for a rank-2 `dest`, are rank-1
    per-row values broadcast along the row (the rescale acc·alpha, the fused
    exp2(s·c − m)). The body takes one scalar per input and yields the
    element (attn.yield); it holds arith/math ops only. Its element types are
    those of the inputs and of `dest`.

    ```mlir
    // p = exp2(s·c − m), one fma and one exp2 per score
    %p = attn.tile_map ins(%s, %negm : tensor<64x128xf32>, tensor<64xf32>)
        into %e : tensor<64x128xf32> {
    ^bb0(%x: f32, %nm: f32):
      %t = math.fma %x, %c, %nm : f32
      %e2 = math.exp2 %t : f32
      attn.yield %e2 : f32
    } -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins Variadic<Attn_Tile>:$inputs, Attn_Tile:$dest);
  let results = (outs Optional<Attn_TileTensor>:$result);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    (`ins` `(` $inputs^ `:` type($inputs) `)`)? `into` $dest attr-dict
    `:` type($dest) $body (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

def Attn_TileMaskOp : Attn_TileOp<"tile_mask", [RecursiveMemoryEffects,
    AllTypesMatch<["tile", "dest"]>,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "Hides the scores of keys a query may not see (-inf)";
  let description = [{
    For the scores `tile` [R, C] of queries q_pos + i and keys kv_pos + j:

        dest[i, j] = visible(i, j) ? tile[i, j] : -inf
        visible(i, j) = j < cols
                    and (not hide_rows or i < rows)
                    and (L < 0 or kv_pos + j >= q_pos + i + diag - L)
                    and (R < 0 or kv_pos + j <= q_pos + i + diag + R)
                    and mask_mod(seq, head, q_pos + i, kv_pos + j)

    with [L, R] the window of `mask` (-1 unbounded) and the mask_mod region
    optional. Rows from `rows` on are not the block's: without `hide_rows`
    their elements are unspecified (the forward discards those rows); with
    it they are -inf (the backward sums over rows for dK and dV, and a
    q-block's rows past its count need not be zeros: see attn.tile_load).
    The positions mask_mod receives are clamped into the block's rows and
    columns (q_pos + min(i, rows - 1), kv_pos + min(j, cols - 1)) so that it
    never reads past the tensors it indexes.

    ```mlir
    %sm = attn.tile_mask %s into %e q_pos(%q0) kv_pos(%k0) diag(%d)
        rows(%nr) cols(%nc) seq(%b) head(%h)
        {mask = #attn.mask<causal, bottom_right>}
        : tensor<64x128xf32> -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins Attn_Tile:$tile, Attn_Tile:$dest,
                       Index:$q_pos, Index:$kv_pos, Index:$diag, Index:$rows,
                       Index:$cols, Index:$seq, Index:$head,
                       Attn_MaskAttr:$mask, UnitAttr:$hide_rows);
  let results = (outs Optional<Attn_TileTensor>:$result);
  let regions = (region MaxSizedRegion<1>:$mask_mod);
  let assemblyFormat = [{
    $tile `into` $dest `q_pos` `(` $q_pos `)` `kv_pos` `(` $kv_pos `)`
    `diag` `(` $diag `)` `rows` `(` $rows `)` `cols` `(` $cols `)`
    `seq` `(` $seq `)` `head` `(` $head `)`
    attr-dict-with-keyword (`mask_mod` $mask_mod^)?
    `:` type($dest) (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

def Attn_TileScoreModOp : Attn_TileOp<"tile_score_mod", [RecursiveMemoryEffects,
    AllTypesMatch<["tile", "dest"]>,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "Applies a score_mod to the scores of a block";
  let description = [{
        dest[i, j] = score_mod(tile[i, j], seq, head, q_pos + i, kv_pos + j)

    for i < rows and j < cols; the other elements are unspecified (a target
    may compute them with the positions clamped into the block, so that the
    body never reads past the tensors it indexes).

    ```mlir
    %sm = attn.tile_score_mod %s into %e seq(%b) head(%h) q_pos(%q0)
        kv_pos(%k0) rows(%nr) cols(%nc) : tensor<64x128xf32> {
    ^bb0(%score: f32, %b: index, %h: index, %q_idx: index, %kv_idx: index):
      ...
      attn.yield %r : f32
    } -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins Attn_Tile:$tile, Attn_Tile:$dest,
                       Index:$seq, Index:$head, Index:$q_pos, Index:$kv_pos,
                       Index:$rows, Index:$cols);
  let results = (outs Optional<Attn_TileTensor>:$result);
  let regions = (region SizedRegion<1>:$score_mod);
  let assemblyFormat = [{
    $tile `into` $dest `seq` `(` $seq `)` `head` `(` $head `)`
    `q_pos` `(` $q_pos `)` `kv_pos` `(` $kv_pos `)`
    `rows` `(` $rows `)` `cols` `(` $cols `)`
    attr-dict `:` type($dest) $score_mod (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

#endif // ATTN_TILE_OPS_TD
