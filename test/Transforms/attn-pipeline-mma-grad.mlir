// RUN: attn-opt %s -attn-pipeline-mma | FileCheck %s --check-prefix=OVERLAP
// RUN: attn-opt %s -attn-pipeline-mma | attn-opt | FileCheck %s --check-prefix=OVERLAP
// RUN: sed 's/pv_schedule = overlap/pv_schedule = serial/' %s | attn-opt -attn-pipeline-mma | FileCheck %s --check-prefix=SERIAL
// RUN: attn-opt %s -attn-pipeline-mma -attn-consumer-turns | FileCheck %s --check-prefix=TURNS
// RUN: attn-opt %s -attn-pipeline-mma="split-dq=false" | FileCheck %s --check-prefix=WHOLE
// An edited plan is diagnosed by the stages that read it:
// RUN: sed 's/ping_pong = false/ping_pong = true/' %s | not attn-opt -attn-pipeline-mma 2>&1 | FileCheck %s --check-prefix=PINGPONG
// RUN: attn-opt %s -attn-pipeline-mma | sed 's/ping_pong = false/ping_pong = true/' | not attn-opt -attn-consumer-turns 2>&1 | FileCheck %s --check-prefix=TURNPP
// RUN: sed 's/pv_schedule = overlap/pv_schedule = deferred/' %s | not attn-opt -attn-pipeline-mma 2>&1 | FileCheck %s --check-prefix=DEFERRED
// A q-block loop the overlapped schedule does not know (Q never released):
// RUN: sed '/channel_release %qc\[0\]/d' %s | not attn-opt -attn-pipeline-mma 2>&1 | FileCheck %s --check-prefix=SHAPE

// The backward's MMAs at L3 (a hand-written consumer of the backward's main
// program, as attn-partition-roles makes it), per q-block i of consumer c's
// keys: S_i = Q·K_cᵀ, dP_i = dO·V_cᵀ, dV += P_iᵀ·dO, dK += dS_iᵀ·Q,
// dQ_i = dS_i·K_c. Where each MMA reads its operands, recorded in the IR:
// S and dP from shared memory (Q, dO, K_c, V_c; K-major); P and dS are read
// transposed by dV and dK, which a register A operand cannot be (wgmma), so
// each is staged once into shared memory (attn.tile_stage) and read
// MN-major; dQ reads the staged dS too (K-major), so dS's registers are free
// once it is staged; dO and Q are dV's and dK's B read MN-major, K_c dQ's B
// read MN-major (16-bit: allowed).

