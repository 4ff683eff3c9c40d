// Round trip of attn.attention: custom form, and the generic form read back.
// RUN: attn-opt %s -split-input-file | attn-opt -split-input-file | FileCheck %s
// RUN: attn-opt %s -split-input-file -mlir-print-op-generic | attn-opt -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @plain_tensor
// CHECK: %[[O:.+]] = attn.attention ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<1x128x8x64xf16>, tensor<1x128x8x64xf16>, tensor<1x128x8x64xf16>) outs(%{{.+}} : tensor<1x128x8x64xf16>) -> tensor<1x128x8x64xf16>
// CHECK: return %[[O]]
func.func @plain_tensor(%q: tensor<1x128x8x64xf16>, %k: tensor<1x128x8x64xf16>,
                        %v: tensor<1x128x8x64xf16>, %o: tensor<1x128x8x64xf16>)
    -> tensor<1x128x8x64xf16> {
  %r = attn.attention ins(%q, %k, %v : tensor<1x128x8x64xf16>, tensor<1x128x8x64xf16>, tensor<1x128x8x64xf16>)
      outs(%o : tensor<1x128x8x64xf16>) -> tensor<1x128x8x64xf16>
  return %r : tensor<1x128x8x64xf16>
}

// -----

// Every mask kind and alignment, GQA (8 query heads over 2 KV heads), LSE.
// CHECK-LABEL: func.func @masks_gqa_lse
// CHECK: attn.attention {{.*}} outs(%{{.+}}, %{{.+}} : tensor<2x100x8x128xbf16>, tensor<2x8x100xf32>) mask<none> -> tensor<2x100x8x128xbf16>, tensor<2x8x100xf32>
// CHECK: attn.attention {{.*}} mask<causal, top_left> ->
// CHECK: attn.attention {{.*}} mask<causal, bottom_right> ->
// CHECK: attn.attention {{.*}} mask<window [256, 0], bottom_right> ->
// CHECK: attn.attention {{.*}} mask<window [-1, 64], top_left> ->
// CHECK: attn.attention {{.*}} mask<window [32, 32], bottom_right> ->
func.func @masks_gqa_lse(%q: tensor<2x100x8x128xbf16>, %k: tensor<2x300x2x128xbf16>,
                         %v: tensor<2x300x2x128xbf16>, %o: tensor<2x100x8x128xbf16>,
                         %l: tensor<2x8x100xf32>) {
  %0:2 = attn.attention ins(%q, %k, %v : tensor<2x100x8x128xbf16>, tensor<2x300x2x128xbf16>, tensor<2x300x2x128xbf16>)
      outs(%o, %l : tensor<2x100x8x128xbf16>, tensor<2x8x100xf32>) mask<none>
      -> tensor<2x100x8x128xbf16>, tensor<2x8x100xf32>
  %1:2 = attn.attention ins(%q, %k, %v : tensor<2x100x8x128xbf16>, tensor<2x300x2x128xbf16>, tensor<2x300x2x128xbf16>)
      outs(%o, %l : tensor<2x100x8x128xbf16>, tensor<2x8x100xf32>) mask<causal, top_left>
      -> tensor<2x100x8x128xbf16>, tensor<2x8x100xf32>
  %2:2 = attn.attention ins(%q, %k, %v : tensor<2x100x8x128xbf16>, tensor<2x300x2x128xbf16>, tensor<2x300x2x128xbf16>)
      outs(%o, %l : tensor<2x100x8x128xbf16>, tensor<2x8x100xf32>) mask<causal, bottom_right>
      -> tensor<2x100x8x128xbf16>, tensor<2x8x100xf32>
  %3:2 = attn.attention ins(%q, %k, %v : tensor<2x100x8x128xbf16>, tensor<2x300x2x128xbf16>, tensor<2x300x2x128xbf16>)
      outs(%o, %l : tensor<2x100x8x128xbf16>, tensor<2x8x100xf32>) mask<window [256, 0], bottom_right>
      -> tensor<2x100x8x128xbf16>, tensor<2x8x100xf32>
  %4:2 = attn.attention ins(%q, %k, %v : tensor<2x100x8x128xbf16>, tensor<2x300x2x128xbf16>, tensor<2x300x2x128xbf16>)
      outs(%o, %l : tensor<2x100x8x128xbf16>, tensor<2x8x100xf32>) mask<window [-1, 64], top_left>
      -> tensor<2x100x8x128xbf16>, tensor<2x8x100xf32>
  %5:2 = attn.attention ins(%q, %k, %v : tensor<2x100x8x128xbf16>, tensor<2x300x2x128xbf16>, tensor<2x300x2x128xbf16>)
      outs(%o, %l : tensor<2x100x8x128xbf16>, tensor<2x8x100xf32>) mask<window [32, 32], bottom_right>
      -> tensor<2x100x8x128xbf16>, tensor<2x8x100xf32>
  return
}

