// RUN: attn-opt %s -split-input-file -attn-tile="target=cpu" -canonicalize -cse | FileCheck %s
// RUN: attn-opt %s -split-input-file -attn-tile | FileCheck %s --check-prefix=HOPPER

// attn.attention_grad as three grids (AttnTileGrad.cpp). Causal, bottom-right
// (diag = Sk - Sq = 7), GQA 4 -> 2 heads, CPU tiles: q-blocks of 16 rows,
// main programs of 32 keys.
//   preprocess (seq, h, qb):   D = rowsum(dO∘O) − dLSE -> delta; dQ_acc rows = 0
//   main (seq, kvh, kb):       K, V once; dK = dV = 0; for h in the group of
//                              kvh, for the q-blocks that see keys [k0, k0 + cols):
//                              dK, dV += ...; dQ_acc += its dQ part
//                              dk = scale·dK, dv = dV
//   postprocess (seq, h, qb):  dq = scale·dQ_acc
// Key j is seen by query i iff i >= j - diag (the transposed causal rule):
//   visible  [max(0, k0 - 7), 33)              -> q-blocks [lo, hi)
//   interior [max(0, k0 + cols - 1 - 7), 33)   -> q-blocks [interiorLo, hi)
// so [lo, interiorLo) is masked (the diagonal), the rest interior, and no
// trailing boundary loop exists (the causal mask has no left bound).
// CHECK-LABEL: func.func @causal_gqa
// CHECK-SAME: (%[[Q:[^:]+]]: memref<2x33x4x64xf32>, %[[K:[^:]+]]: memref<2x40x2x64xf32>, %[[V:[^:]+]]: memref<2x40x2x64xf32>, %[[O:[^:]+]]: memref<2x33x4x64xf32>, %[[DO:[^:]+]]: memref<2x33x4x64xf32>, %[[LSE:[^:]+]]: memref<2x4x33xf32>, %[[DLSE:[^:]+]]: memref<2x4x33xf32>, %[[DQ:[^:]+]]: memref<2x33x4x64xf32>, %[[DK:[^:]+]]: memref<2x40x2x64xf32>, %[[DV:[^:]+]]: memref<2x40x2x64xf32>, %[[ACC:[^:]+]]: memref<2x33x4x64xf32>, %[[DELTA:[^:]+]]: memref<2x4x33xf32>)
// CHECK: attn.program_grid (%[[S:.+]], %[[H:.+]], %[[QB:.+]]) in (%c2, %c4, %c3) block_m(16) attributes {kind = #attn.program_kind<grad_preprocess>} {
// CHECK:   %[[Q0:.+]] = arith.muli %[[QB]], %c16
// CHECK:   %[[ROWS:.+]] = arith.minsi %{{.+}}, %c16
// CHECK:   %[[OT:.+]] = attn.tile_load %[[O]][%[[S]], %[[Q0]], %[[H]]] rows(%[[ROWS]])
// CHECK:   %[[DOT:.+]] = attn.tile_load %[[DO]][%[[S]], %[[Q0]], %[[H]]] rows(%[[ROWS]])
// CHECK:   %[[DL:.+]] = attn.tile_load %[[DLSE]][%[[S]], %[[Q0]], %[[H]]] rows(%[[ROWS]]) into %{{.+}} : memref<2x4x33xf32>, tensor<16xf32> -> tensor<16xf32>
// CHECK:   %[[D:.+]] = attn.block_grad_delta out(%[[OT]]) dout(%[[DOT]]) dlse(%[[DL]])
// CHECK:   attn.tile_store %[[D]] into %[[DELTA]][%[[S]], %[[Q0]], %[[H]]] rows(%[[ROWS]]) : tensor<16xf32>, memref<2x4x33xf32>
// CHECK:   %[[Z:.+]] = attn.block_grad_init : tensor<16x64xf32>
// CHECK:   attn.tile_store %[[Z]] into %[[ACC]][%[[S]], %[[Q0]], %[[H]]] rows(%[[ROWS]]) : tensor<16x64xf32>
// CHECK: attn.program_grid (%[[S:.+]], %[[KVH:.+]], %[[KB:.+]]) in (%c2, %c2, %c2) block_m(32) attributes {kind = #attn.program_kind<grad_kv>} {
// CHECK:   %[[K0:.+]] = arith.muli %[[KB]], %c32
// CHECK:   %[[COLS:.+]] = arith.minsi %{{.+}}, %c32
// CHECK:   %[[KT:.+]] = attn.tile_load %[[K]][%[[S]], %[[K0]], %[[KVH]]] rows(%[[COLS]])
// CHECK:   %[[VT:.+]] = attn.tile_load %[[V]][%[[S]], %[[K0]], %[[KVH]]] rows(%[[COLS]])
// CHECK:   %[[STATE:.+]]:2 = attn.block_grad_init : tensor<32x64xf32>, tensor<32x64xf32>
// The query heads of the group, dK and dV carried across them.
// CHECK:   %[[G:.+]]:2 = scf.for %[[GI:.+]] = %c0 to %c2 step %c1 iter_args(%{{.+}} = %[[STATE]]#0, %{{.+}} = %[[STATE]]#1)
// CHECK:     %[[HM:.+]] = arith.muli %[[KVH]], %c2
// CHECK:     %[[HQ:.+]] = arith.addi %[[HM]], %[[GI]]
// CHECK:     %[[B1:.+]]:2 = scf.for %[[QB1:.+]] = %[[LO:.+]] to %[[ILO:.+]] step %c1
// CHECK:       %[[Q0:.+]] = arith.muli %[[QB1]], %c16
// CHECK:       attn.tile_load %[[Q]][%[[S]], %[[Q0]], %[[HQ]]]
// CHECK:       attn.tile_load %[[DO]][%[[S]], %[[Q0]], %[[HQ]]]
// CHECK:       attn.tile_load %[[LSE]][%[[S]], %[[Q0]], %[[HQ]]] rows(%{{.+}}) into %{{.+}} : memref<2x4x33xf32>, tensor<16xf32>
// CHECK:       attn.tile_load %[[DELTA]][%[[S]], %[[Q0]], %[[HQ]]] rows(%{{.+}}) into %{{.+}} : memref<2x4x33xf32>, tensor<16xf32>
// CHECK:       %[[U:.+]]:3 = attn.block_grad_update {{.*}} seq(%[[S]]) head(%[[HQ]]) q_pos(%[[Q0]]) kv_pos(%[[K0]]) diag(%c7) masked attributes {mask = #attn.mask<causal, bottom_right>, scale = 1.250000e-01 : f32}
// CHECK:       attn.tile_store %[[U]]#2 into %[[ACC]][%[[S]], %[[Q0]], %[[HQ]]] rows(%{{.+}}) accumulate
// CHECK:       scf.yield %[[U]]#0, %[[U]]#1
// CHECK:     scf.for %{{.+}} = %[[ILO]] to %[[HI:.+]] step %c1 iter_args(%{{.+}} = %[[B1]]#0, %{{.+}} = %[[B1]]#1)
// CHECK-NOT:   masked
// CHECK:       attn.block_grad_update {{.*}} diag(%c7) attributes
// CHECK:   attn.block_grad_finalize state(%[[G]]#0, %[[G]]#1) rows(%[[COLS]]) into %[[DK]], %[[DV]][%[[S]], %[[K0]], %[[KVH]]] {scale = 1.250000e-01 : f32}
// CHECK: attn.program_grid (%[[S:.+]], %[[H:.+]], %[[QB:.+]]) in (%c2, %c4, %c3) block_m(16) attributes {kind = #attn.program_kind<grad_postprocess>} {
// CHECK:   %[[A:.+]] = attn.tile_load %[[ACC]][%[[S]], %{{.+}}, %[[H]]] rows(%{{.+}}) scale(%{{.+}})
// CHECK:   attn.tile_store %[[A]] into %[[DQ]][%[[S]], %{{.+}}, %[[H]]]
// The sm_90a heuristic (FlashAttention-3's backward tiles) at D <= 64:
// q-blocks of 128 rows, programs of 128 keys.
// HOPPER-LABEL: func.func @causal_gqa
// HOPPER: block_m(128) attributes {kind = #attn.program_kind<grad_preprocess>}
// HOPPER: block_m(128) attributes {kind = #attn.program_kind<grad_kv>}
func.func @causal_gqa(%q: memref<2x33x4x64xf32>, %k: memref<2x40x2x64xf32>, %v: memref<2x40x2x64xf32>,
                      %o: memref<2x33x4x64xf32>, %do: memref<2x33x4x64xf32>, %lse: memref<2x4x33xf32>,
                      %dlse: memref<2x4x33xf32>, %dq: memref<2x33x4x64xf32>, %dk: memref<2x40x2x64xf32>,
                      %dv: memref<2x40x2x64xf32>, %acc: memref<2x33x4x64xf32>, %delta: memref<2x4x33xf32>) {
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<2x33x4x64xf32>, memref<2x40x2x64xf32>,
                          memref<2x40x2x64xf32>, memref<2x33x4x64xf32>, memref<2x33x4x64xf32>,
                          memref<2x4x33xf32>)
      dlse(%dlse : memref<2x4x33xf32>)
      outs(%dq, %dk, %dv : memref<2x33x4x64xf32>, memref<2x40x2x64xf32>, memref<2x40x2x64xf32>)
      workspace(%acc, %delta : memref<2x33x4x64xf32>, memref<2x4x33xf32>) mask<causal, bottom_right>
  return
}

