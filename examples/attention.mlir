// The bundled example: causal grouped-query attention in bf16, the shape of
// one layer of a Llama-style model (16 query heads over 4 KV heads, head dim
// 128), with the log-sum-exp returned for the backward pass.
//
//   attn-opt examples/attention.mlir          parse, verify and print it

func.func @llama_layer_attention(
    %q: tensor<2x4096x16x128xbf16>, %k: tensor<2x4096x4x128xbf16>,
    %v: tensor<2x4096x4x128xbf16>)
    -> (tensor<2x4096x16x128xbf16>, tensor<2x16x4096xf32>) {
  %o0 = tensor.empty() : tensor<2x4096x16x128xbf16>
  %l0 = tensor.empty() : tensor<2x16x4096xf32>
  %o, %lse = attn.attention
      ins(%q, %k, %v : tensor<2x4096x16x128xbf16>, tensor<2x4096x4x128xbf16>,
                       tensor<2x4096x4x128xbf16>)
      outs(%o0, %l0 : tensor<2x4096x16x128xbf16>, tensor<2x16x4096xf32>)
      mask<causal, bottom_right>
      -> tensor<2x4096x16x128xbf16>, tensor<2x16x4096xf32>
  return %o, %lse : tensor<2x4096x16x128xbf16>, tensor<2x16x4096xf32>
}
