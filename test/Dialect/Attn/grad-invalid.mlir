// RUN: attn-opt %s -split-input-file -verify-diagnostics

// Negative tests for attn.attention_grad: one split per diagnostic of
// AttentionGradOp::verify / verifyRegions (dialects/attn/AttnOps.cpp) — its
// own rules (no FP8; dout, lse, dlse, dq, dk, dv, dq_accum, delta; the
// results) and one split per rule it shares with attn.attention (whose every
// branch test/Dialect/Attn/invalid.mlir covers). Unless a split says
// otherwise the operands are the valid baseline
//   q, k, v, out, dout, dq, dk, dv: memref<1x16x4x64xf16>
//   lse, delta: memref<1x4x16xf32>   dq_accum: memref<1x16x4x64xf32>

// No FP8 backward.
func.func @f(%q: memref<1x16x4x64xf8E4M3FN>, %k: memref<1x16x4x64xf8E4M3FN>, %v: memref<1x16x4x64xf8E4M3FN>, %o: memref<1x16x4x64xf16>, %do: memref<1x16x4x64xf16>, %lse: memref<1x4x16xf32>, %dq: memref<1x16x4x64xf16>, %dk: memref<1x16x4x64xf16>, %dv: memref<1x16x4x64xf16>, %acc: memref<1x16x4x64xf32>, %d: memref<1x4x16xf32>) {
  // expected-error @+1 {{'query' element type must be f16, bf16 or f32 (there is no FP8 backward), got 'f8E4M3FN'}}
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x16x4x64xf8E4M3FN>, memref<1x16x4x64xf8E4M3FN>, memref<1x16x4x64xf8E4M3FN>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x4x16xf32>)
      outs(%dq, %dk, %dv : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      workspace(%acc, %d : memref<1x16x4x64xf32>, memref<1x4x16xf32>)
  return
}

// -----

// The shared q/k/v/out rules apply (here: out's head dim against v's).
func.func @f(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x32xf16>, %do: memref<1x16x4x64xf16>, %lse: memref<1x4x16xf32>, %dq: memref<1x16x4x64xf16>, %dk: memref<1x16x4x64xf16>, %dv: memref<1x16x4x64xf16>, %acc: memref<1x16x4x64xf32>, %d: memref<1x4x16xf32>) {
  // expected-error @+1 {{'out' head dim (dim 3 = 32) must match 'value' head dim Dv (64)}}
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x32xf16>, memref<1x16x4x64xf16>, memref<1x4x16xf32>)
      outs(%dq, %dk, %dv : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      workspace(%acc, %d : memref<1x16x4x64xf32>, memref<1x4x16xf32>)
  return
}

// -----

// 'dout' must be ranked like 'out'.
func.func @f(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %do: memref<16x4x64xf16>, %lse: memref<1x4x16xf32>, %dq: memref<1x16x4x64xf16>, %dk: memref<1x16x4x64xf16>, %dv: memref<1x16x4x64xf16>, %acc: memref<1x16x4x64xf32>, %d: memref<1x4x16xf32>) {
  // expected-error @+1 {{'dout' must have rank 4 [B, Sq, Hq, Dv], got rank 3}}
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<16x4x64xf16>, memref<1x4x16xf32>)
      outs(%dq, %dk, %dv : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      workspace(%acc, %d : memref<1x16x4x64xf32>, memref<1x4x16xf32>)
  return
}

// -----

// 'dout' holds the inputs' element type.
func.func @f(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %do: memref<1x16x4x64xbf16>, %lse: memref<1x4x16xf32>, %dq: memref<1x16x4x64xf16>, %dk: memref<1x16x4x64xf16>, %dv: memref<1x16x4x64xf16>, %acc: memref<1x16x4x64xf32>, %d: memref<1x4x16xf32>) {
  // expected-error @+1 {{'dout' element type must be 'f16', got 'bf16'}}
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xbf16>, memref<1x4x16xf32>)
      outs(%dq, %dk, %dv : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      workspace(%acc, %d : memref<1x16x4x64xf32>, memref<1x4x16xf32>)
  return
}

