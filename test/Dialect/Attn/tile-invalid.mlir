// RUN: attn-opt %s -split-input-file -verify-diagnostics

// Negative tests for the tiled-level ops: one split per verifier branch of
// dialects/attn/AttnTileOps.cpp.

// 'acc' must be a static rank-2 tile
func.func @f(%q: memref<32x64xf32>, %k: memref<16x64xf32>, %v: memref<16x64xf32>, %acc: memref<?x64xf32>, %m: memref<32xf32>, %l: memref<32xf32>, %i: index) {
  // expected-error @+1 {{'acc' must be a static rank-2 tile, got 'memref<?x64xf32>'}}
  attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %l) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : memref<32x64xf32>, memref<16x64xf32>, memref<16x64xf32>, memref<?x64xf32>, memref<32xf32>, memref<32xf32>
  return
}

// -----

// 'max' rows must match 'acc'
func.func @f(%q: memref<32x64xf32>, %k: memref<16x64xf32>, %v: memref<16x64xf32>, %acc: memref<32x64xf32>, %m: memref<16xf32>, %l: memref<32xf32>, %i: index) {
  // expected-error @+1 {{'max' dim 0 (16) must equal the rows of 'acc' (32)}}
  attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %l) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : memref<32x64xf32>, memref<16x64xf32>, memref<16x64xf32>, memref<32x64xf32>, memref<16xf32>, memref<32xf32>
  return
}

// -----

// 'sum' rows must match 'acc'
func.func @f(%q: memref<32x64xf32>, %k: memref<16x64xf32>, %v: memref<16x64xf32>, %acc: memref<32x64xf32>, %m: memref<32xf32>, %l: memref<16xf32>, %i: index) {
  // expected-error @+1 {{'sum' dim 0 (16) must equal the rows of 'acc' (32)}}
  attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %l) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : memref<32x64xf32>, memref<16x64xf32>, memref<16x64xf32>, memref<32x64xf32>, memref<32xf32>, memref<16xf32>
  return
}

// -----

// 'max' must be rank 1
func.func @f(%q: memref<32x64xf32>, %k: memref<16x64xf32>, %v: memref<16x64xf32>, %acc: memref<32x64xf32>, %m: memref<32x1xf32>, %l: memref<32xf32>, %i: index) {
  // expected-error @+1 {{'max' must be a static rank-1 tile, got 'memref<32x1xf32>'}}
  attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %l) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : memref<32x64xf32>, memref<16x64xf32>, memref<16x64xf32>, memref<32x64xf32>, memref<32x1xf32>, memref<32xf32>
  return
}

// -----

// 'query' rows must match 'acc'
func.func @f(%q: memref<16x64xf32>, %k: memref<16x64xf32>, %v: memref<16x64xf32>, %acc: memref<32x64xf32>, %m: memref<32xf32>, %l: memref<32xf32>, %i: index) {
  // expected-error @+1 {{'query' dim 0 (16) must equal the rows of 'acc' (32)}}
  attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %l) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : memref<16x64xf32>, memref<16x64xf32>, memref<16x64xf32>, memref<32x64xf32>, memref<32xf32>, memref<32xf32>
  return
}

// -----

// 'key' head dim must match 'query'
func.func @f(%q: memref<32x64xf32>, %k: memref<16x32xf32>, %v: memref<16x64xf32>, %acc: memref<32x64xf32>, %m: memref<32xf32>, %l: memref<32xf32>, %i: index) {
  // expected-error @+1 {{'key' dim 1 (32) must equal the head dim of 'query' (64)}}
  attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %l) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : memref<32x64xf32>, memref<16x32xf32>, memref<16x64xf32>, memref<32x64xf32>, memref<32xf32>, memref<32xf32>
  return
}

// -----

