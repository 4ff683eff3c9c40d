// RUN: attn-opt %s -split-input-file -attn-online-softmax | FileCheck %s
// RUN: attn-opt %s -split-input-file -attn-online-softmax=test-drop-alpha=1 | FileCheck %s --check-prefix=DROP

// An unmasked block without modifiers (c = scale·log2 e = 0.125·1.4427):
//   S      = Q·Kᵀ
//   S      = -inf past the block's columns, in the ragged last block only
//   m_new  = max(m, c·rowmax(S))
//   m_safe = m_new == -inf ? 0 : m_new
//   alpha  = exp2(m - m_safe)
//   P      = exp2(fma(S, c, -m_safe))
//   l      = l·alpha + rowsum(P)
//   acc    = acc·alpha + P·V           (P rounded to V's bf16)
// CHECK-LABEL: func.func @interior_block
// CHECK-SAME: %[[Q:[^:]+]]: tensor<64x64xbf16>, %[[K:[^:]+]]: tensor<32x64xbf16>, %[[V:[^:]+]]: tensor<32x64xbf16>, %[[ACC:[^:]+]]: tensor<64x64xf32>, %[[M:[^:]+]]: tensor<64xf32>, %[[L:[^:]+]]: tensor<64xf32>
// Scratch tiles: allocated once, at the top.
// CHECK-DAG: %[[ES:.+]] = bufferization.alloc_tensor() : tensor<64x32xf32>
// CHECK-DAG: %[[EP:.+]] = bufferization.alloc_tensor() : tensor<64x32xbf16>
// CHECK-DAG: bufferization.alloc_tensor() : tensor<64xf32>
// CHECK: %[[Z:.+]] = attn.tile_fill %{{.+}} into %[[ES]]
// CHECK: %[[S:.+]] = attn.tile_matmul %[[Q]], %[[K]] transpose_rhs into %[[Z]]
// CHECK: %[[RAGGED:.+]] = arith.cmpi slt, %{{.+}}, %c32
// CHECK: %[[SM:.+]] = scf.if %[[RAGGED]] -> (tensor<64x32xf32>) {
// CHECK:   attn.tile_mask %[[S]] into %[[S]] {{.*}} attributes {mask = #attn.mask<none>}
// CHECK: } else {
// CHECK:   scf.yield %[[S]]
// CHECK: %[[NEGINF:.+]] = attn.tile_fill %{{.+}} into %{{.+}} : f32, tensor<64xf32>
// CHECK: %[[RM:.+]] = attn.tile_reduce max %[[SM]] into %[[NEGINF]]
// CHECK: %[[ALPHA:.+]] = attn.tile_map ins(%[[M]], %[[RM]] : {{.*}}) into %{{.+}} :
// CHECK:   arith.constant 0.180336878 : f32
// CHECK:   arith.maximumf
// CHECK:   arith.cmpf oeq
// CHECK:   arith.select
// CHECK:   arith.subf
// CHECK:   math.exp2
// The running max updated in place, after alpha read it.
// CHECK: %[[MNEW:.+]] = attn.tile_map ins(%[[M]], %[[RM]] : {{.*}}) into %[[M]]
// CHECK:   arith.maximumf
// CHECK: %[[NEGSAFE:.+]] = attn.tile_map ins(%[[MNEW]] : tensor<64xf32>) into %{{.+}} :
// CHECK:   arith.negf
// CHECK: %[[P:.+]] = attn.tile_map ins(%[[SM]], %[[NEGSAFE]] : tensor<64x32xf32>, tensor<64xf32>) into %[[SM]]
// CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %[[NM:.+]]: f32):
// CHECK-NEXT:   %[[C:.+]] = arith.constant 0.180336878 : f32
// CHECK-NEXT:   %[[T:.+]] = math.fma %[[X]], %[[C]], %[[NM]] : f32
// CHECK-NEXT:   %[[E:.+]] = math.exp2 %[[T]] : f32
// CHECK-NEXT:   attn.yield %[[E]] : f32
// CHECK: %[[LA:.+]] = attn.tile_map ins(%[[L]], %[[ALPHA]] : {{.*}}) into %[[L]]
// CHECK: %[[LNEW:.+]] = attn.tile_reduce add %[[P]] into %[[LA]]
// CHECK: %[[AA:.+]] = attn.tile_map ins(%[[ACC]], %[[ALPHA]] : tensor<64x64xf32>, tensor<64xf32>) into %[[ACC]]
// CHECK: %[[PB:.+]] = attn.tile_map ins(%[[P]] : tensor<64x32xf32>) into %[[EP]]
// CHECK:   arith.truncf %{{.+}} : f32 to bf16
// CHECK: %[[ACCNEW:.+]] = attn.tile_matmul %[[PB]], %[[V]] into %[[AA]]
// CHECK: return %[[ACCNEW]], %[[MNEW]], %[[LNEW]]

