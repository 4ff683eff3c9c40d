// attn-tile with a block mask: the KV loops walk the mask's lists.
// RUN: attn-opt %s -split-input-file -attn-tile="target=sm_90a" -canonicalize -cse | FileCheck %s
// RUN: not attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=96" 2>&1 | FileCheck %s --check-prefix=DIVIDE
// RUN: not attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=96 target=cpu" 2>&1 | FileCheck %s --check-prefix=DIVIDECPU

// Partial and full lists, mask blocks of 128 x 256 over kernel tiles of
// 128 x 128 (d = 64 with a mask_mod): r = 2 kernel blocks per mask block,
// kb = list[i / 2] · 2 + i mod 2, the list picked by i / 2 < n.
// CHECK-LABEL: func.func @partial_and_full
// CHECK-SAME: %[[N:[a-z0-9]+]]: memref<1x4x3xi32>, %[[I:[a-z0-9]+]]: memref<1x4x3x2xi32>, %[[FN:[a-z0-9]+]]: memref<1x4x3xi32>, %[[FI:[a-z0-9]+]]: memref<1x4x3x2xi32>
// CHECK: attn.program_grid (%[[SEQ:.*]], %[[H:.*]], %[[QB:.*]]) in {{.*}} block_sparse {
// The lists broadcast over the batch (B' = 1): index 0, not the sequence.
// CHECK: %[[RAW:.*]] = memref.load %[[N]][%c0, %[[H]], %[[MQ:.*]]] : memref<1x4x3xi32>
// CHECK: %[[CNT:.*]] = arith.index_cast %[[RAW]]
// CHECK: %[[FRAW:.*]] = memref.load %[[FN]][%c0, %[[H]], %[[MQ]]]
// The masked loop over the partial blocks' kernel blocks, [0, 2n):
// CHECK: scf.for %[[IV:.*]] = %c0 to %[[PEND:.*]] step %c1 iter_args(
// CHECK:   %[[J:.*]] = arith.divui %[[IV]], %c2
// CHECK:   %[[SUB:.*]] = arith.remui %[[IV]], %c2
// CHECK:   memref.load %[[I]][%c0, %[[H]], %[[MQ]], %{{.*}}] : memref<1x4x3x2xi32>
// CHECK:   arith.cmpi ult, %[[J]], %{{.*}}
// CHECK:   memref.load %[[FI]][%c0, %[[H]], %[[MQ]], %{{.*}}] : memref<1x4x3x2xi32>
// CHECK:   arith.select
// CHECK:   attn.block_update {{.*}} masked
// CHECK:   mask_mod
// The unmasked loop over the full blocks, [2n, 2(n + f)), the same body:
// CHECK: scf.for %{{.*}} = %[[PEND]] to %{{.*}} step %c1 iter_args(
// CHECK:   memref.load %[[I]]
// CHECK:   memref.load %[[FI]]
// CHECK:   attn.block_update
// CHECK-NOT: masked
// CHECK: attn.block_finalize
func.func @partial_and_full(%q: memref<2x300x4x64xbf16>, %k: memref<2x500x4x64xbf16>,
                            %v: memref<2x500x4x64xbf16>, %o: memref<2x300x4x64xbf16>,
                            %n: memref<1x4x3xi32>, %i: memref<1x4x3x2xi32>,
                            %fn: memref<1x4x3xi32>, %fi: memref<1x4x3x2xi32>) {
  attn.attention ins(%q, %k, %v : memref<2x300x4x64xbf16>, memref<2x500x4x64xbf16>, memref<2x500x4x64xbf16>)
      block_mask(%n, %i, %fn, %fi : memref<1x4x3xi32>, memref<1x4x3x2xi32>, memref<1x4x3xi32>, memref<1x4x3x2xi32>)
      block_size [128, 256]
      outs(%o : memref<2x300x4x64xbf16>)
      mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %c = arith.cmpi uge, %qi, %kj : index
        attn.yield %c : i1
      }
  return
}

// -----

// Partial blocks only, per (batch, head): one masked loop, kb = list[i]
// (r = 1), the batch index is the sequence.
// CHECK-LABEL: func.func @partial_only
// CHECK: attn.program_grid (%[[SEQ:.*]], %[[H:.*]], %{{.*}}) in
// CHECK: memref.load %{{.*}}[%[[SEQ]], %[[H]], %{{.*}}] : memref<2x4x3xi32>
// CHECK: scf.for
// CHECK-NOT: arith.divui %{{.*}}, %c2
// CHECK: memref.load %{{.*}}[%[[SEQ]], %[[H]], %{{.*}}, %{{.*}}] : memref<2x4x3x4xi32>
// CHECK: attn.block_update {{.*}} masked
// CHECK-NOT: scf.for
// CHECK: attn.block_finalize
func.func @partial_only(%q: memref<2x300x4x128xbf16>, %k: memref<2x500x4x128xbf16>,
                        %v: memref<2x500x4x128xbf16>, %o: memref<2x300x4x128xbf16>,
                        %n: memref<2x4x3xi32>, %i: memref<2x4x3x4xi32>) {
  attn.attention ins(%q, %k, %v : memref<2x300x4x128xbf16>, memref<2x500x4x128xbf16>, memref<2x500x4x128xbf16>)
      block_mask(%n, %i : memref<2x4x3xi32>, memref<2x4x3x4xi32>) block_size [128, 128]
      outs(%o : memref<2x300x4x128xbf16>)
  return
}

// DIVIDE: attn-tile: tiles of 128 x 96 must divide the block mask's block_size [128, 256] (the Hopper kernel takes rows in 64s and keys in 16s: a block size such as 128 x 128)
// DIVIDECPU: attn-tile: tiles of 128 x 96 must divide the block mask's block_size [128, 256]{{$}}
