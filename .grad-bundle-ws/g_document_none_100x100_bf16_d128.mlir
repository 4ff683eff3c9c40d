func.func @attention_grad(%q: memref<1x100x2x128xbf16>, %k: memref<1x100x2x128xbf16>, %v: memref<1x100x2x128xbf16>, %o: memref<1x100x2x128xbf16>, %do: memref<1x100x2x128xbf16>, %lse: memref<1x2x100xf32>, %dlse: memref<1x2x100xf32>, %grad_q: memref<1x100x2x128xbf16>, %grad_k: memref<1x100x2x128xbf16>, %grad_v: memref<1x100x2x128xbf16>, %dq_acc: memref<1x100x2x128xf32>, %delta: memref<1x2x100xf32>, %doc_q: memref<100xi32>, %doc_k: memref<100xi32>) {
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x100x2x128xbf16>, memref<1x100x2x128xbf16>, memref<1x100x2x128xbf16>, memref<1x100x2x128xbf16>, memref<1x100x2x128xbf16>, memref<1x2x100xf32>) dlse(%dlse : memref<1x2x100xf32>)
      outs(%grad_q, %grad_k, %grad_v : memref<1x100x2x128xbf16>, memref<1x100x2x128xbf16>, memref<1x100x2x128xbf16>)
      workspace(%dq_acc, %delta : memref<1x100x2x128xf32>, memref<1x2x100xf32>) mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %dq = memref.load %doc_q[%qi] : memref<100xi32>
        %dk = memref.load %doc_k[%kj] : memref<100xi32>
        %same = arith.cmpi eq, %dq, %dk : i32
        attn.yield %same : i1
      }
  return
}
