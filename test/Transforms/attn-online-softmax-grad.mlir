// RUN: attn-opt %s -split-input-file -attn-online-softmax | FileCheck %s
// RUN: attn-opt %s -split-input-file -attn-online-softmax=test-drop-delta=1 | FileCheck %s --check-prefix=DROP

// The backward's L1 ops into the forward's tile ops (AttnOnlineSoftmaxGrad.cpp).
// An unmasked q-block on bf16 tiles (sm_90a's), no score transform:
// c = scale·log2 e = 0.125·1.4427, and
//   S     = Q·Kᵀ;  -inf past the block's columns and rows in a ragged block only
//           (cols < 32 or rows < 64: the backward hides the rows too, hide_rows)
//   −LSE₂ = LSE = -inf ? -inf : −LSE·log2 e
//   P     = exp2(fma(S, c, −LSE₂))
//   dV   += Pᵀ·dO                     (P rounded to dO's bf16)
//   dP    = dO·Vᵀ
//   dS    = P∘(dP − D)                (in place of dP)
//   dK   += dSᵀ·Q,  dQ = dS·K         (dS rounded to bf16)
// CHECK-LABEL: func.func @interior_block
// CHECK-SAME: %[[Q:[^:]+]]: tensor<64x64xbf16>, %[[K:[^:]+]]: tensor<32x64xbf16>, %[[V:[^:]+]]: tensor<32x32xbf16>, %[[DO:[^:]+]]: tensor<64x32xbf16>, %[[LSE:[^:]+]]: tensor<64xf32>, %[[D:[^:]+]]: tensor<64xf32>, %[[DK:[^:]+]]: tensor<32x64xf32>, %[[DV:[^:]+]]: tensor<32x32xf32>
// Scratch tiles: allocated once, at the top.
// CHECK-DAG: %[[EQ:.+]] = bufferization.alloc_tensor() : tensor<64x64xf32>
// CHECK-DAG: %[[EDP:.+]] = bufferization.alloc_tensor() : tensor<64x32xf32>
// CHECK-DAG: %[[ENL:.+]] = bufferization.alloc_tensor() : tensor<64xf32>
// CHECK: %[[S:.+]] = attn.tile_matmul %[[Q]], %[[K]] transpose_rhs into
// CHECK: %[[RCOLS:.+]] = arith.cmpi slt, %{{.+}}, %c32
// CHECK: %[[RROWS:.+]] = arith.cmpi slt, %{{.+}}, %c64
// CHECK: %[[RAGGED:.+]] = arith.ori %[[RCOLS]], %[[RROWS]] : i1
// CHECK: %[[SM:.+]] = scf.if %[[RAGGED]] -> (tensor<64x32xf32>) {
// CHECK:   attn.tile_mask %[[S]] into %[[S]] {{.*}} attributes {hide_rows, mask = #attn.mask<none>}
// CHECK: %[[NL:.+]] = attn.tile_map ins(%[[LSE]] : tensor<64xf32>) into %[[ENL]]
// CHECK-NEXT: ^bb0(%[[X:.+]]: f32):
// CHECK-NEXT:   %[[NINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK-NEXT:   %[[NONE:.+]] = arith.cmpf oeq, %[[X]], %[[NINF]] : f32
// CHECK-NEXT:   %[[MLOG2E:.+]] = arith.constant -1.44269502 : f32
// CHECK-NEXT:   %[[SCALED:.+]] = arith.mulf %[[X]], %[[MLOG2E]] : f32
// CHECK-NEXT:   %[[NINF2:.+]] = arith.constant 0xFF800000 : f32
// CHECK-NEXT:   %[[R:.+]] = arith.select %[[NONE]], %[[NINF2]], %[[SCALED]] : f32
// CHECK-NEXT:   attn.yield %[[R]] : f32
// CHECK: %[[P:.+]] = attn.tile_map ins(%[[SM]], %[[NL]] : tensor<64x32xf32>, tensor<64xf32>) into %[[SM]]
// CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %[[NLX:.+]]: f32):
// CHECK-NEXT:   %[[C:.+]] = arith.constant 0.180336878 : f32
// CHECK-NEXT:   %[[T:.+]] = math.fma %[[X]], %[[C]], %[[NLX]] : f32
// CHECK-NEXT:   %[[E:.+]] = math.exp2 %[[T]] : f32
// CHECK-NEXT:   attn.yield %[[E]] : f32
// CHECK: %[[PB:.+]] = attn.tile_map ins(%[[P]] : tensor<64x32xf32>) into %{{.+}} : tensor<64x32xbf16>
// CHECK:   arith.truncf %{{.+}} : f32 to bf16
// CHECK: %[[DVN:.+]] = attn.tile_matmul %[[PB]], %[[DO]] transpose_lhs into %[[DV]] : tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<32x32xf32>
// CHECK: %[[Z:.+]] = attn.tile_fill %{{.+}} into %[[EDP]]
// CHECK: %[[DP:.+]] = attn.tile_matmul %[[DO]], %[[V]] transpose_rhs into %[[Z]]
// CHECK: %[[DS:.+]] = attn.tile_map ins(%[[P]], %[[DP]], %[[D]] : tensor<64x32xf32>, tensor<64x32xf32>, tensor<64xf32>) into %[[DP]]
// CHECK-NEXT: ^bb0(%[[PX:.+]]: f32, %[[DPX:.+]]: f32, %[[DX:.+]]: f32):
// CHECK-NEXT:   %[[DIFF:.+]] = arith.subf %[[DPX]], %[[DX]] : f32
// CHECK-NEXT:   %[[PROD:.+]] = arith.mulf %[[PX]], %[[DIFF]] : f32
// CHECK-NEXT:   attn.yield %[[PROD]] : f32
// CHECK: %[[DSB:.+]] = attn.tile_map ins(%[[DS]] : tensor<64x32xf32>) into %{{.+}} : tensor<64x32xbf16>
// CHECK: %[[DKN:.+]] = attn.tile_matmul %[[DSB]], %[[Q]] transpose_lhs into %[[DK]]
// CHECK: %[[ZQ:.+]] = attn.tile_fill %{{.+}} into %[[EQ]]
// CHECK: %[[DQ:.+]] = attn.tile_matmul %[[DSB]], %[[K]] into %[[ZQ]] : tensor<64x32xbf16>, tensor<32x64xbf16>, tensor<64x64xf32>
// CHECK: return %[[DKN]], %[[DVN]], %[[DQ]]

