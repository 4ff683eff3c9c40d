// RUN: attn-opt %s -split-input-file -verify-diagnostics

// Negative tests for the tiled (L1) and online (L2) level ops: one split per
// verifier branch of dialects/attn/AttnTileOps.cpp and of #attn.hopper_plan.

// block_update: 'acc' must be a static rank-2 tile
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %acc: tensor<?x64xf32>, %m: tensor<32xf32>, %i: index) {
  // expected-error @+1 {{'acc' must be a static rank-2 tile, got 'tensor<?x64xf32>'}}
  %r:3 = attn.block_update q(%q) k(%k) v(%k) state(%acc, %m, %m) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<?x64xf32>, tensor<32xf32>, tensor<32xf32>
  return
}

// -----

// block_update: the state holds f32
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %acc: tensor<32x64xf16>, %m: tensor<32xf32>, %i: index) {
  // expected-error @+1 {{'acc' must hold f32, got 'f16'}}
  %r:3 = attn.block_update q(%q) k(%k) v(%k) state(%acc, %m, %m) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<32x64xf16>, tensor<32xf32>, tensor<32xf32>
  return
}

// -----

// block_update: 'max' rows must match 'acc'
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %acc: tensor<32x64xf32>, %m: tensor<16xf32>, %l: tensor<32xf32>, %i: index) {
  // expected-error @+1 {{'max' dim 0 (16) must equal the rows of 'acc' (32)}}
  %r:3 = attn.block_update q(%q) k(%k) v(%k) state(%acc, %m, %l) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<32x64xf32>, tensor<16xf32>, tensor<32xf32>
  return
}

// -----

// block_update: 'query' rows must match 'acc'
func.func @f(%q: tensor<16x64xf32>, %k: tensor<16x64xf32>, %acc: tensor<32x64xf32>, %m: tensor<32xf32>, %i: index) {
  // expected-error @+1 {{'query' dim 0 (16) must equal the rows of 'acc' (32)}}
  %r:3 = attn.block_update q(%q) k(%k) v(%k) state(%acc, %m, %m) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : tensor<16x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>
  return
}

// -----

// block_update: 'key' head dim must match 'query'
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x32xf32>, %v: tensor<16x64xf32>, %acc: tensor<32x64xf32>, %m: tensor<32xf32>, %i: index) {
  // expected-error @+1 {{'key' dim 1 (32) must equal the head dim of 'query' (64)}}
  %r:3 = attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %m) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : tensor<32x64xf32>, tensor<16x32xf32>, tensor<16x64xf32>, tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>
  return
}

// -----

// block_update: 'value' rows must match 'key'
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %v: tensor<8x64xf32>, %acc: tensor<32x64xf32>, %m: tensor<32xf32>, %i: index) {
  // expected-error @+1 {{'value' dim 0 (8) must equal the rows of 'key' (16)}}
  %r:3 = attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %m) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<8x64xf32>, tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>
  return
}

// -----

// block_update: 'value' columns must match 'acc'
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %v: tensor<16x32xf32>, %acc: tensor<32x64xf32>, %m: tensor<32xf32>, %i: index) {
  // expected-error @+1 {{'value' dim 1 (32) must equal the columns of 'acc' (64)}}
  %r:3 = attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %m) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x32xf32>, tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>
  return
}

// -----

// block_update: Q and K of one type
func.func @f(%q: tensor<32x64xbf16>, %k: tensor<16x64xf16>, %acc: tensor<32x64xf32>, %m: tensor<32xf32>, %i: index) {
  // expected-error @+1 {{'query' and 'key' must hold the same type, got 'bf16' and 'f16'}}
  %r:3 = attn.block_update q(%q) k(%k) v(%k) state(%acc, %m, %m) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : tensor<32x64xbf16>, tensor<16x64xf16>, tensor<16x64xf16>, tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>
  return
}

// -----

// block_update: scale must be positive
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %acc: tensor<32x64xf32>, %m: tensor<32xf32>, %i: index) {
  // expected-error @+1 {{'scale' must be finite and > 0}}
  %r:3 = attn.block_update q(%q) k(%k) v(%k) state(%acc, %m, %m) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = -1.0 : f32}
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>
  return
}

// -----

// block_update: softcap must be >= 0
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %acc: tensor<32x64xf32>, %m: tensor<32xf32>, %i: index) {
  // expected-error @+1 {{'softcap' must be finite and >= 0}}
  %r:3 = attn.block_update q(%q) k(%k) v(%k) state(%acc, %m, %m) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32, softcap = -2.0 : f32}
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>
  return
}

// -----

// block_update: mask_mod only in masked blocks
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %acc: tensor<32x64xf32>, %m: tensor<32xf32>, %i: index) {
  // expected-error @+1 {{a block with a 'mask_mod' region must be 'masked'}}
  %r:3 = attn.block_update q(%q) k(%k) v(%k) state(%acc, %m, %m) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32} mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %t = arith.cmpi uge, %qi, %kj : index
        attn.yield %t : i1
      }
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>
  return
}