// overlap: S_i and dP_i issued together; waiting for S_i completes the
// previous q-block's dV and dK (issued before it) — its Q and dO are released
// then, when there was one; P_i while dP_i runs (P staged), then dS_i (staged);
// dQ_i, dV_i and dK_i issued together and only dQ_i waited for: its
// accumulate store runs while dV_i and dK_i do, which the loop carries in
// flight (!attn.async, from attn.mma_ready). The loop's last ones complete
// at its exit, then its last Q and dO are released.
// dQ is split among the two consumers by columns (split-dq, the default):
// consumer c computes dQ_i's columns [64c, 64c + 64) over all 128 keys, from
// both consumers' staged dS (attn.tile_gather: [64, 128]) and K's columns
// [64c, 64c + 64) (a [128, 64] slice of the K tile), and adds them from
// column 64c on.
// OVERLAP: consumer(%[[C:.+]]: index)
// OVERLAP: %[[MYK:.+]] = tensor.extract_slice %[[KV:.+]]#0
// OVERLAP: %[[MYCOL:.+]] = arith.muli %[[C]], %{{.+}} : index
// OVERLAP-NEXT: %[[MYKC:.+]] = tensor.extract_slice %[[KV]]#0[0, %[[MYCOL]]] [128, 64] [1, 1] : tensor<128x128xbf16, #attn.layout<shared>> to tensor<128x64xbf16, #attn.layout<shared>>
// OVERLAP: %[[MYV:.+]] = tensor.extract_slice %{{.+}}#1
// OVERLAP: %[[DK0:.+]] = attn.mma_ready
// OVERLAP: %[[DV0:.+]] = attn.mma_ready
// OVERLAP: %[[NONE:.+]] = ub.poison : !attn.token
// OVERLAP: %[[L:.+]]:4 = scf.for %{{.+}} iter_args(%[[DK:.+]] = %[[DK0]], %[[DV:.+]] = %[[DV0]], %[[PTOK:.+]] = %[[NONE]], %[[RAN:.+]] = %false) -> (!attn.async<tensor<64x128xf32, #attn.layout<accumulator>>>, !attn.async<tensor<64x128xf32, #attn.layout<accumulator>>>, !attn.token, i1)
// OVERLAP:   %[[T:.+]]:4, %[[TOK:.+]] = attn.channel_get
// OVERLAP:   %[[S:.+]] = attn.mma_async %[[T]]#0, %[[MYK]] transpose_rhs into
// OVERLAP-NEXT: %[[DP:.+]] = attn.mma_async %[[T]]#1, %[[MYV]] transpose_rhs into
// OVERLAP-NEXT: %[[SW:.+]] = attn.mma_wait %[[S]]
// OVERLAP-NEXT: scf.if %[[RAN]] {
// OVERLAP-NEXT:   attn.channel_release %{{.+}}[0], %[[PTOK]]
// OVERLAP-NEXT:   attn.channel_release %{{.+}}[1], %[[PTOK]]
// OVERLAP-NEXT: }
// OVERLAP:   attn.tile_mask %[[SW]]
// OVERLAP:   math.exp2
// OVERLAP:   %[[PB:.+]] = attn.tile_map {{.+}} into %{{.+}} : tensor<64x64xbf16, #attn.layout<operand_a>>
// OVERLAP:   } -> tensor<64x64xbf16, #attn.layout<operand_a>>
// OVERLAP-NEXT: %[[PS:.+]] = attn.tile_stage %[[PB]] : tensor<64x64xbf16, #attn.layout<operand_a>> -> tensor<64x64xbf16, #attn.layout<shared>>
// OVERLAP-NEXT: %[[DPW:.+]] = attn.mma_wait %[[DP]]
// OVERLAP-NEXT: attn.tile_map ins(%{{.+}}, %[[DPW]], %[[T]]#3
// OVERLAP:   %[[DSB:.+]] = attn.tile_map {{.+}} into %{{.+}} : tensor<64x64xbf16, #attn.layout<operand_a>>
// OVERLAP:   } -> tensor<64x64xbf16, #attn.layout<operand_a>>
// OVERLAP-NEXT: %[[DSS:.+]] = attn.tile_stage %[[DSB]]
// OVERLAP:   %[[ALL:.+]] = attn.tile_gather %[[DSS]] : tensor<64x64xbf16, #attn.layout<shared>> -> tensor<64x128xbf16, #attn.layout<shared>>
// OVERLAP:   %[[DQ:.+]] = attn.mma_async %[[ALL]], %[[MYKC]] into %{{.+}} : tensor<64x128xbf16, #attn.layout<shared>>, tensor<128x64xbf16, #attn.layout<shared>>, tensor<64x64xf32, #attn.layout<accumulator>>
// OVERLAP-NEXT: %[[DVN:.+]] = attn.mma_async %[[PS]], %[[T]]#1 transpose_lhs into %[[DV]] : tensor<64x64xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, !attn.async<
// OVERLAP-NEXT: %[[DKN:.+]] = attn.mma_async %[[DSS]], %[[T]]#0 transpose_lhs into %[[DK]] : tensor<64x64xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, !attn.async<
// OVERLAP-NEXT: %[[DQW:.+]] = attn.mma_wait %[[DQ]]
// OVERLAP-NEXT: attn.tile_store %[[DQW]] into %{{.+}} rows(%{{.+}}) column(%[[MYCOL]]) accumulate : tensor<64x64xf32, #attn.layout<accumulator>>
// OVERLAP-NOT: channel_release %{{.+}}[0], %[[TOK]]
// OVERLAP:   scf.yield %[[DKN]], %[[DVN]], %[[TOK]], %true
// OVERLAP: %[[DKW:.+]] = attn.mma_wait %[[L]]#0
// OVERLAP-NEXT: %[[DVW:.+]] = attn.mma_wait %[[L]]#1
// OVERLAP-NEXT: scf.if %[[L]]#3 {
// OVERLAP-NEXT:   attn.channel_release %{{.+}}[0], %[[L]]#2
// OVERLAP-NEXT:   attn.channel_release %{{.+}}[1], %[[L]]#2
// OVERLAP: attn.tile_map ins(%[[DKW]]
// OVERLAP: attn.tile_store %[[DVW]]