// test-drop-alpha: alpha is 1, the rescale a no-op (a wrong kernel).
// DROP-LABEL: func.func @interior_block
// DROP: attn.tile_map ins(%{{.+}}, %{{.+}} : tensor<64xf32>, tensor<64xf32>) into %{{.+}} : tensor<64xf32> {
// DROP-NEXT: ^bb0
// DROP-NEXT: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// DROP-NEXT: attn.yield %[[ONE]] : f32
func.func @interior_block(%q: tensor<64x64xbf16>, %k: tensor<32x64xbf16>, %v: tensor<32x64xbf16>,
                          %acc: tensor<64x64xf32>, %m: tensor<64xf32>, %l: tensor<64xf32>,
                          %rows: index, %cols: index, %b: index, %h: index, %qp: index, %kp: index)
    -> (tensor<64x64xf32>, tensor<64xf32>, tensor<64xf32>) {
  %r:3 = attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %l) rows(%rows) cols(%cols)
      seq(%b) head(%h) q_pos(%qp) kv_pos(%kp) diag(%kp)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x64xf32>, tensor<64xf32>, tensor<64xf32>
  return %r#0, %r#1, %r#2 : tensor<64x64xf32>, tensor<64xf32>, tensor<64xf32>
}

// -----

// A masked block with softcap, score_mod and mask_mod, on f32 tiles (the CPU
// target's): the transforms work on the natural-domain score, then c = log2 e.
//   S = softcap·tanh(S·scale/softcap)          scale/softcap = 0.5/20
//   S = score_mod(S, seq, head, q_pos + i, kv_pos + j)
//   S = -inf where the window, mask_mod or the block's end hides the key
// No rounding of P: V holds f32.
// CHECK-LABEL: func.func @boundary_block
// CHECK: %[[S:.+]] = attn.tile_matmul
// CHECK: %[[SC:.+]] = attn.tile_map ins(%[[S]] : tensor<16x32xf32>) into %[[S]]
// CHECK-DAG:   arith.constant 2.500000e-02 : f32
// CHECK-DAG:   arith.constant 2.000000e+01 : f32
// CHECK:   math.tanh
// CHECK: %[[SM:.+]] = attn.tile_score_mod %[[SC]] into %[[SC]] seq(%{{.+}}) head(%{{.+}}) q_pos(%{{.+}}) kv_pos(%{{.+}}) rows(%{{.+}}) cols(%{{.+}})
// CHECK:   memref.load
// CHECK: %[[MK:.+]] = attn.tile_mask %[[SM]] into %[[SM]] {{.*}} attributes {mask = #attn.mask<window [4, 0], bottom_right>} mask_mod {
// CHECK:   arith.cmpi
// CHECK: attn.tile_reduce max %[[MK]]
// CHECK:   arith.constant 1.44269502 : f32
// CHECK-NOT: arith.truncf
// CHECK: attn.tile_matmul %{{.+}}, %{{.+}} into
func.func @boundary_block(%q: tensor<16x8xf32>, %k: tensor<32x8xf32>, %v: tensor<32x8xf32>,
                          %acc: tensor<16x8xf32>, %m: tensor<16xf32>, %l: tensor<16xf32>,
                          %rows: index, %cols: index, %b: index, %h: index, %qp: index, %kp: index,
                          %bias: memref<4xf32>) -> tensor<16x8xf32> {
  %r:3 = attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %l) rows(%rows) cols(%cols)
      seq(%b) head(%h) q_pos(%qp) kv_pos(%kp) diag(%kp) masked
      attributes {mask = #attn.mask<window [4, 0], bottom_right>, scale = 0.5 : f32, softcap = 20.0 : f32}
      score_mod {
      ^bb0(%s: f32, %bb: index, %hh: index, %i: index, %j: index):
        %x = memref.load %bias[%hh] : memref<4xf32>
        %y = arith.addf %s, %x : f32
        attn.yield %y : f32
      } mask_mod {
      ^bb0(%bb: index, %hh: index, %i: index, %j: index):
        %t = arith.cmpi ne, %i, %j : index
        attn.yield %t : i1
      }
      : tensor<16x8xf32>, tensor<32x8xf32>, tensor<32x8xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<16xf32>
  return %r#0 : tensor<16x8xf32>
}

