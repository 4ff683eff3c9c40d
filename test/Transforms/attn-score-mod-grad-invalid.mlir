// RUN: attn-opt %s -split-input-file -attn-score-mod-grad -verify-diagnostics

// An op on the score's path without a derivative rule is an error naming it.
func.func @sin(%q: tensor<16x8xf32>, %v: tensor<32x8xf32>, %l: tensor<16xf32>,
               %dk: tensor<32x8xf32>, %i: index) -> tensor<16x8xf32> {
  %r:3 = attn.block_grad_update q(%q) k(%v) v(%v) dout(%q) lse(%l) delta(%l) state(%dk, %dk)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.5 : f32}
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        // expected-error @+1 {{attn-score-mod-grad: cannot differentiate 'math.sin' with respect to the score}}
        %x = math.sin %s : f32
        attn.yield %x : f32
      }
      : tensor<16x8xf32>, tensor<32x8xf32>, tensor<32x8xf32>, tensor<16x8xf32>, tensor<16xf32>,
        tensor<16xf32>, tensor<32x8xf32>, tensor<32x8xf32> -> tensor<16x8xf32>
  return %r#2 : tensor<16x8xf32>
}

// -----

// Reinterpreting the score's bits is not differentiable either.
func.func @bitcast(%q: tensor<16x8xf32>, %v: tensor<32x8xf32>, %l: tensor<16xf32>,
                   %dk: tensor<32x8xf32>, %i: index) -> tensor<16x8xf32> {
  %r:3 = attn.block_grad_update q(%q) k(%v) v(%v) dout(%q) lse(%l) delta(%l) state(%dk, %dk)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.5 : f32}
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        // expected-error @+1 {{cannot differentiate 'arith.bitcast'}}
        %x = arith.bitcast %s : f32 to i32
        %y = arith.sitofp %x : i32 to f32
        attn.yield %y : f32
      }
      : tensor<16x8xf32>, tensor<32x8xf32>, tensor<32x8xf32>, tensor<16x8xf32>, tensor<16xf32>,
        tensor<16xf32>, tensor<32x8xf32>, tensor<32x8xf32> -> tensor<16x8xf32>
  return %r#2 : tensor<16x8xf32>
}
