// Round trip of the tiled-level (L1) ops, custom and generic form.
// RUN: attn-opt %s -split-input-file | attn-opt -split-input-file | FileCheck %s
// RUN: attn-opt %s -split-input-file -mlir-print-op-generic | attn-opt -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @program
// CHECK: attn.tile_load %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] rows(%{{.+}}) into %{{.+}} : memref<2x?x8x64xbf16>, memref<32x64xf32>
// CHECK: attn.tile_load %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] rows(%{{.+}}) scale(%{{.+}}) into %{{.+}} : memref<2x?x8x64xf8E4M3FN>, memref<32x64xf32>
// CHECK: attn.block_init %{{.+}}, %{{.+}}, %{{.+}} : memref<32x64xf32>, memref<32xf32>, memref<32xf32>
// CHECK: attn.block_update q(%{{.+}}) k(%{{.+}}) v(%{{.+}}) state(%{{.+}}, %{{.+}}, %{{.+}}) rows(%{{.+}}) cols(%{{.+}}) seq(%{{.+}}) head(%{{.+}}) q_pos(%{{.+}}) kv_pos(%{{.+}}) diag(%{{.+}}) attributes {mask = #attn.mask<none>, scale = 1.250000e-01 : f32} : memref<32x64xf32>, memref<16x64xf32>, memref<16x64xf32>, memref<32x64xf32>, memref<32xf32>, memref<32xf32>
// CHECK: attn.block_update {{.*}} masked attributes {mask = #attn.mask<window [8, 0], top_left>, scale = 1.250000e-01 : f32, softcap = 2.000000e+01 : f32} score_mod {
// CHECK-NEXT: ^bb0(%score: f32, %b: index, %h: index, %q_idx: index, %kv_idx: index):
// CHECK: } mask_mod {
// CHECK-NEXT: ^bb0(%b: index, %h: index, %q_idx: index, %kv_idx: index):
// CHECK: } : memref<32x64xf32>
// CHECK: attn.block_finalize state(%{{.+}}, %{{.+}}, %{{.+}}) rows(%{{.+}}) into %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] lse(%{{.+}}) : memref<32x64xf32>, memref<32xf32>, memref<32xf32>, memref<2x?x8x64xbf16>, memref<2x8x?xf32>
// CHECK: attn.block_finalize state({{.*}}) rows(%{{.+}}) into %{{.+}}[{{.*}}] : memref<32x64xf32>, memref<32xf32>, memref<32xf32>, memref<2x?x8x64xbf16>{{$}}
func.func @program(%q: memref<2x?x8x64xbf16>, %o: memref<2x?x8x64xbf16>, %lse: memref<2x8x?xf32>,
                   %i: index, %n: index, %q8: memref<2x?x8x64xf8E4M3FN>, %descale: f32) {
  %qt = memref.alloca() : memref<32x64xf32>
  %kt = memref.alloca() : memref<16x64xf32>
  %vt = memref.alloca() : memref<16x64xf32>
  %acc = memref.alloca() : memref<32x64xf32>
  %m = memref.alloca() : memref<32xf32>
  %l = memref.alloca() : memref<32xf32>
  attn.tile_load %q[%i, %i, %i] rows(%n) into %qt : memref<2x?x8x64xbf16>, memref<32x64xf32>
  attn.tile_load %q8[%i, %i, %i] rows(%n) scale(%descale) into %qt : memref<2x?x8x64xf8E4M3FN>, memref<32x64xf32>
  attn.block_init %acc, %m, %l : memref<32x64xf32>, memref<32xf32>, memref<32xf32>
  attn.block_update q(%qt) k(%kt) v(%vt) state(%acc, %m, %l) rows(%n) cols(%n)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i)
      attributes {mask = #attn.mask<none>, scale = 0.125 : f32}
      : memref<32x64xf32>, memref<16x64xf32>, memref<16x64xf32>, memref<32x64xf32>, memref<32xf32>, memref<32xf32>
  attn.block_update q(%qt) k(%kt) v(%vt) state(%acc, %m, %l) rows(%n) cols(%n)
      seq(%i) head(%i) q_pos(%i) kv_pos(%i) diag(%i) masked
      attributes {mask = #attn.mask<window [8, 0], top_left>, scale = 0.125 : f32, softcap = 20.0 : f32}
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        attn.yield %s : f32
      } mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %t = arith.cmpi uge, %qi, %kj : index
        attn.yield %t : i1
      }
      : memref<32x64xf32>, memref<16x64xf32>, memref<16x64xf32>, memref<32x64xf32>, memref<32xf32>, memref<32xf32>
  attn.block_finalize state(%acc, %m, %l) rows(%n) into %o[%i, %i, %i] lse(%lse)
      : memref<32x64xf32>, memref<32xf32>, memref<32xf32>, memref<2x?x8x64xbf16>, memref<2x8x?xf32>
  attn.block_finalize state(%acc, %m, %l) rows(%n) into %o[%i, %i, %i]
      : memref<32x64xf32>, memref<32xf32>, memref<32xf32>, memref<2x?x8x64xbf16>
  return
}
