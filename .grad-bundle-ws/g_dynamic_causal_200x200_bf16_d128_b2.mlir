func.func @attention_grad(%q: memref<?x?x?x128xbf16>, %k: memref<?x?x?x128xbf16>, %v: memref<?x?x?x128xbf16>, %o: memref<?x?x?x128xbf16>, %do: memref<?x?x?x128xbf16>, %lse: memref<?x?x?xf32>, %dlse: memref<?x?x?xf32>, %grad_q: memref<?x?x?x128xbf16>, %grad_k: memref<?x?x?x128xbf16>, %grad_v: memref<?x?x?x128xbf16>, %dq_acc: memref<?x?x?x128xf32>, %delta: memref<?x?x?xf32>) {
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<?x?x?x128xbf16>, memref<?x?x?x128xbf16>, memref<?x?x?x128xbf16>, memref<?x?x?x128xbf16>, memref<?x?x?x128xbf16>, memref<?x?x?xf32>) dlse(%dlse : memref<?x?x?xf32>)
      outs(%grad_q, %grad_k, %grad_v : memref<?x?x?x128xbf16>, memref<?x?x?x128xbf16>, memref<?x?x?x128xbf16>)
      workspace(%dq_acc, %delta : memref<?x?x?x128xf32>, memref<?x?x?xf32>) mask<causal, bottom_right>
  return
}