// -----

// The mask written as a full attribute (generic syntax) reads back the same.
// CHECK-LABEL: func.func @mask_as_attribute
// CHECK: attn.attention {{.*}} mask<causal, top_left> scale(1.250000e-01) softcap(5.000000e+01) ->
func.func @mask_as_attribute(%q: tensor<1x16x1x64xf16>, %o: tensor<1x16x1x64xf16>) -> tensor<1x16x1x64xf16> {
  %r = attn.attention ins(%q, %q, %q : tensor<1x16x1x64xf16>, tensor<1x16x1x64xf16>, tensor<1x16x1x64xf16>)
      outs(%o : tensor<1x16x1x64xf16>)
      attributes {mask = #attn.mask<causal, top_left>, scale = 0.125 : f32, softcap = 50.0 : f32}
      -> tensor<1x16x1x64xf16>
  return %r : tensor<1x16x1x64xf16>
}

// -----

// Multi-query attention, dynamic B/S/H, Dv != D, scale and softcap.
// CHECK-LABEL: func.func @mqa_dynamic
// CHECK: attn.attention ins({{.*}} : tensor<?x?x?x96xf16>, tensor<?x?x1x96xf16>, tensor<?x?x1x256xf16>) outs({{.*}} : tensor<?x?x?x256xf16>) mask<causal, bottom_right> scale(1.000000e-01) softcap(3.000000e+01) -> tensor<?x?x?x256xf16>
func.func @mqa_dynamic(%q: tensor<?x?x?x96xf16>, %k: tensor<?x?x1x96xf16>,
                       %v: tensor<?x?x1x256xf16>, %o: tensor<?x?x?x256xf16>)
    -> tensor<?x?x?x256xf16> {
  %r = attn.attention ins(%q, %k, %v : tensor<?x?x?x96xf16>, tensor<?x?x1x96xf16>, tensor<?x?x1x256xf16>)
      outs(%o : tensor<?x?x?x256xf16>) mask<causal, bottom_right> scale(0.1) softcap(30.0)
      -> tensor<?x?x?x256xf16>
  return %r : tensor<?x?x?x256xf16>
}

// -----

// Variable-length batch: three sequences packed along Sq/Sk in batch 1.
// CHECK-LABEL: func.func @varlen
// CHECK: attn.attention ins({{.*}}) cu_seqlens(%{{.+}}, %{{.+}} : tensor<4xi32>, tensor<4xi32>) outs({{.*}}) mask<causal, bottom_right> -> tensor<1x999x4x128xbf16>, tensor<1x4x999xf32>
func.func @varlen(%q: tensor<1x999x4x128xbf16>, %k: tensor<1x1500x4x128xbf16>,
                  %v: tensor<1x1500x4x128xbf16>, %cq: tensor<4xi32>, %ck: tensor<4xi32>,
                  %o: tensor<1x999x4x128xbf16>, %l: tensor<1x4x999xf32>) {
  %r:2 = attn.attention ins(%q, %k, %v : tensor<1x999x4x128xbf16>, tensor<1x1500x4x128xbf16>, tensor<1x1500x4x128xbf16>)
      cu_seqlens(%cq, %ck : tensor<4xi32>, tensor<4xi32>)
      outs(%o, %l : tensor<1x999x4x128xbf16>, tensor<1x4x999xf32>) mask<causal, bottom_right>
      -> tensor<1x999x4x128xbf16>, tensor<1x4x999xf32>
  return
}

// -----

// FP8 inputs with per-(sequence, kv-head) descales; f16 and bf16 outputs.
// CHECK-LABEL: func.func @fp8
// CHECK: attn.attention ins({{.*}}) descale(%{{.+}}, %{{.+}}, %{{.+}} : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) outs({{.*}} : tensor<2x64x8x256xbf16>) -> tensor<2x64x8x256xbf16>
// CHECK: attn.attention ins({{.*}}) descale({{.*}}) outs({{.*}} : tensor<2x64x8x256xf16>) mask<causal, top_left> -> tensor<2x64x8x256xf16>
func.func @fp8(%q: tensor<2x64x8x256xf8E4M3FN>, %k: tensor<2x64x4x256xf8E4M3FN>,
               %v: tensor<2x64x4x256xf8E4M3FN>, %d: tensor<2x4xf32>,
               %o: tensor<2x64x8x256xbf16>, %o16: tensor<2x64x8x256xf16>) {
  %0 = attn.attention ins(%q, %k, %v : tensor<2x64x8x256xf8E4M3FN>, tensor<2x64x4x256xf8E4M3FN>, tensor<2x64x4x256xf8E4M3FN>)
      descale(%d, %d, %d : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>)
      outs(%o : tensor<2x64x8x256xbf16>) -> tensor<2x64x8x256xbf16>
  %1 = attn.attention ins(%q, %k, %v : tensor<2x64x8x256xf8E4M3FN>, tensor<2x64x4x256xf8E4M3FN>, tensor<2x64x4x256xf8E4M3FN>)
      descale(%d, %d, %d : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>)
      outs(%o16 : tensor<2x64x8x256xf16>) mask<causal, top_left> -> tensor<2x64x8x256xf16>
  return
}

// -----

// FP8 varlen: descales are per sequence (N = 2 from cu_seqlens).
// CHECK-LABEL: func.func @fp8_varlen
// CHECK: attn.attention {{.*}} cu_seqlens({{.*}}) descale({{.*}} : tensor<2x1xf32>, tensor<2x1xf32>, tensor<2x1xf32>)
func.func @fp8_varlen(%q: tensor<1x64x2x64xf8E4M3FN>, %k: tensor<1x64x1x64xf8E4M3FN>,
                      %c: tensor<3xi32>, %d: tensor<2x1xf32>, %o: tensor<1x64x2x64xf16>) -> tensor<1x64x2x64xf16> {
  %0 = attn.attention ins(%q, %k, %k : tensor<1x64x2x64xf8E4M3FN>, tensor<1x64x1x64xf8E4M3FN>, tensor<1x64x1x64xf8E4M3FN>)
      cu_seqlens(%c, %c : tensor<3xi32>, tensor<3xi32>)
      descale(%d, %d, %d : tensor<2x1xf32>, tensor<2x1xf32>, tensor<2x1xf32>)
      outs(%o : tensor<1x64x2x64xf16>) -> tensor<1x64x2x64xf16>
  return %0 : tensor<1x64x2x64xf16>
}

// -----

// f32 inputs (the CPU reference path).
// CHECK-LABEL: func.func @f32_reference
// CHECK: attn.attention ins({{.*}} : tensor<1x17x2x8xf32>, tensor<1x1x2x8xf32>, tensor<1x1x2x8xf32>) outs({{.*}} : tensor<1x17x2x8xf32>)
func.func @f32_reference(%q: tensor<1x17x2x8xf32>, %k: tensor<1x1x2x8xf32>, %o: tensor<1x17x2x8xf32>) -> tensor<1x17x2x8xf32> {
  %0 = attn.attention ins(%q, %k, %k : tensor<1x17x2x8xf32>, tensor<1x1x2x8xf32>, tensor<1x1x2x8xf32>)
      outs(%o : tensor<1x17x2x8xf32>) -> tensor<1x17x2x8xf32>
  return %0 : tensor<1x17x2x8xf32>
}

// -----

// ALiBi as a score_mod reading per-head slopes from above; the region
// arguments print with their role names.
// CHECK-LABEL: func.func @alibi_score_mod
// CHECK-SAME: %[[SLOPES:[^:]+]]: tensor<8xf32>
// CHECK: attn.attention {{.*}} mask<causal, bottom_right> score_mod {
// CHECK-NEXT: ^bb0(%[[S:.+]]: f32, %b: index, %[[H:.+]]: index, %[[QI:.+]]: index, %[[KJ:.+]]: index):
// CHECK: tensor.extract %[[SLOPES]][%[[H]]] : tensor<8xf32>
// CHECK: arith.subi %[[KJ]], %[[QI]] : index
// CHECK: attn.yield %{{.+}} : f32
// CHECK-NEXT: } -> tensor<1x64x8x64xf16>
func.func @alibi_score_mod(%q: tensor<1x64x8x64xf16>, %o: tensor<1x64x8x64xf16>,
                           %slopes: tensor<8xf32>) -> tensor<1x64x8x64xf16> {
  %r = attn.attention ins(%q, %q, %q : tensor<1x64x8x64xf16>, tensor<1x64x8x64xf16>, tensor<1x64x8x64xf16>)
      outs(%o : tensor<1x64x8x64xf16>) mask<causal, bottom_right>
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %slope = tensor.extract %slopes[%h] : tensor<8xf32>
        %dist = arith.subi %kj, %qi : index
        %di = arith.index_cast %dist : index to i64
        %df = arith.sitofp %di : i64 to f32
        %bias = arith.mulf %slope, %df : f32
        %r = arith.addf %s, %bias : f32
        attn.yield %r : f32
      } -> tensor<1x64x8x64xf16>
  return %r : tensor<1x64x8x64xf16>
}