// -----

// A window [3, 20], top-left, bounded on both sides: the transposed window is
// [20, 3] (key j is seen by queries [j - 3, j + 20]), so the q-blocks of a key
// tile split in three: boundary, interior, boundary. No GQA: no group loop.
// On sm_90a the tiles hold the operands' f16 (the tensor cores' input).
// CHECK-LABEL: func.func @window_both_sides
// CHECK: kind = #attn.program_kind<grad_kv>
// CHECK-NOT: scf.for %{{.+}} = %c0 to %c1
// CHECK: scf.for %{{.+}} = %[[LO:.+]] to %[[ILO:.+]] step %c1
// CHECK:   attn.block_grad_update {{.*}} masked attributes {mask = #attn.mask<window [3, 20], top_left>
// CHECK: scf.for %{{.+}} = %[[ILO]] to %[[IHI:.+]] step %c1
// CHECK:   attn.block_grad_update {{.*}} diag(%c0) attributes
// CHECK: scf.for %{{.+}} = %[[IHI]] to %{{.+}} step %c1
// CHECK:   attn.block_grad_update {{.*}} masked attributes
// HOPPER-LABEL: func.func @window_both_sides
// HOPPER: attn.tile_load {{.*}} : memref<1x100x2x64xf16>, tensor<128x64xf16> -> tensor<128x64xf16>
func.func @window_both_sides(%q: memref<1x100x2x64xf16>, %lse: memref<1x2x100xf32>, %acc: memref<1x100x2x64xf32>) {
  attn.attention_grad
      ins(%q, %q, %q, %q, %q, %lse : memref<1x100x2x64xf16>, memref<1x100x2x64xf16>,
          memref<1x100x2x64xf16>, memref<1x100x2x64xf16>, memref<1x100x2x64xf16>, memref<1x2x100xf32>)
      outs(%q, %q, %q : memref<1x100x2x64xf16>, memref<1x100x2x64xf16>, memref<1x100x2x64xf16>)
      workspace(%acc, %lse : memref<1x100x2x64xf32>, memref<1x2x100xf32>) mask<window [3, 20], top_left>
  return
}

