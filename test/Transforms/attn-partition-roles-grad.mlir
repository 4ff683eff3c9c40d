// RUN: attn-opt %s -attn-partition-roles -canonicalize -cse | FileCheck %s
// Round trip: the warp-specialized program prints and parses again.
// RUN: attn-opt %s -attn-partition-roles | attn-opt -canonicalize -cse | FileCheck %s
// RUN: attn-opt %s -attn-partition-roles -mlir-print-op-generic | attn-opt -canonicalize -cse | FileCheck %s

// L2 -> L3 for the backward's main program (hand-written at L2, with its
// plan): K and V are loaded once into a channel of one slot; each q-block's
// Q, dO, LSE and D (the two rank-1 per-row parts) into a ring of the plan's
// two stages. Consumer c owns keys [64c, 64c + 64) of the program's 128: its
// rows of the K/V slot; every tile with a key dimension is retyped to those
// 64 keys (S, P, dP, dS [64, 64] — columns —, dK, dV [64, 128] — rows), the
// q-block's tiles stay whole (dQ [64, 128]); key positions start at
// kv_pos + 64c and count clamp(cols - 64c, 0, 64). dK and dV are the loops'
// accumulators and go to rows 64c on; each consumer adds its keys' share of
// dQ with tile_store ... accumulate. Each part is released after its last use
// (LSE after −LSE₂, dO after dP, D after dS, Q after dK; K and V after the
// loops).

// CHECK-LABEL: func.func @grad_kv
// CHECK: %[[KV:.+]] = attn.channel_create : <[tensor<128x128xbf16, #attn.layout<shared>>, tensor<128x128xbf16, #attn.layout<shared>>], 1>
// CHECK: %[[QC:.+]] = attn.channel_create : <[tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>], 2>
// CHECK: attn.warp_specialize consumers(2) producer {
// CHECK:   %[[K:.+]] = attn.tile_load %arg1
// CHECK:   %[[V:.+]] = attn.tile_load %arg2
// CHECK:   attn.channel_put %[[KV]], %[[K]], %[[V]] :
// CHECK-NOT: tile_matmul
// CHECK:   scf.for
// CHECK:     scf.for
// CHECK:       %[[Q:.+]] = attn.tile_load %arg0
// CHECK:       %[[DO:.+]] = attn.tile_load %arg3
// CHECK:       %[[L:.+]] = attn.tile_load %arg4{{.+}} : memref<1x2x256xf32>, tensor<64xf32, #attn.layout<shared>>
// CHECK:       %[[D:.+]] = attn.tile_load %arg5
// CHECK:       attn.channel_put %[[QC]], %[[Q]], %[[DO]], %[[L]], %[[D]] :
// CHECK-NOT: tile_matmul
// CHECK: } consumer(%[[C:.+]]: index) {
// CHECK:   %[[KEY0:.+]] = arith.muli %[[C]], %c64
// CHECK:   %[[KVT:.+]]:2, %[[KVTOK:.+]] = attn.channel_get %[[KV]]
// CHECK:   %[[MYK:.+]] = tensor.extract_slice %[[KVT]]#0[%[[KEY0]], 0] [64, 128] [1, 1] : tensor<128x128xbf16, #attn.layout<shared>> to tensor<64x128xbf16, #attn.layout<shared>>
// CHECK:   %[[MYV:.+]] = tensor.extract_slice %[[KVT]]#1[%[[KEY0]], 0] [64, 128] [1, 1]
// CHECK:   %[[G:.+]]:2 = scf.for {{.+}} -> (tensor<64x128xf32, #attn.layout<accumulator>>, tensor<64x128xf32, #attn.layout<accumulator>>)
// CHECK:     scf.for {{.+}} -> (tensor<64x128xf32, #attn.layout<accumulator>>, tensor<64x128xf32, #attn.layout<accumulator>>)
// CHECK:       %[[T:.+]]:4, %[[TOK:.+]] = attn.channel_get %[[QC]]
// CHECK:       %[[S:.+]] = attn.tile_matmul %[[T]]#0, %[[MYK]] transpose_rhs into %{{.+}} : tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x64xf32, #attn.layout<accumulator>>
// CHECK:       %[[KP:.+]] = arith.addi %{{.+}}, %[[KEY0]]
// CHECK:       %[[LEFT:.+]] = arith.subi %c128, %[[KEY0]]
// CHECK:       %[[MIN:.+]] = arith.minsi %[[LEFT]], %c64
// CHECK:       %[[NK:.+]] = arith.maxsi %[[MIN]], %c0
// CHECK:       attn.tile_mask %[[S]] into %[[S]] q_pos(%{{.+}}) kv_pos(%[[KP]]) diag(%c0) rows(%c64) cols(%[[NK]])
// CHECK:       attn.tile_map ins(%[[T]]#2 : tensor<64xf32, #attn.layout<shared>>) into %{{.+}} : tensor<64xf32, #attn.layout<rows>>
// CHECK:       attn.channel_release %[[QC]][2], %[[TOK]]
// CHECK:       %[[PB:.+]] = attn.tile_map {{.+}} : tensor<64x64xbf16, #attn.layout<operand_a>>
// CHECK:       attn.tile_matmul %[[PB]], %[[T]]#1 transpose_lhs into %{{.+}} : tensor<64x64xbf16, #attn.layout<operand_a>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xf32, #attn.layout<accumulator>>
// CHECK:       attn.tile_matmul %[[T]]#1, %[[MYV]] transpose_rhs
// CHECK:       attn.channel_release %[[QC]][1], %[[TOK]]
// CHECK:       attn.channel_release %[[QC]][3], %[[TOK]]
// CHECK:       %[[DSB:.+]] = attn.tile_map {{.+}} : tensor<64x64xbf16, #attn.layout<operand_a>>
// CHECK:       attn.tile_matmul %[[DSB]], %[[T]]#0 transpose_lhs
// CHECK:       attn.channel_release %[[QC]][0], %[[TOK]]
// CHECK:       %[[DQ:.+]] = attn.tile_matmul %[[DSB]], %[[MYK]] into %{{.+}} : tensor<64x64xbf16, #attn.layout<operand_a>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xf32, #attn.layout<accumulator>>
// CHECK:       attn.tile_store %[[DQ]] into %arg8[%{{.+}}, %{{.+}}, %{{.+}}] rows(%c64) accumulate
// CHECK:   attn.channel_release %[[KV]][1], %[[KVTOK]]
// CHECK:   attn.channel_release %[[KV]][0], %[[KVTOK]]
// CHECK:   %[[DKS:.+]] = attn.tile_map ins(%[[G]]#0
// CHECK:   %[[R:.+]] = arith.addi %{{.+}}, %[[KEY0]]
// CHECK:   attn.tile_store %[[DKS]] into %arg6[%{{.+}}, %[[R]], %{{.+}}] rows(%[[NR:.+]]) :
// CHECK:   attn.tile_store %[[G]]#1 into %arg7[%{{.+}}, %[[R]], %{{.+}}] rows(%[[NR]]) :
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
  attn.program_grid (%seq, %kvh, %kb) in (%c1, %c1, %c2) block_m(128) plan(<stages = 2, ping_pong = false, pv_schedule = overlap, persistent_ctas = 0, paired_tiles = false, epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>) attributes {kind = #attn.program_kind<grad_kv>} {
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