// -----

// block_update: score_mod signature (shared verifier)
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %acc: tensor<32x64xf32>, %m: tensor<32xf32>, %i: index) {
  // expected-error @+1 {{'score_mod' region must take (score: f32, b: index, h: index, q_idx: index, kv_idx: index), got ('f32')}}
  %r:3 = attn.block_update q(%q) k(%k) v(%k) state(%acc, %m, %m) rows(%i) cols(%i)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32} score_mod {
      ^bb0(%s: f32):
        attn.yield %s : f32
      }
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>
  return
}

// -----

// block_init: state shapes
func.func @f() {
  // expected-error @+1 {{'sum' dim 0 (8) must equal the rows of 'acc' (32)}}
  %r:3 = attn.block_init : tensor<32x64xf32>, tensor<32xf32>, tensor<8xf32>
  return
}

// -----

// block_finalize: out must be rank 4
func.func @f(%acc: tensor<32x64xf32>, %m: tensor<32xf32>, %o: memref<100x64xbf16>, %i: index) {
  // expected-error @+1 {{'out' must have rank 4 [B, S, H, Dv], got rank 2}}
  attn.block_finalize state(%acc, %m, %m) rows(%i) into %o[%i, %i, %i] : tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>, memref<100x64xbf16>
  return
}

// -----

// block_finalize: out head dim must match acc
func.func @f(%acc: tensor<32x64xf32>, %m: tensor<32xf32>, %o: memref<1x100x2x32xbf16>, %i: index) {
  // expected-error @+1 {{'out' head dim (32) must equal the columns of 'acc' (64)}}
  attn.block_finalize state(%acc, %m, %m) rows(%i) into %o[%i, %i, %i] : tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>, memref<1x100x2x32xbf16>
  return
}

// -----

