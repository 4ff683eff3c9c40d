// RUN: attn-opt %s -attn-tile="target=sm_90a block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="persistent-ctas=0" -attn-partition-roles -attn-pipeline-mma -attn-consumer-turns -canonicalize -cse | FileCheck %s
// RUN: attn-opt %s -attn-tile="target=sm_90a block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="persistent-ctas=0 pv-schedule=serial" -attn-partition-roles -attn-pipeline-mma -attn-consumer-turns -canonicalize -cse | FileCheck %s --check-prefix=SERIAL
// RUN: attn-opt %s -attn-tile="target=sm_90a block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="persistent-ctas=0 ping-pong=false" -attn-partition-roles -attn-pipeline-mma -attn-consumer-turns -canonicalize -cse | FileCheck %s --check-prefix=NOPP

// Ping-pong: each run of MMAs that starts with a Q·Kᵀ is one consumer's turn,
// so one warpgroup's GEMMs run while the other computes its softmax. Under
// the overlapped schedule the run is S_i = Q·K_iᵀ and P_{i-1}·V_{i-1} (the
// prologue's turn holds S_0 alone); the waits stay outside the turn.

// CHECK: consumer
// CHECK: %[[T0:.+]] = attn.consumer_turn -> !attn.async<tensor<64x64xf32, #attn.layout<accumulator>>> {
// CHECK-NEXT: %[[S0:.+]] = attn.mma_async %{{.+}} transpose_rhs
// CHECK-NEXT: attn.yield %[[S0]]
// CHECK-NEXT: }
// CHECK-NEXT: attn.mma_wait %[[T0]]
// CHECK: scf.for
// CHECK: %[[T:.+]]:2 = attn.consumer_turn -> !attn.async<{{.+}}>, !attn.async<{{.+}}> {
// CHECK-NEXT: %[[S:.+]] = attn.mma_async %{{.+}} transpose_rhs
// CHECK-NEXT: %[[PV:.+]] = attn.mma_async %{{.+}}, %{{.+}} into
// CHECK-NEXT: attn.yield %[[S]], %[[PV]]
// CHECK-NEXT: }
// CHECK-NEXT: attn.mma_wait %[[T]]#0
// CHECK: attn.mma_wait %[[T]]#1
// The tile's last P·V (after the loops) starts no turn: it is no Q·Kᵀ.
// CHECK: scf.if
// CHECK-NOT: attn.consumer_turn
// CHECK: attn.tile_store

// Serial: the turn is S_i alone; P_i·V_i is issued outside any turn.
// SERIAL: scf.for
// SERIAL: attn.consumer_turn
// SERIAL-NEXT: attn.mma_async %{{.+}} transpose_rhs
// SERIAL-NEXT: attn.yield
// SERIAL: attn.mma_async %{{.+}}, %{{.+}} into
// SERIAL-NEXT: attn.mma_wait

// Without ping-pong the pass changes nothing.
// NOPP: attn.warp_specialize
// NOPP-NOT: attn.consumer_turn
func.func @causal(%q: memref<1x300x2x64xbf16>, %k: memref<1x300x2x64xbf16>,
                  %v: memref<1x300x2x64xbf16>, %o: memref<1x300x2x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>,
                     memref<1x300x2x64xbf16>)
      outs(%o : memref<1x300x2x64xbf16>) mask<causal, top_left>
  return
}