// 'value' rows must match 'key'
func.func @f(%q: memref<32x64xf32>, %k: memref<16x64xf32>, %v: memref<8x64xf32>, %acc: memref<32x64xf32>, %m: memref<32xf32>, %l: memref<32xf32>, %i: index) {
  // expected-error @+1 {{'value' dim 0 (8) must equal the rows of 'key' (16)}}
  attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %l) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : memref<32x64xf32>, memref<16x64xf32>, memref<8x64xf32>, memref<32x64xf32>, memref<32xf32>, memref<32xf32>
  return
}

// -----

// 'value' columns must match 'acc'
func.func @f(%q: memref<32x64xf32>, %k: memref<16x64xf32>, %v: memref<16x32xf32>, %acc: memref<32x64xf32>, %m: memref<32xf32>, %l: memref<32xf32>, %i: index) {
  // expected-error @+1 {{'value' dim 1 (32) must equal the columns of 'acc' (64)}}
  attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %l) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : memref<32x64xf32>, memref<16x64xf32>, memref<16x32xf32>, memref<32x64xf32>, memref<32xf32>, memref<32xf32>
  return
}

// -----

// 'query' must be static
func.func @f(%q: memref<32x?xf32>, %k: memref<16x64xf32>, %v: memref<16x64xf32>, %acc: memref<32x64xf32>, %m: memref<32xf32>, %l: memref<32xf32>, %i: index) {
  // expected-error @+1 {{'query' must be a static rank-2 tile, got 'memref<32x?xf32>'}}
  attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %l) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : memref<32x?xf32>, memref<16x64xf32>, memref<16x64xf32>, memref<32x64xf32>, memref<32xf32>, memref<32xf32>
  return
}

// -----

// scale must be > 0
func.func @f(%q: memref<32x64xf32>, %k: memref<16x64xf32>, %v: memref<16x64xf32>, %acc: memref<32x64xf32>, %m: memref<32xf32>, %l: memref<32xf32>, %i: index) {
  // expected-error @+1 {{'scale' must be finite and > 0}}
  attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %l) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.0 : f32}
      : memref<32x64xf32>, memref<16x64xf32>, memref<16x64xf32>, memref<32x64xf32>, memref<32xf32>, memref<32xf32>
  return
}

// -----

// softcap must be >= 0
func.func @f(%q: memref<32x64xf32>, %k: memref<16x64xf32>, %v: memref<16x64xf32>, %acc: memref<32x64xf32>, %m: memref<32xf32>, %l: memref<32xf32>, %i: index) {
  // expected-error @+1 {{'softcap' must be finite and >= 0}}
  attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %l) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 1.0 : f32, softcap = -1.0 : f32}
      : memref<32x64xf32>, memref<16x64xf32>, memref<16x64xf32>, memref<32x64xf32>, memref<32xf32>, memref<32xf32>
  return
}

// -----

// mask_mod requires masked
func.func @f(%q: memref<32x64xf32>, %k: memref<16x64xf32>, %v: memref<16x64xf32>, %acc: memref<32x64xf32>, %m: memref<32xf32>, %l: memref<32xf32>, %i: index) {
  // expected-error @+1 {{a block with a 'mask_mod' region must be 'masked': mask_mod hides keys in any block}}
  attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %l) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32} mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %t = arith.cmpi uge, %qi, %kj : index
        attn.yield %t : i1
      }
      : memref<32x64xf32>, memref<16x64xf32>, memref<16x64xf32>, memref<32x64xf32>, memref<32xf32>, memref<32xf32>
  return
}

// -----

// score_mod signature (shared verifier)
func.func @f(%q: memref<32x64xf32>, %k: memref<16x64xf32>, %v: memref<16x64xf32>, %acc: memref<32x64xf32>, %m: memref<32xf32>, %l: memref<32xf32>, %i: index) {
  // expected-error @+1 {{'score_mod' region must take (score: f32, b: index, h: index, q_idx: index, kv_idx: index), got ('f32')}}
  attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %l) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32} score_mod {
      ^bb0(%s: f32):
        attn.yield %s : f32
      }
      : memref<32x64xf32>, memref<16x64xf32>, memref<16x64xf32>, memref<32x64xf32>, memref<32xf32>, memref<32xf32>
  return
}