// block_finalize: lse must be f32 [B, H, S]
func.func @f(%acc: tensor<32x64xf32>, %m: tensor<32xf32>, %o: memref<1x100x2x64xbf16>, %lse: memref<1x100xf32>, %i: index) {
  // expected-error @+1 {{'lse' must be an f32 memref [B, H, S], got 'memref<1x100xf32>'}}
  attn.block_finalize state(%acc, %m, %m) rows(%i) into %o[%i, %i, %i] lse(%lse) : tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>, memref<1x100x2x64xbf16>, memref<1x100xf32>
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

// tile_load: dest must be a static rank-2 tile (from a [B, S, H, D] source)
func.func @f(%s: memref<2x100x4x64xbf16>, %d: memref<?x64xf32>, %i: index) {
  // expected-error @+1 {{'dest' must be a static rank-2 tile, got 'memref<?x64xf32>'}}
  attn.tile_load %s[%i, %i, %i] rows(%i) into %d : memref<2x100x4x64xbf16>, memref<?x64xf32>
  return
}

// -----

// tile_load: dest holds f32 or the source's type
func.func @f(%s: memref<2x100x4x64xbf16>, %d: tensor<32x64xf16>, %i: index) {
  // expected-error @+1 {{'dest' must hold f32 or the source's 'bf16', got 'f16'}}
  %t = attn.tile_load %s[%i, %i, %i] rows(%i) into %d : memref<2x100x4x64xbf16>, tensor<32x64xf16> -> tensor<32x64xf16>
  return
}

// -----

// tile_load: a scale needs an f32 dest
func.func @f(%s: memref<2x100x4x64xbf16>, %d: tensor<32x64xbf16>, %i: index, %x: f32) {
  // expected-error @+1 {{a 'scale' needs an f32 'dest'}}
  %t = attn.tile_load %s[%i, %i, %i] rows(%i) scale(%x) into %d : memref<2x100x4x64xbf16>, tensor<32x64xbf16> -> tensor<32x64xbf16>
  return
}

// -----

// tile_load: the result is the dest's type (destination style)
func.func @f(%s: memref<2x100x4x64xbf16>, %d: tensor<32x64xbf16>, %i: index) {
  // expected-error @+1 {{expected type of operand #5 ('tensor<32x64xbf16>') to match type of corresponding result ('tensor<32x64xf32>')}}
  %t = attn.tile_load %s[%i, %i, %i] rows(%i) into %d : memref<2x100x4x64xbf16>, tensor<32x64xbf16> -> tensor<32x64xf32>
  return
}

// -----

// tile_store: a rank-2 tile goes to [B, S, H, D]
func.func @f(%t: tensor<32x64xf32>, %o: memref<2x64x100xf32>, %i: index) {
  // expected-error @+1 {{a rank-2 tile goes to a 'dest' [B, S, H, D], got rank 3}}
  attn.tile_store %t into %o[%i, %i, %i] rows(%i) : tensor<32x64xf32>, memref<2x64x100xf32>
  return
}

// -----

// tile_store: widths agree
func.func @f(%t: tensor<32x64xf32>, %o: memref<1x100x2x32xbf16>, %i: index) {
  // expected-error @+1 {{'dest' head dim (32) must equal the tile's columns (64)}}
  attn.tile_store %t into %o[%i, %i, %i] rows(%i) : tensor<32x64xf32>, memref<1x100x2x32xbf16>
  return
}

// -----

// tile_store: a share of the columns lies within D
func.func @f(%t: tensor<32x64xf32>, %o: memref<1x100x2x128xf32>, %i: index) {
  %c96 = arith.constant 96 : index
  // expected-error @+1 {{columns [96, 160) must lie within 'dest' head dim (128)}}
  attn.tile_store %t into %o[%i, %i, %i] rows(%i) column(%c96) accumulate : tensor<32x64xf32>, memref<1x100x2x128xf32>
  return
}

// -----

// tile_store: a rank-1 tile has no columns
func.func @f(%t: tensor<32xf32>, %o: memref<1x2x100xf32>, %i: index) {
  // expected-error @+1 {{a rank-1 tile takes no 'column'}}
  attn.tile_store %t into %o[%i, %i, %i] rows(%i) column(%i) : tensor<32xf32>, memref<1x2x100xf32>
  return
}

// -----

// tile_store: a rank-1 tile goes to [B, H, S]
func.func @f(%t: tensor<32xf32>, %o: memref<1x100x2x32xf32>, %i: index) {
  // expected-error @+1 {{a rank-1 tile goes to a 'dest' [B, H, S], got rank 4}}
  attn.tile_store %t into %o[%i, %i, %i] rows(%i) : tensor<32xf32>, memref<1x100x2x32xf32>
  return
}

// -----

// tile_store: floats
func.func @f(%t: tensor<32xf32>, %o: memref<1x2x100xi32>, %i: index) {
  // expected-error @+1 {{tile and 'dest' must hold floats}}
  attn.tile_store %t into %o[%i, %i, %i] rows(%i) : tensor<32xf32>, memref<1x2x100xi32>
  return
}

// -----

// tile_store: accumulate into f32
func.func @f(%t: tensor<32x64xf32>, %o: memref<1x100x2x64xbf16>, %i: index) {
  // expected-error @+1 {{'accumulate' needs an f32 'dest', got 'bf16'}}
  attn.tile_store %t into %o[%i, %i, %i] rows(%i) accumulate : tensor<32x64xf32>, memref<1x100x2x64xbf16>
  return
}

// -----

// tile_fill: the value has the tile's element type
func.func @f(%d: tensor<32x64xf32>, %x: f16) {
  // expected-error @+1 {{the value must have the tile's element type}}
  %t = attn.tile_fill %x into %d : f16, tensor<32x64xf32> -> tensor<32x64xf32>
  return
}

// -----

// tile_matmul: contraction sizes
func.func @f(%a: tensor<32x64xbf16>, %b: tensor<16x32xbf16>, %d: tensor<32x16xf32>) {
  // expected-error @+1 {{contraction sizes differ: op(lhs) has 64 columns, op(rhs) 32 rows}}
  %t = attn.tile_matmul %a, %b transpose_rhs into %d : tensor<32x64xbf16>, tensor<16x32xbf16>, tensor<32x16xf32> -> tensor<32x16xf32>
  return
}

// -----

// tile_matmul: destination shape
func.func @f(%a: tensor<32x64xbf16>, %b: tensor<16x64xbf16>, %d: tensor<32x32xf32>) {
  // expected-error @+1 {{'dest' must be [32, 16] (rows of op(lhs), columns of op(rhs))}}
  %t = attn.tile_matmul %a, %b transpose_rhs into %d : tensor<32x64xbf16>, tensor<16x64xbf16>, tensor<32x32xf32> -> tensor<32x32xf32>
  return
}

// -----

// tile_matmul: float operands
func.func @f(%a: tensor<32x64xi8>, %b: tensor<64x16xbf16>, %d: tensor<32x16xf32>) {
  // expected-error @+1 {{'lhs' and 'rhs' must hold floats}}
  %t = attn.tile_matmul %a, %b into %d : tensor<32x64xi8>, tensor<64x16xbf16>, tensor<32x16xf32> -> tensor<32x16xf32>
  return
}

// -----

// tile_matmul: an f32 destination
func.func @f(%a: tensor<32x64xbf16>, %b: tensor<64x16xbf16>, %d: tensor<32x16xbf16>) {
  // expected-error @+1 {{'dest' must hold f32, got 'bf16'}}
  %t = attn.tile_matmul %a, %b into %d : tensor<32x64xbf16>, tensor<64x16xbf16>, tensor<32x16xbf16> -> tensor<32x16xbf16>
  return
}

// -----

// tile_reduce: one value per row
func.func @f(%s: tensor<32x64xf32>, %d: tensor<16xf32>) {
  // expected-error @+1 {{'dest' dim 0 (16) must equal the rows of 'tile' (32)}}
  %t = attn.tile_reduce max %s into %d : tensor<32x64xf32>, tensor<16xf32> -> tensor<16xf32>
  return
}

// -----

// tile_map: inputs of dest's shape or per-row values
func.func @f(%s: tensor<32x64xf32>, %r: tensor<64xf32>) {
  // expected-error @+1 {{input #1 ('tensor<64xf32>') must have the shape of 'dest' or be its per-row values [32]}}
  %t = attn.tile_map ins(%s, %r : tensor<32x64xf32>, tensor<64xf32>) into %s : tensor<32x64xf32> {
  ^bb0(%x: f32, %y: f32):
    attn.yield %x : f32
  } -> tensor<32x64xf32>
  return
}

// -----

// tile_map: one body argument per input
func.func @f(%s: tensor<32x64xf32>) {
  // expected-error @+1 {{body must take one scalar per input (1), got 2}}
  %t = attn.tile_map ins(%s : tensor<32x64xf32>) into %s : tensor<32x64xf32> {
  ^bb0(%x: f32, %y: f32):
    attn.yield %x : f32
  } -> tensor<32x64xf32>
  return
}

// -----

// tile_map: body arguments of the inputs' element types
func.func @f(%s: tensor<32x64xf32>) {
  // expected-error @+1 {{body argument #0 must have the element type of its input ('f32'), got 'f16'}}
  %t = attn.tile_map ins(%s : tensor<32x64xf32>) into %s : tensor<32x64xf32> {
  ^bb0(%x: f16):
    %y = arith.extf %x : f16 to f32
    attn.yield %y : f32
  } -> tensor<32x64xf32>
  return
}

// -----

// tile_map: yields the element of dest
func.func @f(%s: tensor<32x64xf32>, %d: tensor<32x64xbf16>) {
  // expected-error @+1 {{body must yield one 'bf16' (the element of 'dest')}}
  %t = attn.tile_map ins(%s : tensor<32x64xf32>) into %d : tensor<32x64xbf16> {
  ^bb0(%x: f32):
    attn.yield %x : f32
  } -> tensor<32x64xbf16>
  return
}

// -----

// tile_map: scalar, side-effect-free bodies
func.func @f(%s: tensor<32x64xf32>, %m: memref<4xf32>, %i: index) {
  // expected-error @+1 {{body may hold only side-effect-free scalar ops, got 'memref.store'}}
  %t = attn.tile_map ins(%s : tensor<32x64xf32>) into %s : tensor<32x64xf32> {
  ^bb0(%x: f32):
    memref.store %x, %m[%i] : memref<4xf32>
    attn.yield %x : f32
  } -> tensor<32x64xf32>
  return
}

// -----

// tile_mask: f32 rank-2 tiles
func.func @f(%s: tensor<32xf32>, %i: index) {
  // expected-error @+1 {{'tile' must be a static rank-2 tile, got 'tensor<32xf32>'}}
  %t = attn.tile_mask %s into %s q_pos(%i) kv_pos(%i) diag(%i) rows(%i) cols(%i) seq(%i) head(%i)
      attributes {mask = #attn.mask<none>} : tensor<32xf32> -> tensor<32xf32>
  return
}

// -----

// tile_mask: mask_mod signature (shared verifier)
func.func @f(%s: tensor<32x64xf32>, %i: index) {
  // expected-error @+1 {{'mask_mod' region must yield exactly one 'i1', got ('index')}}
  %t = attn.tile_mask %s into %s q_pos(%i) kv_pos(%i) diag(%i) rows(%i) cols(%i) seq(%i) head(%i)
      attributes {mask = #attn.mask<none>} mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        attn.yield %qi : index
      } : tensor<32x64xf32> -> tensor<32x64xf32>
  return
}

// -----

// tile_score_mod: f32 scores
func.func @f(%s: tensor<32x64xf16>, %i: index) {
  // expected-error @+1 {{'tile' must hold f32, got 'f16'}}
  %t = attn.tile_score_mod %s into %s seq(%i) head(%i) q_pos(%i) kv_pos(%i) rows(%i) cols(%i)
      : tensor<32x64xf16> {
  ^bb0(%x: f32, %b: index, %h: index, %qi: index, %kj: index):
    attn.yield %x : f32
  } -> tensor<32x64xf16>
  return
}

// -----

// tile_score_mod: score_mod signature (shared verifier)
func.func @f(%s: tensor<32x64xf32>, %i: index) {
  // expected-error @+1 {{'score_mod' region must take (score: f32, b: index, h: index, q_idx: index, kv_idx: index), got ('f32')}}
  %t = attn.tile_score_mod %s into %s seq(%i) head(%i) q_pos(%i) kv_pos(%i) rows(%i) cols(%i)
      : tensor<32x64xf32> {
  ^bb0(%x: f32):
    attn.yield %x : f32
  } -> tensor<32x64xf32>
  return
}

// -----

// program_grid: three index coordinates
func.func @f(%n: index) {
  // expected-error @+1 {{body must take three index coordinates (seq, head, q_block)}}
  "attn.program_grid"(%n, %n, %n) ({
  ^bb0(%a: index, %b: index):
    attn.yield
  }) {block_m = 64 : i64} : (index, index, index) -> ()
  return
}

// -----

// program_grid: block_m is positive
func.func @f(%n: index) {
  // expected-error @+1 {{attribute 'block_m' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  attn.program_grid (%s, %h, %b) in (%n, %n, %n) block_m(0) {
  }
  return
}

// -----

// hopper_plan: stages
func.func @f(%n: index) {
  // expected-error @+2 {{stages must be >= 1, got 0}}
  attn.program_grid (%s, %h, %b) in (%n, %n, %n) block_m(128)
      plan(<stages = 0, ping_pong = true, pv_schedule = serial, persistent_ctas = 0,
            paired_tiles = false, epilogue = direct, ctas_per_sm = 1,
            producer_registers = 24, consumer_registers = 240>) {
  }
  return
}

// -----

// hopper_plan: a late P·V release needs two stages
func.func @f(%n: index) {
  // expected-error @+2 {{pv_schedule = overlap needs at least 2 stages, got 1}}
  attn.program_grid (%s, %h, %b) in (%n, %n, %n) block_m(128)
      plan(<stages = 1, ping_pong = true, pv_schedule = overlap, persistent_ctas = 0,
            paired_tiles = false, epilogue = direct, ctas_per_sm = 1,
            producer_registers = 24, consumer_registers = 240>) {
  }
  return
}

// -----

// hopper_plan: persistent_ctas >= 0
func.func @f(%n: index) {
  // expected-error @+2 {{persistent_ctas must be >= 0, got -1}}
  attn.program_grid (%s, %h, %b) in (%n, %n, %n) block_m(128)
      plan(<stages = 2, ping_pong = true, pv_schedule = serial, persistent_ctas = -1,
            paired_tiles = false, epilogue = direct, ctas_per_sm = 1,
            producer_registers = 24, consumer_registers = 240>) {
  }
  return
}

// -----

// hopper_plan: paired tiles need persistence
func.func @f(%n: index) {
  // expected-error @+2 {{paired_tiles needs a persistent kernel (persistent_ctas > 0)}}
  attn.program_grid (%s, %h, %b) in (%n, %n, %n) block_m(128)
      plan(<stages = 2, ping_pong = true, pv_schedule = serial, persistent_ctas = 0,
            paired_tiles = true, epilogue = direct, ctas_per_sm = 1,
            producer_registers = 24, consumer_registers = 240>) {
  }
  return
}

// -----

// hopper_plan: ctas_per_sm in [1, 4]
func.func @f(%n: index) {
  // expected-error @+2 {{ctas_per_sm must be in [1, 4], got 5}}
  attn.program_grid (%s, %h, %b) in (%n, %n, %n) block_m(128)
      plan(<stages = 2, ping_pong = true, pv_schedule = serial, persistent_ctas = 0,
            paired_tiles = false, epilogue = direct, ctas_per_sm = 5,
            producer_registers = 24, consumer_registers = 240>) {
  }
  return
}

// -----

// hopper_plan: register budgets
func.func @f(%n: index) {
  // expected-error @+2 {{register budgets must be multiples of 8 in [24, 256], got 244}}
  attn.program_grid (%s, %h, %b) in (%n, %n, %n) block_m(128)
      plan(<stages = 2, ping_pong = true, pv_schedule = serial, persistent_ctas = 0,
            paired_tiles = false, epilogue = direct, ctas_per_sm = 1,
            producer_registers = 24, consumer_registers = 244>) {
  }
  return
}

// -----

// hopper_plan: an unknown schedule (generated enum parser)
func.func @f(%n: index) {
  // expected-error @+3 {{expected ::mlir::attn::PvSchedule to be one of: serial, deferred, overlap}}
  // expected-error @+2 {{failed to parse Attn_HopperPlanAttr parameter 'pv_schedule'}}
  attn.program_grid (%s, %h, %b) in (%n, %n, %n) block_m(128)
      plan(<stages = 2, ping_pong = true, pv_schedule = eager, persistent_ctas = 0,
            paired_tiles = false, epilogue = direct, ctas_per_sm = 1,
            producer_registers = 24, consumer_registers = 240>) {
  }
  return
}

// -----

// block_grad_init: at least one tile
func.func @f() {
  // expected-error @+1 {{must make at least one tile}}
  "attn.block_grad_init"() : () -> ()
  return
}

// -----

// block_grad_init: f32 tiles
func.func @f() {
  // expected-error @+1 {{'tile' must hold f32, got 'bf16'}}
  %t = attn.block_grad_init : tensor<16x64xbf16>
  return
}

// -----

// block_grad_delta: 'out' and 'dout' alike
func.func @f(%o: tensor<32x64xf32>, %do: tensor<32x32xf32>) {
  // expected-error @+1 {{'out' and 'dout' must have the same shape}}
  %d = attn.block_grad_delta out(%o) dout(%do) : tensor<32x64xf32>, tensor<32x32xf32> -> tensor<32xf32>
  return
}

// -----

// block_grad_delta: D per row of 'out'
func.func @f(%o: tensor<32x64xf32>) {
  // expected-error @+1 {{'delta' dim 0 (16) must equal the rows of 'out' (32)}}
  %d = attn.block_grad_delta out(%o) dout(%o) : tensor<32x64xf32>, tensor<32x64xf32> -> tensor<16xf32>
  return
}

// -----

// block_grad_delta: dLSE per row of 'out', in f32
func.func @f(%o: tensor<32x64xf32>, %dl: tensor<32xf16>) {
  // expected-error @+1 {{'dlse' must hold f32, got 'f16'}}
  %d = attn.block_grad_delta out(%o) dout(%o) dlse(%dl) : tensor<32x64xf32>, tensor<32x64xf32>, tensor<32xf16> -> tensor<32xf32>
  return
}

// -----

// block_grad_update: LSE is an f32 row vector
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %v: tensor<16x32xf32>, %do: tensor<32x32xf32>, %l: tensor<32x1xf32>, %d: tensor<32xf32>, %dk: tensor<16x64xf32>, %dv: tensor<16x32xf32>, %i: index) {
  // expected-error @+1 {{'lse' must be a static rank-1 tile, got 'tensor<32x1xf32>'}}
  %r:3 = attn.block_grad_update q(%q) k(%k) v(%v) dout(%do) lse(%l) delta(%d) state(%dk, %dv)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x32xf32>, tensor<32x32xf32>, tensor<32x1xf32>, tensor<32xf32>, tensor<16x64xf32>, tensor<16x32xf32> -> tensor<32x64xf32>
  return
}