// -----

// No mask: one unmasked loop over every q-block (ceil(50 / 16) = 4), the ragged
// last one included; score_mod travels with every block, mask_mod (here none)
// only with masked ones.
// CHECK-LABEL: func.func @no_mask_score_mod
// CHECK: kind = #attn.program_kind<grad_kv>
// CHECK: scf.for %{{.+}} = %c0 to %c4 step %c1
// CHECK-NOT: masked
// CHECK:   attn.block_grad_update {{.*}} attributes {mask = #attn.mask<none>, scale = 5.000000e-01 : f32, softcap = 3.000000e+01 : f32} score_mod {
// CHECK:     memref.load
// CHECK:   } : tensor<16x64xf32>
// CHECK-NOT: scf.for
// CHECK: attn.block_grad_finalize
func.func @no_mask_score_mod(%q: memref<1x50x2x64xf32>, %lse: memref<1x2x50xf32>, %acc: memref<1x50x2x64xf32>,
                             %bias: memref<2xf32>) {
  attn.attention_grad
      ins(%q, %q, %q, %q, %q, %lse : memref<1x50x2x64xf32>, memref<1x50x2x64xf32>,
          memref<1x50x2x64xf32>, memref<1x50x2x64xf32>, memref<1x50x2x64xf32>, memref<1x2x50xf32>)
      outs(%q, %q, %q : memref<1x50x2x64xf32>, memref<1x50x2x64xf32>, memref<1x50x2x64xf32>)
      workspace(%acc, %lse : memref<1x50x2x64xf32>, memref<1x2x50xf32>) scale(0.5) softcap(30.0)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
        %x = memref.load %bias[%h] : memref<2xf32>
        %r = arith.addf %s, %x : f32
        attn.yield %r : f32
      }
  return
}