// -----

// acc = 0, m = -inf, l = 0
// CHECK-LABEL: func.func @init
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: attn.tile_fill %[[ZERO]] into %{{.+}} : f32, tensor<16x8xf32>
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: attn.tile_fill %[[NEGINF]] into %{{.+}} : f32, tensor<16xf32>
// CHECK: %[[ZERO2:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: attn.tile_fill %[[ZERO2]] into %{{.+}} : f32, tensor<16xf32>
func.func @init() -> (tensor<16x8xf32>, tensor<16xf32>, tensor<16xf32>) {
  %a, %m, %l = attn.block_init : tensor<16x8xf32>, tensor<16xf32>, tensor<16xf32>
  return %a, %m, %l : tensor<16x8xf32>, tensor<16xf32>, tensor<16xf32>
}

// -----

// O = acc·inv with inv = l != 0 ? 1/l : 0 (a NaN l is not 0: it reaches O),
// written in place of acc; LSE = l != 0 ? (m + log2 l)·ln 2 : -inf.
// CHECK-LABEL: func.func @finalize
// CHECK-SAME: %[[ACC:[^:]+]]: tensor<16x8xf32>, %[[M:[^:]+]]: tensor<16xf32>, %[[L:[^:]+]]: tensor<16xf32>, %[[ROWS:[^:]+]]: index, %[[O:[^:]+]]: memref<1x40x2x8xbf16>, %[[LSE:[^:]+]]: memref<1x2x40xf32>, %[[R:[^:]+]]: index
// CHECK: %[[INV:.+]] = attn.tile_map ins(%[[L]] : tensor<16xf32>)
// CHECK:   arith.divf
// CHECK:   arith.cmpf une
// CHECK:   arith.select
// CHECK: %[[OUT:.+]] = attn.tile_map ins(%[[ACC]], %[[INV]] : tensor<16x8xf32>, tensor<16xf32>) into %[[ACC]]
// CHECK: attn.tile_store %[[OUT]] into %[[O]][%{{.+}}, %[[R]], %{{.+}}] rows(%[[ROWS]])
// CHECK: %[[LV:.+]] = attn.tile_map ins(%[[M]], %[[L]] : tensor<16xf32>, tensor<16xf32>)
// CHECK:   math.log2
// CHECK:   arith.constant 0.693147182 : f32
// CHECK:   arith.cmpf une
// CHECK: attn.tile_store %[[LV]] into %[[LSE]][%{{.+}}, %[[R]], %{{.+}}] rows(%[[ROWS]]) : tensor<16xf32>, memref<1x2x40xf32>
func.func @finalize(%acc: tensor<16x8xf32>, %m: tensor<16xf32>, %l: tensor<16xf32>, %rows: index,
                    %o: memref<1x40x2x8xbf16>, %lse: memref<1x2x40xf32>, %r: index, %b: index, %h: index) {
  attn.block_finalize state(%acc, %m, %l) rows(%rows) into %o[%b, %r, %h] lse(%lse)
      : tensor<16x8xf32>, tensor<16xf32>, tensor<16xf32>, memref<1x40x2x8xbf16>, memref<1x2x40xf32>
  return
}
