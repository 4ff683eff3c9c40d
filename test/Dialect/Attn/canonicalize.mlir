// Canonicalization and DCE see attn.attention's memory effects.
// RUN: attn-opt %s -split-input-file -canonicalize | FileCheck %s

// On tensors the op has no side effects: an unused one is erased.
// CHECK-LABEL: func.func @dead_on_tensors
// CHECK-NOT: attn.attention
// CHECK: return
func.func @dead_on_tensors(%q: tensor<1x16x1x64xf16>, %o: tensor<1x16x1x64xf16>) {
  %r = attn.attention ins(%q, %q, %q : tensor<1x16x1x64xf16>, tensor<1x16x1x64xf16>, tensor<1x16x1x64xf16>)
      outs(%o : tensor<1x16x1x64xf16>) -> tensor<1x16x1x64xf16>
  return
}

// -----

// On memrefs the op writes its outs: it stays.
// CHECK-LABEL: func.func @live_on_memrefs
// CHECK: attn.attention
func.func @live_on_memrefs(%q: memref<1x16x1x64xf16>, %o: memref<1x16x1x64xf16>) {
  attn.attention ins(%q, %q, %q : memref<1x16x1x64xf16>, memref<1x16x1x64xf16>, memref<1x16x1x64xf16>)
      outs(%o : memref<1x16x1x64xf16>)
  return
}