// -----

// block_grad_update: the state holds f32
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %v: tensor<16x32xf32>, %do: tensor<32x32xf32>, %l: tensor<32xf32>, %d: tensor<32xf32>, %dk: tensor<16x64xbf16>, %dv: tensor<16x32xf32>, %i: index) {
  // expected-error @+1 {{'dkey' must hold f32, got 'bf16'}}
  %r:3 = attn.block_grad_update q(%q) k(%k) v(%v) dout(%do) lse(%l) delta(%d) state(%dk, %dv)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<16x64xbf16>, tensor<16x32xf32> -> tensor<32x64xf32>
  return
}

// -----

// block_grad_update: K's head dim is Q's
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>, %do: tensor<32x32xf32>, %l: tensor<32xf32>, %d: tensor<32xf32>, %dk: tensor<16x64xf32>, %dv: tensor<16x32xf32>, %i: index) {
  // expected-error @+1 {{'key' dim 1 (32) must equal the head dim of 'query' (64)}}
  %r:3 = attn.block_grad_update q(%q) k(%k) v(%v) dout(%do) lse(%l) delta(%d) state(%dk, %dv)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : tensor<32x64xf32>, tensor<16x32xf32>, tensor<16x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<16x64xf32>, tensor<16x32xf32> -> tensor<32x64xf32>
  return
}

