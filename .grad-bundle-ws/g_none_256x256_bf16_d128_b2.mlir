func.func @attention_grad(%q: memref<2x256x4x128xbf16>, %k: memref<2x256x4x128xbf16>, %v: memref<2x256x4x128xbf16>, %o: memref<2x256x4x128xbf16>, %do: memref<2x256x4x128xbf16>, %lse: memref<2x4x256xf32>, %dlse: memref<2x4x256xf32>, %grad_q: memref<2x256x4x128xbf16>, %grad_k: memref<2x256x4x128xbf16>, %grad_v: memref<2x256x4x128xbf16>, %dq_acc: memref<2x256x4x128xf32>, %delta: memref<2x4x256xf32>) {
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<2x256x4x128xbf16>, memref<2x256x4x128xbf16>, memref<2x256x4x128xbf16>, memref<2x256x4x128xbf16>, memref<2x256x4x128xbf16>, memref<2x4x256xf32>) dlse(%dlse : memref<2x4x256xf32>)
      outs(%grad_q, %grad_k, %grad_v : memref<2x256x4x128xbf16>, memref<2x256x4x128xbf16>, memref<2x256x4x128xbf16>)
      workspace(%dq_acc, %delta : memref<2x256x4x128xf32>, memref<2x4x256xf32>)
  return
}
