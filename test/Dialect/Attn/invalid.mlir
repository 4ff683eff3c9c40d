// RUN: attn-opt %s -split-input-file -verify-diagnostics

// Negative tests for the attn dialect: one split per diagnostic of
// AttentionOp::verify / verifyRegions (dialects/attn/AttnOps.cpp) and of
// MaskAttr::parse / MaskAttr::verify (dialects/attn/AttnAttrs.cpp).
// Unless a split says otherwise, shapes are the valid baseline
//   query/key/value/out: tensor<1x16x4x64xf16>   lse: tensor<1x4x16xf32>
// and each split breaks exactly one rule (where a rule implies another, e.g.
// an invalid 'key' head dim also differs from the 'query' one, the split
// expects the diagnostic of the check that runs first).
//
// Branches that textual IR cannot reach (not tested here):
//  * verifyModifierRegion, "region must end in 'attn.yield'" for an *empty*
//    block: the core verifier rejects an empty block ("empty block: expect at
//    least a terminator") before verifyRegions runs; see
//    @score_mod_empty_block. The non-empty case is tested.
//  * MaskAttr::verify, "mask 'none' must have the window [-1, -1]", "mask
//    'causal' must have the window [-1, 0]" and the trailing "unknown mask
//    kind": MaskAttr::parse always builds the canonical window for none and
//    causal and only known kinds, so these are reachable only from C++
//    (MaskAttr::getChecked): test/Unit/MaskAttrTest.cpp covers them.