// -----

// A document mask as a mask_mod, on top of a causal mask.
// CHECK-LABEL: func.func @document_mask_mod
// CHECK: attn.attention {{.*}} mask<causal, top_left> mask_mod {
// CHECK-NEXT: ^bb0(%b: index, %h: index, %[[QI:.+]]: index, %[[KJ:.+]]: index):
// CHECK-DAG: tensor.extract %{{.+}}[%[[QI]]] : tensor<256xi32>
// CHECK-DAG: tensor.extract %{{.+}}[%[[KJ]]] : tensor<256xi32>
// CHECK: attn.yield %{{.+}} : i1
func.func @document_mask_mod(%q: tensor<1x256x4x64xbf16>, %o: tensor<1x256x4x64xbf16>,
                             %doc: tensor<256xi32>) -> tensor<1x256x4x64xbf16> {
  %r = attn.attention ins(%q, %q, %q : tensor<1x256x4x64xbf16>, tensor<1x256x4x64xbf16>, tensor<1x256x4x64xbf16>)
      outs(%o : tensor<1x256x4x64xbf16>) mask<causal, top_left>
      mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %dq = tensor.extract %doc[%qi] : tensor<256xi32>
        %dk = tensor.extract %doc[%kj] : tensor<256xi32>
        %same = arith.cmpi eq, %dq, %dk : i32
        attn.yield %same : i1
      } -> tensor<1x256x4x64xbf16>
  return %r : tensor<1x256x4x64xbf16>
}

