func.func @attention_grad(%q: memref<1x100x4x128xbf16>, %k: memref<1x170x4x128xbf16>, %v: memref<1x170x4x128xbf16>, %o: memref<1x100x4x128xbf16>, %do: memref<1x100x4x128xbf16>, %lse: memref<1x4x100xf32>, %dlse: memref<1x4x100xf32>, %grad_q: memref<1x100x4x128xbf16>, %grad_k: memref<1x170x4x128xbf16>, %grad_v: memref<1x170x4x128xbf16>, %dq_acc: memref<1x100x4x128xf32>, %delta: memref<1x4x100xf32>, %slopes: memref<4xf32>) {
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x100x4x128xbf16>, memref<1x170x4x128xbf16>, memref<1x170x4x128xbf16>, memref<1x100x4x128xbf16>, memref<1x100x4x128xbf16>, memref<1x4x100xf32>) dlse(%dlse : memref<1x4x100xf32>)
      outs(%grad_q, %grad_k, %grad_v : memref<1x100x4x128xbf16>, memref<1x170x4x128xbf16>, memref<1x170x4x128xbf16>)
      workspace(%dq_acc, %delta : memref<1x100x4x128xf32>, memref<1x4x100xf32>) score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %slope = memref.load %slopes[%h] : memref<4xf32>
        %d = arith.subi %kj, %qi : index
        %di = arith.index_cast %d : index to i64
        %df = arith.sitofp %di : i64 to f32
        %bias = arith.mulf %slope, %df : f32
        %r = arith.addf %s, %bias : f32
        attn.yield %r : f32
      }
  return
}