// 'query' must be a ranked tensor or memref (here: a scalar).
func.func @query_not_shaped(%q: f16, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'query' must be a ranked tensor or memref of rank 4 [B, Sq, Hq, D], got 'f16'}}
  %r = attn.attention ins(%q, %k, %v : f16, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'key' must be ranked (here: an unranked tensor).
func.func @key_unranked(%q: tensor<1x16x4x64xf16>, %k: tensor<*xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'key' must be a ranked tensor or memref of rank 4 [B, Sk, Hkv, D], got 'tensor<*xf16>'}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<*xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'value' must be a tensor or memref (here: a vector).
func.func @value_vector(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: vector<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'value' must be a ranked tensor or memref of rank 4 [B, Sk, Hkv, Dv], got 'vector<1x16x4x64xf16>'}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, vector<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'out' must be ranked (here: an unranked memref, all-memref op).
func.func @out_unranked_memref(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<*xf16>) {
  // expected-error @+1 {{'out' must be a ranked tensor or memref of rank 4 [B, Sq, Hq, Dv], got 'memref<*xf16>'}}
  attn.attention ins(%q, %k, %v : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      outs(%o : memref<*xf16>)
  return
}

// -----

// 'lse' must be a ranked tensor or memref (here: a scalar).
func.func @lse_not_shaped(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>, %l: f32) {
  // expected-error @+1 {{'lse' must be a ranked tensor or memref of rank 3 [B, Hq, Sq], got 'f32'}}
  %r:2 = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o, %l : tensor<1x16x4x64xf16>, f32)
      -> tensor<1x16x4x64xf16>, tensor<1x4x16xf32>
  return
}

// -----

// 'cu_seqlens_q' must be a ranked tensor or memref.
func.func @cu_seqlens_q_not_shaped(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %cq: i32, %ck: tensor<2xi32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'cu_seqlens_q' must be a ranked tensor or memref of rank 1 [N + 1], got 'i32'}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      cu_seqlens(%cq, %ck : i32, tensor<2xi32>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'cu_seqlens_k' must be ranked.
func.func @cu_seqlens_k_unranked(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %cq: tensor<2xi32>, %ck: tensor<*xi32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'cu_seqlens_k' must be a ranked tensor or memref of rank 1 [N + 1], got 'tensor<*xi32>'}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      cu_seqlens(%cq, %ck : tensor<2xi32>, tensor<*xi32>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'q_descale' must be a ranked tensor or memref.
func.func @q_descale_not_shaped(%q: tensor<1x16x4x64xf8E4M3FN>, %k: tensor<1x16x4x64xf8E4M3FN>, %v: tensor<1x16x4x64xf8E4M3FN>, %dq: f32, %dk: tensor<1x4xf32>, %dv: tensor<1x4xf32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'q_descale' must be a ranked tensor or memref of rank 2 [B, Hkv], got 'f32'}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf8E4M3FN>, tensor<1x16x4x64xf8E4M3FN>, tensor<1x16x4x64xf8E4M3FN>)
      descale(%dq, %dk, %dv : f32, tensor<1x4xf32>, tensor<1x4xf32>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'query' must have rank 4.
func.func @query_rank(%q: tensor<16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'query' must have rank 4 [B, Sq, Hq, D], got rank 3}}
  %r = attn.attention ins(%q, %k, %v : tensor<16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'key' must have rank 4.
func.func @key_rank(%q: tensor<1x16x4x64xf16>, %k: tensor<1x1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'key' must have rank 4 [B, Sk, Hkv, D], got rank 5}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'value' must have rank 4.
func.func @value_rank(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'value' must have rank 4 [B, Sk, Hkv, Dv], got rank 3}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'out' must have rank 4.
func.func @out_rank(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<16x4x64xf16>) {
  // expected-error @+1 {{'out' must have rank 4 [B, Sq, Hq, Dv], got rank 3}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<16x4x64xf16>)
      -> tensor<16x4x64xf16>
  return
}

// -----

// 'lse' must have rank 3.
func.func @lse_rank(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>, %l: tensor<4x16xf32>) {
  // expected-error @+1 {{'lse' must have rank 3 [B, Hq, Sq], got rank 2}}
  %r:2 = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o, %l : tensor<1x16x4x64xf16>, tensor<4x16xf32>)
      -> tensor<1x16x4x64xf16>, tensor<4x16xf32>
  return
}

// -----

// 'cu_seqlens_q' must have rank 1.
func.func @cu_seqlens_q_rank(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %cq: tensor<1x2xi32>, %ck: tensor<2xi32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'cu_seqlens_q' must have rank 1 [N + 1], got rank 2}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      cu_seqlens(%cq, %ck : tensor<1x2xi32>, tensor<2xi32>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'cu_seqlens_k' must have rank 1 (here: rank 0).
func.func @cu_seqlens_k_rank(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %cq: tensor<2xi32>, %ck: tensor<i32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'cu_seqlens_k' must have rank 1 [N + 1], got rank 0}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      cu_seqlens(%cq, %ck : tensor<2xi32>, tensor<i32>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'k_descale' must have rank 2.
func.func @k_descale_rank(%q: tensor<1x16x4x64xf8E4M3FN>, %k: tensor<1x16x4x64xf8E4M3FN>, %v: tensor<1x16x4x64xf8E4M3FN>, %dq: tensor<1x4xf32>, %dk: tensor<4xf32>, %dv: tensor<1x4xf32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'k_descale' must have rank 2 [B, Hkv], got rank 1}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf8E4M3FN>, tensor<1x16x4x64xf8E4M3FN>, tensor<1x16x4x64xf8E4M3FN>)
      descale(%dq, %dk, %dv : tensor<1x4xf32>, tensor<4xf32>, tensor<1x4xf32>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Operands must be all tensors or all memrefs: memref 'key', tensor 'query'.
func.func @key_memref_query_tensor(%q: tensor<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'key' is a memref but 'query' is a tensor; operands must be all tensors or all memrefs}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, memref<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Operands must be all tensors or all memrefs: tensor 'value', memref 'query'.
func.func @value_tensor_query_memref(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>) {
  // expected-error @+1 {{'value' is a tensor but 'query' is a memref; operands must be all tensors or all memrefs}}
  attn.attention ins(%q, %k, %v : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : memref<1x16x4x64xf16>)
  return
}

// -----

// Operands must be all tensors or all memrefs: memref 'out'.
func.func @out_memref_query_tensor(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>) {
  // expected-error @+1 {{'out' is a memref but 'query' is a tensor; operands must be all tensors or all memrefs}}
  attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : memref<1x16x4x64xf16>)
  return
}

// -----

// Operands must be all tensors or all memrefs: tensor 'lse' on memrefs.
func.func @lse_tensor_query_memref(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %l: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'lse' is a tensor but 'query' is a memref; operands must be all tensors or all memrefs}}
  %r = attn.attention ins(%q, %k, %v : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      outs(%o, %l : memref<1x16x4x64xf16>, tensor<1x4x16xf32>)
      -> tensor<1x4x16xf32>
  return
}

// -----

// Operands must be all tensors or all memrefs: memref 'cu_seqlens_q'.
func.func @cu_seqlens_memref_query_tensor(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %cq: memref<2xi32>, %ck: tensor<2xi32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'cu_seqlens_q' is a memref but 'query' is a tensor; operands must be all tensors or all memrefs}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      cu_seqlens(%cq, %ck : memref<2xi32>, tensor<2xi32>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Operands must be all tensors or all memrefs: tensor 'v_descale' on memrefs.
func.func @descale_tensor_query_memref(%q: memref<1x16x4x64xf8E4M3FN>, %k: memref<1x16x4x64xf8E4M3FN>, %v: memref<1x16x4x64xf8E4M3FN>, %dq: memref<1x4xf32>, %dk: memref<1x4xf32>, %dv: tensor<1x4xf32>, %o: memref<1x16x4x64xf16>) {
  // expected-error @+1 {{'v_descale' is a tensor but 'query' is a memref; operands must be all tensors or all memrefs}}
  attn.attention ins(%q, %k, %v : memref<1x16x4x64xf8E4M3FN>, memref<1x16x4x64xf8E4M3FN>, memref<1x16x4x64xf8E4M3FN>)
      descale(%dq, %dk, %dv : memref<1x4xf32>, memref<1x4xf32>, tensor<1x4xf32>)
      outs(%o : memref<1x16x4x64xf16>)
  return
}

// -----

// 'query' element type must be f16, bf16, f8E4M3FN or f32.
func.func @query_element_type(%q: tensor<1x16x4x64xf64>, %k: tensor<1x16x4x64xf64>, %v: tensor<1x16x4x64xf64>, %o: tensor<1x16x4x64xf64>) {
  // expected-error @+1 {{'query' element type must be f16, bf16, f8E4M3FN or f32, got 'f64'}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf64>, tensor<1x16x4x64xf64>, tensor<1x16x4x64xf64>)
      outs(%o : tensor<1x16x4x64xf64>)
      -> tensor<1x16x4x64xf64>
  return
}

// -----

// 'query' element type must be a supported float (here: i8).
func.func @query_element_type_int(%q: tensor<1x16x4x64xi8>, %k: tensor<1x16x4x64xi8>, %v: tensor<1x16x4x64xi8>, %o: tensor<1x16x4x64xi8>) {
  // expected-error @+1 {{'query' element type must be f16, bf16, f8E4M3FN or f32, got 'i8'}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xi8>, tensor<1x16x4x64xi8>, tensor<1x16x4x64xi8>)
      outs(%o : tensor<1x16x4x64xi8>)
      -> tensor<1x16x4x64xi8>
  return
}

// -----

// 'key' element type must match 'query'.
func.func @key_element_type(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xbf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'key' element type ('bf16') must match 'query' element type ('f16')}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xbf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'value' element type must match 'query'.
func.func @value_element_type(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'value' element type ('f32') must match 'query' element type ('f16')}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf32>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'out' must be f16 or bf16 for f8E4M3FN inputs.
func.func @out_element_type_fp8(%q: tensor<1x16x4x64xf8E4M3FN>, %k: tensor<1x16x4x64xf8E4M3FN>, %v: tensor<1x16x4x64xf8E4M3FN>, %dq: tensor<1x4xf32>, %dk: tensor<1x4xf32>, %dv: tensor<1x4xf32>, %o: tensor<1x16x4x64xf32>) {
  // expected-error @+1 {{'out' element type must be f16 or bf16 for f8E4M3FN inputs, got 'f32'}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf8E4M3FN>, tensor<1x16x4x64xf8E4M3FN>, tensor<1x16x4x64xf8E4M3FN>)
      descale(%dq, %dk, %dv : tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>)
      outs(%o : tensor<1x16x4x64xf32>)
      -> tensor<1x16x4x64xf32>
  return
}

// -----

// 'out' may not be f8E4M3FN for f8E4M3FN inputs.
func.func @out_element_type_fp8_itself(%q: tensor<1x16x4x64xf8E4M3FN>, %k: tensor<1x16x4x64xf8E4M3FN>, %v: tensor<1x16x4x64xf8E4M3FN>, %dq: tensor<1x4xf32>, %dk: tensor<1x4xf32>, %dv: tensor<1x4xf32>, %o: tensor<1x16x4x64xf8E4M3FN>) {
  // expected-error @+1 {{'out' element type must be f16 or bf16 for f8E4M3FN inputs, got 'f8E4M3FN'}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf8E4M3FN>, tensor<1x16x4x64xf8E4M3FN>, tensor<1x16x4x64xf8E4M3FN>)
      descale(%dq, %dk, %dv : tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>)
      outs(%o : tensor<1x16x4x64xf8E4M3FN>)
      -> tensor<1x16x4x64xf8E4M3FN>
  return
}

// -----

// 'out' element type must match 'query' for non-fp8 inputs.
func.func @out_element_type(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xbf16>) {
  // expected-error @+1 {{'out' element type ('bf16') must match 'query' element type ('f16')}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xbf16>)
      -> tensor<1x16x4x64xbf16>
  return
}

// -----

// Head dim D of 'query' must be static.
func.func @query_head_dim_dynamic(%q: tensor<1x16x4x?xf16>, %k: tensor<1x16x4x?xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'query' head dim D (dim 3) must be static}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x?xf16>, tensor<1x16x4x?xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Head dim D must be a multiple of 8.
func.func @query_head_dim_not_multiple_of_8(%q: tensor<1x16x4x60xf16>, %k: tensor<1x16x4x60xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'query' head dim D = 60 must be a multiple of 8 in [8, 256]}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x60xf16>, tensor<1x16x4x60xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Head dim D must be at most 256.
func.func @query_head_dim_too_large(%q: tensor<1x16x4x264xf16>, %k: tensor<1x16x4x264xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'query' head dim D = 264 must be a multiple of 8 in [8, 256]}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x264xf16>, tensor<1x16x4x264xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Head dim D must be at least 8 (here: 0).
func.func @query_head_dim_zero(%q: tensor<1x16x4x0xf16>, %k: tensor<1x16x4x0xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'query' head dim D = 0 must be a multiple of 8 in [8, 256]}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x0xf16>, tensor<1x16x4x0xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Head dim D of 'key' must be static.
func.func @key_head_dim_dynamic(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x?xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'key' head dim D (dim 3) must be static}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x?xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Head dim D of 'key' must be a multiple of 8 in [8, 256].
func.func @key_head_dim_invalid(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x4xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'key' head dim D = 4 must be a multiple of 8 in [8, 256]}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x4xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Head dim Dv of 'value' must be static.
func.func @value_head_dim_dynamic(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x?xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'value' head dim Dv (dim 3) must be static}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x?xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Head dim Dv of 'value' must be a multiple of 8 in [8, 256].
func.func @value_head_dim_invalid(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x512xf16>, %o: tensor<1x16x4x512xf16>) {
  // expected-error @+1 {{'value' head dim Dv = 512 must be a multiple of 8 in [8, 256]}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x512xf16>)
      outs(%o : tensor<1x16x4x512xf16>)
      -> tensor<1x16x4x512xf16>
  return
}

// -----

// 'key' head dim D must equal 'query' head dim D.
func.func @key_head_dim_mismatch(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x32xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'key' head dim D (32) must match 'query' head dim D (64)}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x32xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'key' batch size must match 'query'.
func.func @key_batch(%q: tensor<1x16x4x64xf16>, %k: tensor<2x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'key' batch size (dim 0 = 2) must match 'query' batch size (1)}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<2x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'value' batch size must match 'query'.
func.func @value_batch(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<2x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'value' batch size (dim 0 = 2) must match 'query' batch size (1)}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<2x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'value' sequence length must match 'key' Sk.
func.func @value_seq_len(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x8x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'value' sequence length (dim 1 = 8) must match 'key' sequence length Sk (16)}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x8x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'value' head count must match 'key' Hkv.
func.func @value_heads(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x2x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'value' head count (dim 2 = 2) must match 'key' head count Hkv (4)}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x2x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Dynamic sizes are compatible with anything; the static mismatch (Sk 16 vs 8) is still caught.
func.func @dynamic_dims_skip_checks(%q: tensor<?x?x?x64xf16>, %k: tensor<?x16x?x64xf16>, %v: tensor<?x8x?x64xf16>, %o: tensor<?x?x?x64xf16>) {
  // expected-error @+1 {{'value' sequence length (dim 1 = 8) must match 'key' sequence length Sk (16)}}
  %r = attn.attention ins(%q, %k, %v : tensor<?x?x?x64xf16>, tensor<?x16x?x64xf16>, tensor<?x8x?x64xf16>)
      outs(%o : tensor<?x?x?x64xf16>)
      -> tensor<?x?x?x64xf16>
  return
}

// -----

// 'key' must have at least one head.
func.func @zero_kv_heads(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x0x64xf16>, %v: tensor<1x16x0x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'key' must have at least one head (Hkv = 0)}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x0x64xf16>, tensor<1x16x0x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Hq must be a multiple of Hkv.
func.func @gqa_divisibility(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x3x64xf16>, %v: tensor<1x16x3x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'query' head count Hq (4) must be a multiple of 'key' head count Hkv (3) for grouped-query attention}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x3x64xf16>, tensor<1x16x3x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'out' batch size must match 'query'.
func.func @out_batch(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<2x16x4x64xf16>) {
  // expected-error @+1 {{'out' batch size (dim 0 = 2) must match 'query' batch size (1)}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<2x16x4x64xf16>)
      -> tensor<2x16x4x64xf16>
  return
}

// -----

// 'out' sequence length must match 'query' Sq.
func.func @out_seq_len(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x8x4x64xf16>) {
  // expected-error @+1 {{'out' sequence length (dim 1 = 8) must match 'query' sequence length Sq (16)}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x8x4x64xf16>)
      -> tensor<1x8x4x64xf16>
  return
}

// -----

// 'out' head count must match 'query' Hq.
func.func @out_heads(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x8x64xf16>) {
  // expected-error @+1 {{'out' head count (dim 2 = 8) must match 'query' head count Hq (4)}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x8x64xf16>)
      -> tensor<1x16x8x64xf16>
  return
}

// -----

// 'out' head dim must match 'value' Dv.
func.func @out_head_dim(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x128xf16>, %o: tensor<1x16x4x32xf16>) {
  // expected-error @+1 {{'out' head dim (dim 3 = 32) must match 'value' head dim Dv (128)}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x128xf16>)
      outs(%o : tensor<1x16x4x32xf16>)
      -> tensor<1x16x4x32xf16>
  return
}

// -----

// 'lse' element type must be f32.
func.func @lse_element_type(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>, %l: tensor<1x4x16xf16>) {
  // expected-error @+1 {{'lse' element type must be f32, got 'f16'}}
  %r:2 = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o, %l : tensor<1x16x4x64xf16>, tensor<1x4x16xf16>)
      -> tensor<1x16x4x64xf16>, tensor<1x4x16xf16>
  return
}

// -----

// 'lse' batch size must match 'query'.
func.func @lse_batch(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>, %l: tensor<2x4x16xf32>) {
  // expected-error @+1 {{'lse' batch size (dim 0 = 2) must match 'query' batch size (1)}}
  %r:2 = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o, %l : tensor<1x16x4x64xf16>, tensor<2x4x16xf32>)
      -> tensor<1x16x4x64xf16>, tensor<2x4x16xf32>
  return
}

// -----

// 'lse' head count (dim 1) must match 'query' Hq.
func.func @lse_heads(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>, %l: tensor<1x16x4xf32>) {
  // expected-error @+1 {{'lse' head count (dim 1 = 16) must match 'query' head count Hq (4)}}
  %r:2 = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o, %l : tensor<1x16x4x64xf16>, tensor<1x16x4xf32>)
      -> tensor<1x16x4x64xf16>, tensor<1x16x4xf32>
  return
}