// -----

// Memrefs: destination-passing style with no results; both regions, every
// attribute, varlen and LSE together.
// CHECK-LABEL: func.func @memref_everything
// CHECK: attn.attention ins({{.*}} : memref<1x?x8x64xf16>, memref<1x?x2x64xf16>, memref<1x?x2x64xf16>) cu_seqlens({{.*}} : memref<?xi32>, memref<?xi32>) outs({{.*}} : memref<1x?x8x64xf16>, memref<1x8x?xf32>) mask<window [128, 0], top_left> scale(5.000000e-01) softcap(3.000000e+01) score_mod {
// CHECK: memref.load
// CHECK: attn.yield %{{.+}} : f32
// CHECK: } mask_mod {
// CHECK: arith.cmpi ule
// CHECK: attn.yield %{{.+}} : i1
// CHECK-NEXT: }
// CHECK-NEXT: return
func.func @memref_everything(%q: memref<1x?x8x64xf16>, %k: memref<1x?x2x64xf16>, %v: memref<1x?x2x64xf16>,
                             %cq: memref<?xi32>, %ck: memref<?xi32>,
                             %o: memref<1x?x8x64xf16>, %l: memref<1x8x?xf32>, %bias: memref<8xf32>) {
  attn.attention ins(%q, %k, %v : memref<1x?x8x64xf16>, memref<1x?x2x64xf16>, memref<1x?x2x64xf16>)
      cu_seqlens(%cq, %ck : memref<?xi32>, memref<?xi32>)
      outs(%o, %l : memref<1x?x8x64xf16>, memref<1x8x?xf32>)
      mask<window [128, 0], top_left> scale(0.5) softcap(30.0)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
        %x = memref.load %bias[%h] : memref<8xf32>
        %r = arith.addf %s, %x : f32
        attn.yield %r : f32
      } mask_mod {
      ^bb0(%b: index, %h: index, %i: index, %j: index):
        %c = arith.cmpi ule, %j, %i : index
        attn.yield %c : i1
      }
  return
}

