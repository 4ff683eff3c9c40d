// RUN: attn-opt %s -attn-online-softmax -verify-diagnostics

// A backward block with a score_mod needs its derivative (attn-score-mod-grad).
func.func @no_derivative(%q: tensor<16x8xf32>, %k: tensor<32x8xf32>, %lse: tensor<16xf32>,
                         %dk: tensor<32x8xf32>, %i: index) -> tensor<16x8xf32> {
  // expected-error @+1 {{attn-online-softmax needs the score_mod's derivative (score_mod_grad): run attn-score-mod-grad first}}
  %r:3 = attn.block_grad_update q(%q) k(%k) v(%k) dout(%q) lse(%lse) delta(%lse) state(%dk, %dk)
      rows(%i) cols(%i) seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.5 : f32}
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        attn.yield %s : f32
      }
      : tensor<16x8xf32>, tensor<32x8xf32>, tensor<32x8xf32>, tensor<16x8xf32>, tensor<16xf32>,
        tensor<16xf32>, tensor<32x8xf32>, tensor<32x8xf32> -> tensor<16x8xf32>
  return %r#2 : tensor<16x8xf32>
}