// -----

// 'lse' sequence length (dim 2) must match 'query' Sq.
func.func @lse_seq_len(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>, %l: tensor<1x4x8xf32>) {
  // expected-error @+1 {{'lse' sequence length (dim 2 = 8) must match 'query' sequence length Sq (16)}}
  %r:2 = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o, %l : tensor<1x16x4x64xf16>, tensor<1x4x8xf32>)
      -> tensor<1x16x4x64xf16>, tensor<1x4x8xf32>
  return
}

// -----

// 'cu_seqlens_q' without 'cu_seqlens_k' (not expressible in the custom
// format: generic form).
func.func @cu_seqlens_q_only(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %cq: tensor<2xi32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'cu_seqlens_q' and 'cu_seqlens_k' must be given together}}
  %r = "attn.attention"(%q, %k, %v, %cq, %o) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0>}> ({
  }, {
  }) : (tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<2xi32>, tensor<1x16x4x64xf16>) -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'cu_seqlens_k' without 'cu_seqlens_q' (generic form).
func.func @cu_seqlens_k_only(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %ck: tensor<2xi32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'cu_seqlens_q' and 'cu_seqlens_k' must be given together}}
  %r = "attn.attention"(%q, %k, %v, %ck, %o) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0, 0, 0, 1, 0>}> ({
  }, {
  }) : (tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<2xi32>, tensor<1x16x4x64xf16>) -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'cu_seqlens_q' element type must be i32.