// -----

// Block sparsity: partial and full block lists (FlexAttention's BlockMask),
// broadcast over the batch (B' = 1).
// CHECK-LABEL: func.func @block_mask
// CHECK: attn.attention ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<2x300x4x64xbf16>, memref<2x300x4x64xbf16>, memref<2x300x4x64xbf16>)
// CHECK-SAME: block_mask(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : memref<1x4x3xi32>, memref<1x4x3x3xi32>, memref<1x4x3xi32>, memref<1x4x3x3xi32>) block_size [128, 128]
// CHECK-SAME: outs(
// CHECK: mask_mod
func.func @block_mask(%q: memref<2x300x4x64xbf16>, %k: memref<2x300x4x64xbf16>, %v: memref<2x300x4x64xbf16>,
                      %o: memref<2x300x4x64xbf16>, %n: memref<1x4x3xi32>, %i: memref<1x4x3x3xi32>,
                      %fn: memref<1x4x3xi32>, %fi: memref<1x4x3x3xi32>, %doc: memref<300xi32>) {
  attn.attention ins(%q, %k, %v : memref<2x300x4x64xbf16>, memref<2x300x4x64xbf16>, memref<2x300x4x64xbf16>)
      block_mask(%n, %i, %fn, %fi : memref<1x4x3xi32>, memref<1x4x3x3xi32>, memref<1x4x3xi32>, memref<1x4x3x3xi32>)
      block_size [128, 128]
      outs(%o : memref<2x300x4x64xbf16>)
      mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %dq = memref.load %doc[%qi] : memref<300xi32>
        %dk = memref.load %doc[%kj] : memref<300xi32>
        %same = arith.cmpi eq, %dq, %dk : i32
        attn.yield %same : i1
      }
  return
}

// CHECK-LABEL: func.func @block_mask_partial_only
// CHECK: block_mask(%{{.*}}, %{{.*}} : tensor<2x4x2xi32>, tensor<2x4x2x4xi32>) block_size [64, 32]
func.func @block_mask_partial_only(%q: tensor<2x100x4x64xf16>, %k: tensor<2x100x4x64xf16>,
                                   %v: tensor<2x100x4x64xf16>, %o: tensor<2x100x4x64xf16>,
                                   %n: tensor<2x4x2xi32>, %i: tensor<2x4x2x4xi32>) -> tensor<2x100x4x64xf16> {
  %r = attn.attention ins(%q, %k, %v : tensor<2x100x4x64xf16>, tensor<2x100x4x64xf16>, tensor<2x100x4x64xf16>)
      block_mask(%n, %i : tensor<2x4x2xi32>, tensor<2x4x2x4xi32>) block_size [64, 32]
      outs(%o : tensor<2x100x4x64xf16>) -> tensor<2x100x4x64xf16>
  return %r : tensor<2x100x4x64xf16>
}