// -----

// tile element type must be f32 (ODS constraint)
func.func @f(%q: memref<32x64xf32>, %k: memref<16x64xf32>, %v: memref<16x64xf32>, %acc: memref<32x64xf16>, %m: memref<32xf32>, %l: memref<32xf32>, %i: index) {
  // expected-error @+1 {{operand #3 must be 1D/2D memref of 32-bit float values}}
  attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %l) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : memref<32x64xf32>, memref<16x64xf32>, memref<16x64xf32>, memref<32x64xf16>, memref<32xf32>, memref<32xf32>
  return
}

// -----

// tile_load: source must be rank 4
func.func @f(%s: memref<2x100x64xbf16>, %d: memref<32x64xf32>, %i: index) {
  // expected-error @+1 {{'source' must have rank 4 [B, S, H, D], got rank 3}}
  attn.tile_load %s[%i, %i, %i] rows(%i) into %d : memref<2x100x64xbf16>, memref<32x64xf32>
  return
}

// -----

// tile_load: dest width must match the head dim
func.func @f(%s: memref<2x100x4x64xbf16>, %d: memref<32x32xf32>, %i: index) {
  // expected-error @+1 {{'dest' width (32) must equal the head dim of 'source' (64)}}
  attn.tile_load %s[%i, %i, %i] rows(%i) into %d : memref<2x100x4x64xbf16>, memref<32x32xf32>
  return
}

// -----

// tile_load: dest must be a static rank-2 tile
func.func @f(%s: memref<2x100x4x64xbf16>, %d: memref<64xf32>, %i: index) {
  // expected-error @+1 {{'dest' must be a static rank-2 tile, got 'memref<64xf32>'}}
  attn.tile_load %s[%i, %i, %i] rows(%i) into %d : memref<2x100x4x64xbf16>, memref<64xf32>
  return
}

// -----

// block_init: state shapes
func.func @f(%acc: memref<32x64xf32>, %m: memref<32xf32>, %l: memref<8xf32>) {
  // expected-error @+1 {{'sum' dim 0 (8) must equal the rows of 'acc' (32)}}
  attn.block_init %acc, %m, %l : memref<32x64xf32>, memref<32xf32>, memref<8xf32>
  return
}

// -----

// block_finalize: out must be rank 4
func.func @f(%acc: memref<32x64xf32>, %m: memref<32xf32>, %o: memref<100x64xbf16>, %i: index) {
  // expected-error @+1 {{'out' must have rank 4 [B, S, H, Dv], got rank 2}}
  attn.block_finalize state(%acc, %m, %m) rows(%i) into %o[%i, %i, %i] : memref<32x64xf32>, memref<32xf32>, memref<32xf32>, memref<100x64xbf16>
  return
}

// -----

// block_finalize: out head dim must match acc
func.func @f(%acc: memref<32x64xf32>, %m: memref<32xf32>, %o: memref<1x100x2x32xbf16>, %i: index) {
  // expected-error @+1 {{'out' head dim (32) must equal the columns of 'acc' (64)}}
  attn.block_finalize state(%acc, %m, %m) rows(%i) into %o[%i, %i, %i] : memref<32x64xf32>, memref<32xf32>, memref<32xf32>, memref<1x100x2x32xbf16>
  return
}

// -----

// block_finalize: lse must be f32 [B, H, S]
func.func @f(%acc: memref<32x64xf32>, %m: memref<32xf32>, %o: memref<1x100x2x64xbf16>, %lse: memref<1x100xf32>, %i: index) {
  // expected-error @+1 {{'lse' must be an f32 memref [B, H, S], got 'memref<1x100xf32>'}}
  attn.block_finalize state(%acc, %m, %m) rows(%i) into %o[%i, %i, %i] lse(%lse) : memref<32x64xf32>, memref<32xf32>, memref<32xf32>, memref<1x100x2x64xbf16>, memref<1x100xf32>
  return
}