// -----

// 'dout' has the shape of 'out'.
func.func @f(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %do: memref<1x17x4x64xf16>, %lse: memref<1x4x16xf32>, %dq: memref<1x16x4x64xf16>, %dk: memref<1x16x4x64xf16>, %dv: memref<1x16x4x64xf16>, %acc: memref<1x16x4x64xf32>, %d: memref<1x4x16xf32>) {
  // expected-error @+1 {{'dout' must have the shape of 'out' [1, 16, 4, 64], got [1, 17, 4, 64]}}
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x17x4x64xf16>, memref<1x4x16xf32>)
      outs(%dq, %dk, %dv : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      workspace(%acc, %d : memref<1x16x4x64xf32>, memref<1x4x16xf32>)
  return
}

// -----

// 'lse' is [B, Hq, Sq] (the shared rule of attn.attention's lse).
func.func @f(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %do: memref<1x16x4x64xf16>, %lse: memref<1x4x17xf32>, %dq: memref<1x16x4x64xf16>, %dk: memref<1x16x4x64xf16>, %dv: memref<1x16x4x64xf16>, %acc: memref<1x16x4x64xf32>, %d: memref<1x4x16xf32>) {
  // expected-error @+1 {{'lse' sequence length (dim 2 = 17) must match 'query' sequence length Sq (16)}}
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x4x17xf32>)
      outs(%dq, %dk, %dv : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      workspace(%acc, %d : memref<1x16x4x64xf32>, memref<1x4x16xf32>)
  return
}

// -----

// 'dlse' too.
func.func @f(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %do: memref<1x16x4x64xf16>, %lse: memref<1x4x16xf32>, %dq: memref<1x16x4x64xf16>, %dk: memref<1x16x4x64xf16>, %dv: memref<1x16x4x64xf16>, %acc: memref<1x16x4x64xf32>, %d: memref<1x4x16xf32>, %dl: memref<1x4x16xf16>) {
  // expected-error @+1 {{'dlse' element type must be f32, got 'f16'}}
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x4x16xf32>)
      dlse(%dl : memref<1x4x16xf16>)
      outs(%dq, %dk, %dv : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      workspace(%acc, %d : memref<1x16x4x64xf32>, memref<1x4x16xf32>)
  return
}

// -----

// 'dq' has the shape of 'query'.
func.func @f(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %do: memref<1x16x4x64xf16>, %lse: memref<1x4x16xf32>, %dq: memref<1x16x2x64xf16>, %dk: memref<1x16x4x64xf16>, %dv: memref<1x16x4x64xf16>, %acc: memref<1x16x4x64xf32>, %d: memref<1x4x16xf32>) {
  // expected-error @+1 {{'dq' must have the shape of 'query' [1, 16, 4, 64], got [1, 16, 2, 64]}}
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x4x16xf32>)
      outs(%dq, %dk, %dv : memref<1x16x2x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      workspace(%acc, %d : memref<1x16x4x64xf32>, memref<1x4x16xf32>)
  return
}

// -----

// 'dk' holds the inputs' element type.
func.func @f(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %do: memref<1x16x4x64xf16>, %lse: memref<1x4x16xf32>, %dq: memref<1x16x4x64xf16>, %dk: memref<1x16x4x64xf32>, %dv: memref<1x16x4x64xf16>, %acc: memref<1x16x4x64xf32>, %d: memref<1x4x16xf32>) {
  // expected-error @+1 {{'dk' element type must be 'f16', got 'f32'}}
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x4x16xf32>)
      outs(%dq, %dk, %dv : memref<1x16x4x64xf16>, memref<1x16x4x64xf32>, memref<1x16x4x64xf16>)
      workspace(%acc, %d : memref<1x16x4x64xf32>, memref<1x4x16xf32>)
  return
}

// -----