// -----

// A mask_mod may hide any key: one loop over the visible q-blocks, every one
// masked and carrying the region.
// CHECK-LABEL: func.func @mask_mod
// CHECK: kind = #attn.program_kind<grad_kv>
// CHECK: scf.for
// CHECK:   attn.block_grad_update {{.*}} masked attributes {mask = #attn.mask<causal, top_left>, scale = 1.250000e-01 : f32} mask_mod {
// CHECK-NOT: scf.for
// CHECK: attn.block_grad_finalize
func.func @mask_mod(%q: memref<1x50x2x64xf32>, %lse: memref<1x2x50xf32>, %acc: memref<1x50x2x64xf32>) {
  attn.attention_grad
      ins(%q, %q, %q, %q, %q, %lse : memref<1x50x2x64xf32>, memref<1x50x2x64xf32>,
          memref<1x50x2x64xf32>, memref<1x50x2x64xf32>, memref<1x50x2x64xf32>, memref<1x2x50xf32>)
      outs(%q, %q, %q : memref<1x50x2x64xf32>, memref<1x50x2x64xf32>, memref<1x50x2x64xf32>)
      workspace(%acc, %lse : memref<1x50x2x64xf32>, memref<1x2x50xf32>) mask<causal, top_left>
      mask_mod {
      ^bb0(%b: index, %h: index, %i: index, %j: index):
        %c = arith.cmpi ne, %i, %j : index
        attn.yield %c : i1
      }
  return
}

// -----

// Varlen: each grid reads its sequence's offsets; preprocess and postprocess
// programs past their sequence's queries do nothing, main programs past its
// keys do nothing; rows at offset + position, the diagonal kLen − qLen.
// CHECK-LABEL: func.func @varlen
// CHECK-SAME: %[[CQ:[^:]+]]: memref<4xi32>, %[[CK:[^:]+]]: memref<4xi32>
// CHECK: kind = #attn.program_kind<grad_preprocess>
// CHECK: %[[QBEG:.+]] = arith.index_cast %{{.+}} : i32 to index
// CHECK: scf.if
// CHECK:   %[[ROW:.+]] = arith.addi %[[QBEG]], %{{.+}}
// CHECK:   attn.tile_load %{{.+}}[%c0, %[[ROW]], %{{.+}}]
// CHECK: attn.program_grid (%[[S:.+]], %{{.+}}, %[[KB:.+]]) in (%c3, %c2, %c2) block_m(32) attributes {kind = #attn.program_kind<grad_kv>}
// CHECK:   %[[K0:.+]] = arith.muli %[[KB]], %c32
// CHECK:   memref.load %[[CK]][%[[S]]]
// CHECK:   %[[KLEN:.+]] = arith.subi
// CHECK:   %[[IN:.+]] = arith.cmpi slt, %[[K0]], %[[KLEN]]
// CHECK:   scf.if %[[IN]] {
// CHECK:     attn.block_grad_update {{.*}} seq(%[[S]])
// CHECK: kind = #attn.program_kind<grad_postprocess>
// CHECK: scf.if
func.func @varlen(%q: memref<1x300x4x64xf32>, %k: memref<1x50x2x64xf32>, %lse: memref<1x4x300xf32>,
                  %cq: memref<4xi32>, %ck: memref<4xi32>, %acc: memref<1x300x4x64xf32>) {
  attn.attention_grad
      ins(%q, %k, %k, %q, %q, %lse : memref<1x300x4x64xf32>, memref<1x50x2x64xf32>,
          memref<1x50x2x64xf32>, memref<1x300x4x64xf32>, memref<1x300x4x64xf32>, memref<1x4x300xf32>)
      cu_seqlens(%cq, %ck : memref<4xi32>, memref<4xi32>)
      outs(%q, %k, %k : memref<1x300x4x64xf32>, memref<1x50x2x64xf32>, memref<1x50x2x64xf32>)
      workspace(%acc, %lse : memref<1x300x4x64xf32>, memref<1x4x300xf32>) mask<causal, bottom_right>
  return
}

