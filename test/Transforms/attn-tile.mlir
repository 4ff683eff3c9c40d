// RUN: attn-opt %s -split-input-file -attn-tile="target=cpu" -canonicalize -cse | FileCheck %s
// RUN: attn-opt %s -split-input-file -attn-tile="target=cpu block-m=64 block-n=128" -canonicalize | FileCheck %s --check-prefix=OPTS
// RUN: attn-opt %s -split-input-file -attn-tile | FileCheck %s --check-prefix=HOPPER

// Causal, bottom-right aligned (diag = Sk - Sq = 200), GQA 8 -> 2 heads.
// A program owns query rows [q0, q0 + rows) with q0 = 32·qb; KV blocks of 64:
//   visible  [0, min(300, q0 + rows + 200))     -> blocks [0, hi)
//   interior [0, min(300, q0 + 201))            -> blocks [0, interiorHi)
// Blocks past hi are never visited; [interiorHi, hi) carries the diagonal. No
// left window bound: no left boundary loop (its range [0, 0) is empty).
// CHECK-LABEL: func.func @causal_bottom_right
// CHECK-SAME: (%[[Q:[^:]+]]: memref<2x100x8x64xbf16>, %[[K:[^:]+]]: memref<2x300x2x64xbf16>, %[[V:[^:]+]]: memref<2x300x2x64xbf16>, %[[O:[^:]+]]: memref<2x100x8x64xbf16>, %[[L:[^:]+]]: memref<2x8x100xf32>)
// CHECK: attn.program_grid (%[[B:.+]], %[[H:.+]], %[[QB:.+]]) in (%c2, %c8, %c4) block_m(32) {
// CHECK: %[[Q0:.+]] = arith.muli %[[QB]], %c32
// CHECK: %[[ROWS:.+]] = arith.minsi %{{.+}}, %c32
// CHECK: %[[KVH:.+]] = arith.divui %[[H]], %c4
// CHECK: %[[QE:.+]] = bufferization.alloc_tensor() : tensor<32x64xf32>
// CHECK: %[[QT:.+]] = attn.tile_load %[[Q]][%[[B]], %[[Q0]], %[[H]]] rows(%[[ROWS]]) into %[[QE]]
// The K and V tiles: one allocation each per program, reloaded by every block.
// CHECK: %[[KE:.+]] = bufferization.alloc_tensor() : tensor<64x64xf32>
// CHECK: %[[VE:.+]] = bufferization.alloc_tensor() : tensor<64x64xf32>
// CHECK: %[[ACC:.+]], %[[M:.+]], %[[SUM:.+]] = attn.block_init : tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>
// CHECK: %[[VISHI:.+]] = arith.minsi %{{.+}}, %c300
// CHECK: %[[INTHI:.+]] = arith.minsi %{{.+}}, %c300
// CHECK: %[[HI:.+]] = arith.select %{{.+}}, %c0, %{{.+}}
// CHECK-NOT: masked
// The running state is carried from loop to loop.
// CHECK: %[[S1:.+]]:3 = scf.for %[[KB1:.+]] = %c0 to %[[IHI:.+]] step %c1 iter_args(%[[A1:.+]] = %[[ACC]], %[[M1:.+]] = %[[M]], %[[L1:.+]] = %[[SUM]])
// CHECK:   %[[K0:.+]] = arith.muli %[[KB1]], %c64
// CHECK:   %[[COLS:.+]] = arith.minsi %{{.+}}, %c64
// CHECK:   %[[KT:.+]] = attn.tile_load %[[K]][%[[B]], %[[K0]], %[[KVH]]] rows(%[[COLS]]) into %[[KE]]
// CHECK:   %[[VT:.+]] = attn.tile_load %[[V]][%[[B]], %[[K0]], %[[KVH]]] rows(%[[COLS]]) into %[[VE]]
// CHECK:   %[[U:.+]]:3 = attn.block_update q(%[[QT]]) k(%[[KT]]) v(%[[VT]]) state(%[[A1]], %[[M1]], %[[L1]]) rows(%[[ROWS]]) cols(%[[COLS]]) seq(%[[B]]) head(%[[H]]) q_pos(%[[Q0]]) kv_pos(%[[K0]]) diag(%c200) attributes {mask = #attn.mask<causal, bottom_right>, scale = 1.250000e-01 : f32}
// CHECK:   scf.yield %[[U]]#0, %[[U]]#1, %[[U]]#2
// CHECK: %[[S2:.+]]:3 = scf.for %{{.+}} = %[[IHI]] to %[[HI]] step %c1 iter_args(%{{.+}} = %[[S1]]#0, %{{.+}} = %[[S1]]#1, %{{.+}} = %[[S1]]#2)
// CHECK:   attn.block_update {{.*}} masked attributes
// CHECK: attn.block_finalize state(%[[S2]]#0, %[[S2]]#1, %[[S2]]#2) rows(%[[ROWS]]) into %[[O]][%[[B]], %[[Q0]], %[[H]]] lse(%[[L]])

