func.func @attention_grad(%q: memref<1x58x4x128xbf16>, %k: memref<1x92x2x128xbf16>, %v: memref<1x92x2x128xbf16>, %o: memref<1x58x4x128xbf16>, %do: memref<1x58x4x128xbf16>, %lse: memref<1x4x58xf32>, %dlse: memref<1x4x58xf32>, %cu_q: memref<5xi32>, %cu_k: memref<5xi32>, %grad_q: memref<1x58x4x128xbf16>, %grad_k: memref<1x92x2x128xbf16>, %grad_v: memref<1x92x2x128xbf16>, %dq_acc: memref<1x58x4x128xf32>, %delta: memref<1x4x58xf32>) {
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x58x4x128xbf16>, memref<1x92x2x128xbf16>, memref<1x92x2x128xbf16>, memref<1x58x4x128xbf16>, memref<1x58x4x128xbf16>, memref<1x4x58xf32>) dlse(%dlse : memref<1x4x58xf32>) cu_seqlens(%cu_q, %cu_k : memref<5xi32>, memref<5xi32>)
      outs(%grad_q, %grad_k, %grad_v : memref<1x58x4x128xbf16>, memref<1x92x2x128xbf16>, memref<1x92x2x128xbf16>)
      workspace(%dq_acc, %delta : memref<1x58x4x128xf32>, memref<1x4x58xf32>) mask<causal, bottom_right>
  return
}
