// The whole CPU pipeline, from attn.attention to the LLVM dialect, with the C
// interface the JIT calls.
// RUN: attn-opt %s -attn-to-cpu="block-m=16 block-n=32" | FileCheck %s \
// RUN:   --implicit-check-not=attn. --implicit-check-not=scf. \
// RUN:   --implicit-check-not=memref. --implicit-check-not=arith. \
// RUN:   --implicit-check-not=math.

// CHECK: llvm.func @attention(
// CHECK: llvm.intr.stacksave
// CHECK: llvm.intr.exp2
// CHECK: llvm.intr.stackrestore
// CHECK: llvm.func @_mlir_ciface_attention(
func.func @attention(%q: memref<1x33x2x64xbf16>, %k: memref<1x70x1x64xbf16>,
                     %o: memref<1x33x2x64xbf16>, %lse: memref<1x2x33xf32>) {
  attn.attention ins(%q, %k, %k : memref<1x33x2x64xbf16>, memref<1x70x1x64xbf16>, memref<1x70x1x64xbf16>)
      outs(%o, %lse : memref<1x33x2x64xbf16>, memref<1x2x33xf32>) mask<causal, bottom_right>
  return
}
