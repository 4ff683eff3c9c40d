//===- AttnOps.td - attn dialect operations ----------------*- tablegen -*-===//
//
// attn.attention and attn.attention_grad (level L0 of docs/AttnDialect.md)
// and their region terminator.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_OPS_TD
#define ATTN_OPS_TD

include "attn/AttnBase.td"
include "attn/AttnAttrs.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpAsmInterface.td"

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

def Attn_AttentionOp : Attn_Op<"attention", [
    AttrSizedOperandSegments,
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>
  ]> {
  let summary = "Scaled dot-product attention, softmax(scale * Q K^T) V";
  let description = [{
    Computes, for every batch `b`, query head `h` and query row `i`,

        s[j]   = scale * dot(Q[b, i, h, :], K[b, j, h / G, :])   G = Hq / Hkv
        s[j]   = softcap * tanh(s[j] / softcap)        if softcap > 0
        s[j]   = score_mod(s[j], b, h, i, j)           if score_mod is present
        s[j]   = -inf                                  if mask or mask_mod hides j
        O[b, i, h, :]   = sum_j softmax(s)[j] * V[b, j, h / G, :]
        LSE[b, h, i]    = log(sum_j exp(s[j]))

    A row whose keys are all hidden yields O = 0 and LSE = -inf.

    Operands are in the (batch, sequence, head, head_dim) layout of
    flash_attn: `query` [B, Sq, Hq, D], `key` [B, Sk, Hkv, D], `value`
    [B, Sk, Hkv, Dv]; Hq must be a multiple of Hkv (grouped-query and
    multi-query attention read shared K/V heads, never copies). The head
    dimensions D and Dv are static, multiples of 8 and at most 256; B, S and H
    may be dynamic. Element types: f16, bf16 or f8E4M3FN (q, k and v alike),
    plus f32 for the CPU reference path. FP8 inputs take per-(batch, kv-head)
    f32 descales `descale(%dq, %dk, %dv)` of shape [B, Hkv] and produce f16 or
    bf16; other inputs produce their own element type.

    The op is in destination-passing style: `outs(%out[, %lse])` names the
    output [B, Sq, Hq, Dv] and, optionally, the log-sum-exp [B, Hq, Sq] in
    f32. On tensors the op returns one result per init; on memrefs it writes
    them and returns nothing.

    Variable-length batches (`cu_seqlens(%cu_q, %cu_k)`) pack sequences along
    the sequence axis of a batch of one, as flash_attn_varlen_func does:
    sequence `n` owns query rows [cu_q[n], cu_q[n+1]) and key rows
    [cu_k[n], cu_k[n+1]); both are i32 vectors of length N + 1, and masks,
    alignments and the indices given to the modifiers are per sequence.

    Attributes: `scale` (default 1/sqrt(D)), `mask` (`#attn.mask`, default
    none), `softcap` (0 = off). Optional regions, each ending in `attn.yield`:
    `score_mod (%score: f32, %b, %h, %q_idx, %kv_idx: index) -> f32` rewrites
    a score before masking, `mask_mod (%b, %h, %q_idx, %kv_idx: index) -> i1`
    keeps a key when it yields true (on top of `mask`). Region bodies may read
    values from above but must not write memory.

    Block sparsity (`block_mask(%num, %idx[, %full_num, %full_idx] : ...)
    block_size [BM, BN]`, FlexAttention's BlockMask): the keys split into
    blocks of BN, the queries into blocks of BM; for query block `qb` of
    batch `b` and head `h`, `num[b, h, qb]` blocks `idx[b, h, qb, 0 ..]` are
    partial (masked as usual: `mask`, `mask_mod`, the sequence's end) and
    `full_num[b, h, qb]` blocks `full_idx[b, h, qb, 0 ..]` are full: the
    masks keep every key of such a block for every row, so a kernel may skip
    masking it (a full block the masks do not keep whole gives undefined
    results). Query i sees key j iff j's block is listed for i's block and
    the masks keep j: keys of blocks not listed are hidden. `num`
    and `full_num` are i32 [B', H', QB], `idx` and `full_idx` i32
    [B', H', QB, KB], B' in {1, B} and H' in {1, Hq} (1 broadcasts), QB =
    ceil(Sq / BM). Counts are clamped to [0, KB] and block indices to the
    key blocks that exist, so a malformed mask never reads out of bounds.
    Not with cu_seqlens.

    ```mlir
    // Causal GQA (16 query heads over 4 KV heads) with ALiBi as a score_mod.
    %o, %lse = attn.attention
        ins(%q, %k, %v : tensor<2x1024x16x128xbf16>, tensor<2x1024x4x128xbf16>,
                         tensor<2x1024x4x128xbf16>)
        outs(%o0, %l0 : tensor<2x1024x16x128xbf16>, tensor<2x16x1024xf32>)
        mask<causal, bottom_right> scale(0.0883883461 : f32)
        score_mod {
        ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
          %slope = tensor.extract %slopes[%h] : tensor<16xf32>
          %dist = arith.subi %kj, %qi : index
          %di = arith.index_cast %dist : index to i64
          %df = arith.sitofp %di : i64 to f32
          %bias = arith.mulf %slope, %df : f32
          %r = arith.addf %s, %bias : f32
          attn.yield %r : f32
        } -> tensor<2x1024x16x128xbf16>, tensor<2x16x1024xf32>
    ```
  }];

  let arguments = (ins
    AnyType:$query,
    AnyType:$key,
    AnyType:$value,
    Optional<AnyType>:$cu_seqlens_q,
    Optional<AnyType>:$cu_seqlens_k,
    Optional<AnyType>:$q_descale,
    Optional<AnyType>:$k_descale,
    Optional<AnyType>:$v_descale,
    Variadic<AnyType>:$block_mask,
    AnyType:$out,
    Optional<AnyType>:$lse,
    OptionalAttr<Attn_MaskAttr>:$mask,
    OptionalAttr<F32Attr>:$scale,
    OptionalAttr<F32Attr>:$softcap,
    OptionalAttr<DenseI64ArrayAttr>:$block_size
  );
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region MaxSizedRegion<1>:$score_mod,
                        MaxSizedRegion<1>:$mask_mod);

  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `:`
        type($query) `,` type($key) `,` type($value) `)`
    (`cu_seqlens` `(` $cu_seqlens_q^ `,` $cu_seqlens_k `:`
        type($cu_seqlens_q) `,` type($cu_seqlens_k) `)`)?
    (`descale` `(` $q_descale^ `,` $k_descale `,` $v_descale `:`
        type($q_descale) `,` type($k_descale) `,` type($v_descale) `)`)?
    (`block_mask` `(` $block_mask^ `:` type($block_mask) `)`
        `block_size` $block_size)?
    `outs` `(` $out (`,` $lse^)? `:` type($out) (`,` type($lse)^)? `)`
    (`mask` `` $mask^)?
    (`scale` `(` $scale^ `)`)?
    (`softcap` `(` $softcap^ `)`)?
    attr-dict-with-keyword
    (`score_mod` $score_mod^)?
    (`mask_mod` $mask_mod^)?
    (`->` type($results)^)?
  }];

  let hasVerifier = 1;
  let hasRegionVerifier = 1;

  let extraClassDeclaration = [{
    /// DestinationStyleOpInterface: `out` and, when present, `lse`.
    MutableOperandRange getDpsInitsMutable();

    /// The mask, `#attn.mask<none>` when the attribute is absent.
    MaskAttr getMaskOrDefault();
    /// The softmax scale: the `scale` attribute or 1/sqrt(D).
    double getEffectiveScale();
    /// The soft-cap, 0 when absent (off).
    double getEffectiveSoftcap();

    bool isVarlen() { return getCuSeqlensQ() != nullptr; }
    bool isFp8() { return getQDescale() != nullptr; }
    bool hasScoreMod() { return !getScoreMod().empty(); }
    bool hasMaskMod() { return !getMaskMod().empty(); }
    /// Block sparsity (valid after verify()): the partial blocks' counts and
    /// indices, the full blocks' (null when absent), the block size.
    bool hasBlockMask() { return !getBlockMask().empty(); }
    Value getKvNumBlocks() { return getBlockMask()[0]; }
    Value getKvIndices() { return getBlockMask()[1]; }
    Value getFullKvNumBlocks() {
      return getBlockMask().size() == 4 ? getBlockMask()[2] : Value();
    }
    Value getFullKvIndices() {
      return getBlockMask().size() == 4 ? getBlockMask()[3] : Value();
    }
    int64_t getBlockMaskRows() { return (*getBlockSize())[0]; }
    int64_t getBlockMaskCols() { return (*getBlockSize())[1]; }

    /// Static sizes; ShapedType::kDynamic when dynamic. Valid after verify().
    int64_t getHeadDim();
    int64_t getValueHeadDim();
    int64_t getNumQueryHeads();
    int64_t getNumKeyValueHeads();
  }];
}