func.func @cu_seqlens_q_element_type(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %cq: tensor<2xi64>, %ck: tensor<2xi32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'cu_seqlens_q' element type must be i32, got 'i64'}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      cu_seqlens(%cq, %ck : tensor<2xi64>, tensor<2xi32>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'cu_seqlens_k' element type must be i32 (signless).
func.func @cu_seqlens_k_element_type(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %cq: tensor<2xi32>, %ck: tensor<2xui32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'cu_seqlens_k' element type must be i32, got 'ui32'}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      cu_seqlens(%cq, %ck : tensor<2xi32>, tensor<2xui32>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'cu_seqlens_q' must hold at least two offsets.
func.func @cu_seqlens_q_too_short(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %cq: tensor<1xi32>, %ck: tensor<2xi32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'cu_seqlens_q' must hold N + 1 >= 2 offsets (at least one sequence), got 1}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      cu_seqlens(%cq, %ck : tensor<1xi32>, tensor<2xi32>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'cu_seqlens_k' must hold at least two offsets (here: none).
func.func @cu_seqlens_k_too_short(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %cq: tensor<2xi32>, %ck: tensor<0xi32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'cu_seqlens_k' must hold N + 1 >= 2 offsets (at least one sequence), got 0}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      cu_seqlens(%cq, %ck : tensor<2xi32>, tensor<0xi32>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'cu_seqlens_q' and 'cu_seqlens_k' must have the same length.
func.func @cu_seqlens_length_mismatch(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %cq: tensor<3xi32>, %ck: tensor<4xi32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'cu_seqlens_q' (3 offsets) and 'cu_seqlens_k' (4 offsets) must describe the same number of sequences}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      cu_seqlens(%cq, %ck : tensor<3xi32>, tensor<4xi32>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Variable-length attention requires batch size 1.
func.func @varlen_batch(%q: tensor<2x16x4x64xf16>, %k: tensor<2x16x4x64xf16>, %v: tensor<2x16x4x64xf16>, %cq: tensor<2xi32>, %ck: tensor<2xi32>, %o: tensor<2x16x4x64xf16>) {
  // expected-error @+1 {{variable-length attention packs sequences into one batch: 'query' batch size must be 1, got 2}}
  %r = attn.attention ins(%q, %k, %v : tensor<2x16x4x64xf16>, tensor<2x16x4x64xf16>, tensor<2x16x4x64xf16>)
      cu_seqlens(%cq, %ck : tensor<2xi32>, tensor<2xi32>)
      outs(%o : tensor<2x16x4x64xf16>)
      -> tensor<2x16x4x64xf16>
  return
}

// -----

// 'q_descale', 'k_descale' and 'v_descale' must be given together (generic
// form: the custom format cannot express a partial set).
func.func @descale_partial(%q: tensor<1x16x4x64xf8E4M3FN>, %k: tensor<1x16x4x64xf8E4M3FN>, %v: tensor<1x16x4x64xf8E4M3FN>, %dq: tensor<1x4xf32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'q_descale', 'k_descale' and 'v_descale' must be given together}}
  %r = "attn.attention"(%q, %k, %v, %dq, %o) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 1, 0, 0, 0, 1, 0>}> ({
  }, {
  }) : (tensor<1x16x4x64xf8E4M3FN>, tensor<1x16x4x64xf8E4M3FN>, tensor<1x16x4x64xf8E4M3FN>, tensor<1x4xf32>, tensor<1x16x4x64xf16>) -> tensor<1x16x4x64xf16>
  return
}

// -----

// Descales given together partially also fails on non-fp8 inputs, with the
// same diagnostic (checked before the fp8 rule). Generic form.
func.func @descale_partial_f16(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %dk: tensor<1x4xf32>, %dv: tensor<1x4xf32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'q_descale', 'k_descale' and 'v_descale' must be given together}}
  %r = "attn.attention"(%q, %k, %v, %dk, %dv, %o) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0>}> ({
  }, {
  }) : (tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x16x4x64xf16>) -> tensor<1x16x4x64xf16>
  return
}