// serial: every MMA waited for where it stands, the releases after.
// SERIAL: consumer
// SERIAL-NOT: attn.mma_ready
// SERIAL: scf.for
// SERIAL:   %[[S:.+]] = attn.mma_async %{{.+}}, %{{.+}} transpose_rhs
// SERIAL-NEXT: attn.mma_wait %[[S]]
// SERIAL:   %[[PS:.+]] = attn.tile_stage
// SERIAL-NEXT: %[[DV:.+]] = attn.mma_async %[[PS]], %{{.+}} transpose_lhs
// SERIAL-NEXT: attn.mma_wait %[[DV]]
// SERIAL:   %[[DP:.+]] = attn.mma_async %{{.+}}, %{{.+}} transpose_rhs
// SERIAL-NEXT: attn.mma_wait %[[DP]]
// SERIAL-NEXT: attn.channel_release %{{.+}}[1]
// SERIAL:   %[[DSS:.+]] = attn.tile_stage
// SERIAL-NEXT: %[[DK:.+]] = attn.mma_async %[[DSS]], %{{.+}} transpose_lhs
// SERIAL-NEXT: attn.mma_wait %[[DK]]
// SERIAL-NEXT: attn.channel_release %{{.+}}[0]
// SERIAL:   %[[DQ:.+]] = attn.mma_async
// SERIAL-NEXT: attn.mma_wait %[[DQ]]
// SERIAL-NEXT: attn.tile_store

// split-dq=false: each consumer computes all of dQ_i from its own 64 keys
// (dS_i·K_c, [64, 128]) and adds all of its columns.
// WHOLE: consumer
// WHOLE-NOT: attn.tile_gather
// WHOLE: %[[MYK:.+]] = tensor.extract_slice %{{.+}}#0
// WHOLE: attn.tile_stage
// WHOLE: %[[DSS:.+]] = attn.tile_stage
// WHOLE: attn.mma_async %[[DSS]], %[[MYK]] into %{{.+}} : tensor<64x64xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xf32, #attn.layout<accumulator>>
// WHOLE: attn.tile_store %{{.+}} into %{{.+}} rows(%{{.+}}) accumulate : tensor<64x128xf32

// The backward has no ping-pong: attn-consumer-turns leaves it alone.
// TURNS: consumer
// TURNS-NOT: attn.consumer_turn
// TURNS: attn.mma_async