// -----

// block_grad_update: dO has Q's rows
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %v: tensor<16x32xf32>, %do: tensor<16x32xf32>, %l: tensor<32xf32>, %d: tensor<32xf32>, %dk: tensor<16x64xf32>, %dv: tensor<16x32xf32>, %i: index) {
  // expected-error @+1 {{'dout' dim 0 (16) must equal the rows of 'query' (32)}}
  %r:3 = attn.block_grad_update q(%q) k(%k) v(%v) dout(%do) lse(%l) delta(%d) state(%dk, %dv)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x32xf32>, tensor<16x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<16x64xf32>, tensor<16x32xf32> -> tensor<32x64xf32>
  return
}

// -----

// block_grad_update: D has Q's rows
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %v: tensor<16x32xf32>, %do: tensor<32x32xf32>, %l: tensor<32xf32>, %d: tensor<16xf32>, %dk: tensor<16x64xf32>, %dv: tensor<16x32xf32>, %i: index) {
  // expected-error @+1 {{'delta' dim 0 (16) must equal the rows of 'query' (32)}}
  %r:3 = attn.block_grad_update q(%q) k(%k) v(%v) dout(%do) lse(%l) delta(%d) state(%dk, %dv)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<16xf32>, tensor<16x64xf32>, tensor<16x32xf32> -> tensor<32x64xf32>
  return
}