// 'dv' is ranked like 'value'.
func.func @f(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %do: memref<1x16x4x64xf16>, %lse: memref<1x4x16xf32>, %dq: memref<1x16x4x64xf16>, %dk: memref<1x16x4x64xf16>, %dv: memref<*xf16>, %acc: memref<1x16x4x64xf32>, %d: memref<1x4x16xf32>) {
  // expected-error @+1 {{'dv' must be a ranked tensor or memref of rank 4 [B, Sk, Hkv, Dv], got 'memref<*xf16>'}}
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x4x16xf32>)
      outs(%dq, %dk, %dv : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<*xf16>)
      workspace(%acc, %d : memref<1x16x4x64xf32>, memref<1x4x16xf32>)
  return
}

// -----

// 'dq_accum' holds f32.
func.func @f(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %do: memref<1x16x4x64xf16>, %lse: memref<1x4x16xf32>, %dq: memref<1x16x4x64xf16>, %dk: memref<1x16x4x64xf16>, %dv: memref<1x16x4x64xf16>, %acc: memref<1x16x4x64xf16>, %d: memref<1x4x16xf32>) {
  // expected-error @+1 {{'dq_accum' element type must be 'f32', got 'f16'}}
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x4x16xf32>)
      outs(%dq, %dk, %dv : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      workspace(%acc, %d : memref<1x16x4x64xf16>, memref<1x4x16xf32>)
  return
}

// -----

// 'delta' is [B, Hq, Sq] in f32.
func.func @f(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %do: memref<1x16x4x64xf16>, %lse: memref<1x4x16xf32>, %dq: memref<1x16x4x64xf16>, %dk: memref<1x16x4x64xf16>, %dv: memref<1x16x4x64xf16>, %acc: memref<1x16x4x64xf32>, %d: memref<1x2x16xf32>) {
  // expected-error @+1 {{'delta' head count (dim 1 = 2) must match 'query' head count Hq (4)}}
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x4x16xf32>)
      outs(%dq, %dk, %dv : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      workspace(%acc, %d : memref<1x16x4x64xf32>, memref<1x2x16xf32>)
  return
}

// -----

// Varlen (the shared rule): sequences pack into batch 1.
func.func @f(%q: memref<2x16x4x64xf16>, %k: memref<2x16x4x64xf16>, %v: memref<2x16x4x64xf16>, %o: memref<2x16x4x64xf16>, %do: memref<2x16x4x64xf16>, %lse: memref<2x4x16xf32>, %dq: memref<2x16x4x64xf16>, %dk: memref<2x16x4x64xf16>, %dv: memref<2x16x4x64xf16>, %acc: memref<2x16x4x64xf32>, %d: memref<2x4x16xf32>, %cq: memref<3xi32>, %ck: memref<3xi32>) {
  // expected-error @+1 {{variable-length attention packs sequences into one batch: 'query' batch size must be 1, got 2}}
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<2x16x4x64xf16>, memref<2x16x4x64xf16>, memref<2x16x4x64xf16>, memref<2x16x4x64xf16>, memref<2x16x4x64xf16>, memref<2x4x16xf32>)
      cu_seqlens(%cq, %ck : memref<3xi32>, memref<3xi32>)
      outs(%dq, %dk, %dv : memref<2x16x4x64xf16>, memref<2x16x4x64xf16>, memref<2x16x4x64xf16>)
      workspace(%acc, %d : memref<2x16x4x64xf32>, memref<2x4x16xf32>)
  return
}

// -----

// Block masks (the shared rule): not with cu_seqlens.
func.func @f(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %do: memref<1x16x4x64xf16>, %lse: memref<1x4x16xf32>, %dq: memref<1x16x4x64xf16>, %dk: memref<1x16x4x64xf16>, %dv: memref<1x16x4x64xf16>, %acc: memref<1x16x4x64xf32>, %d: memref<1x4x16xf32>, %cq: memref<3xi32>, %ck: memref<3xi32>, %n: memref<1x1x1xi32>, %i: memref<1x1x1x1xi32>) {
  // expected-error @+1 {{'block_mask' does not apply to variable-length batches (cu_seqlens)}}
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x4x16xf32>)
      cu_seqlens(%cq, %ck : memref<3xi32>, memref<3xi32>)
      block_mask(%n, %i : memref<1x1x1xi32>, memref<1x1x1x1xi32>) block_size [16, 16]
      outs(%dq, %dk, %dv : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      workspace(%acc, %d : memref<1x16x4x64xf32>, memref<1x4x16xf32>)
  return
}

