// RUN: attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper | FileCheck %s
// RUN: attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="stages=2 ping-pong=false persistent-ctas=0 pv-schedule=deferred" | FileCheck %s --check-prefix=OPTS
// The stages one by one and the umbrella build the same kernel from the plan:
// RUN: attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper -attn-partition-roles -attn-pipeline-mma -attn-consumer-turns -attn-convert-to-nvgpu | FileCheck %s --check-prefix=LOWER
// RUN: attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=64" -attn-online-softmax --attn-warp-specialize -attn-convert-to-nvgpu | FileCheck %s --check-prefix=LOWER
// RUN: not attn-opt %s -split-input-file -attn-tile="block-m=64 block-n=128" -attn-online-softmax -attn-plan-hopper="ctas-per-sm=2 persistent-ctas=0" 2>&1 | FileCheck %s --check-prefix=TWO

// The decisions of the Hopper kernel on each program grid of the
// online-softmax level (the first stage of --attn-warp-specialize), and the
// kernel attn-convert-to-nvgpu builds from them. Causal: the tiles' KV-block counts differ, so the
// persistent loop takes pairs of q-blocks (j, QB-1-j) of equal total cost:
// 2 sequences x 8 heads x ceil(3/2) pairs = 32 CTAs, with the persistent
// budgets 40/232; two or more stages: the P·V overlaps the next softmax; two
// consumers: ping-pong; the ring: as many stages as fit, at most 4.
// Two CTAs per SM (one consumer, BlockM 64): the launch budget is 64K / (256
// threads x 2) = 128 registers per thread, so the producer gets 24 and the
// consumer 256 - 24 = 232; shared memory is 228 KB / 2 - 1 KB per CTA: Q (8 KB)
// and 3 stages of 32 KB.
// TWO-LABEL: func.func @causal
// TWO: plan(<stages = 3, ping_pong = false, pv_schedule = overlap, persistent_ctas = 0, paired_tiles = false, epilogue = tma_in_q, ctas_per_sm = 2, producer_registers = 24, consumer_registers = 232>)
// CHECK-LABEL: func.func @causal
// CHECK: plan(<stages = 4, ping_pong = true, pv_schedule = overlap, persistent_ctas = 32, paired_tiles = true, epilogue = tma, ctas_per_sm = 1, producer_registers = 40, consumer_registers = 232>)
// OPTS-LABEL: func.func @causal
// OPTS: plan(<stages = 2, ping_pong = false, pv_schedule = deferred, persistent_ctas = 0, paired_tiles = false, epilogue = tma_in_q, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>)
// The conversion follows the plan: 32 CTAs of 384 threads, 4 stages, shared
// memory Q 16 KB + 4 x (8 + 8) KB + O 16 KB + 1 KB (alignment), registers
// 40/232.
// LOWER-LABEL: func.func @causal
// LOWER: gpu.launch blocks({{.*}}) in ({{.*}} = %c32{{.*}}, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c384, {{.*}}) dynamic_shared_memory_size %c99328_i32
// LOWER: nvgpu.mbarrier.create -> <memorySpace = #gpu.address_space<workgroup>, num_barriers = 4>
// LOWER: nvvm.setmaxregister decrease 40
// LOWER: nvvm.setmaxregister increase 232
func.func @causal(%q: memref<2x300x8x64xbf16>, %k: memref<2x300x2x64xbf16>,
                  %v: memref<2x300x2x64xbf16>, %o: memref<2x300x8x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x300x8x64xbf16>, memref<2x300x2x64xbf16>,
                                  memref<2x300x2x64xbf16>)
      outs(%o : memref<2x300x8x64xbf16>) mask<causal, bottom_right>
  return
}

// -----

