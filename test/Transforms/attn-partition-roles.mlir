// RUN: attn-opt %s -split-input-file -attn-tile="target=sm_90a block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="persistent-ctas=0" -attn-partition-roles -canonicalize -cse | FileCheck %s
// RUN: attn-opt %s -split-input-file -attn-tile="target=sm_90a block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="persistent-ctas=0 stages=2 epilogue=tma" -attn-partition-roles -canonicalize -cse | FileCheck %s --check-prefix=RING
// RUN: not attn-opt %s -split-input-file -attn-tile="target=sm_90a block-m=128 block-n=64" -attn-online-softmax -attn-partition-roles 2>&1 | FileCheck %s --check-prefix=NOPLAN
// RUN: not attn-opt %s -split-input-file -attn-tile="target=sm_90a block-m=128 block-n=64" -attn-plan-hopper -attn-partition-roles 2>&1 | FileCheck %s --check-prefix=LEVEL

// L2 -> L3: the program splits into a producer that loads Q once and K, V per
// KV block into channels, and two consumer warpgroups (BlockM 128 = 2 x 64
// rows) that get them. Q's channel has one slot; K/V's ring has the plan's
// stages (4 here, 2 in RING), K and V two parts of a slot released apart:
// K after S = Q·Kᵀ, V after O += P·V. Consumer c's tiles are 64 rows with
// their register layouts; its Q is rows [64c, 64c + 64) of the slot and its
// query positions and row counts are shifted by 64c.

// CHECK-LABEL: func.func @causal
// CHECK: attn.program_grid
// CHECK: %[[QC:.+]] = attn.channel_create : <[tensor<128x64xbf16, #attn.layout<shared>>], 1>
// CHECK: %[[KV:.+]] = attn.channel_create : <[tensor<64x64xbf16, #attn.layout<shared>>, tensor<64x64xbf16, #attn.layout<shared>>], 4>
// CHECK: attn.warp_specialize consumers(2) producer {
// CHECK:   %[[Q:.+]] = attn.tile_load %arg0
// CHECK:   attn.channel_put %[[QC]], %[[Q]]
// CHECK-NOT: tile_matmul
// CHECK:   scf.for
// CHECK:     %[[K:.+]] = attn.tile_load %arg1
// CHECK:     %[[V:.+]] = attn.tile_load %arg2
// CHECK:     attn.channel_put %[[KV]], %[[K]], %[[V]]
// CHECK-NOT: tile_matmul
// CHECK: } consumer(%[[C:.+]]: index) {
// CHECK:   %[[ROW0:.+]] = arith.muli %[[C]], %c64
// CHECK:   %[[QT:.+]], %[[QTOK:.+]] = attn.channel_get %[[QC]]
// CHECK:   %[[MYQ:.+]] = tensor.extract_slice %[[QT]][%[[ROW0]], 0] [64, 64] [1, 1] : tensor<128x64xbf16, #attn.layout<shared>> to tensor<64x64xbf16, #attn.layout<shared>>
// CHECK:   scf.for {{.+}} -> (tensor<64x64xf32, #attn.layout<accumulator>>, tensor<64xf32, #attn.layout<rows>>, tensor<64xf32, #attn.layout<rows>>)
// CHECK:     %[[KVT:.+]]:2, %[[TOK:.+]] = attn.channel_get %[[KV]]
// CHECK:     attn.tile_matmul %[[MYQ]], %[[KVT]]#0 transpose_rhs
// CHECK:     attn.channel_release %[[KV]][0], %[[TOK]]
// CHECK:     q_pos(%{{.+}}) kv_pos
// CHECK:     attn.tile_map {{.+}} into %{{.+}} : tensor<64x64xbf16, #attn.layout<operand_a>>
// CHECK:     attn.tile_matmul %{{.+}}, %[[KVT]]#1 into
// CHECK:     attn.channel_release %[[KV]][1], %[[TOK]]
// The store of consumer c's 64 rows (after the finalization O / l): row 64c
// of the tile.
// CHECK:   arith.divf
// CHECK:   %[[R:.+]] = arith.addi %{{.+}}, %[[ROW0]]
// CHECK:   attn.tile_store %{{.+}} into %arg3[%{{.+}}, %[[R]], %{{.+}}] rows
// The plan's epilogue (tma_in_q) stages O in Q's slot: Q is released last.
// CHECK:   attn.channel_release %[[QC]][0], %[[QTOK]]
// CHECK-NEXT: }

// RING: attn.channel_create : <[tensor<64x64xbf16, #attn.layout<shared>>, tensor<64x64xbf16, #attn.layout<shared>>], 2>
// RING: attn.warp_specialize consumers(2)
// With O staged in its own buffer, Q is released after its last read, the
// last Q·Kᵀ, before the store.
// RING: attn.channel_release %{{.+}}[0], %{{.+}} : <[tensor<128x64xbf16
// RING: attn.tile_store

// NOPLAN: error: 'attn.program_grid' op attn-partition-roles: the program grid has no plan (run attn-plan-hopper first)
// LEVEL: error: 'attn.program_grid' op {{.+}}run attn-tile and attn-online-softmax first
func.func @causal(%q: memref<1x300x2x64xbf16>, %k: memref<1x300x2x64xbf16>,
                  %v: memref<1x300x2x64xbf16>, %o: memref<1x300x2x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>,
                     memref<1x300x2x64xbf16>)
      outs(%o : memref<1x300x2x64xbf16>) mask<causal, top_left>
  return
}
