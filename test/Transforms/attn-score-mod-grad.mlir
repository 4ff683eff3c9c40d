// RUN: attn-opt %s -split-input-file -attn-score-mod-grad | FileCheck %s

// The derivative of a score_mod in the score, by forward-mode differentiation:
// the body is cloned and each op on the score's path followed by its tangent
// (the score's is 1; values independent of it have none).
//   r = tanh(s·w) + slope·(kv − q)        w, slope loaded per head
//   r' = (1 − tanh²(s·w))·(1·w)           the bias has no tangent
// CHECK-LABEL: func.func @tanh_and_bias
// CHECK: attn.block_grad_update
// CHECK: } score_mod_grad {
// CHECK-NEXT: ^bb0(%[[S:.+]]: f32, %[[B:.+]]: index, %[[H:.+]]: index, %[[QI:.+]]: index, %[[KJ:.+]]: index):
// CHECK-NEXT:   %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:   %[[W:.+]] = memref.load %{{.+}}[%[[H]]]
// CHECK-NEXT:   %[[X:.+]] = arith.mulf %[[S]], %[[W]] : f32
// CHECK-NEXT:   %[[DX:.+]] = arith.mulf %[[ONE]], %[[W]] : f32
// CHECK-NEXT:   %[[T:.+]] = math.tanh %[[X]] : f32
// CHECK-NEXT:   %[[T2:.+]] = arith.mulf %[[T]], %[[T]] : f32
// CHECK-NEXT:   %[[C1:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:   %[[SECH2:.+]] = arith.subf %[[C1]], %[[T2]] : f32
// CHECK-NEXT:   %[[DT:.+]] = arith.mulf %[[DX]], %[[SECH2]] : f32
// CHECK:        %[[R:.+]] = arith.addf %[[T]], %{{.+}} : f32
// CHECK-NEXT:   attn.yield %[[DT]] : f32
// CHECK-NEXT: } mask_mod {
func.func @tanh_and_bias(%q: tensor<16x8xf32>, %v: tensor<32x8xf32>, %l: tensor<16xf32>,
                         %dk: tensor<32x8xf32>, %i: index, %w: memref<4xf32>) -> tensor<16x8xf32> {
  %r:3 = attn.block_grad_update q(%q) k(%v) v(%v) dout(%q) lse(%l) delta(%l) state(%dk, %dk)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i) masked
      attributes {mask = #attn.mask<none>, scale = 0.5 : f32}
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %wh = memref.load %w[%h] : memref<4xf32>
        %x = arith.mulf %s, %wh : f32
        %t = math.tanh %x : f32
        %d = arith.subi %kj, %qi : index
        %di = arith.index_cast %d : index to i64
        %df = arith.sitofp %di : i64 to f32
        %bias = arith.mulf %wh, %df : f32
        %y = arith.addf %t, %bias : f32
        attn.yield %y : f32
      } mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %c = arith.cmpi uge, %qi, %kj : index
        attn.yield %c : i1
      }
      : tensor<16x8xf32>, tensor<32x8xf32>, tensor<32x8xf32>, tensor<16x8xf32>, tensor<16xf32>,
        tensor<16xf32>, tensor<32x8xf32>, tensor<32x8xf32> -> tensor<16x8xf32>
  return %r#2 : tensor<16x8xf32>
}

// -----

// The rules of the other ops (each op's tangent right after it):
//   a = s / c          a' = (1 − a·0)/c           (c has no tangent)
//   e = exp(a)         e' = a'·e
//   n = −e             n' = −e'
//   m = max(n, s)      m' = n > s ? n' : (n < s ? 1 : (n' + 1)/2)
//   p = select(s > 0, m, 0.0)   p' = select(s > 0, m', 0)
//   h = extf(truncf(p) : bf16)  h' = extf(truncf(p'))
// CHECK-LABEL: func.func @rules
// CHECK: score_mod_grad {
// CHECK:   %[[A:.+]] = arith.divf
// CHECK:   %[[DA:.+]] = arith.divf
// CHECK:   %[[E:.+]] = math.exp %[[A]]
// CHECK:   %[[DE:.+]] = arith.mulf %[[DA]], %[[E]]
// CHECK:   arith.negf %[[E]]
// CHECK:   %[[DN:.+]] = arith.negf %[[DE]]
// CHECK:   %[[M:.+]] = arith.maximumf
// CHECK:   arith.cmpf ogt
// CHECK:   arith.cmpf olt
// CHECK:   arith.select
// CHECK:   %[[DM:.+]] = arith.select
// CHECK:   %[[P:.+]] = arith.select %{{.+}}, %[[M]], %{{.+}}
// CHECK:   %[[DP:.+]] = arith.select %{{.+}}, %[[DM]], %{{.+}}
// CHECK:   arith.truncf %[[P]] : f32 to bf16
// CHECK:   %[[DT:.+]] = arith.truncf %[[DP]] : f32 to bf16
// CHECK:   arith.extf
// CHECK:   %[[DH:.+]] = arith.extf %[[DT]] : bf16 to f32
// CHECK:   attn.yield %[[DH]] : f32
// A score_mod that does not read the score: its derivative is 0.
// CHECK-LABEL: func.func @constant
// CHECK: score_mod_grad {
// CHECK: %[[Z:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: attn.yield %[[Z]] : f32
func.func @rules(%q: tensor<16x8xf32>, %v: tensor<32x8xf32>, %l: tensor<16xf32>,
                 %dk: tensor<32x8xf32>, %i: index) -> tensor<16x8xf32> {
  %r:3 = attn.block_grad_update q(%q) k(%v) v(%v) dout(%q) lse(%l) delta(%l) state(%dk, %dk)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.5 : f32}
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %c = arith.constant 3.0 : f32
        %zero = arith.constant 0.0 : f32
        %a = arith.divf %s, %c : f32
        %e = math.exp %a : f32
        %n = arith.negf %e : f32
        %m = arith.maximumf %n, %s : f32
        %pos = arith.cmpf ogt, %s, %zero : f32
        %p = arith.select %pos, %m, %zero : f32
        %t = arith.truncf %p : f32 to bf16
        %h2 = arith.extf %t : bf16 to f32
        attn.yield %h2 : f32
      }
      : tensor<16x8xf32>, tensor<32x8xf32>, tensor<32x8xf32>, tensor<16x8xf32>, tensor<16xf32>,
        tensor<16xf32>, tensor<32x8xf32>, tensor<32x8xf32> -> tensor<16x8xf32>
  return %r#2 : tensor<16x8xf32>
}
func.func @constant(%q: tensor<16x8xf32>, %v: tensor<32x8xf32>, %l: tensor<16xf32>,
                    %dk: tensor<32x8xf32>, %i: index) -> tensor<16x8xf32> {
  %r:3 = attn.block_grad_update q(%q) k(%v) v(%v) dout(%q) lse(%l) delta(%l) state(%dk, %dk)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.5 : f32}
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %c = arith.constant 3.0 : f32
        attn.yield %c : f32
      }
      : tensor<16x8xf32>, tensor<32x8xf32>, tensor<32x8xf32>, tensor<16x8xf32>, tensor<16xf32>,
        tensor<16xf32>, tensor<32x8xf32>, tensor<32x8xf32> -> tensor<16x8xf32>
  return %r#2 : tensor<16x8xf32>
}