// test-drop-delta: dS = P∘dP (a wrong kernel).
// DROP-LABEL: func.func @interior_block
// DROP: attn.tile_map ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<64x32xf32>, tensor<64x32xf32>, tensor<64xf32>)
// DROP-NEXT: ^bb0(%[[PX:.+]]: f32, %[[DPX:.+]]: f32, %{{.+}}: f32):
// DROP-NEXT:   %[[PROD:.+]] = arith.mulf %[[PX]], %[[DPX]] : f32
// DROP-NEXT:   attn.yield %[[PROD]] : f32
func.func @interior_block(%q: tensor<64x64xbf16>, %k: tensor<32x64xbf16>, %v: tensor<32x32xbf16>,
                          %do: tensor<64x32xbf16>, %lse: tensor<64xf32>, %d: tensor<64xf32>,
                          %dk: tensor<32x64xf32>, %dv: tensor<32x32xf32>,
                          %rows: index, %cols: index, %b: index, %h: index, %qp: index, %kp: index)
    -> (tensor<32x64xf32>, tensor<32x32xf32>, tensor<64x64xf32>) {
  %r:3 = attn.block_grad_update q(%q) k(%k) v(%v) dout(%do) lse(%lse) delta(%d) state(%dk, %dv)
      rows(%rows) cols(%cols) seq(%b) head(%h) q_pos(%qp) kv_pos(%kp) diag(%kp)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x32xbf16>, tensor<64x32xbf16>,
        tensor<64xf32>, tensor<64xf32>, tensor<32x64xf32>, tensor<32x32xf32> -> tensor<64x64xf32>
  return %r#0, %r#1, %r#2 : tensor<32x64xf32>, tensor<32x32xf32>, tensor<64x64xf32>
}

// -----

