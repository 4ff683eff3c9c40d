func.func @attention_grad(%q: memref<1x333x4x64xf16>, %k: memref<1x200x2x64xf16>, %v: memref<1x200x2x64xf16>, %o: memref<1x333x4x64xf16>, %do: memref<1x333x4x64xf16>, %lse: memref<1x4x333xf32>, %dlse: memref<1x4x333xf32>, %grad_q: memref<1x333x4x64xf16>, %grad_k: memref<1x200x2x64xf16>, %grad_v: memref<1x200x2x64xf16>, %dq_acc: memref<1x333x4x64xf32>, %delta: memref<1x4x333xf32>) {
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x333x4x64xf16>, memref<1x200x2x64xf16>, memref<1x200x2x64xf16>, memref<1x333x4x64xf16>, memref<1x333x4x64xf16>, memref<1x4x333xf32>) dlse(%dlse : memref<1x4x333xf32>)
      outs(%grad_q, %grad_k, %grad_v : memref<1x333x4x64xf16>, memref<1x200x2x64xf16>, memref<1x200x2x64xf16>)
      workspace(%dq_acc, %delta : memref<1x333x4x64xf32>, memref<1x4x333xf32>) mask<causal, bottom_right>
  return
}