// The options override the heuristic's tile sizes.
// OPTS-LABEL: func.func @causal_bottom_right
// OPTS: bufferization.alloc_tensor() : tensor<64x64xf32>
// OPTS: bufferization.alloc_tensor() : tensor<128x64xf32>
// OPTS: arith.muli %{{.+}}, %c128

// The Hopper heuristic at D = 64: BlockN = 128; BlockM = 128 for a causal
// Sq <= 2048 (192 beyond: long_causal_d64 below).
// The tensor cores take the operands' own bf16 tiles.
// HOPPER-LABEL: func.func @causal_bottom_right
// HOPPER: attn.program_grid {{.*}} block_m(128)
// HOPPER: bufferization.alloc_tensor() : tensor<128x64xbf16>
// HOPPER: bufferization.alloc_tensor() : tensor<128x64xbf16>
func.func @causal_bottom_right(%q: memref<2x100x8x64xbf16>, %k: memref<2x300x2x64xbf16>,
                               %v: memref<2x300x2x64xbf16>, %o: memref<2x100x8x64xbf16>,
                               %l: memref<2x8x100xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x100x8x64xbf16>, memref<2x300x2x64xbf16>, memref<2x300x2x64xbf16>)
      outs(%o, %l : memref<2x100x8x64xbf16>, memref<2x8x100xf32>) mask<causal, bottom_right>
  return
}

// -----

// No mask: one loop over every KV block, none of them masked; the ragged
// last block (300 = 4·64 + 44) is bounded by its column count.
// CHECK-LABEL: func.func @no_mask
// CHECK: attn.block_init
// CHECK-NEXT: scf.for %[[KB:.+]] = %c0 to %c5 step %c1 iter_args(
// CHECK: attn.block_update {{.*}} diag(%{{.+}}) attributes {mask = #attn.mask<none>, scale = 1.250000e-01 : f32}
// CHECK-NOT: scf.for
// CHECK-NOT: masked
// CHECK: attn.block_finalize
func.func @no_mask(%q: memref<1x100x2x64xf32>, %k: memref<1x300x2x64xf32>, %o: memref<1x100x2x64xf32>) {
  attn.attention ins(%q, %k, %k : memref<1x100x2x64xf32>, memref<1x300x2x64xf32>, memref<1x300x2x64xf32>)
      outs(%o : memref<1x100x2x64xf32>)
  return
}

// -----

// Sliding window [16, 0], top-left: blocks left of the window are skipped
// too (lo = floor(max(0, q0 - 16) / 64)).
// CHECK-LABEL: func.func @window_top_left
// CHECK: %[[VISLO:.+]] = arith.maxsi %{{.+}}, %c0
// CHECK: %[[LO:.+]] = arith.floordivsi %[[VISLO]], %c64
// CHECK: scf.for %{{.+}} = %[[LO]] to %[[ILO:.+]] step %c1
// CHECK:   attn.block_update {{.*}} masked attributes {mask = #attn.mask<window [16, 0], top_left>
// CHECK: scf.for %{{.+}} = %[[ILO]] to %[[IHI:.+]] step %c1
// CHECK:   attn.block_update {{.*}} diag(%c0) attributes
// CHECK: scf.for %{{.+}} = %[[IHI]] to %{{.+}} step %c1
// CHECK:   attn.block_update {{.*}} masked attributes
func.func @window_top_left(%q: memref<1x512x1x64xf16>, %o: memref<1x512x1x64xf16>) {
  attn.attention ins(%q, %q, %q : memref<1x512x1x64xf16>, memref<1x512x1x64xf16>, memref<1x512x1x64xf16>)
      outs(%o : memref<1x512x1x64xf16>) mask<window [16, 0], top_left>
  return
}

// -----