// -----

// f8E4M3FN inputs require descales.
func.func @fp8_without_descales(%q: tensor<1x16x4x64xf8E4M3FN>, %k: tensor<1x16x4x64xf8E4M3FN>, %v: tensor<1x16x4x64xf8E4M3FN>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{f8E4M3FN inputs require 'q_descale', 'k_descale' and 'v_descale'}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf8E4M3FN>, tensor<1x16x4x64xf8E4M3FN>, tensor<1x16x4x64xf8E4M3FN>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Descales apply only to f8E4M3FN inputs.
func.func @descales_on_f16(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %dq: tensor<1x4xf32>, %dk: tensor<1x4xf32>, %dv: tensor<1x4xf32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{descales apply only to f8E4M3FN inputs, got 'f16'}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      descale(%dq, %dk, %dv : tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Descales must be f32.
func.func @descale_element_type(%q: tensor<1x16x4x64xf8E4M3FN>, %k: tensor<1x16x4x64xf8E4M3FN>, %v: tensor<1x16x4x64xf8E4M3FN>, %dq: tensor<1x4xf32>, %dk: tensor<1x4xf16>, %dv: tensor<1x4xf32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'k_descale' element type must be f32, got 'f16'}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf8E4M3FN>, tensor<1x16x4x64xf8E4M3FN>, tensor<1x16x4x64xf8E4M3FN>)
      descale(%dq, %dk, %dv : tensor<1x4xf32>, tensor<1x4xf16>, tensor<1x4xf32>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Descale dim 0 must be the batch size.
func.func @descale_batch(%q: tensor<1x16x4x64xf8E4M3FN>, %k: tensor<1x16x4x64xf8E4M3FN>, %v: tensor<1x16x4x64xf8E4M3FN>, %dq: tensor<1x4xf32>, %dk: tensor<1x4xf32>, %dv: tensor<2x4xf32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'v_descale' batch size (dim 0 = 2) must match 'query' batch size (1)}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf8E4M3FN>, tensor<1x16x4x64xf8E4M3FN>, tensor<1x16x4x64xf8E4M3FN>)
      descale(%dq, %dk, %dv : tensor<1x4xf32>, tensor<1x4xf32>, tensor<2x4xf32>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Descale dim 1 must be the KV head count Hkv.
func.func @descale_heads(%q: tensor<1x16x4x64xf8E4M3FN>, %k: tensor<1x16x2x64xf8E4M3FN>, %v: tensor<1x16x2x64xf8E4M3FN>, %dq: tensor<1x8xf32>, %dk: tensor<1x2xf32>, %dv: tensor<1x2xf32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'q_descale' head count (dim 1 = 8) must match 'key' head count Hkv (2)}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf8E4M3FN>, tensor<1x16x2x64xf8E4M3FN>, tensor<1x16x2x64xf8E4M3FN>)
      descale(%dq, %dk, %dv : tensor<1x8xf32>, tensor<1x2xf32>, tensor<1x2xf32>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// With cu_seqlens, descale dim 0 is the number of sequences N (cu_seqlens length - 1), not B.
func.func @descale_varlen_sequences(%q: tensor<1x16x4x64xf8E4M3FN>, %k: tensor<1x16x4x64xf8E4M3FN>, %v: tensor<1x16x4x64xf8E4M3FN>, %cq: tensor<3xi32>, %ck: tensor<3xi32>, %dq: tensor<1x4xf32>, %dk: tensor<2x4xf32>, %dv: tensor<2x4xf32>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'q_descale' sequence count (dim 0 = 1) must match the number of sequences in 'cu_seqlens_q' (2)}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf8E4M3FN>, tensor<1x16x4x64xf8E4M3FN>, tensor<1x16x4x64xf8E4M3FN>)
      cu_seqlens(%cq, %ck : tensor<3xi32>, tensor<3xi32>)
      descale(%dq, %dk, %dv : tensor<1x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'scale' must be > 0.
func.func @scale_zero(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'scale' must be finite and > 0, got 0.000000e+00}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>) scale(0.0)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'scale' must be > 0 (here: negative).
func.func @scale_negative(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'scale' must be finite and > 0, got -1.250000e-01}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>) scale(-0.125)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'scale' must be finite.
func.func @scale_inf(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'scale' must be finite and > 0, got inf}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>) scale(0x7F800000)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'softcap' must be >= 0.
func.func @softcap_negative(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'softcap' must be finite and >= 0 (0 = off), got -3.000000e+01}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>) softcap(-30.0)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'softcap' must be finite (here: NaN).
func.func @softcap_nan(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'softcap' must be finite and >= 0 (0 = off), got nan}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>) softcap(0x7FC00000)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// On memrefs the op returns no results.
func.func @memref_results(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>) {
  // expected-error @+1 {{on memrefs the op writes 'out'/'lse' in place and returns no results, got 1}}
  %r = attn.attention ins(%q, %k, %v : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      outs(%o : memref<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// On tensors the op returns one result per init (here: none).
func.func @tensor_missing_result(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{on tensors the op returns one result per init in outs(...): expected 1, got 0}}
  attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
  return
}

// -----

// On tensors the op returns one result per init (here: no lse result).
func.func @tensor_missing_lse_result(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>, %l: tensor<1x4x16xf32>) {
  // expected-error @+1 {{on tensors the op returns one result per init in outs(...): expected 2, got 1}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o, %l : tensor<1x16x4x64xf16>, tensor<1x4x16xf32>)
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// On tensors the op returns one result per init (here: one too many).
func.func @tensor_extra_result(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{on tensors the op returns one result per init in outs(...): expected 1, got 2}}
  %r:2 = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xf16>, tensor<1x4x16xf32>
  return
}

// -----

// Result #0 type must equal the 'out' init type.
func.func @out_result_type(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{result #0 type 'tensor<1x16x4x64xbf16>' must match its init type 'tensor<1x16x4x64xf16>'}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      -> tensor<1x16x4x64xbf16>
  return
}

// -----

// Result #1 type must equal the 'lse' init type.
func.func @lse_result_type(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>, %l: tensor<1x4x16xf32>) {
  // expected-error @+1 {{result #1 type 'tensor<1x4x?xf32>' must match its init type 'tensor<1x4x16xf32>'}}
  %r:2 = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o, %l : tensor<1x16x4x64xf16>, tensor<1x4x16xf32>)
      -> tensor<1x16x4x64xf16>, tensor<1x4x?xf32>
  return
}

// -----

// 'score_mod' must take (f32, index, index, index, index) (here: the mask_mod signature).
func.func @score_mod_arg_count(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'score_mod' region must take (score: f32, b: index, h: index, q_idx: index, kv_idx: index), got ('index', 'index', 'index', 'index')}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      score_mod {
      ^bb0(%b: index, %h: index, %i: index, %j: index):
        %c = arith.constant 0.0 : f32
        attn.yield %c : f32
      } -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'score_mod' arguments must have the right types (here: an f16 score).
func.func @score_mod_arg_type(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'score_mod' region must take (score: f32, b: index, h: index, q_idx: index, kv_idx: index), got ('f16', 'index', 'index', 'index', 'index')}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      score_mod {
      ^bb0(%s: f16, %b: index, %h: index, %i: index, %j: index):
        %c = arith.constant 0.0 : f32
        attn.yield %c : f32
      } -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'mask_mod' must take (index, index, index, index) (here: the score_mod signature).
func.func @mask_mod_arg_count(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'mask_mod' region must take (b: index, h: index, q_idx: index, kv_idx: index), got ('f32', 'index', 'index', 'index', 'index')}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      mask_mod {
      ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
        %c = arith.constant true
        attn.yield %c : i1
      } -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'mask_mod' arguments must be index (here: i64).
func.func @mask_mod_arg_type(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'mask_mod' region must take (b: index, h: index, q_idx: index, kv_idx: index), got ('index', 'index', 'i64', 'index')}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      mask_mod {
      ^bb0(%b: index, %h: index, %i: i64, %j: index):
        %c = arith.constant true
        attn.yield %c : i1
      } -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'score_mod' must end in attn.yield. A non-terminator last op is rejected by
// the core verifier ('block with no terminator') first, so use another
// terminator that is legal in any parent: llvm.unreachable.
func.func @score_mod_terminator(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'score_mod' region must end in 'attn.yield'}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
        llvm.unreachable
      } -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'mask_mod' must end in attn.yield (here: gpu.yield, a terminator with no parent constraint).
func.func @mask_mod_terminator(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'mask_mod' region must end in 'attn.yield'}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      mask_mod {
      ^bb0(%b: index, %h: index, %i: index, %j: index):
        %c = arith.constant true
        gpu.yield %c : i1
      } -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'score_mod' must yield exactly one value (here: none).
func.func @score_mod_yield_count(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'score_mod' region must yield exactly one 'f32', got ()}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
        attn.yield
      } -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'score_mod' must yield an f32 (here: f16).
