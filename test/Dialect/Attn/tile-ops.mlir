// Round trip of the tiled (L1) and online-softmax (L2) level ops, custom and
// generic form, on tile values and (L2) on bufferized tiles.
// RUN: attn-opt %s -split-input-file | attn-opt -split-input-file | FileCheck %s
// RUN: attn-opt %s -split-input-file -mlir-print-op-generic | attn-opt -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @program
// CHECK: attn.program_grid (%[[SEQ:.+]], %[[HEAD:.+]], %[[QB:.+]]) in (%{{.+}}, %{{.+}}, %{{.+}}) block_m(32) {
// CHECK: attn.tile_load %{{.+}}[%[[SEQ]], %{{.+}}, %[[HEAD]]] rows(%{{.+}}) into %{{.+}} : memref<2x?x8x64xbf16>, tensor<32x64xbf16> -> tensor<32x64xbf16>
// CHECK: attn.tile_load %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] rows(%{{.+}}) scale(%{{.+}}) into %{{.+}} : memref<2x?x8x64xf8E4M3FN>, tensor<32x64xf32> -> tensor<32x64xf32>
// CHECK: %[[ACC:.+]], %[[MAX:.+]], %[[SUM:.+]] = attn.block_init : tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>
// CHECK: attn.block_update q(%{{.+}}) k(%{{.+}}) v(%{{.+}}) state(%[[ACC]], %[[MAX]], %[[SUM]]) rows(%{{.+}}) cols(%{{.+}}) seq(%{{.+}}) head(%{{.+}}) q_pos(%{{.+}}) kv_pos(%{{.+}}) diag(%{{.+}}) attributes {mask = #attn.mask<none>, scale = 1.250000e-01 : f32} : tensor<32x64xbf16>, tensor<16x64xbf16>, tensor<16x64xbf16>, tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>
// CHECK: attn.block_update {{.*}} masked attributes {mask = #attn.mask<window [8, 0], top_left>, scale = 1.250000e-01 : f32, softcap = 2.000000e+01 : f32} score_mod {
// CHECK-NEXT: ^bb0(%score: f32, %b: index, %h: index, %q_idx: index, %kv_idx: index):
// CHECK: } mask_mod {
// CHECK-NEXT: ^bb0(%b: index, %h: index, %q_idx: index, %kv_idx: index):
// CHECK: } : tensor<32x64xbf16>
// CHECK: attn.block_finalize state({{.*}}) rows(%{{.+}}) into %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] lse(%{{.+}}) : tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>, memref<2x?x8x64xbf16>, memref<2x8x?xf32>
// CHECK: attn.block_finalize state({{.*}}) rows(%{{.+}}) into %{{.+}}[{{.*}}] : tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>, memref<2x?x8x64xbf16>{{$}}
func.func @program(%q: memref<2x?x8x64xbf16>, %o: memref<2x?x8x64xbf16>, %lse: memref<2x8x?xf32>,
                   %n: index, %q8: memref<2x?x8x64xf8E4M3FN>, %descale: f32) {
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  attn.program_grid (%seq, %head, %qb) in (%c2, %c8, %n) block_m(32) {
    %e = tensor.empty() : tensor<32x64xbf16>
    %qt = attn.tile_load %q[%seq, %qb, %head] rows(%n) into %e
        : memref<2x?x8x64xbf16>, tensor<32x64xbf16> -> tensor<32x64xbf16>
    %ef = tensor.empty() : tensor<32x64xf32>
    %q8t = attn.tile_load %q8[%seq, %qb, %head] rows(%n) scale(%descale) into %ef
        : memref<2x?x8x64xf8E4M3FN>, tensor<32x64xf32> -> tensor<32x64xf32>
    %ek = tensor.empty() : tensor<16x64xbf16>
    %kt = attn.tile_load %q[%seq, %qb, %head] rows(%n) into %ek
        : memref<2x?x8x64xbf16>, tensor<16x64xbf16> -> tensor<16x64xbf16>
    %acc, %m, %l = attn.block_init : tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>
    %a1, %m1, %l1 = attn.block_update q(%qt) k(%kt) v(%kt) state(%acc, %m, %l) rows(%n) cols(%n)
        seq(%seq) head(%head) q_pos(%n) kv_pos(%n) diag(%n)
        attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
        : tensor<32x64xbf16>, tensor<16x64xbf16>, tensor<16x64xbf16>, tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>
    %a2, %m2, %l2 = attn.block_update q(%qt) k(%kt) v(%kt) state(%a1, %m1, %l1) rows(%n) cols(%n)
        seq(%seq) head(%head) q_pos(%n) kv_pos(%n) diag(%n) masked
        attributes {mask = #attn.mask<window [8, 0], top_left>, scale = 0.125 : f32, softcap = 20.0 : f32}
        score_mod {
        ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
          attn.yield %s : f32
        } mask_mod {
        ^bb0(%b: index, %h: index, %qi: index, %kj: index):
          %t = arith.cmpi uge, %qi, %kj : index
          attn.yield %t : i1
        }
        : tensor<32x64xbf16>, tensor<16x64xbf16>, tensor<16x64xbf16>, tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>
    attn.block_finalize state(%a2, %m2, %l2) rows(%n) into %o[%seq, %qb, %head] lse(%lse)
        : tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>, memref<2x?x8x64xbf16>, memref<2x8x?xf32>
    attn.block_finalize state(%a2, %m2, %l2) rows(%n) into %o[%seq, %qb, %head]
        : tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>, memref<2x?x8x64xbf16>
  }
  return
}

// -----

// CHECK-LABEL: func.func @grid_attributes
// CHECK: attn.program_grid (%{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}}, %{{.+}}, %{{.+}}) block_m(128) block_sparse plan(<stages = 2, ping_pong = true, pv_schedule = overlap, persistent_ctas = 0, paired_tiles = false, epilogue = tma_in_q, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>) {
func.func @grid_attributes(%n: index) {
  attn.program_grid (%s, %h, %b) in (%n, %n, %n) block_m(128) block_sparse
      plan(<stages = 2, ping_pong = true, pv_schedule = overlap, persistent_ctas = 0,
            paired_tiles = false, epilogue = tma_in_q, ctas_per_sm = 1,
            producer_registers = 24, consumer_registers = 240>) {
  }
  return
}

// -----

// The L2 ops on values.
// CHECK-LABEL: func.func @online
// CHECK: %[[Z:.+]] = attn.tile_fill %{{.+}} into %{{.+}} : f32, tensor<64x128xf32> -> tensor<64x128xf32>
// CHECK: %[[S:.+]] = attn.tile_matmul %{{.+}}, %{{.+}} transpose_rhs into %[[Z]] : tensor<64x64xbf16>, tensor<128x64xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
// CHECK: attn.tile_matmul %{{.+}}, %{{.+}} transpose_lhs into %{{.+}} : tensor<128x64xbf16>, tensor<128x64xbf16>, tensor<64x64xf32> -> tensor<64x64xf32>
// CHECK: %[[M:.+]] = attn.tile_reduce max %[[S]] into %{{.+}} : tensor<64x128xf32>, tensor<64xf32> -> tensor<64xf32>
// CHECK: attn.tile_reduce add %[[S]] into %{{.+}} : tensor<64x128xf32>, tensor<64xf32> -> tensor<64xf32>
// CHECK: attn.tile_map ins(%[[S]], %[[M]] : tensor<64x128xf32>, tensor<64xf32>) into %[[S]] : tensor<64x128xf32> {
// CHECK-NEXT: ^bb0(%{{.+}}: f32, %{{.+}}: f32):
// CHECK: math.fma
// CHECK: math.exp2
// CHECK: attn.yield %{{.+}} : f32
// CHECK-NEXT: } -> tensor<64x128xf32>
// CHECK: attn.tile_mask %{{.+}} into %{{.+}} q_pos(%{{.+}}) kv_pos(%{{.+}}) diag(%{{.+}}) rows(%{{.+}}) cols(%{{.+}}) seq(%{{.+}}) head(%{{.+}}) attributes {mask = #attn.mask<causal, bottom_right>} mask_mod {
// CHECK: } : tensor<64x128xf32> -> tensor<64x128xf32>
// CHECK: attn.tile_mask %{{.+}} into %{{.+}} {{.*}} attributes {hide_rows, mask = #attn.mask<none>} : tensor<64x128xf32> -> tensor<64x128xf32>
// CHECK: attn.tile_score_mod %{{.+}} into %{{.+}} seq(%{{.+}}) head(%{{.+}}) q_pos(%{{.+}}) kv_pos(%{{.+}}) rows(%{{.+}}) cols(%{{.+}}) : tensor<64x128xf32> {
// CHECK-NEXT: ^bb0(%score: f32, %b: index, %h: index, %q_idx: index, %kv_idx: index):
// CHECK: } -> tensor<64x128xf32>
// CHECK: attn.tile_store %{{.+}} into %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] rows(%{{.+}}) : tensor<64x128xf32>, memref<1x100x2x128xbf16>
// CHECK: attn.tile_store %{{.+}} into %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] rows(%{{.+}}) accumulate : tensor<64xf32>, memref<1x2x100xf32>
// CHECK: attn.tile_store %{{.+}} into %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] rows(%{{.+}}) column(%{{.+}}) accumulate : tensor<64x64xf32>, memref<1x100x2x128xf32>
func.func @online(%q: tensor<64x64xbf16>, %k: tensor<128x64xbf16>, %o: memref<1x100x2x128xbf16>,
                  %lse: memref<1x2x100xf32>, %i: index, %half: tensor<64x64xf32>,
                  %acc: memref<1x100x2x128xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.18 : f32
  %e = tensor.empty() : tensor<64x128xf32>
  %er = tensor.empty() : tensor<64xf32>
  %ed = tensor.empty() : tensor<64x64xf32>
  %z = attn.tile_fill %zero into %e : f32, tensor<64x128xf32> -> tensor<64x128xf32>
  %s = attn.tile_matmul %q, %k transpose_rhs into %z
      : tensor<64x64xbf16>, tensor<128x64xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
  %d = attn.tile_matmul %k, %k transpose_lhs into %ed
      : tensor<128x64xbf16>, tensor<128x64xbf16>, tensor<64x64xf32> -> tensor<64x64xf32>
  %m = attn.tile_reduce max %s into %er : tensor<64x128xf32>, tensor<64xf32> -> tensor<64xf32>
  %l = attn.tile_reduce add %s into %er : tensor<64x128xf32>, tensor<64xf32> -> tensor<64xf32>
  %p = attn.tile_map ins(%s, %m : tensor<64x128xf32>, tensor<64xf32>) into %s : tensor<64x128xf32> {
  ^bb0(%x: f32, %mi: f32):
    %t = math.fma %x, %c, %mi : f32
    %y = math.exp2 %t : f32
    attn.yield %y : f32
  } -> tensor<64x128xf32>
  %sm = attn.tile_mask %p into %p q_pos(%i) kv_pos(%i) diag(%i) rows(%i) cols(%i) seq(%i) head(%i)
      attributes {mask = #attn.mask<causal, bottom_right>} mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %t = arith.cmpi uge, %qi, %kj : index
        attn.yield %t : i1
      } : tensor<64x128xf32> -> tensor<64x128xf32>
  %sh = attn.tile_mask %sm into %sm q_pos(%i) kv_pos(%i) diag(%i) rows(%i) cols(%i) seq(%i) head(%i)
      attributes {hide_rows, mask = #attn.mask<none>} : tensor<64x128xf32> -> tensor<64x128xf32>
  %sc = attn.tile_score_mod %sh into %sh seq(%i) head(%i) q_pos(%i) kv_pos(%i) rows(%i) cols(%i)
      : tensor<64x128xf32> {
  ^bb0(%x: f32, %b: index, %h: index, %qi: index, %kj: index):
    attn.yield %x : f32
  } -> tensor<64x128xf32>
  attn.tile_store %sc into %o[%i, %i, %i] rows(%i) : tensor<64x128xf32>, memref<1x100x2x128xbf16>
  attn.tile_store %l into %lse[%i, %i, %i] rows(%i) accumulate : tensor<64xf32>, memref<1x2x100xf32>
  attn.tile_store %half into %acc[%i, %i, %i] rows(%i) column(%i) accumulate : tensor<64x64xf32>, memref<1x100x2x128xf32>
  return
}

// -----

// The L2 ops on buffers (after attn-bufferize-tiles): no results.
// CHECK-LABEL: func.func @bufferized
// CHECK: attn.tile_fill %{{.+}} into %{{.+}} : f32, memref<64x128xf32>{{$}}
// CHECK: attn.tile_matmul %{{.+}}, %{{.+}} transpose_rhs into %{{.+}} : memref<64x64xf32>, memref<128x64xf32>, memref<64x128xf32>{{$}}
// CHECK: attn.tile_reduce max %{{.+}} into %{{.+}} : memref<64x128xf32>, memref<64xf32>{{$}}
// CHECK: attn.tile_map ins(%{{.+}} : memref<64x128xf32>) into %{{.+}} : memref<64x128xf32> {
// CHECK: attn.tile_load %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] rows(%{{.+}}) into %{{.+}} : memref<1x100x2x64xbf16>, memref<64x64xf32>{{$}}
func.func @bufferized(%q: memref<64x64xf32>, %k: memref<128x64xf32>, %s: memref<64x128xf32>,
                      %m: memref<64xf32>, %src: memref<1x100x2x64xbf16>, %i: index) {
  %zero = arith.constant 0.0 : f32
  attn.tile_fill %zero into %s : f32, memref<64x128xf32>
  attn.tile_matmul %q, %k transpose_rhs into %s : memref<64x64xf32>, memref<128x64xf32>, memref<64x128xf32>
  attn.tile_reduce max %s into %m : memref<64x128xf32>, memref<64xf32>
  attn.tile_map ins(%s : memref<64x128xf32>) into %s : memref<64x128xf32> {
  ^bb0(%x: f32):
    attn.yield %x : f32
  }
  attn.tile_load %src[%i, %i, %i] rows(%i) into %q : memref<1x100x2x64xbf16>, memref<64x64xf32>
  return
}

// -----

// The backward's L1 ops: a KV-stationary program (kind grad_kv: its
// coordinates print as kv_head, kv_block), rank-1 tile loads of LSE and D,
// block_grad_init / block_grad_update (with a score_mod, its derivative and a
// mask_mod) / block_grad_finalize, dQ added to its accumulator; a preprocess
// program's block_grad_delta.
// CHECK-LABEL: func.func @grad_programs
// CHECK: attn.program_grid (%[[SEQ:.+]], %kv_head, %kv_block) in (%{{.+}}, %{{.+}}, %{{.+}}) block_m(16) attributes {kind = #attn.program_kind<grad_kv>} {
// CHECK: %[[L:.+]] = attn.tile_load %{{.+}}[%[[SEQ]], %{{.+}}, %kv_head] rows(%{{.+}}) into %{{.+}} : memref<2x8x?xf32>, tensor<32xf32> -> tensor<32xf32>
// CHECK: %[[DK:.+]]:2 = attn.block_grad_init : tensor<16x64xf32>, tensor<16x32xf32>
// CHECK: %{{.+}}:3 = attn.block_grad_update q(%{{.+}}) k(%{{.+}}) v(%{{.+}}) dout(%{{.+}}) lse(%[[L]]) delta(%[[L]]) state(%[[DK]]#0, %[[DK]]#1) rows(%{{.+}}) cols(%{{.+}}) seq(%[[SEQ]]) head(%kv_head) q_pos(%{{.+}}) kv_pos(%{{.+}}) diag(%{{.+}}) masked attributes {mask = #attn.mask<causal, bottom_right>, scale = 1.250000e-01 : f32, softcap = 2.000000e+01 : f32} score_mod {
// CHECK-NEXT: ^bb0(%score: f32, %b: index, %h: index, %q_idx: index, %kv_idx: index):
// CHECK: } score_mod_grad {
// CHECK-NEXT: ^bb0(%score: f32, %b: index, %h: index, %q_idx: index, %kv_idx: index):
// CHECK: } mask_mod {
// CHECK-NEXT: ^bb0(%b: index, %h: index, %q_idx: index, %kv_idx: index):
// CHECK: } : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<16x64xf32>, tensor<16x32xf32> -> tensor<32x64xf32>
// CHECK: attn.tile_store %{{.+}} into %{{.+}}[%{{.+}}] rows(%{{.+}}) accumulate : tensor<32x64xf32>, memref<2x?x8x64xf32>
// CHECK: attn.block_grad_finalize state(%{{.+}}, %{{.+}}) rows(%{{.+}}) into %{{.+}}, %{{.+}}[%[[SEQ]], %{{.+}}, %kv_head] {scale = 1.250000e-01 : f32} : tensor<16x64xf32>, tensor<16x32xf32>, memref<2x?x4x64xbf16>, memref<2x?x4x32xbf16>
// CHECK: attn.program_grid (%{{.+}}, %head, %q_block) in {{.*}} block_m(32) attributes {kind = #attn.program_kind<grad_preprocess>} {
// CHECK: attn.block_grad_delta out(%{{.+}}) dout(%{{.+}}) dlse(%{{.+}}) : tensor<32x32xbf16>, tensor<32x32xbf16>, tensor<32xf32> -> tensor<32xf32>
// CHECK: attn.block_grad_delta out(%{{.+}}) dout(%{{.+}}) : tensor<32x32xbf16>, tensor<32x32xbf16> -> tensor<32xf32>
func.func @grad_programs(%lse: memref<2x8x?xf32>, %acc: memref<2x?x8x64xf32>,
                         %dk: memref<2x?x4x64xbf16>, %dv: memref<2x?x4x32xbf16>,
                         %q: tensor<32x64xf32>, %k: tensor<16x64xf32>, %v: tensor<16x32xf32>,
                         %do: tensor<32x32xf32>, %o16: tensor<32x32xbf16>, %n: index) {
  attn.program_grid (%seq, %kvh, %kb) in (%n, %n, %n) block_m(16)
      attributes {kind = #attn.program_kind<grad_kv>} {
    %e = bufferization.alloc_tensor() : tensor<32xf32>
    %l = attn.tile_load %lse[%seq, %n, %kvh] rows(%n) into %e
        : memref<2x8x?xf32>, tensor<32xf32> -> tensor<32xf32>
    %dk0, %dv0 = attn.block_grad_init : tensor<16x64xf32>, tensor<16x32xf32>
    %dk1, %dv1, %dq = attn.block_grad_update q(%q) k(%k) v(%v) dout(%do) lse(%l) delta(%l)
        state(%dk0, %dv0) rows(%n) cols(%n) seq(%seq) head(%kvh) q_pos(%n) kv_pos(%n) diag(%n)
        masked attributes {mask = #attn.mask<causal, bottom_right>, scale = 0.125 : f32,
                           softcap = 20.0 : f32}
        score_mod {
        ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
          %x = arith.mulf %s, %s : f32
          attn.yield %x : f32
        } score_mod_grad {
        ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
          %x = arith.addf %s, %s : f32
          attn.yield %x : f32
        } mask_mod {
        ^bb0(%b: index, %h: index, %qi: index, %kj: index):
          %t = arith.cmpi uge, %qi, %kj : index
          attn.yield %t : i1
        }
        : tensor<32x64xf32>, tensor<16x64xf32>, tensor<16x32xf32>, tensor<32x32xf32>,
          tensor<32xf32>, tensor<32xf32>, tensor<16x64xf32>, tensor<16x32xf32> -> tensor<32x64xf32>
    attn.tile_store %dq into %acc[%seq, %n, %kvh] rows(%n) accumulate
        : tensor<32x64xf32>, memref<2x?x8x64xf32>
    attn.block_grad_finalize state(%dk1, %dv1) rows(%n) into %dk, %dv[%seq, %n, %kvh]
        {scale = 0.125 : f32}
        : tensor<16x64xf32>, tensor<16x32xf32>, memref<2x?x4x64xbf16>, memref<2x?x4x32xbf16>
  }
  attn.program_grid (%seq, %h, %qb) in (%n, %n, %n) block_m(32)
      attributes {kind = #attn.program_kind<grad_preprocess>} {
    %e = bufferization.alloc_tensor() : tensor<32xf32>
    %dl = attn.tile_load %lse[%seq, %h, %n] rows(%n) into %e
        : memref<2x8x?xf32>, tensor<32xf32> -> tensor<32xf32>
    %d = attn.block_grad_delta out(%o16) dout(%o16) dlse(%dl)
        : tensor<32x32xbf16>, tensor<32x32xbf16>, tensor<32xf32> -> tensor<32xf32>
    %d2 = attn.block_grad_delta out(%o16) dout(%o16)
        : tensor<32x32xbf16>, tensor<32x32xbf16> -> tensor<32xf32>
  }
  return
}