// A mask_mod can hide any key: every visited block is masked and carries
// the region; score_mod travels with every block.
// CHECK-LABEL: func.func @modifiers
// CHECK: scf.for
// CHECK: attn.block_update {{.*}} masked attributes {mask = #attn.mask<none>, scale = 5.000000e-01 : f32, softcap = 3.000000e+01 : f32} score_mod {
// CHECK: memref.load %{{.+}}[%h]
// CHECK: } mask_mod {
// CHECK: arith.cmpi
// CHECK-NOT: scf.for
// CHECK: attn.block_finalize
func.func @modifiers(%q: memref<1x256x2x64xf16>, %o: memref<1x256x2x64xf16>, %bias: memref<2xf32>) {
  attn.attention ins(%q, %q, %q : memref<1x256x2x64xf16>, memref<1x256x2x64xf16>, memref<1x256x2x64xf16>)
      outs(%o : memref<1x256x2x64xf16>) scale(0.5) softcap(30.0)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
        %x = memref.load %bias[%h] : memref<2xf32>
        %r = arith.addf %s, %x : f32
        attn.yield %r : f32
      } mask_mod {
      ^bb0(%b: index, %h: index, %i: index, %j: index):
        %c = arith.cmpi ne, %i, %j : index
        attn.yield %c : i1
      }
  return
}

// -----

// Varlen: each program reads its sequence's offsets, skips q-blocks past
// the end of its sequence, and addresses rows at offset + position.
// CHECK-LABEL: func.func @varlen
// CHECK-SAME: %[[CQ:[^:]+]]: memref<4xi32>, %[[CK:[^:]+]]: memref<4xi32>
// CHECK: attn.program_grid (%[[S:.+]], %[[H:.+]], %[[QB:.+]]) in (%c3, %c4, %c32) block_m(32)
// The offsets, clamped to the packed tensors (a backstop: the host checks
// them): qbegin = min(max(cu_q[s], 0), 1000), qlen = max(qend - qbegin, 0).
// CHECK: %[[RAW:.+]] = arith.index_cast %{{.+}} : i32 to index
// CHECK: %[[LO:.+]] = arith.maxsi %[[RAW]], %{{.+}} : index
// CHECK: %[[QBEG:.+]] = arith.minsi %[[LO]], %c1000 : index
// CHECK: %[[QEND:.+]] = arith.minsi %{{.+}}, %c1000 : index
// CHECK: %[[QDIFF:.+]] = arith.subi %[[QEND]], %[[QBEG]] : index
// CHECK: %[[QLEN:.+]] = arith.maxsi %[[QDIFF]], %{{.+}} : index
// CHECK: arith.minsi %{{.+}}, %c1500 : index
// CHECK: scf.if %{{.+}} {
// CHECK: %[[ROW:.+]] = arith.addi %[[QBEG]], %{{.+}}
// CHECK: attn.tile_load %{{.+}}[%c0, %[[ROW]], %[[H]]]
// CHECK: attn.block_update {{.*}} seq(%[[S]])
// CHECK: attn.block_finalize {{.*}} into %{{.+}}[%c0, %[[ROW]], %[[H]]]
func.func @varlen(%q: memref<1x1000x4x64xbf16>, %k: memref<1x1500x4x64xbf16>,
                  %cq: memref<4xi32>, %ck: memref<4xi32>, %o: memref<1x1000x4x64xbf16>) {
  attn.attention ins(%q, %k, %k : memref<1x1000x4x64xbf16>, memref<1x1500x4x64xbf16>, memref<1x1500x4x64xbf16>)
      cu_seqlens(%cq, %ck : memref<4xi32>, memref<4xi32>)
      outs(%o : memref<1x1000x4x64xbf16>) mask<causal, bottom_right>
  return
}

// -----

// Dynamic sizes: the grid and the bounds come from memref.dim.
// CHECK-LABEL: func.func @dynamic
// CHECK: memref.dim %{{.+}}, %c0
// CHECK: attn.program_grid
// CHECK: attn.block_update
func.func @dynamic(%q: memref<?x?x?x128xf16>, %k: memref<?x?x?x128xf16>, %o: memref<?x?x?x128xf16>) {
  attn.attention ins(%q, %k, %k : memref<?x?x?x128xf16>, memref<?x?x?x128xf16>, memref<?x?x?x128xf16>)
      outs(%o : memref<?x?x?x128xf16>) mask<causal, top_left>
  return
}

// -----

// HOPPER-LABEL: func.func @long_causal_d64
// HOPPER: bufferization.alloc_tensor() : tensor<192x64xbf16>
// HOPPER: bufferization.alloc_tensor() : tensor<128x64xbf16>
func.func @long_causal_d64(%q: memref<1x4096x2x64xbf16>, %o: memref<1x4096x2x64xbf16>) {
  attn.attention ins(%q, %q, %q : memref<1x4096x2x64xbf16>, memref<1x4096x2x64xbf16>, memref<1x4096x2x64xbf16>)
      outs(%o : memref<1x4096x2x64xbf16>) mask<causal, bottom_right>
  return
}

// -----