// -----

// A block mask: a main program's key block nb = k0 / 64 (block_size [64, 64],
// CPU tiles 16 x 32: r = 4 q-blocks per mask row) is looked up in the lists of
// each mask row mq:
//   hit  = ∃ i < clamp(num[b, h, mq], 0, 2): clamp(idx[b, h, mq, i], 0, 1) = nb
//   full = the same in the full lists
// its q-blocks [4·mq, min(4·mq + 4, 7)) then run masked (hit), unmasked (full)
// or not at all. The grid is block_sparse.
// CHECK-LABEL: func.func @block_mask
// CHECK: block_sparse attributes {kind = #attn.program_kind<grad_kv>}
// CHECK:   %[[NB:.+]] = arith.divui %{{.+}}, %c64
// CHECK:   scf.for %[[MQ:.+]] = %c0 to %c2 step %c1
// CHECK:     memref.load %{{.+}}[%c0, %{{.+}}, %[[MQ]]] : memref<1x2x2xi32>
// CHECK:     %[[HIT:.+]] = scf.for %{{.+}} = %c0 to %{{.+}} step %c1 iter_args(%{{.+}} = %false) -> (i1)
// CHECK:       memref.load %{{.+}} : memref<1x2x2x2xi32>
// CHECK:       arith.cmpi eq, %{{.+}}, %[[NB]]
// CHECK:     %[[FULL:.+]] = scf.for
// CHECK:     %[[LO:.+]] = arith.muli %[[MQ]], %c4
// CHECK:     %[[HI:.+]] = arith.minsi %{{.+}}, %c7
// CHECK:     scf.if %[[HIT]]
// CHECK:       scf.for %{{.+}} = %[[LO]] to %[[HI]]
// CHECK:         attn.block_grad_update {{.*}} masked
// CHECK:     } else {
// CHECK:       scf.if %[[FULL]]
// CHECK:         scf.for %{{.+}} = %[[LO]] to %[[HI]]
// CHECK-NOT:       masked
// CHECK:           attn.block_grad_update
func.func @block_mask(%q: memref<2x100x2x64xf32>, %lse: memref<2x2x100xf32>,
                      %n: memref<1x2x2xi32>, %i: memref<1x2x2x2xi32>, %fn: memref<1x2x2xi32>,
                      %fi: memref<1x2x2x2xi32>, %acc: memref<2x100x2x64xf32>) {
  attn.attention_grad
      ins(%q, %q, %q, %q, %q, %lse : memref<2x100x2x64xf32>, memref<2x100x2x64xf32>,
          memref<2x100x2x64xf32>, memref<2x100x2x64xf32>, memref<2x100x2x64xf32>,
          memref<2x2x100xf32>)
      block_mask(%n, %i, %fn, %fi : memref<1x2x2xi32>, memref<1x2x2x2xi32>, memref<1x2x2xi32>, memref<1x2x2x2xi32>)
      block_size [64, 64]
      outs(%q, %q, %q : memref<2x100x2x64xf32>, memref<2x100x2x64xf32>, memref<2x100x2x64xf32>)
      workspace(%acc, %lse : memref<2x100x2x64xf32>, memref<2x2x100xf32>)
  return
}