// No mask, static grid, Dv = 128: persistent over min(132, 3 q-blocks x 8
// heads x 2) = 48 CTAs; the persistent producer needs 40 registers.
// CHECK-LABEL: func.func @plain_d128
// CHECK: plan(<stages = 4, ping_pong = true, pv_schedule = overlap, persistent_ctas = 48, paired_tiles = false, epilogue = tma, ctas_per_sm = 1, producer_registers = 40, consumer_registers = 232>)
// OPTS-LABEL: func.func @plain_d128
// OPTS: persistent_ctas = 0,
// LOWER-LABEL: func.func @plain_d128
// LOWER: gpu.launch blocks({{.*}}) in ({{.*}} = %c48{{(_[0-9]+)?}}, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}})
// LOWER: persistent_ctas = 48
func.func @plain_d128(%q: memref<2x300x8x128xf16>, %k: memref<2x300x8x128xf16>,
                      %v: memref<2x300x8x128xf16>, %o: memref<2x300x8x128xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x300x8x128xf16>, memref<2x300x8x128xf16>,
                                  memref<2x300x8x128xf16>)
      outs(%o : memref<2x300x8x128xf16>)
  return
}

// -----

// Dv = 256: not persistent (the 232-register consumers of the persistent
// kernel spilled: O alone is 128 registers). Q is 128 x 256 x 2 = 64 KB and a
// stage of K and V 2 x 64 x 256 x 2 = 64 KB: 2 stages fit in 227 KB.
// At two CTAs per SM, d = 256 does not fit half an SM's shared memory:
// TWO: error: 'attn.program_grid' op attn-plan-hopper: Q (32768 bytes) and 1 K/V stage(s) of 131072 bytes do not fit in the shared memory (115712 bytes)
// CHECK-LABEL: func.func @plain_d256
// CHECK: plan(<stages = 2, ping_pong = true, pv_schedule = overlap, persistent_ctas = 0, paired_tiles = false, epilogue = tma_in_q, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>)
// OPTS-LABEL: func.func @plain_d256
// OPTS: plan(<stages = 2, ping_pong = false, pv_schedule = deferred, persistent_ctas = 0, paired_tiles = false, epilogue = tma_in_q, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>)
// LOWER-LABEL: func.func @plain_d256
// LOWER: gpu.launch blocks({{.*}}) in ({{.*}} = %c3, {{.*}} = %c8, {{.*}} = %c2)
func.func @plain_d256(%q: memref<2x300x8x256xf16>, %k: memref<2x300x8x256xf16>,
                      %v: memref<2x300x8x256xf16>, %o: memref<2x300x8x256xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x300x8x256xf16>, memref<2x300x8x256xf16>,
                                  memref<2x300x8x256xf16>)
      outs(%o : memref<2x300x8x256xf16>)
  return
}

// -----

// Varlen: the program has a run-time guard, so one CTA per tile, and O is
// written from the registers (a TMA store of a packed sequence's last tile
// would write the next sequence's rows).
// CHECK-LABEL: func.func @varlen
// CHECK: persistent_ctas = 0
// CHECK-SAME: epilogue = direct
func.func @varlen(%q: memref<1x300x2x64xbf16>, %k: memref<1x300x2x64xbf16>,
                  %v: memref<1x300x2x64xbf16>, %cq: memref<4xi32>, %ck: memref<4xi32>,
                  %o: memref<1x300x2x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>,
                                  memref<1x300x2x64xbf16>)
      cu_seqlens(%cq, %ck : memref<4xi32>, memref<4xi32>)
      outs(%o : memref<1x300x2x64xbf16>)
  return
}

// -----

// D = 96, Dv = 64 under a window (one CTA per tile): O's rows (128 bytes,
// Dv's layout) are not laid out as Q's (64 bytes), so O cannot be staged in
// each consumer's rows of Q's buffer; it gets a buffer of its own, beside 4
// stages (Q 24 KB + 4 x (12 + 8) KB + O 16 KB + 1 KB alignment slack).
// CHECK-LABEL: func.func @window_d96_dv64
// CHECK: plan(<stages = 4, ping_pong = true, pv_schedule = overlap, persistent_ctas = 0, paired_tiles = false, epilogue = tma, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>)
// LOWER-LABEL: func.func @window_d96_dv64
// LOWER: dynamic_shared_memory_size %c123904_i32
func.func @window_d96_dv64(%q: memref<1x300x2x96xbf16>, %k: memref<1x300x2x96xbf16>,
                           %v: memref<1x300x2x64xbf16>, %o: memref<1x300x2x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<1x300x2x96xbf16>, memref<1x300x2x96xbf16>,
                                  memref<1x300x2x64xbf16>)
      outs(%o : memref<1x300x2x64xbf16>) mask<window [64, 0], bottom_right>
  return
}