func.func @score_mod_yield_type(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'score_mod' region must yield exactly one 'f32', got ('f16')}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
        %c = arith.truncf %s : f32 to f16
        attn.yield %c : f16
      } -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'mask_mod' must yield exactly one value (here: two).
func.func @mask_mod_yield_count(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'mask_mod' region must yield exactly one 'i1', got ('i1', 'i1')}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      mask_mod {
      ^bb0(%b: index, %h: index, %i: index, %j: index):
        %c = arith.cmpi ule, %j, %i : index
        attn.yield %c, %c : i1, i1
      } -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'mask_mod' must yield an i1 (here: index).
func.func @mask_mod_yield_type(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'mask_mod' region must yield exactly one 'i1', got ('index')}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      mask_mod {
      ^bb0(%b: index, %h: index, %i: index, %j: index):
        attn.yield %j : index
      } -> tensor<1x16x4x64xf16>
  return
}

// -----

// Ops with unknown memory effects (no MemoryEffectOpInterface) are rejected in modifiers.
func.func private @bias(f32) -> f32
func.func @score_mod_unknown_effects(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'score_mod' region may not contain 'func.call': its memory effects are unknown}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
        %y = func.call @bias(%s) : (f32) -> f32
        attn.yield %y : f32
      } -> tensor<1x16x4x64xf16>
  return
}

// -----

