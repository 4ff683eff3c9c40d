func.func @attention_grad(%q: memref<1x300x2x64xbf16>, %k: memref<1x300x2x64xbf16>, %v: memref<1x300x2x64xbf16>, %o: memref<1x300x2x64xbf16>, %do: memref<1x300x2x64xbf16>, %lse: memref<1x2x300xf32>, %dlse: memref<1x2x300xf32>, %grad_q: memref<1x300x2x64xbf16>, %grad_k: memref<1x300x2x64xbf16>, %grad_v: memref<1x300x2x64xbf16>, %dq_acc: memref<1x300x2x64xf32>, %delta: memref<1x2x300xf32>) {
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>, memref<1x2x300xf32>) dlse(%dlse : memref<1x2x300xf32>)
      outs(%grad_q, %grad_k, %grad_v : memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>)
      workspace(%dq_acc, %delta : memref<1x300x2x64xf32>, memref<1x2x300xf32>)
  return
}