// Head dims between 64, 128 and 256 take the tiles of the next one up: D = 96
// as 128 (128 x 128), D = 160 as 256 (128 x 80); with a score_mod or mask_mod
// D = 80..112 take BlockN 96 (128 spilled: documents at D = 96, 40 bytes).
// HOPPER-LABEL: func.func @d96
// HOPPER: bufferization.alloc_tensor() : tensor<128x96xbf16>
// HOPPER: bufferization.alloc_tensor() : tensor<128x96xbf16>
func.func @d96(%q: memref<1x1000x2x96xbf16>, %o: memref<1x1000x2x96xbf16>) {
  attn.attention ins(%q, %q, %q : memref<1x1000x2x96xbf16>, memref<1x1000x2x96xbf16>, memref<1x1000x2x96xbf16>)
      outs(%o : memref<1x1000x2x96xbf16>) mask<causal, bottom_right>
  return
}

// -----

// HOPPER-LABEL: func.func @d160
// HOPPER: bufferization.alloc_tensor() : tensor<128x160xf16>
// HOPPER: bufferization.alloc_tensor() : tensor<80x160xf16>
func.func @d160(%q: memref<1x1000x2x160xf16>, %o: memref<1x1000x2x160xf16>) {
  attn.attention ins(%q, %q, %q : memref<1x1000x2x160xf16>, memref<1x1000x2x160xf16>, memref<1x1000x2x160xf16>)
      outs(%o : memref<1x1000x2x160xf16>)
  return
}

// -----

// HOPPER-LABEL: func.func @d96_mask_mod
// HOPPER: bufferization.alloc_tensor() : tensor<128x96xbf16>
// HOPPER: bufferization.alloc_tensor() : tensor<96x96xbf16>
func.func @d96_mask_mod(%q: memref<1x1000x2x96xbf16>, %o: memref<1x1000x2x96xbf16>,
                        %doc: memref<1000xi32>) {
  attn.attention ins(%q, %q, %q : memref<1x1000x2x96xbf16>, memref<1x1000x2x96xbf16>, memref<1x1000x2x96xbf16>)
      outs(%o : memref<1x1000x2x96xbf16>) mask_mod {
      ^bb0(%b: index, %h: index, %i: index, %j: index):
        %di = memref.load %doc[%i] : memref<1000xi32>
        %dj = memref.load %doc[%j] : memref<1000xi32>
        %same = arith.cmpi eq, %di, %dj : i32
        attn.yield %same : i1
      }
  return
}

// -----

// FP8: each program reads the descales of its sequence and KV head (h / 2
// under GQA 4 -> 2) once; the tile loads apply them (S = scale·(dq·q)(dk·k)ᵀ,
// O = P·(dv·v)); the output is bf16.
// CHECK-LABEL: func.func @fp8
// CHECK: attn.program_grid (%[[B:.+]], %[[H:.+]], %{{.+}}) in
// CHECK: %[[KVH:.+]] = arith.divui %[[H]], %c2 : index
// CHECK: %[[DQ:.+]] = memref.load %arg3[%[[B]], %[[KVH]]] : memref<2x2xf32>
// CHECK: %[[DK:.+]] = memref.load %arg4[%[[B]], %[[KVH]]] : memref<2x2xf32>
// CHECK: %[[DV:.+]] = memref.load %arg5[%[[B]], %[[KVH]]] : memref<2x2xf32>
// CHECK: attn.tile_load %arg0[%[[B]], %{{.+}}, %[[H]]] rows(%{{.+}}) scale(%[[DQ]])
// CHECK: attn.tile_load %arg1[%[[B]], %{{.+}}, %[[KVH]]] rows(%{{.+}}) scale(%[[DK]])
// CHECK: attn.tile_load %arg2[%[[B]], %{{.+}}, %[[KVH]]] rows(%{{.+}}) scale(%[[DV]])
// CHECK: attn.block_finalize {{.*}} : tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>, memref<2x100x4x64xbf16>
func.func @fp8(%q: memref<2x100x4x64xf8E4M3FN>, %k: memref<2x70x2x64xf8E4M3FN>,
               %v: memref<2x70x2x64xf8E4M3FN>, %dq: memref<2x2xf32>, %dk: memref<2x2xf32>,
               %dv: memref<2x2xf32>, %o: memref<2x100x4x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x100x4x64xf8E4M3FN>, memref<2x70x2x64xf8E4M3FN>, memref<2x70x2x64xf8E4M3FN>)
      descale(%dq, %dk, %dv : memref<2x2xf32>, memref<2x2xf32>, memref<2x2xf32>)
      outs(%o : memref<2x100x4x64xbf16>)
  return
}