// Modifier regions must not write memory.
func.func @mask_mod_memory_write(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>, %buf: memref<i1>) {
  // expected-error @+1 {{'mask_mod' region must not write memory, but 'memref.store' does}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      mask_mod {
      ^bb0(%b: index, %h: index, %i: index, %j: index):
        %c = arith.cmpi ule, %j, %i : index
        memref.store %c, %buf[] : memref<i1>
        attn.yield %c : i1
      } -> tensor<1x16x4x64xf16>
  return
}

// -----

// Modifier regions must not allocate memory (Allocate counts as a write).
func.func @score_mod_memory_alloc(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{'score_mod' region must not write memory, but 'memref.alloca' does}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
        %m = memref.alloca() : memref<f32>
        attn.yield %s : f32
      } -> tensor<1x16x4x64xf16>
  return
}

// -----

// Writes nested in ops with recursive effects (scf.if) are found too.
func.func @score_mod_nested_write(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>, %buf: memref<f32>) {
  // expected-error @+1 {{'score_mod' region must not write memory, but 'memref.store' does}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
        %c = arith.cmpi ule, %j, %i : index
        scf.if %c {
          memref.store %s, %buf[] : memref<f32>
        }
        attn.yield %s : f32
      } -> tensor<1x16x4x64xf16>
  return
}

// -----

// An empty modifier block is rejected by the core verifier before
// verifyRegions runs, so the 'block.empty()' case of the attn.yield check
// cannot be reached from textual IR.
func.func @score_mod_empty_block(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+1 {{empty block: expect at least a terminator}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      } -> tensor<1x16x4x64xf16>
  return
}

// -----