// -----

// block_grad_update: dV is [BN, Dv]
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %v: tensor<16x32xf32>, %do: tensor<32x32xf32>, %l: tensor<32xf32>, %d: tensor<32xf32>, %dk: tensor<16x64xf32>, %dv: tensor<16x64xf32>, %i: index) {
  // expected-error @+1 {{'dvalue' dim 1 (64) must equal the head dim of 'value' (32)}}
  %r:3 = attn.block_grad_update q(%q) k(%k) v(%v) dout(%do) lse(%l) delta(%d) state(%dk, %dv)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<16x64xf32>, tensor<16x64xf32> -> tensor<32x64xf32>
  return
}

// -----

// block_grad_update: dQ is [BM, D]
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %v: tensor<16x32xf32>, %do: tensor<32x32xf32>, %l: tensor<32xf32>, %d: tensor<32xf32>, %dk: tensor<16x64xf32>, %dv: tensor<16x32xf32>, %i: index) {
  // expected-error @+1 {{'dquery' dim 0 (16) must equal the rows of 'query' (32)}}
  %r:3 = attn.block_grad_update q(%q) k(%k) v(%v) dout(%do) lse(%l) delta(%d) state(%dk, %dv)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<16x64xf32>, tensor<16x32xf32> -> tensor<16x64xf32>
  return
}