// A masked block with softcap, a score_mod and its derivative, and a mask_mod,
// on f32 tiles (the CPU's): G = ∂S/∂x, x = scale·Q·Kᵀ, the chain rule through
//   y = softcap·tanh(x/softcap)   y' = 1 − (y/softcap)²
//   z = score_mod(y)              z' = score_mod_grad(y)   (0 outside rows × cols)
// taken before the score_mod overwrites y; then the mask, and with c = log2 e
//   dS = P∘(dP − D)∘G, 0 where P = 0 (whatever G is there)
// CHECK-LABEL: func.func @transformed_block
// CHECK: %[[S:.+]] = attn.tile_matmul
// CHECK: %[[Y:.+]] = attn.tile_map ins(%[[S]] : tensor<16x32xf32>) into %[[S]]
// CHECK:   math.tanh
// CHECK: %[[GZ:.+]] = attn.tile_fill %{{.+}} into %{{.+}} : f32, tensor<16x32xf32>
// CHECK: %[[GM:.+]] = attn.tile_score_mod %[[Y]] into %[[GZ]] seq(%{{.+}}) head(%{{.+}}) q_pos(%{{.+}}) kv_pos(%{{.+}}) rows(%{{.+}}) cols(%{{.+}}) : tensor<16x32xf32> {
// CHECK:   arith.constant 2.000000e+00 : f32
// CHECK: %[[G:.+]] = attn.tile_map ins(%[[GM]], %[[Y]] : tensor<16x32xf32>, tensor<16x32xf32>) into %[[GM]]
// CHECK-NEXT: ^bb0(%[[GX:.+]]: f32, %[[YX:.+]]: f32):
// CHECK-NEXT:   %[[INV:.+]] = arith.constant 5.000000e-02 : f32
// CHECK-NEXT:   %[[RATIO:.+]] = arith.mulf %[[YX]], %[[INV]] : f32
// CHECK-NEXT:   %[[SQ:.+]] = arith.mulf %[[RATIO]], %[[RATIO]] : f32
// CHECK-NEXT:   %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:   %[[CAP:.+]] = arith.subf %[[ONE]], %[[SQ]] : f32
// CHECK-NEXT:   %[[GG:.+]] = arith.mulf %[[GX]], %[[CAP]] : f32
// CHECK-NEXT:   attn.yield %[[GG]] : f32
// CHECK: %[[Z:.+]] = attn.tile_score_mod %[[Y]] into %[[Y]]
// CHECK:   arith.mulf
// CHECK: %[[MK:.+]] = attn.tile_mask %[[Z]] into %[[Z]] {{.*}} attributes {hide_rows, mask = #attn.mask<window [4, 0], bottom_right>} mask_mod {
// CHECK: %[[P:.+]] = attn.tile_map ins(%[[MK]], %{{.+}} : tensor<16x32xf32>, tensor<16xf32>) into %[[MK]]
// CHECK:   arith.constant 1.44269502 : f32
// CHECK-NOT: arith.truncf
// CHECK: attn.tile_matmul %[[P]], %{{.+}} transpose_lhs
// CHECK: %[[DP:.+]] = attn.tile_matmul
// CHECK: attn.tile_map ins(%[[P]], %[[DP]], %{{.+}}, %[[G]] : tensor<16x32xf32>, tensor<16x32xf32>, tensor<16xf32>, tensor<16x32xf32>) into %[[DP]]
// CHECK-NEXT: ^bb0(%[[PX:.+]]: f32, %[[DPX:.+]]: f32, %[[DX:.+]]: f32, %[[GX:.+]]: f32):
// CHECK-NEXT:   %[[DIFF:.+]] = arith.subf %[[DPX]], %[[DX]] : f32
// CHECK-NEXT:   %[[PD:.+]] = arith.mulf %[[PX]], %[[DIFF]] : f32
// CHECK-NEXT:   %[[PDG:.+]] = arith.mulf %[[PD]], %[[GX]] : f32
// CHECK-NEXT:   %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:   %[[HID:.+]] = arith.cmpf oeq, %[[PX]], %[[ZERO]] : f32
// CHECK-NEXT:   %[[ZERO2:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:   %[[R:.+]] = arith.select %[[HID]], %[[ZERO2]], %[[PDG]] : f32
// CHECK-NEXT:   attn.yield %[[R]] : f32
func.func @transformed_block(%q: tensor<16x8xf32>, %k: tensor<32x8xf32>, %v: tensor<32x8xf32>,
                             %lse: tensor<16xf32>, %dk: tensor<32x8xf32>, %i: index) -> tensor<16x8xf32> {
  %r:3 = attn.block_grad_update q(%q) k(%k) v(%v) dout(%q) lse(%lse) delta(%lse) state(%dk, %dk)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i) masked
      attributes {mask = #attn.mask<window [4, 0], bottom_right>, scale = 0.5 : f32, softcap = 20.0 : f32}
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %y = arith.mulf %s, %s : f32
        attn.yield %y : f32
      } score_mod_grad {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %two = arith.constant 2.0 : f32
        %y = arith.mulf %two, %s : f32
        attn.yield %y : f32
      } mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %t = arith.cmpi ne, %qi, %kj : index
        attn.yield %t : i1
      }
      : tensor<16x8xf32>, tensor<32x8xf32>, tensor<32x8xf32>, tensor<16x8xf32>, tensor<16xf32>,
        tensor<16xf32>, tensor<32x8xf32>, tensor<32x8xf32> -> tensor<16x8xf32>
  return %r#2 : tensor<16x8xf32>
}

// -----

