// A bufferized attention, as the tiling pass takes it: causal GQA in bf16
// (8 query heads over 2 KV heads, head dim 128), Sq != Sk with bottom-right
// alignment, returning the log-sum-exp.
//
//   attn-opt examples/attention_memref.mlir -attn-tile -canonicalize -cse
//   attn-opt examples/attention_memref.mlir -attn-to-cpu

func.func @attention(%q: memref<2x1000x8x128xbf16>, %k: memref<2x1500x2x128xbf16>,
                     %v: memref<2x1500x2x128xbf16>, %o: memref<2x1000x8x128xbf16>,
                     %lse: memref<2x8x1000xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x1000x8x128xbf16>, memref<2x1500x2x128xbf16>,
                                  memref<2x1500x2x128xbf16>)
      outs(%o, %lse : memref<2x1000x8x128xbf16>, memref<2x8x1000xf32>)
      mask<causal, bottom_right>
  return
}