// -----

// Scalars (the shared rule).
func.func @f(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %do: memref<1x16x4x64xf16>, %lse: memref<1x4x16xf32>, %dq: memref<1x16x4x64xf16>, %dk: memref<1x16x4x64xf16>, %dv: memref<1x16x4x64xf16>, %acc: memref<1x16x4x64xf32>, %d: memref<1x4x16xf32>) {
  // expected-error @+1 {{'softcap' must be finite and >= 0 (0 = off), got -1.000000e+00}}
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x4x16xf32>)
      outs(%dq, %dk, %dv : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      workspace(%acc, %d : memref<1x16x4x64xf32>, memref<1x4x16xf32>) softcap(-1.0)
  return
}

// -----

// Memrefs: no results.
func.func @f(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %do: memref<1x16x4x64xf16>, %lse: memref<1x4x16xf32>, %dq: memref<1x16x4x64xf16>, %dk: memref<1x16x4x64xf16>, %dv: memref<1x16x4x64xf16>, %acc: memref<1x16x4x64xf32>, %d: memref<1x4x16xf32>) {
  // expected-error @+1 {{on memrefs the op writes 'dq'/'dk'/'dv' and the workspace in place and returns no results, got 1}}
  %r = attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x4x16xf32>)
      outs(%dq, %dk, %dv : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      workspace(%acc, %d : memref<1x16x4x64xf32>, memref<1x4x16xf32>) -> tensor<1x16x4x64xf16>
  return
}

// -----

// Tensors: one result per init, the workspace's included.
func.func @f(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>, %do: tensor<1x16x4x64xf16>, %lse: tensor<1x4x16xf32>, %dq: tensor<1x16x4x64xf16>, %dk: tensor<1x16x4x64xf16>, %dv: tensor<1x16x4x64xf16>, %acc: tensor<1x16x4x64xf32>, %d: tensor<1x4x16xf32>) {
  // expected-error @+1 {{on tensors the op returns one result per init in outs(...): expected 5, got 3}}
  %r:3 = attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x4x16xf32>)
      outs(%dq, %dk, %dv : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      workspace(%acc, %d : tensor<1x16x4x64xf32>, tensor<1x4x16xf32>) -> tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>
  return
}

// -----

// Tensors: each result typed as its init.
func.func @f(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>, %do: tensor<1x16x4x64xf16>, %lse: tensor<1x4x16xf32>, %dq: tensor<1x16x4x64xf16>, %dk: tensor<1x16x4x64xf16>, %dv: tensor<1x16x4x64xf16>, %acc: tensor<1x16x4x64xf32>, %d: tensor<1x4x16xf32>) {
  // expected-error @+1 {{result #4 type 'tensor<1x4x16xf16>' must match its init type 'tensor<1x4x16xf32>'}}
  %r:5 = attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x4x16xf32>)
      outs(%dq, %dk, %dv : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      workspace(%acc, %d : tensor<1x16x4x64xf32>, tensor<1x4x16xf32>) -> tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf32>, tensor<1x4x16xf16>
  return
}

// -----

// The modifier regions (the shared rule).
func.func @f(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %do: memref<1x16x4x64xf16>, %lse: memref<1x4x16xf32>, %dq: memref<1x16x4x64xf16>, %dk: memref<1x16x4x64xf16>, %dv: memref<1x16x4x64xf16>, %acc: memref<1x16x4x64xf32>, %d: memref<1x4x16xf32>) {
  // expected-error @+1 {{'score_mod' region must yield exactly one 'f32', got ('f16')}}
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x4x16xf32>)
      outs(%dq, %dk, %dv : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      workspace(%acc, %d : memref<1x16x4x64xf32>, memref<1x4x16xf32>)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %x = arith.truncf %s : f32 to f16
        attn.yield %x : f16
      }
  return
}
