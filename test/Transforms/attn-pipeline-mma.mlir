// RUN: attn-opt %s -attn-tile="target=sm_90a block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="persistent-ctas=0 pv-schedule=serial" -attn-partition-roles -attn-pipeline-mma -canonicalize -cse | FileCheck %s --check-prefix=SERIAL
// RUN: attn-opt %s -attn-tile="target=sm_90a block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="persistent-ctas=0 pv-schedule=deferred" -attn-partition-roles -attn-pipeline-mma -canonicalize -cse | FileCheck %s --check-prefix=DEFER
// RUN: attn-opt %s -attn-tile="target=sm_90a block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="persistent-ctas=0 pv-schedule=overlap" -attn-partition-roles -attn-pipeline-mma -canonicalize -cse | FileCheck %s --check-prefix=OVERLAP

// The plan's P·V schedule as asynchronous MMAs and their waits, on a causal
// program (two KV loops: unmasked blocks, then the diagonal's masked ones).
// S_i = Q·K_iᵀ, O += P_i·V_i; K is released once S_i is complete, V once
// P_i·V_i is.

// serial: every MMA is waited for at once.
// SERIAL: consumer
// SERIAL: scf.for
// SERIAL:   %[[S:.+]] = attn.mma_async %{{.+}}, %{{.+}} transpose_rhs
// SERIAL-NEXT: attn.mma_wait %[[S]]
// SERIAL-NEXT: attn.channel_release %{{.+}}[0]
// SERIAL:   %[[PV:.+]] = attn.mma_async %{{.+}}, %{{.+}} into
// SERIAL-NEXT: %[[O:.+]] = attn.mma_wait %[[PV]]
// SERIAL-NEXT: attn.channel_release %{{.+}}[1]
// SERIAL-NEXT: scf.yield %[[O]],
// SERIAL-NOT: ub.poison

// deferred: P_i·V_i stays in flight across the back-edge (the loop carries
// it as !attn.async, from attn.mma_ready); the next block's wait for S
// completes it first, then V_{i-1} is released (when a block ran: the flag).
// DEFER: consumer
// DEFER: %[[READY:.+]] = attn.mma_ready
// DEFER: %[[LOOP:.+]]:5 = scf.for {{.+}} iter_args(%[[ACC:.+]] = %[[READY]], {{.+}}, %[[VTOK:.+]] = %{{.+}}, %[[RAN:.+]] = %false) -> (!attn.async<tensor<64x64xf32, #attn.layout<accumulator>>>
// DEFER:   %[[S:.+]] = attn.mma_async %{{.+}} transpose_rhs
// DEFER-NEXT: attn.mma_wait %[[S]]
// DEFER-NEXT: attn.mma_wait %[[ACC]]
// DEFER-NEXT: scf.if %[[RAN]] {
// DEFER-NEXT:   attn.channel_release %{{.+}}[1], %[[VTOK]]
// DEFER:   %[[PV:.+]] = attn.mma_async %{{.+}}, %{{.+}} into
// DEFER-NEXT: scf.yield %[[PV]], {{.+}}, %true
// The loop's last P·V completes at its exit.
// DEFER: attn.mma_wait %[[LOOP]]#0
// DEFER-NEXT: scf.if %[[LOOP]]#4 {
// DEFER-NEXT:   attn.channel_release %{{.+}}[1], %[[LOOP]]#3

// overlap (FA3): the first block is peeled (S_0, softmax_0 -> P_0, unless
// no block runs: poison); block i issues S_i and P_{i-1}·V_{i-1}, waits for
// S_i only, runs softmax_i while the P·V is in flight, then waits for it and
// releases V_{i-1}; the tile's last P·V follows the loops.
// OVERLAP-DAG: %[[PP:.+]] = ub.poison : tensor<64x64xbf16, #attn.layout<operand_a>>
// OVERLAP-DAG: %[[VP:.+]] = ub.poison : tensor<64x64xbf16, #attn.layout<shared>>
// OVERLAP: consumer
// OVERLAP: %[[FIRST:.+]]:5 = scf.if %[[ANY:.+]] -> (
// OVERLAP:   attn.mma_async {{.+}} transpose_rhs
// OVERLAP:   attn.mma_wait
// OVERLAP-NOT: attn.mma_async
// OVERLAP:   scf.yield
// OVERLAP: } else {
// OVERLAP-NEXT: scf.yield {{.+}}, %[[PP]], %[[VP]],
// OVERLAP: scf.for {{.+}} iter_args(%[[O:[^ ]+]] = {{.+}}, %[[P:[^ ]+]] = %[[FIRST]]#2, %[[V:[^ ]+]] = %[[FIRST]]#3, %[[T:[^ ]+]] = %[[FIRST]]#4)
// OVERLAP:   %[[S:.+]] = attn.mma_async %{{.+}} transpose_rhs
// OVERLAP-NEXT: %[[PV:.+]] = attn.mma_async %[[P]], %[[V]] into %[[O]]
// OVERLAP-NEXT: attn.mma_wait %[[S]]
// OVERLAP-NEXT: attn.channel_release %{{.+}}[0]
// OVERLAP:   math.exp2
// OVERLAP:   attn.mma_wait %[[PV]]
// OVERLAP-NEXT: attn.channel_release %{{.+}}[1], %[[T]]
// OVERLAP: %[[LAST:.+]] = scf.if %[[ANY]] -> (tensor<64x64xf32, #attn.layout<accumulator>>) {
// OVERLAP-NEXT: %[[LPV:.+]] = attn.mma_async
// OVERLAP-NEXT: attn.mma_wait %[[LPV]]
// OVERLAP-NEXT: attn.channel_release %{{.+}}[1]
func.func @causal(%q: memref<1x300x2x64xbf16>, %k: memref<1x300x2x64xbf16>,
                  %v: memref<1x300x2x64xbf16>, %o: memref<1x300x2x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>,
                     memref<1x300x2x64xbf16>)
      outs(%o : memref<1x300x2x64xbf16>) mask<causal, top_left>
  return
}
