// The launch metadata carries what every argument must be — its memref type,
// element type, shape (-1 where dynamic) and what attn.attention uses it as —
// so a launcher can refuse tensors the kernel would read or write past.
// RUN: attn-compile %s -o %t.ptx --json %t.json
// RUN: FileCheck %s < %t.json
// RUN: attn-compile %s --kernel simt -o %t.simt.ptx --json %t.simt.json
// RUN: FileCheck %s < %t.simt.json

// CHECK: "signature": [
// CHECK-NEXT: {
// CHECK-NEXT: "element": "bf16",
// CHECK-NEXT: "roles": [
// CHECK-NEXT: "q",
// CHECK-NEXT: "k"
// CHECK-NEXT: ],
// CHECK-NEXT: "shape": [
// CHECK-NEXT: 1,
// CHECK-NEXT: 300,
// CHECK-NEXT: 2,
// CHECK-NEXT: 64
// CHECK-NEXT: ],
// CHECK-NEXT: "type": "memref<1x300x2x64xbf16>"
// CHECK: "roles": [
// CHECK-NEXT: "v"
// CHECK: "element": "i32",
// CHECK-NEXT: "roles": [
// CHECK-NEXT: "cu_seqlens_q"
// CHECK: "roles": [
// CHECK-NEXT: "cu_seqlens_k"
// CHECK: "roles": [
// CHECK-NEXT: "out"
// CHECK: "roles": [
// CHECK-NEXT: "lse"
// CHECK: "element": "f32",
// CHECK-NEXT: "roles": [
// CHECK-NEXT: "captured"
// CHECK-NEXT: ],
// CHECK-NEXT: "shape": [
// CHECK-NEXT: 2
// CHECK-NEXT: ],
// CHECK-NEXT: "type": "memref<2xf32>"

func.func @attention(%qk: memref<1x300x2x64xbf16>, %v: memref<1x300x2x64xbf16>,
                     %cu_q: memref<4xi32>, %cu_k: memref<4xi32>,
                     %o: memref<1x300x2x64xbf16>, %lse: memref<1x2x300xf32>,
                     %slopes: memref<2xf32>) {
  attn.attention ins(%qk, %qk, %v : memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>,
                                     memref<1x300x2x64xbf16>)
      cu_seqlens(%cu_q, %cu_k : memref<4xi32>, memref<4xi32>)
      outs(%o, %lse : memref<1x300x2x64xbf16>, memref<1x2x300xf32>)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %x = memref.load %slopes[%h] : memref<2xf32>
        %r = arith.addf %s, %x : f32
        attn.yield %r : f32
      }
  return
}
