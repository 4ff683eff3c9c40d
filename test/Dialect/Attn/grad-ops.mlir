// Round trip of attn.attention_grad: custom form, and the generic form read back.
// RUN: attn-opt %s -split-input-file | attn-opt -split-input-file | FileCheck %s
// RUN: attn-opt %s -split-input-file -mlir-print-op-generic | attn-opt -split-input-file | FileCheck %s

// On tensors: one result per init (dq, dk, dv, then the workspace).
// CHECK-LABEL: func.func @tensor_causal_gqa
// CHECK: %[[R:.+]]:5 = attn.attention_grad ins(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : tensor<2x100x8x128xbf16>, tensor<2x300x2x128xbf16>, tensor<2x300x2x128xbf16>, tensor<2x100x8x128xbf16>, tensor<2x100x8x128xbf16>, tensor<2x8x100xf32>) outs(%{{.+}}, %{{.+}}, %{{.+}} : tensor<2x100x8x128xbf16>, tensor<2x300x2x128xbf16>, tensor<2x300x2x128xbf16>) workspace(%{{.+}}, %{{.+}} : tensor<2x100x8x128xf32>, tensor<2x8x100xf32>) mask<causal, bottom_right> scale(1.250000e-01) -> tensor<2x100x8x128xbf16>, tensor<2x300x2x128xbf16>, tensor<2x300x2x128xbf16>, tensor<2x100x8x128xf32>, tensor<2x8x100xf32>
// CHECK: return %[[R]]#0, %[[R]]#1, %[[R]]#2
func.func @tensor_causal_gqa(%q: tensor<2x100x8x128xbf16>, %k: tensor<2x300x2x128xbf16>,
                             %v: tensor<2x300x2x128xbf16>, %o: tensor<2x100x8x128xbf16>,
                             %do: tensor<2x100x8x128xbf16>, %lse: tensor<2x8x100xf32>,
                             %acc: tensor<2x100x8x128xf32>, %d: tensor<2x8x100xf32>)
    -> (tensor<2x100x8x128xbf16>, tensor<2x300x2x128xbf16>, tensor<2x300x2x128xbf16>) {
  %r:5 = attn.attention_grad
      ins(%q, %k, %v, %o, %do, %lse : tensor<2x100x8x128xbf16>, tensor<2x300x2x128xbf16>,
          tensor<2x300x2x128xbf16>, tensor<2x100x8x128xbf16>, tensor<2x100x8x128xbf16>,
          tensor<2x8x100xf32>)
      outs(%q, %k, %v : tensor<2x100x8x128xbf16>, tensor<2x300x2x128xbf16>, tensor<2x300x2x128xbf16>)
      workspace(%acc, %d : tensor<2x100x8x128xf32>, tensor<2x8x100xf32>)
      mask<causal, bottom_right> scale(0.125)
      -> tensor<2x100x8x128xbf16>, tensor<2x300x2x128xbf16>, tensor<2x300x2x128xbf16>,
         tensor<2x100x8x128xf32>, tensor<2x8x100xf32>
  return %r#0, %r#1, %r#2 : tensor<2x100x8x128xbf16>, tensor<2x300x2x128xbf16>, tensor<2x300x2x128xbf16>
}

// -----

// On memrefs, no results; dlse, varlen, softcap, a window, Dv != D and the
// modifier regions (argument names printed as in attn.attention).
// CHECK-LABEL: func.func @memref_varlen_mods
// CHECK: attn.attention_grad ins({{.*}}) dlse(%{{.+}} : memref<1x4x300xf32>) cu_seqlens(%{{.+}}, %{{.+}} : memref<4xi32>, memref<4xi32>) outs({{.*}}) workspace({{.*}}) mask<window [16, 0], top_left> softcap(3.000000e+01) score_mod {
// CHECK-NEXT: ^bb0(%score: f32, %b: index, %h: index, %q_idx: index, %kv_idx: index):
// CHECK: } mask_mod {
// CHECK-NEXT: ^bb0(%b: index, %h: index, %q_idx: index, %kv_idx: index):
// CHECK-NOT: ->
// CHECK: return
func.func @memref_varlen_mods(%q: memref<1x300x4x64xf16>, %k: memref<1x200x1x64xf16>,
                              %v: memref<1x200x1x32xf16>, %o: memref<1x300x4x32xf16>,
                              %do: memref<1x300x4x32xf16>, %lse: memref<1x4x300xf32>,
                              %dlse: memref<1x4x300xf32>, %cq: memref<4xi32>, %ck: memref<4xi32>,
                              %dq: memref<1x300x4x64xf16>, %dk: memref<1x200x1x64xf16>,
                              %dv: memref<1x200x1x32xf16>, %acc: memref<1x300x4x64xf32>,
                              %d: memref<1x4x300xf32>, %slopes: memref<4xf32>) {
  attn.attention_grad
      ins(%q, %k, %v, %o, %do, %lse : memref<1x300x4x64xf16>, memref<1x200x1x64xf16>,
          memref<1x200x1x32xf16>, memref<1x300x4x32xf16>, memref<1x300x4x32xf16>,
          memref<1x4x300xf32>)
      dlse(%dlse : memref<1x4x300xf32>)
      cu_seqlens(%cq, %ck : memref<4xi32>, memref<4xi32>)
      outs(%dq, %dk, %dv : memref<1x300x4x64xf16>, memref<1x200x1x64xf16>, memref<1x200x1x32xf16>)
      workspace(%acc, %d : memref<1x300x4x64xf32>, memref<1x4x300xf32>)
      mask<window [16, 0], top_left> softcap(30.0)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %slope = memref.load %slopes[%h] : memref<4xf32>
        %x = arith.mulf %slope, %s : f32
        attn.yield %x : f32
      } mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %t = arith.cmpi ne, %qi, %kj : index
        attn.yield %t : i1
      }
  return
}

// -----

// A block mask (partial and full lists), f32 (the CPU reference path).
// CHECK-LABEL: func.func @block_mask
// CHECK: attn.attention_grad ins({{.*}}) block_mask(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : memref<1x1x2xi32>, memref<1x1x2x2xi32>, memref<1x1x2xi32>, memref<1x1x2x2xi32>) block_size [64, 64] outs(
func.func @block_mask(%q: memref<2x100x2x64xf32>, %lse: memref<2x2x100xf32>,
                      %n: memref<1x1x2xi32>, %i: memref<1x1x2x2xi32>, %acc: memref<2x100x2x64xf32>) {
  attn.attention_grad
      ins(%q, %q, %q, %q, %q, %lse : memref<2x100x2x64xf32>, memref<2x100x2x64xf32>,
          memref<2x100x2x64xf32>, memref<2x100x2x64xf32>, memref<2x100x2x64xf32>,
          memref<2x2x100xf32>)
      block_mask(%n, %i, %n, %i : memref<1x1x2xi32>, memref<1x1x2x2xi32>, memref<1x1x2xi32>, memref<1x1x2x2xi32>)
      block_size [64, 64]
      outs(%q, %q, %q : memref<2x100x2x64xf32>, memref<2x100x2x64xf32>, memref<2x100x2x64xf32>)
      workspace(%acc, %lse : memref<2x100x2x64xf32>, memref<2x2x100xf32>)
  return
}