// PINGPONG: attn-pipeline-mma: ping_pong is not built for the backward (its consumer warpgroups split the keys of every q-block, there is no softmax to overlap with another's MMAs)
// TURNPP: attn-consumer-turns: ping_pong is not built for the backward
// DEFERRED: attn-pipeline-mma: pv_schedule = deferred is the forward's (P·V across the back-edge); the backward's MMA schedule is serial or overlap
// SHAPE: error: 'scf.for' op attn-pipeline-mma: expected a backward q-block loop (a get of Q, dO, LSE and D, the MMAs S = Q·Kᵀ, dP = dO·Vᵀ, dV += Pᵀ·dO, dK += dSᵀ·Q, dQ = dS·K accumulating dK and dV from the iter_args, and the releases of Q and dO in one body)
#sh = #attn.layout<shared>
#acc = #attn.layout<accumulator>
#opa = #attn.layout<operand_a>
#rows = #attn.layout<rows>
!kvc = !attn.channel<[tensor<128x128xbf16, #sh>, tensor<128x128xbf16, #sh>], 1>
!qc = !attn.channel<[tensor<64x128xbf16, #sh>, tensor<64x128xbf16, #sh>, tensor<64xf32, #sh>, tensor<64xf32, #sh>], 2>
func.func @grad_kv(%q: memref<1x256x1x128xbf16>, %k: memref<1x256x1x128xbf16>, %v: memref<1x256x1x128xbf16>,
                   %do: memref<1x256x1x128xbf16>, %lse: memref<1x1x256xf32>, %delta: memref<1x1x256xf32>,
                   %dk: memref<1x256x1x128xbf16>, %dv: memref<1x256x1x128xbf16>, %acc: memref<1x256x1x128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  %zero = arith.constant 0.0 : f32
  %nlog2e = arith.constant -1.44269502 : f32
  %c = arith.constant 0.127517432 : f32
  %scale = arith.constant 0.0883883461 : f32
  attn.program_grid (%seq, %kvh, %kb) in (%c1, %c1, %c2) block_m(128)
      plan(<stages = 2, ping_pong = false, pv_schedule = overlap, persistent_ctas = 0, paired_tiles = false,
            epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>)
      attributes {kind = #attn.program_kind<grad_kv>} {
    %kvc = attn.channel_create : !kvc
    %qc = attn.channel_create : !qc
    attn.warp_specialize consumers(2) producer {
      // K and V once, then Q, dO, LSE and D per q-block.
      %k0 = arith.muli %kb, %c128 : index
      %ek = bufferization.alloc_tensor() : tensor<128x128xbf16, #sh>
      %kt = attn.tile_load %k[%seq, %k0, %kvh] rows(%c128) into %ek
          : memref<1x256x1x128xbf16>, tensor<128x128xbf16, #sh> -> tensor<128x128xbf16, #sh>
      %ev = bufferization.alloc_tensor() : tensor<128x128xbf16, #sh>
      %vt = attn.tile_load %v[%seq, %k0, %kvh] rows(%c128) into %ev
          : memref<1x256x1x128xbf16>, tensor<128x128xbf16, #sh> -> tensor<128x128xbf16, #sh>
      attn.channel_put %kvc, %kt, %vt : !kvc, tensor<128x128xbf16, #sh>, tensor<128x128xbf16, #sh>
      scf.for %qb = %c0 to %c4 step %c1 {
        %q0 = arith.muli %qb, %c64 : index
        %eq = bufferization.alloc_tensor() : tensor<64x128xbf16, #sh>
        %qt = attn.tile_load %q[%seq, %q0, %kvh] rows(%c64) into %eq
            : memref<1x256x1x128xbf16>, tensor<64x128xbf16, #sh> -> tensor<64x128xbf16, #sh>
        %edo = bufferization.alloc_tensor() : tensor<64x128xbf16, #sh>
        %dot = attn.tile_load %do[%seq, %q0, %kvh] rows(%c64) into %edo
            : memref<1x256x1x128xbf16>, tensor<64x128xbf16, #sh> -> tensor<64x128xbf16, #sh>
        %el = bufferization.alloc_tensor() : tensor<64xf32, #sh>
        %lt = attn.tile_load %lse[%seq, %q0, %kvh] rows(%c64) into %el
            : memref<1x1x256xf32>, tensor<64xf32, #sh> -> tensor<64xf32, #sh>
        %ed = bufferization.alloc_tensor() : tensor<64xf32, #sh>
        %dt = attn.tile_load %delta[%seq, %q0, %kvh] rows(%c64) into %ed
            : memref<1x1x256xf32>, tensor<64xf32, #sh> -> tensor<64xf32, #sh>
        attn.channel_put %qc, %qt, %dot, %lt, %dt
            : !qc, tensor<64x128xbf16, #sh>, tensor<64x128xbf16, #sh>, tensor<64xf32, #sh>, tensor<64xf32, #sh>
      }
    } consumer(%cw: index) {
      // Consumer cw: keys [64·cw, 64·cw + 64) of the program.
      %key0 = arith.muli %cw, %c64 : index
      %k0 = arith.muli %kb, %c128 : index
      %es = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %edp = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %ep = bufferization.alloc_tensor() : tensor<64x64xbf16, #opa>
      %eds = bufferization.alloc_tensor() : tensor<64x64xbf16, #opa>
      %enl = bufferization.alloc_tensor() : tensor<64xf32, #rows>
      %edq = bufferization.alloc_tensor() : tensor<64x128xf32, #acc>
      %edk = bufferization.alloc_tensor() : tensor<64x128xf32, #acc>
      %edv = bufferization.alloc_tensor() : tensor<64x128xf32, #acc>
      %kv:2, %kvtok = attn.channel_get %kvc : !kvc -> tensor<128x128xbf16, #sh>, tensor<128x128xbf16, #sh>, !attn.token
      %myk = tensor.extract_slice %kv#0[%key0, 0] [64, 128] [1, 1] : tensor<128x128xbf16, #sh> to tensor<64x128xbf16, #sh>
      %myv = tensor.extract_slice %kv#1[%key0, 0] [64, 128] [1, 1] : tensor<128x128xbf16, #sh> to tensor<64x128xbf16, #sh>
      %dk0 = attn.tile_fill %zero into %edk : f32, tensor<64x128xf32, #acc> -> tensor<64x128xf32, #acc>
      %dv0 = attn.tile_fill %zero into %edv : f32, tensor<64x128xf32, #acc> -> tensor<64x128xf32, #acc>
      %kp = arith.addi %k0, %key0 : index
      %r:2 = scf.for %qb = %c0 to %c4 step %c1 iter_args(%dkb = %dk0, %dvb = %dv0)
          -> (tensor<64x128xf32, #acc>, tensor<64x128xf32, #acc>) {
        %q0 = arith.muli %qb, %c64 : index
        %t:4, %tok = attn.channel_get %qc : !qc
            -> tensor<64x128xbf16, #sh>, tensor<64x128xbf16, #sh>, tensor<64xf32, #sh>, tensor<64xf32, #sh>, !attn.token
        // S = Q·Kᵀ (the consumer's keys), masked
        %z = attn.tile_fill %zero into %es : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
        %s = attn.tile_matmul %t#0, %myk transpose_rhs into %z
            : tensor<64x128xbf16, #sh>, tensor<64x128xbf16, #sh>, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
        %sm = attn.tile_mask %s into %s q_pos(%q0) kv_pos(%kp) diag(%c0) rows(%c64) cols(%c64)
            seq(%seq) head(%kvh) attributes {mask = #attn.mask<causal, top_left>}
            : tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
        // P = exp2(S·c − LSE·log2 e), in bf16
        %nl = attn.tile_map ins(%t#2 : tensor<64xf32, #sh>) into %enl : tensor<64xf32, #rows> {
        ^bb0(%x: f32):
          %m = arith.mulf %x, %nlog2e : f32
          attn.yield %m : f32
        } -> tensor<64xf32, #rows>
        attn.channel_release %qc[2], %tok : !qc
        %p = attn.tile_map ins(%sm, %nl : tensor<64x64xf32, #acc>, tensor<64xf32, #rows>) into %sm : tensor<64x64xf32, #acc> {
        ^bb0(%x: f32, %n: f32):
          %u = math.fma %x, %c, %n : f32
          %e = math.exp2 %u : f32
          attn.yield %e : f32
        } -> tensor<64x64xf32, #acc>
        %pb = attn.tile_map ins(%p : tensor<64x64xf32, #acc>) into %ep : tensor<64x64xbf16, #opa> {
        ^bb0(%x: f32):
          %u = arith.truncf %x : f32 to bf16
          attn.yield %u : bf16
        } -> tensor<64x64xbf16, #opa>
        // dV += Pᵀ·dO
        %dvn = attn.tile_matmul %pb, %t#1 transpose_lhs into %dvb
            : tensor<64x64xbf16, #opa>, tensor<64x128xbf16, #sh>, tensor<64x128xf32, #acc> -> tensor<64x128xf32, #acc>
        // dP = dO·Vᵀ, dS = P∘(dP − D), in bf16
        %z2 = attn.tile_fill %zero into %edp : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
        %dp = attn.tile_matmul %t#1, %myv transpose_rhs into %z2
            : tensor<64x128xbf16, #sh>, tensor<64x128xbf16, #sh>, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
        attn.channel_release %qc[1], %tok : !qc
        %ds = attn.tile_map ins(%p, %dp, %t#3 : tensor<64x64xf32, #acc>, tensor<64x64xf32, #acc>, tensor<64xf32, #sh>)
            into %dp : tensor<64x64xf32, #acc> {
        ^bb0(%x: f32, %y: f32, %d: f32):
          %u = arith.subf %y, %d : f32
          %w = arith.mulf %x, %u : f32
          attn.yield %w : f32
        } -> tensor<64x64xf32, #acc>
        attn.channel_release %qc[3], %tok : !qc
        %dsb = attn.tile_map ins(%ds : tensor<64x64xf32, #acc>) into %eds : tensor<64x64xbf16, #opa> {
        ^bb0(%x: f32):
          %u = arith.truncf %x : f32 to bf16
          attn.yield %u : bf16
        } -> tensor<64x64xbf16, #opa>
        // dK += dSᵀ·Q
        %dkn = attn.tile_matmul %dsb, %t#0 transpose_lhs into %dkb
            : tensor<64x64xbf16, #opa>, tensor<64x128xbf16, #sh>, tensor<64x128xf32, #acc> -> tensor<64x128xf32, #acc>
        attn.channel_release %qc[0], %tok : !qc
        // dQ = dS·K, added to the accumulator
        %z3 = attn.tile_fill %zero into %edq : f32, tensor<64x128xf32, #acc> -> tensor<64x128xf32, #acc>
        %dq = attn.tile_matmul %dsb, %myk into %z3
            : tensor<64x64xbf16, #opa>, tensor<64x128xbf16, #sh>, tensor<64x128xf32, #acc> -> tensor<64x128xf32, #acc>
        attn.tile_store %dq into %acc[%seq, %q0, %kvh] rows(%c64) accumulate : tensor<64x128xf32, #acc>, memref<1x256x1x128xf32>
        scf.yield %dkn, %dvn : tensor<64x128xf32, #acc>, tensor<64x128xf32, #acc>
      }
      attn.channel_release %kvc[0], %kvtok : !kvc
      attn.channel_release %kvc[1], %kvtok : !kvc
      %dks = attn.tile_map ins(%r#0 : tensor<64x128xf32, #acc>) into %r#0 : tensor<64x128xf32, #acc> {
      ^bb0(%x: f32):
        %y = arith.mulf %x, %scale : f32
        attn.yield %y : f32
      } -> tensor<64x128xf32, #acc>
      attn.tile_store %dks into %dk[%seq, %kp, %kvh] rows(%c64) : tensor<64x128xf32, #acc>, memref<1x256x1x128xbf16>
      attn.tile_store %r#1 into %dv[%seq, %kp, %kvh] rows(%c64) : tensor<64x128xf32, #acc>, memref<1x256x1x128xbf16>
    }
  }
  return
}