// -----

// block_grad_update: Q and K of one type
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xbf16>, %v: tensor<16x32xf32>, %do: tensor<32x32xf32>, %l: tensor<32xf32>, %d: tensor<32xf32>, %dk: tensor<16x64xf32>, %dv: tensor<16x32xf32>, %i: index) {
  // expected-error @+1 {{'query' and 'key' must hold the same type, got 'f32' and 'bf16'}}
  %r:3 = attn.block_grad_update q(%q) k(%k) v(%v) dout(%do) lse(%l) delta(%d) state(%dk, %dv)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : tensor<32x64xf32>, tensor<16x64xbf16>, tensor<16x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<16x64xf32>, tensor<16x32xf32> -> tensor<32x64xf32>
  return
}

// -----

// block_grad_update: dO and V of one type
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %v: tensor<16x32xf32>, %do: tensor<32x32xbf16>, %l: tensor<32xf32>, %d: tensor<32xf32>, %dk: tensor<16x64xf32>, %dv: tensor<16x32xf32>, %i: index) {
  // expected-error @+1 {{'dout' and 'value' must hold the same type, got 'bf16' and 'f32'}}
  %r:3 = attn.block_grad_update q(%q) k(%k) v(%v) dout(%do) lse(%l) delta(%d) state(%dk, %dv)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x32xf32>, tensor<32x32xbf16>, tensor<32xf32>, tensor<32xf32>, tensor<16x64xf32>, tensor<16x32xf32> -> tensor<32x64xf32>
  return
}

// -----

// block_grad_update: a positive scale
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %v: tensor<16x32xf32>, %do: tensor<32x32xf32>, %l: tensor<32xf32>, %d: tensor<32xf32>, %dk: tensor<16x64xf32>, %dv: tensor<16x32xf32>, %i: index) {
  // expected-error @+1 {{'scale' must be finite and > 0}}
  %r:3 = attn.block_grad_update q(%q) k(%k) v(%v) dout(%do) lse(%l) delta(%d) state(%dk, %dv)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.0 : f32}
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<16x64xf32>, tensor<16x32xf32> -> tensor<32x64xf32>
  return
}

// -----

// block_grad_update: softcap >= 0
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %v: tensor<16x32xf32>, %do: tensor<32x32xf32>, %l: tensor<32xf32>, %d: tensor<32xf32>, %dk: tensor<16x64xf32>, %dv: tensor<16x32xf32>, %i: index) {
  // expected-error @+1 {{'softcap' must be finite and >= 0}}
  %r:3 = attn.block_grad_update q(%q) k(%k) v(%v) dout(%do) lse(%l) delta(%d) state(%dk, %dv)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32, softcap = -1.0 : f32}
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<16x64xf32>, tensor<16x32xf32> -> tensor<32x64xf32>
  return
}

// -----

// block_grad_update: mask_mod only in masked blocks
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %v: tensor<16x32xf32>, %do: tensor<32x32xf32>, %l: tensor<32xf32>, %d: tensor<32xf32>, %dk: tensor<16x64xf32>, %dv: tensor<16x32xf32>, %i: index) {
  // expected-error @+1 {{a block with a 'mask_mod' region must be 'masked': mask_mod hides keys in any block}}
  %r:3 = attn.block_grad_update q(%q) k(%k) v(%v) dout(%do) lse(%l) delta(%d) state(%dk, %dv)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %t = arith.cmpi uge, %qi, %kj : index
        attn.yield %t : i1
      }
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<16x64xf32>, tensor<16x32xf32> -> tensor<32x64xf32>
  return
}

// -----

// block_grad_update: a derivative needs its score_mod
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %v: tensor<16x32xf32>, %do: tensor<32x32xf32>, %l: tensor<32xf32>, %d: tensor<32xf32>, %dk: tensor<16x64xf32>, %dv: tensor<16x32xf32>, %i: index) {
  // expected-error @+1 {{a 'score_mod_grad' region needs the 'score_mod' it is the derivative of}}
  %r:3 = attn.block_grad_update q(%q) k(%k) v(%v) dout(%do) lse(%l) delta(%d) state(%dk, %dv)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      score_mod_grad {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        attn.yield %s : f32
      }
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<16x64xf32>, tensor<16x32xf32> -> tensor<32x64xf32>
  return
}

