// RUN: attn-opt %s -split-input-file -one-shot-bufferize | FileCheck %s

// The bufferization models of the L0 ops (AttnBufferization.cpp): on tensors
// each result is its init's new value, so one-shot bufferization writes into
// the inits' buffers and rebuilds the op on memrefs, without results; no init
// is read (the backward zeroes dq_acc and writes delta before reading them),
// so fresh inits need no copy.

// CHECK-LABEL: func.func @attention_grad
// CHECK-SAME: %[[Q:[^:]+]]: memref<1x16x2x64xf16>, %[[L:[^:]+]]: memref<1x2x16xf32>
// CHECK-DAG: %[[DQ:.+]] = memref.alloc() {{.*}} : memref<1x16x2x64xf16>
// CHECK-DAG: %[[ACC:.+]] = memref.alloc() {{.*}} : memref<1x16x2x64xf32>
// CHECK-DAG: %[[D:.+]] = memref.alloc() {{.*}} : memref<1x2x16xf32>
// CHECK-NOT: memref.copy
// CHECK: attn.attention_grad ins(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : memref<1x16x2x64xf16>, {{.*}}) outs(%[[DQ]], %{{.+}}, %{{.+}} : memref<1x16x2x64xf16>, memref<1x16x2x64xf16>, memref<1x16x2x64xf16>) workspace(%[[ACC]], %[[D]] : memref<1x16x2x64xf32>, memref<1x2x16xf32>) mask<causal, bottom_right>
// CHECK-NOT: ->
// CHECK: memref.copy %[[DQ]], %{{.+}}
func.func @attention_grad(%qm: memref<1x16x2x64xf16>, %lm: memref<1x2x16xf32>,
                          %dqm: memref<1x16x2x64xf16>) {
  %q = bufferization.to_tensor %qm restrict : memref<1x16x2x64xf16> to tensor<1x16x2x64xf16>
  %l = bufferization.to_tensor %lm restrict : memref<1x2x16xf32> to tensor<1x2x16xf32>
  %e = bufferization.alloc_tensor() : tensor<1x16x2x64xf16>
  %ek = bufferization.alloc_tensor() : tensor<1x16x2x64xf16>
  %ev = bufferization.alloc_tensor() : tensor<1x16x2x64xf16>
  %ea = bufferization.alloc_tensor() : tensor<1x16x2x64xf32>
  %ed = bufferization.alloc_tensor() : tensor<1x2x16xf32>
  %r:5 = attn.attention_grad
      ins(%q, %q, %q, %q, %q, %l : tensor<1x16x2x64xf16>, tensor<1x16x2x64xf16>, tensor<1x16x2x64xf16>,
          tensor<1x16x2x64xf16>, tensor<1x16x2x64xf16>, tensor<1x2x16xf32>)
      outs(%e, %ek, %ev : tensor<1x16x2x64xf16>, tensor<1x16x2x64xf16>, tensor<1x16x2x64xf16>)
      workspace(%ea, %ed : tensor<1x16x2x64xf32>, tensor<1x2x16xf32>) mask<causal, bottom_right>
      -> tensor<1x16x2x64xf16>, tensor<1x16x2x64xf16>, tensor<1x16x2x64xf16>, tensor<1x16x2x64xf32>,
         tensor<1x2x16xf32>
  bufferization.materialize_in_destination %r#0 in restrict writable %dqm
      : (tensor<1x16x2x64xf16>, memref<1x16x2x64xf16>) -> ()
  return
}

// -----

// attn.attention's model, the same way.
// CHECK-LABEL: func.func @attention
// CHECK: %[[O:.+]] = memref.alloc() {{.*}} : memref<1x16x2x64xf16>
// CHECK: attn.attention ins({{.*}}) outs(%[[O]], %{{.+}} : memref<1x16x2x64xf16>, memref<1x2x16xf32>)
// CHECK-NOT: ->
func.func @attention(%qm: memref<1x16x2x64xf16>, %om: memref<1x16x2x64xf16>) {
  %q = bufferization.to_tensor %qm restrict : memref<1x16x2x64xf16> to tensor<1x16x2x64xf16>
  %e = bufferization.alloc_tensor() : tensor<1x16x2x64xf16>
  %el = bufferization.alloc_tensor() : tensor<1x2x16xf32>
  %r:2 = attn.attention ins(%q, %q, %q : tensor<1x16x2x64xf16>, tensor<1x16x2x64xf16>, tensor<1x16x2x64xf16>)
      outs(%e, %el : tensor<1x16x2x64xf16>, tensor<1x2x16xf32>)
      -> tensor<1x16x2x64xf16>, tensor<1x2x16xf32>
  bufferization.materialize_in_destination %r#0 in restrict writable %om
      : (tensor<1x16x2x64xf16>, memref<1x16x2x64xf16>) -> ()
  return
}