//===----------------------------------------------------------------------===//
// AttentionGradOp
//===----------------------------------------------------------------------===//

def Attn_AttentionGradOp : Attn_Op<"attention_grad", [
    AttrSizedOperandSegments,
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>
  ]> {
  let summary = "The gradients dQ, dK, dV of attn.attention";
  let description = [{
    The backward of an `attn.attention` with the same attributes, operands
    and regions, given its inputs `query`, `key`, `value`, its outputs `out`
    and `lse`, and the gradient `dout` reaching `out` (and, optionally,
    `dlse` reaching `lse`; 0 when absent). With the forward's scores (its
    P = softmax(z) per row, z the masked, modified scores and x = scale·QKᵀ
    the scaled ones):

        D[i]    = sum_d dO[i, d] · O[i, d] − dLSE[i]
        dP      = dO · Vᵀ
        dz      = P ∘ (dP − D)          (P = 0 where the mask hides a key)
        dx      = dz ∘ ∂z/∂x            softcap: 1 − tanh²(x / softcap);
                                       score_mod: its derivative in the score
        dQ      = scale · dx · K        dK = scale · dxᵀ · Q   dV = Pᵀ · dO

    with K and V the query head's KV head (GQA: dK and dV sum over the
    query heads of the group). A row that sees no key (LSE = -inf)
    contributes nothing: its dQ row is 0; a key no query sees gets dK = dV = 0.

    `outs(%dq, %dk, %dv)` are shaped and typed like `query`, `key`, `value`.
    `workspace(%dq_acc, %delta)` is the f32 scratch the kernels need,
    allocated by the caller (FlashAttention-3's): `dq_acc` [B, Sq, Hq, D]
    accumulates dx · K over the KV blocks (zeroed first; it ends holding
    dQ / scale) and `delta` [B, Hq, Sq] holds D (written first, then read).
    Both are destinations too: on tensors the op returns dq, dk, dv, dq_acc
    and delta; on memrefs it writes them and returns nothing. Element types:
    f16, bf16, or f32 (the CPU reference path); no FP8 backward.

    ```mlir
    %dq, %dk, %dv, %acc, %d = attn.attention_grad
        ins(%q, %k, %v, %o, %do, %lse : tensor<2x1024x16x128xbf16>,
            tensor<2x1024x4x128xbf16>, tensor<2x1024x4x128xbf16>,
            tensor<2x1024x16x128xbf16>, tensor<2x1024x16x128xbf16>,
            tensor<2x16x1024xf32>)
        outs(%dq0, %dk0, %dv0 : tensor<2x1024x16x128xbf16>,
             tensor<2x1024x4x128xbf16>, tensor<2x1024x4x128xbf16>)
        workspace(%acc0, %d0 : tensor<2x1024x16x128xf32>, tensor<2x16x1024xf32>)
        mask<causal, bottom_right>
        -> tensor<2x1024x16x128xbf16>, tensor<2x1024x4x128xbf16>,
           tensor<2x1024x4x128xbf16>, tensor<2x1024x16x128xf32>,
           tensor<2x16x1024xf32>
    ```
  }];

  let arguments = (ins
    AnyType:$query,
    AnyType:$key,
    AnyType:$value,
    AnyType:$out,
    AnyType:$dout,
    AnyType:$lse,
    Optional<AnyType>:$dlse,
    Optional<AnyType>:$cu_seqlens_q,
    Optional<AnyType>:$cu_seqlens_k,
    Variadic<AnyType>:$block_mask,
    AnyType:$dq,
    AnyType:$dk,
    AnyType:$dv,
    AnyType:$dq_accum,
    AnyType:$delta,
    OptionalAttr<Attn_MaskAttr>:$mask,
    OptionalAttr<F32Attr>:$scale,
    OptionalAttr<F32Attr>:$softcap,
    OptionalAttr<DenseI64ArrayAttr>:$block_size
  );
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region MaxSizedRegion<1>:$score_mod,
                        MaxSizedRegion<1>:$mask_mod);

  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `,` $out `,` $dout `,` $lse `:`
        type($query) `,` type($key) `,` type($value) `,` type($out) `,`
        type($dout) `,` type($lse) `)`
    (`dlse` `(` $dlse^ `:` type($dlse) `)`)?
    (`cu_seqlens` `(` $cu_seqlens_q^ `,` $cu_seqlens_k `:`
        type($cu_seqlens_q) `,` type($cu_seqlens_k) `)`)?
    (`block_mask` `(` $block_mask^ `:` type($block_mask) `)`
        `block_size` $block_size)?
    `outs` `(` $dq `,` $dk `,` $dv `:` type($dq) `,` type($dk) `,` type($dv) `)`
    `workspace` `(` $dq_accum `,` $delta `:` type($dq_accum) `,` type($delta) `)`
    (`mask` `` $mask^)?
    (`scale` `(` $scale^ `)`)?
    (`softcap` `(` $softcap^ `)`)?
    attr-dict-with-keyword
    (`score_mod` $score_mod^)?
    (`mask_mod` $mask_mod^)?
    (`->` type($results)^)?
  }];

  let hasVerifier = 1;
  let hasRegionVerifier = 1;

  let extraClassDeclaration = [{
    /// DestinationStyleOpInterface: dq, dk, dv, dq_acc, delta (adjacent).
    MutableOperandRange getDpsInitsMutable();

    /// As attn.attention's.
    MaskAttr getMaskOrDefault();
    double getEffectiveScale();
    double getEffectiveSoftcap();
    bool isVarlen() { return getCuSeqlensQ() != nullptr; }
    bool hasScoreMod() { return !getScoreMod().empty(); }
    bool hasMaskMod() { return !getMaskMod().empty(); }
    bool hasBlockMask() { return !getBlockMask().empty(); }
    Value getKvNumBlocks() { return getBlockMask()[0]; }
    Value getKvIndices() { return getBlockMask()[1]; }
    Value getFullKvNumBlocks() {
      return getBlockMask().size() == 4 ? getBlockMask()[2] : Value();
    }
    Value getFullKvIndices() {
      return getBlockMask().size() == 4 ? getBlockMask()[3] : Value();
    }
    int64_t getBlockMaskRows() { return (*getBlockSize())[0]; }
    int64_t getBlockMaskCols() { return (*getBlockSize())[1]; }
    int64_t getHeadDim();
    int64_t getValueHeadDim();
  }];
}

//===----------------------------------------------------------------------===//
// YieldOp
//===----------------------------------------------------------------------===//

def Attn_YieldOp : Attn_Op<"yield", [
    Pure, Terminator,
    ParentOneOf<["AttentionOp", "AttentionGradOp", "BlockGradUpdateOp",
                 "BlockUpdateOp", "ConsumerTurnOp",
                 "ProgramGridOp", "TileMapOp", "TileMaskOp", "TileScoreModOp",
                 "WarpSpecializeOp"]>
  ]> {
  let summary = "Returns the value of a score_mod, mask_mod or tile_map body";
  let description = [{
    Terminates the `score_mod` region with the modified score (f32) (and a
    backward block's `score_mod_grad` with its derivative), the
    `mask_mod` region with the keep bit (i1), an `attn.tile_map` body with the
    element, an `attn.consumer_turn` with its results, and (without values)
    the bodies of a program grid and of the roles of attn.warp_specialize.

    ```mlir
    attn.yield %score : f32
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
  let builders = [OpBuilder<(ins), [{ (void)$_state; }]>];
}

include "attn/AttnTileOps.td"
include "attn/AttnWarpOps.td"

#endif // ATTN_OPS_TD