// -----

// block_grad_update: the derivative has the score_mod's signature
func.func @f(%q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %v: tensor<16x32xf32>, %do: tensor<32x32xf32>, %l: tensor<32xf32>, %d: tensor<32xf32>, %dk: tensor<16x64xf32>, %dv: tensor<16x32xf32>, %i: index) {
  // expected-error @+1 {{'score_mod_grad' region must yield exactly one 'f32', got ('f16')}}
  %r:3 = attn.block_grad_update q(%q) k(%k) v(%v) dout(%do) lse(%l) delta(%d) state(%dk, %dv)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        attn.yield %s : f32
      } score_mod_grad {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %x = arith.truncf %s : f32 to f16
        attn.yield %x : f16
      }
      : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<16x64xf32>, tensor<16x32xf32> -> tensor<32x64xf32>
  return
}

// -----

// block_grad_finalize: dV has dK's rows
func.func @f(%dk: tensor<16x64xf32>, %dv: tensor<32x64xf32>, %o: memref<1x64x2x64xbf16>, %i: index) {
  // expected-error @+1 {{'dvalue' dim 0 (32) must equal the rows of 'dkey' (16)}}
  attn.block_grad_finalize state(%dk, %dv) rows(%i) into %o, %o[%i, %i, %i] {scale = 0.125 : f32}
      : tensor<16x64xf32>, tensor<32x64xf32>, memref<1x64x2x64xbf16>, memref<1x64x2x64xbf16>
  return
}

// -----

// block_grad_finalize: rank-4 destinations
func.func @f(%dk: tensor<16x64xf32>, %o: memref<64x2x64xbf16>, %o4: memref<1x64x2x64xbf16>, %i: index) {
  // expected-error @+1 {{'dkey_out' must have rank 4 [B, Sk, Hkv, D], got rank 3}}
  attn.block_grad_finalize state(%dk, %dk) rows(%i) into %o, %o4[%i, %i, %i] {scale = 0.125 : f32}
      : tensor<16x64xf32>, tensor<16x64xf32>, memref<64x2x64xbf16>, memref<1x64x2x64xbf16>
  return
}

// -----

// block_grad_finalize: float destinations
func.func @f(%dk: tensor<16x64xf32>, %o: memref<1x64x2x64xi32>, %o4: memref<1x64x2x64xbf16>, %i: index) {
  // expected-error @+1 {{'dvalue_out' must hold floats, got 'i32'}}
  attn.block_grad_finalize state(%dk, %dk) rows(%i) into %o4, %o[%i, %i, %i] {scale = 0.125 : f32}
      : tensor<16x64xf32>, tensor<16x64xf32>, memref<1x64x2x64xbf16>, memref<1x64x2x64xi32>
  return
}

// -----

// block_grad_finalize: head dims match the tiles
func.func @f(%dk: tensor<16x64xf32>, %o: memref<1x64x2x32xbf16>, %o4: memref<1x64x2x64xbf16>, %i: index) {
  // expected-error @+1 {{'dvalue_out' head dim (32) must equal the columns of its tile (64)}}
  attn.block_grad_finalize state(%dk, %dk) rows(%i) into %o4, %o[%i, %i, %i] {scale = 0.125 : f32}
      : tensor<16x64xf32>, tensor<16x64xf32>, memref<1x64x2x64xbf16>, memref<1x64x2x32xbf16>
  return
}

// -----

// block_grad_finalize: a positive scale
func.func @f(%dk: tensor<16x64xf32>, %o4: memref<1x64x2x64xbf16>, %i: index) {
  // expected-error @+1 {{'scale' must be finite and > 0}}
  attn.block_grad_finalize state(%dk, %dk) rows(%i) into %o4, %o4[%i, %i, %i] {scale = -1.0 : f32}
      : tensor<16x64xf32>, tensor<16x64xf32>, memref<1x64x2x64xbf16>, memref<1x64x2x64xbf16>
  return
}

// -----

// tile_load: a rank-1 tile reads per-row values from [B, H, S]
func.func @f(%src: memref<1x64x2x64xf32>, %e: tensor<32xf32>, %i: index) {
  // expected-error @+1 {{a rank-1 tile loads from a 'source' [B, H, S], got rank 4}}
  %t = attn.tile_load %src[%i, %i, %i] rows(%i) into %e : memref<1x64x2x64xf32>, tensor<32xf32> -> tensor<32xf32>
  return
}

// -----

// program_grid: an unknown kind (generated enum parser)
func.func @f(%n: index) {
  // expected-error @+2 {{expected ::mlir::attn::ProgramKind to be one of: forward, grad_preprocess, grad_kv, grad_postprocess}}
  // expected-error @+1 {{failed to parse Attn_ProgramKindAttr parameter 'value'}}
  attn.program_grid (%s, %h, %b) in (%n, %n, %n) block_m(128) attributes {kind = #attn.program_kind<grad>} {
  }
  return
}
