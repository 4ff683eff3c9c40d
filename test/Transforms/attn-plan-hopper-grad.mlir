// RUN: attn-opt %s -split-input-file -attn-plan-hopper | FileCheck %s
// RUN: attn-opt %s -split-input-file -attn-plan-hopper="stages=3 pv-schedule=serial" | FileCheck %s --check-prefix=SERIAL
// RUN: attn-opt %s -split-input-file -attn-plan-hopper -attn-partition-roles -attn-pipeline-mma -attn-consumer-turns | attn-opt -split-input-file | FileCheck %s --check-prefix=LEVEL

// The plan of the backward's main grid (grad_kv), from a hand-written program
// of the online-softmax level (L2): KV-stationary, 128 keys per program (two
// consumer warpgroups of 64 keys), q-blocks of 64 rows over the two query
// heads of the KV head's group, D = Dv = 128. FlashAttention-3's backward:
// a q-block ring of two stages, no ping-pong (the consumers split each
// q-block's keys), the overlapped MMA schedule, one CTA per KV block, dK and
// dV stored from registers ("direct"), 24/240 registers.
// CHECK-LABEL: func.func @grad_kv
// CHECK: attn.program_grid (%{{.+}}) in (%c1, %c1, %c2) block_m(128) plan(<stages = 2, ping_pong = false, pv_schedule = overlap, persistent_ctas = 0, paired_tiles = false, epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>) attributes {kind = #attn.program_kind<grad_kv>}
// Options: stages (3 fit: K and V 64 KB, the staged P and dS 32 KB, 32.5 KB a
// q-block) and the serial schedule.
// SERIAL-LABEL: func.func @grad_kv
// SERIAL: plan(<stages = 3, ping_pong = false, pv_schedule = serial, persistent_ctas = 0,
// The planned program passes the rest of the warp-specialized level and
// prints and parses again.
// LEVEL-LABEL: func.func @grad_kv
// LEVEL: attn.warp_specialize consumers(2)
// LEVEL: attn.tile_stage
// LEVEL: attn.mma_async
func.func @grad_kv(%q: memref<1x256x2x128xbf16>, %k: memref<1x256x1x128xbf16>, %v: memref<1x256x1x128xbf16>,
                   %do: memref<1x256x2x128xbf16>, %lse: memref<1x2x256xf32>, %delta: memref<1x2x256xf32>,
                   %dk: memref<1x256x1x128xbf16>, %dv: memref<1x256x1x128xbf16>, %acc: memref<1x256x2x128xf32>) {
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
  attn.program_grid (%seq, %kvh, %kb) in (%c1, %c1, %c2) block_m(128) attributes {kind = #attn.program_kind<grad_kv>} {
    %es = bufferization.alloc_tensor() : tensor<64x128xf32>
    %edp = bufferization.alloc_tensor() : tensor<64x128xf32>
    %ep = bufferization.alloc_tensor() : tensor<64x128xbf16>
    %eds = bufferization.alloc_tensor() : tensor<64x128xbf16>
    %enl = bufferization.alloc_tensor() : tensor<64xf32>
    %edq = bufferization.alloc_tensor() : tensor<64x128xf32>
    %edk = bufferization.alloc_tensor() : tensor<128x128xf32>
    %edv = bufferization.alloc_tensor() : tensor<128x128xf32>
    %ek = bufferization.alloc_tensor() : tensor<128x128xbf16>
    %ev = bufferization.alloc_tensor() : tensor<128x128xbf16>
    %eq = bufferization.alloc_tensor() : tensor<64x128xbf16>
    %edo = bufferization.alloc_tensor() : tensor<64x128xbf16>
    %el = bufferization.alloc_tensor() : tensor<64xf32>
    %ed = bufferization.alloc_tensor() : tensor<64xf32>
    %k0 = arith.muli %kb, %c128 : index
    %kt = attn.tile_load %k[%seq, %k0, %kvh] rows(%c128) into %ek
        : memref<1x256x1x128xbf16>, tensor<128x128xbf16> -> tensor<128x128xbf16>
    %vt = attn.tile_load %v[%seq, %k0, %kvh] rows(%c128) into %ev
        : memref<1x256x1x128xbf16>, tensor<128x128xbf16> -> tensor<128x128xbf16>
    %dk0 = attn.tile_fill %zero into %edk : f32, tensor<128x128xf32> -> tensor<128x128xf32>
    %dv0 = attn.tile_fill %zero into %edv : f32, tensor<128x128xf32> -> tensor<128x128xf32>
    // The query heads of the KV head's group (2), then their q-blocks.
    %g:2 = scf.for %gi = %c0 to %c2 step %c1 iter_args(%dka = %dk0, %dva = %dv0)
        -> (tensor<128x128xf32>, tensor<128x128xf32>) {
      %hm = arith.muli %kvh, %c2 : index
      %h = arith.addi %hm, %gi : index
      %b:2 = scf.for %qb = %c0 to %c4 step %c1 iter_args(%dkb = %dka, %dvb = %dva)
          -> (tensor<128x128xf32>, tensor<128x128xf32>) {
        %q0 = arith.muli %qb, %c64 : index
        %qt = attn.tile_load %q[%seq, %q0, %h] rows(%c64) into %eq
            : memref<1x256x2x128xbf16>, tensor<64x128xbf16> -> tensor<64x128xbf16>
        %dot = attn.tile_load %do[%seq, %q0, %h] rows(%c64) into %edo
            : memref<1x256x2x128xbf16>, tensor<64x128xbf16> -> tensor<64x128xbf16>
        %lt = attn.tile_load %lse[%seq, %q0, %h] rows(%c64) into %el
            : memref<1x2x256xf32>, tensor<64xf32> -> tensor<64xf32>
        %dt = attn.tile_load %delta[%seq, %q0, %h] rows(%c64) into %ed
            : memref<1x2x256xf32>, tensor<64xf32> -> tensor<64xf32>
        // S = Q·Kᵀ, the causal mask
        %z = attn.tile_fill %zero into %es : f32, tensor<64x128xf32> -> tensor<64x128xf32>
        %s = attn.tile_matmul %qt, %kt transpose_rhs into %z
            : tensor<64x128xbf16>, tensor<128x128xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
        %sm = attn.tile_mask %s into %s q_pos(%q0) kv_pos(%k0) diag(%c0) rows(%c64) cols(%c128)
            seq(%seq) head(%h) attributes {mask = #attn.mask<causal, top_left>}
            : tensor<64x128xf32> -> tensor<64x128xf32>
        // P = exp2(S·c − LSE·log2 e)
        %nl = attn.tile_map ins(%lt : tensor<64xf32>) into %enl : tensor<64xf32> {
        ^bb0(%x: f32):
          %m = arith.mulf %x, %nlog2e : f32
          attn.yield %m : f32
        } -> tensor<64xf32>
        %p = attn.tile_map ins(%sm, %nl : tensor<64x128xf32>, tensor<64xf32>) into %sm : tensor<64x128xf32> {
        ^bb0(%x: f32, %n: f32):
          %t = math.fma %x, %c, %n : f32
          %e = math.exp2 %t : f32
          attn.yield %e : f32
        } -> tensor<64x128xf32>
        %pb = attn.tile_map ins(%p : tensor<64x128xf32>) into %ep : tensor<64x128xbf16> {
        ^bb0(%x: f32):
          %t = arith.truncf %x : f32 to bf16
          attn.yield %t : bf16
        } -> tensor<64x128xbf16>
        // dV += Pᵀ·dO
        %dvn = attn.tile_matmul %pb, %dot transpose_lhs into %dvb
            : tensor<64x128xbf16>, tensor<64x128xbf16>, tensor<128x128xf32> -> tensor<128x128xf32>
        // dP = dO·Vᵀ, dS = P∘(dP − D)
        %z2 = attn.tile_fill %zero into %edp : f32, tensor<64x128xf32> -> tensor<64x128xf32>
        %dp = attn.tile_matmul %dot, %vt transpose_rhs into %z2
            : tensor<64x128xbf16>, tensor<128x128xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
        %ds = attn.tile_map ins(%p, %dp, %dt : tensor<64x128xf32>, tensor<64x128xf32>, tensor<64xf32>)
            into %dp : tensor<64x128xf32> {
        ^bb0(%x: f32, %y: f32, %d: f32):
          %u = arith.subf %y, %d : f32
          %w = arith.mulf %x, %u : f32
          attn.yield %w : f32
        } -> tensor<64x128xf32>
        %dsb = attn.tile_map ins(%ds : tensor<64x128xf32>) into %eds : tensor<64x128xbf16> {
        ^bb0(%x: f32):
          %t = arith.truncf %x : f32 to bf16
          attn.yield %t : bf16
        } -> tensor<64x128xbf16>
        // dK += dSᵀ·Q, dQ = dS·K into the accumulator
        %dkn = attn.tile_matmul %dsb, %qt transpose_lhs into %dkb
            : tensor<64x128xbf16>, tensor<64x128xbf16>, tensor<128x128xf32> -> tensor<128x128xf32>
        %z3 = attn.tile_fill %zero into %edq : f32, tensor<64x128xf32> -> tensor<64x128xf32>
        %dq = attn.tile_matmul %dsb, %kt into %z3
            : tensor<64x128xbf16>, tensor<128x128xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
        attn.tile_store %dq into %acc[%seq, %q0, %h] rows(%c64) accumulate
            : tensor<64x128xf32>, memref<1x256x2x128xf32>
        scf.yield %dkn, %dvn : tensor<128x128xf32>, tensor<128x128xf32>
      }
      scf.yield %b#0, %b#1 : tensor<128x128xf32>, tensor<128x128xf32>
    }
    // dK = scale·dK; dK and dV stored
    %dks = attn.tile_map ins(%g#0 : tensor<128x128xf32>) into %g#0 : tensor<128x128xf32> {
    ^bb0(%x: f32):
      %y = arith.mulf %x, %scale : f32
      attn.yield %y : f32
    } -> tensor<128x128xf32>
    attn.tile_store %dks into %dk[%seq, %k0, %kvh] rows(%c128) : tensor<128x128xf32>, memref<1x256x1x128xbf16>
    attn.tile_store %g#1 into %dv[%seq, %k0, %kvh] rows(%c128) : tensor<128x128xf32>, memref<1x256x1x128xbf16>
  }
  return
}

// -----

// The preprocess and postprocess have no MMA: they stay off the
// warp-specialized level (no plan; attn-map-to-gpu maps them,
// attn-map-to-gpu-grad.mlir) and the later stages leave them alone.
// CHECK-LABEL: func.func @pre_post
// CHECK-NOT: plan(
// LEVEL-LABEL: func.func @pre_post
// LEVEL-NOT: attn.warp_specialize
// LEVEL: grad_preprocess
// LEVEL: attn.tile_reduce add
// LEVEL: grad_postprocess
func.func @pre_post(%o: memref<1x256x2x128xbf16>, %do: memref<1x256x2x128xbf16>, %delta: memref<1x2x256xf32>,
                    %acc: memref<1x256x2x128xf32>, %dq: memref<1x256x2x128xbf16>) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  %scale = arith.constant 0.0883883461 : f32
  // D = rowsum(dO∘O); dQ_acc rows = 0
  attn.program_grid (%seq, %h, %qb) in (%c1, %c2, %c4) block_m(64) attributes {kind = #attn.program_kind<grad_preprocess>} {
    %eo = bufferization.alloc_tensor() : tensor<64x128xbf16>
    %edo = bufferization.alloc_tensor() : tensor<64x128xbf16>
    %eprod = bufferization.alloc_tensor() : tensor<64x128xf32>
    %ed = bufferization.alloc_tensor() : tensor<64xf32>
    %ez = bufferization.alloc_tensor() : tensor<64x128xf32>
    %q0 = arith.muli %qb, %c64 : index
    %ot = attn.tile_load %o[%seq, %q0, %h] rows(%c64) into %eo
        : memref<1x256x2x128xbf16>, tensor<64x128xbf16> -> tensor<64x128xbf16>
    %dot = attn.tile_load %do[%seq, %q0, %h] rows(%c64) into %edo
        : memref<1x256x2x128xbf16>, tensor<64x128xbf16> -> tensor<64x128xbf16>
    %prod = attn.tile_map ins(%ot, %dot : tensor<64x128xbf16>, tensor<64x128xbf16>) into %eprod : tensor<64x128xf32> {
    ^bb0(%x: bf16, %y: bf16):
      %a = arith.extf %x : bf16 to f32
      %b = arith.extf %y : bf16 to f32
      %m = arith.mulf %a, %b : f32
      attn.yield %m : f32
    } -> tensor<64x128xf32>
    %z = attn.tile_fill %zero into %ed : f32, tensor<64xf32> -> tensor<64xf32>
    %d = attn.tile_reduce add %prod into %z : tensor<64x128xf32>, tensor<64xf32> -> tensor<64xf32>
    attn.tile_store %d into %delta[%seq, %q0, %h] rows(%c64) : tensor<64xf32>, memref<1x2x256xf32>
    %zq = attn.tile_fill %zero into %ez : f32, tensor<64x128xf32> -> tensor<64x128xf32>
    attn.tile_store %zq into %acc[%seq, %q0, %h] rows(%c64) : tensor<64x128xf32>, memref<1x256x2x128xf32>
  }
  // dq = scale·dQ_acc
  attn.program_grid (%seq, %h, %qb) in (%c1, %c2, %c4) block_m(64) attributes {kind = #attn.program_kind<grad_postprocess>} {
    %e = bufferization.alloc_tensor() : tensor<64x128xf32>
    %q0 = arith.muli %qb, %c64 : index
    %a = attn.tile_load %acc[%seq, %q0, %h] rows(%c64) scale(%scale) into %e
        : memref<1x256x2x128xf32>, tensor<64x128xf32> -> tensor<64x128xf32>
    attn.tile_store %a into %dq[%seq, %q0, %h] rows(%c64) : tensor<64x128xf32>, memref<1x256x2x128xbf16>
  }
  return
}