// Unknown mask kind.
func.func @mask_unknown_kind(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+2 {{unknown mask kind 'sliding'; expected none, causal or window}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>) mask<sliding, top_left>
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Unknown mask alignment.
func.func @mask_unknown_alignment(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+2 {{unknown mask alignment 'center'; expected top_left or bottom_right}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>) mask<causal, center>
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Window left bound must be >= -1.
func.func @mask_window_left(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+2 {{window left bound must be >= -1 (-1 = unbounded), got -2}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>) mask<window [-2, 0], bottom_right>
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// Window right bound must be >= -1.
func.func @mask_window_right(%q: tensor<1x16x4x64xf16>, %k: tensor<1x16x4x64xf16>, %v: tensor<1x16x4x64xf16>, %o: tensor<1x16x4x64xf16>) {
  // expected-error @+2 {{window right bound must be >= -1 (-1 = unbounded), got -5}}
  %r = attn.attention ins(%q, %k, %v : tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>, tensor<1x16x4x64xf16>)
      outs(%o : tensor<1x16x4x64xf16>) mask<window [128, -5], top_left>
      -> tensor<1x16x4x64xf16>
  return
}

// -----

// 'block_size' without 'block_mask'.
func.func @block_size_alone(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>) {
  // expected-error @+1 {{'block_size' needs a 'block_mask'}}
  attn.attention ins(%q, %k, %v : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      outs(%o : memref<1x16x4x64xf16>) attributes {block_size = array<i64: 16, 16>}
  return
}

// -----

// Three block-mask operands: counts and indices come in pairs.
func.func @block_mask_three(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %b0: memref<1x4x1xi32>, %b1: memref<1x4x1x1xi32>, %b2: memref<1x4x1xi32>) {
  // expected-error @+1 {{'block_mask' takes 2 operands (kv_num_blocks, kv_indices) or 4 (and full_kv_num_blocks, full_kv_indices), got 3}}
  attn.attention ins(%q, %k, %v : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      block_mask(%b0, %b1, %b2 : memref<1x4x1xi32>, memref<1x4x1x1xi32>, memref<1x4x1xi32>) block_size [16, 16]
      outs(%o : memref<1x16x4x64xf16>)
  return
}

// -----

// 'block_mask' without 'block_size' (reachable in the generic form only).
func.func @block_mask_without_size(%q: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %b0: memref<1x4x1xi32>, %b1: memref<1x4x1x1xi32>) {
  // expected-error @+1 {{'block_mask' needs a 'block_size'}}
  "attn.attention"(%q, %q, %q, %b0, %b1, %o) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0, 2, 1, 0>}> ({}, {})
      : (memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x4x1xi32>, memref<1x4x1x1xi32>, memref<1x16x4x64xf16>) -> ()
  return
}

// -----

// A block size must be positive.
func.func @block_size_zero(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %b0: memref<1x4x1xi32>, %b1: memref<1x4x1x1xi32>) {
  // expected-error @+1 {{'block_size' must be two positive sizes [BM, BN], got [0, 16]}}
  attn.attention ins(%q, %k, %v : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      block_mask(%b0, %b1 : memref<1x4x1xi32>, memref<1x4x1x1xi32>) block_size [0, 16]
      outs(%o : memref<1x16x4x64xf16>)
  return
}

// -----

// Two sizes, rows and columns.
func.func @block_size_one(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %b0: memref<1x4x1xi32>, %b1: memref<1x4x1x1xi32>) {
  // expected-error @+1 {{'block_size' must be two positive sizes [BM, BN], got [16]}}
  attn.attention ins(%q, %k, %v : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      block_mask(%b0, %b1 : memref<1x4x1xi32>, memref<1x4x1x1xi32>) block_size [16]
      outs(%o : memref<1x16x4x64xf16>)
  return
}

// -----

// Counts are [B', H', QB].
func.func @block_mask_counts_rank(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %b0: memref<4x1xi32>, %b1: memref<1x4x1x1xi32>) {
  // expected-error @+1 {{'kv_num_blocks' must have rank 3 [B', H', QB], got rank 2}}
  attn.attention ins(%q, %k, %v : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      block_mask(%b0, %b1 : memref<4x1xi32>, memref<1x4x1x1xi32>) block_size [16, 16]
      outs(%o : memref<1x16x4x64xf16>)
  return
}

// -----

// Counts are i32 (FlexAttention's).
func.func @block_mask_counts_i64(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %b0: memref<1x4x1xi64>, %b1: memref<1x4x1x1xi32>) {
  // expected-error @+1 {{'kv_num_blocks' element type must be i32, got 'i64'}}
  attn.attention ins(%q, %k, %v : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      block_mask(%b0, %b1 : memref<1x4x1xi64>, memref<1x4x1x1xi32>) block_size [16, 16]
      outs(%o : memref<1x16x4x64xf16>)
  return
}

// -----

// Indices are i32.
func.func @block_mask_indices_f32(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %b0: memref<1x4x1xi32>, %b1: memref<1x4x1x1xf32>) {
  // expected-error @+1 {{'kv_indices' element type must be i32, got 'f32'}}
  attn.attention ins(%q, %k, %v : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      block_mask(%b0, %b1 : memref<1x4x1xi32>, memref<1x4x1x1xf32>) block_size [16, 16]
      outs(%o : memref<1x16x4x64xf16>)
  return
}

// -----

// B' is 1 (broadcast) or B.
func.func @block_mask_batch(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %b0: memref<3x4x1xi32>, %b1: memref<3x4x1x1xi32>) {
  // expected-error @+1 {{'kv_num_blocks' batch size (dim 0 = 3) must be 1 or 1}}
  attn.attention ins(%q, %k, %v : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      block_mask(%b0, %b1 : memref<3x4x1xi32>, memref<3x4x1x1xi32>) block_size [16, 16]
      outs(%o : memref<1x16x4x64xf16>)
  return
}

// -----

// H' is 1 (broadcast) or Hq.
func.func @block_mask_heads(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %b0: memref<1x2x1xi32>, %b1: memref<1x2x1x1xi32>) {
  // expected-error @+1 {{'kv_num_blocks' head count (dim 1 = 2) must be 1 or 4}}
  attn.attention ins(%q, %k, %v : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      block_mask(%b0, %b1 : memref<1x2x1xi32>, memref<1x2x1x1xi32>) block_size [16, 16]
      outs(%o : memref<1x16x4x64xf16>)
  return
}

// -----

// QB = ceil(Sq / BM): 16 rows in blocks of 8 are 2.
func.func @block_mask_query_blocks(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %b0: memref<1x4x1xi32>, %b1: memref<1x4x1x1xi32>) {
  // expected-error @+1 {{'kv_num_blocks' query-block count (dim 2 = 1) must match ceil(Sq / BM) of 'query' and 'block_size' (2)}}
  attn.attention ins(%q, %k, %v : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      block_mask(%b0, %b1 : memref<1x4x1xi32>, memref<1x4x1x1xi32>) block_size [8, 16]
      outs(%o : memref<1x16x4x64xf16>)
  return
}

// -----

// The indices share the counts' leading dims.
func.func @block_mask_indices_shape(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %b0: memref<1x4x1xi32>, %b1: memref<1x1x1x1xi32>) {
  // expected-error @+1 {{'kv_indices' dim (dim 1 = 1) must match 'kv_num_blocks' dim 1 (4)}}
  attn.attention ins(%q, %k, %v : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      block_mask(%b0, %b1 : memref<1x4x1xi32>, memref<1x1x1x1xi32>) block_size [16, 16]
      outs(%o : memref<1x16x4x64xf16>)
  return
}

// -----

// At least one block per list (KB >= 1).
func.func @block_mask_no_blocks(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %b0: memref<1x4x1xi32>, %b1: memref<1x4x1x0xi32>) {
  // expected-error @+1 {{'kv_indices' must list at least one block per query block (KB >= 1)}}
  attn.attention ins(%q, %k, %v : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      block_mask(%b0, %b1 : memref<1x4x1xi32>, memref<1x4x1x0xi32>) block_size [16, 16]
      outs(%o : memref<1x16x4x64xf16>)
  return
}

// -----

// The full blocks' lists are shaped as the partial ones.
func.func @block_mask_full_types(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %b0: memref<1x4x1xi32>, %b1: memref<1x4x1x1xi32>, %b2: memref<1x4x1xi32>, %b3: memref<1x4x1x2xi32>) {
  // expected-error @+1 {{'full_kv_num_blocks' and 'full_kv_indices' must have the types of 'kv_num_blocks' and 'kv_indices'}}
  attn.attention ins(%q, %k, %v : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      block_mask(%b0, %b1, %b2, %b3 : memref<1x4x1xi32>, memref<1x4x1x1xi32>, memref<1x4x1xi32>, memref<1x4x1x2xi32>) block_size [16, 16]
      outs(%o : memref<1x16x4x64xf16>)
  return
}

// -----

// All tensors or all memrefs.
func.func @block_mask_tensor(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %b0: tensor<1x4x1xi32>, %b1: memref<1x4x1x1xi32>) {
  // expected-error @+1 {{'kv_num_blocks' is a tensor but 'query' is a memref; operands must be all tensors or all memrefs}}
  attn.attention ins(%q, %k, %v : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      block_mask(%b0, %b1 : tensor<1x4x1xi32>, memref<1x4x1x1xi32>) block_size [16, 16]
      outs(%o : memref<1x16x4x64xf16>)
  return
}

// -----

// Block masks index (batch, head, q-block): not for packed sequences.
func.func @block_mask_varlen(%q: memref<1x16x4x64xf16>, %k: memref<1x16x4x64xf16>, %v: memref<1x16x4x64xf16>, %o: memref<1x16x4x64xf16>, %cq: memref<2xi32>, %ck: memref<2xi32>, %n: memref<1x4x1xi32>, %i: memref<1x4x1x1xi32>) {
  // expected-error @+1 {{'block_mask' does not apply to variable-length batches (cu_seqlens)}}
  attn.attention ins(%q, %k, %v : memref<1x16x4x64xf16>, memref<1x16x4x64xf16>, memref<1x16x4x64xf16>)
      cu_seqlens(%cq, %ck : memref<2xi32>, memref<2xi32>)
      block_mask(%n, %i : memref<1x4x1xi32>, memref<1x4x1x1xi32>) block_size [16, 16]
      outs(%o : memref<1x16x4x64xf16>)
  return
}