// Softcap alone: G = 1 − (y/softcap)², no guard on P = 0 (G is in [0, 1]).
// CHECK-LABEL: func.func @softcap_block
// CHECK: math.tanh
// CHECK: %[[G:.+]] = attn.tile_map ins(%{{.+}} : tensor<16x32xf32>) into %{{.+}} : tensor<16x32xf32> {
// CHECK:   arith.subf
// CHECK: attn.tile_map ins(%{{.+}}, %{{.+}}, %{{.+}}, %[[G]] : {{.*}})
// CHECK-NOT: arith.select
// CHECK: attn.yield
func.func @softcap_block(%q: tensor<16x8xf32>, %k: tensor<32x8xf32>, %lse: tensor<16xf32>,
                         %dk: tensor<32x8xf32>, %i: index) -> tensor<16x8xf32> {
  %r:3 = attn.block_grad_update q(%q) k(%k) v(%k) dout(%q) lse(%lse) delta(%lse) state(%dk, %dk)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i) masked
      attributes {mask = #attn.mask<causal, bottom_right>, scale = 0.5 : f32, softcap = 20.0 : f32}
      : tensor<16x8xf32>, tensor<32x8xf32>, tensor<32x8xf32>, tensor<16x8xf32>, tensor<16xf32>,
        tensor<16xf32>, tensor<32x8xf32>, tensor<32x8xf32> -> tensor<16x8xf32>
  return %r#2 : tensor<16x8xf32>
}

// -----

// The other three ops:
//   block_grad_init      dK = 0, dV = 0, each a tile of its own
//   block_grad_delta     D = rowsum(f32(dO)·f32(O)) − dLSE
//   block_grad_finalize  dk = scale·dK (in place), dv = dV, stored
// CHECK-LABEL: func.func @init_delta_finalize
// CHECK: bufferization.alloc_tensor() : tensor<32x8xf32>
// CHECK: bufferization.alloc_tensor() : tensor<32x8xf32>
// CHECK: %[[ZK:.+]] = attn.tile_fill %{{.+}} into %{{.+}} : f32, tensor<32x8xf32>
// CHECK: %[[ZV:.+]] = attn.tile_fill %{{.+}} into %{{.+}} : f32, tensor<32x8xf32>
// CHECK: %[[OD:.+]] = attn.tile_map ins(%{{.+}}, %{{.+}} : tensor<16x8xbf16>, tensor<16x8xbf16>) into %{{.+}} : tensor<16x8xf32> {
// CHECK-NEXT: ^bb0(%[[O:.+]]: bf16, %[[DO:.+]]: bf16):
// CHECK-NEXT:   %[[OF:.+]] = arith.extf %[[O]] : bf16 to f32
// CHECK-NEXT:   %[[DOF:.+]] = arith.extf %[[DO]] : bf16 to f32
// CHECK-NEXT:   %[[M:.+]] = arith.mulf %[[OF]], %[[DOF]] : f32
// CHECK: %[[Z:.+]] = attn.tile_fill %{{.+}} into %{{.+}} : f32, tensor<16xf32>
// CHECK: %[[RS:.+]] = attn.tile_reduce add %[[OD]] into %[[Z]]
// CHECK: %[[D:.+]] = attn.tile_map ins(%[[RS]], %{{.+}} : tensor<16xf32>, tensor<16xf32>) into %[[RS]]
// CHECK:   arith.subf
// CHECK: %[[SK:.+]] = attn.tile_map ins(%[[ZK]] : tensor<32x8xf32>) into %[[ZK]]
// CHECK:   arith.constant 1.250000e-01 : f32
// CHECK: attn.tile_store %[[SK]] into %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] rows(%{{.+}}) : tensor<32x8xf32>, memref<1x64x2x8xbf16>
// CHECK: attn.tile_store %[[ZV]] into %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] rows(%{{.+}}) : tensor<32x8xf32>, memref<1x64x2x8xbf16>
// CHECK: return %[[D]]
func.func @init_delta_finalize(%o: tensor<16x8xbf16>, %dl: tensor<16xf32>, %dk: memref<1x64x2x8xbf16>,
                               %i: index) -> tensor<16xf32> {
  %zk, %zv = attn.block_grad_init : tensor<32x8xf32>, tensor<32x8xf32>
  %d = attn.block_grad_delta out(%o) dout(%o) dlse(%dl)
      : tensor<16x8xbf16>, tensor<16x8xbf16>, tensor<16xf32> -> tensor<16xf32>
  attn.block_grad_finalize state(%zk, %zv) rows(%i) into %dk, %dk[%i, %i, %i] {scale = 0.125 : f32}
      : tensor<32x8xf32>, tensor<32x8xf32>, memref<1x64x2x8xbf16>, memref<1x64x2x8xbf16>
  return %d : tensor<16xf32>
}
