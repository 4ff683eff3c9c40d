// The backward's main grid (grad_kv) converted from its warp-specialized level
// (attn.attention_grad through attn-tile{target=sm_90a}, attn-score-mod-grad,
// attn-online-softmax and --attn-warp-specialize): D = 128, 128 keys per
// program in two consumer warpgroups, q-blocks of 64 rows in a two-stage ring.
// The preprocess and postprocess grids are left for the SIMT mapping.
// RUN: attn-opt %s -split-input-file -attn-tile="target=sm_90a" -attn-score-mod-grad -attn-online-softmax -attn-warp-specialize -attn-convert-to-nvgpu | FileCheck %s

// CHECK-LABEL: func.func @grad
// CHECK: attn.program_grid {{.+}} attributes {kind = #attn.program_kind<grad_preprocess>}
// Shared memory: K and V [128, 128] (32 KB each), the ring's two stages of
// Q and dO (16 KB each) and of LSE and D (256 bytes each), every consumer's
// staged P and dS (4 x 8 KB), the dQ shares (2 x [64, 64] f32): 197632 bytes
// and 1024 for the base's alignment. (D read off split-dq's [128, 64] slice
// of K gave 166912 and laid V over K's second half.)
// CHECK: gpu.launch {{.+}} threads({{.+}}) in ({{.+}} = %c384{{.*}}) dynamic_shared_memory_size %c198656_i32
// The producer: K and V once (TMA, two 64-column chunks each), then per
// q-block Q and dO by TMA and LSE and D by 4-byte cp.async, each part of the
// ring waiting for its slot.
// CHECK: nvvm.setmaxregister decrease 24
// CHECK-COUNT-4: nvgpu.tma.async.load
// CHECK: nvgpu.mbarrier.try_wait.parity
// CHECK-COUNT-2: nvgpu.tma.async.load
// CHECK: nvgpu.mbarrier.try_wait.parity
// CHECK-COUNT-2: nvgpu.tma.async.load
// CHECK: nvgpu.mbarrier.try_wait.parity
// CHECK: nvvm.cp.async.shared.global {{.+}}, 4, cache =  ca, {{.+}} : !llvm.ptr<3>, !llvm.ptr<1>, i32
// CHECK: nvvm.cp.async.mbarrier.arrive {{.+}} {noinc = true}
// CHECK: nvgpu.mbarrier.try_wait.parity
// CHECK: nvvm.cp.async.shared.global
// CHECK: nvvm.cp.async.mbarrier.arrive {{.+}} {noinc = true}
// The consumers: K and V waited for once; S = Q·K_cᵀ and dP = dO·V_cᵀ K-major
// from shared memory (eight k16 steps each), LSE and D read per row from
// their slots.
// CHECK: nvvm.setmaxregister increase 240
// CHECK: nvgpu.mbarrier.try_wait.parity
// CHECK: nvgpu.mbarrier.try_wait.parity
// CHECK: scf.for
// CHECK-COUNT-16: nvvm.wgmma.mma_async {{.+}} A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// A ragged block (the consumer's keys < 64, or the q-block's rows < 64) is
// masked, its rows past the count too (hide_rows: a packed tensor's TMA box
// holds the next sequence there): such a row keeps no column (col <= -1).
// CHECK: %[[RAGGED:.+]] = arith.ori %{{.+}}, %{{.+}} : i1
// CHECK-NEXT: scf.if %[[RAGGED]]
// CHECK: %[[ROWOK:.+]] = arith.cmpi slt, %{{.+}}, %{{.+}} : i32
// CHECK-NEXT: arith.select %[[ROWOK]], %{{.+}}, %c-1_i32 : i32
// CHECK: llvm.load {{.+}} : !llvm.ptr<3> -> f32
// P and dS staged: stmatrix into the consumer's buffer, the async proxy
// fenced, the warpgroup synchronized (named barrier 4 + c).
// CHECK-COUNT-4: nvvm.stmatrix
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK: nvvm.barrier id = {{.+}} number_of_threads = %c128_i32
// dS is gathered (split-dq: D = 128 over two consumers): before it is
// rewritten the consumers meet (named barrier 8 over both warpgroups: the
// previous q-block's dQ MMAs, which read every consumer's dS, are done), and
// again once it is written and fenced.
// CHECK: nvvm.barrier id = %c8_i32{{.*}} number_of_threads = %c256_i32
// CHECK-COUNT-4: nvvm.stmatrix
// CHECK-NEXT: nvvm.fence.proxy
// CHECK: nvvm.barrier id = {{.+}} number_of_threads = %c128_i32
// CHECK: nvvm.barrier id = %c8_i32{{.*}} number_of_threads = %c256_i32
// The consumer's dQ columns from both consumers' staged dS (A K-major: eight
// k16 steps over the 128 keys, four per consumer's buffer) and K's columns
// (B MN-major, N = 64: A row-major, B row-major in NVVM's terms), then
// dV += Pᵀ·dO and dK += dSᵀ·Q with both operands MN-major (the transpose
// bits: A column-major, B row-major), four k16 steps each; the k-steps'
// descriptors computed in place.
// CHECK-COUNT-8: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 64, k = 16>, D[<f32>, {{.+}}], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <row>]
// CHECK-COUNT-8: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 128, k = 16>, D[<f32>, {{.+}}], A[<bf16>, <one>, <col>], B[<bf16>, <one>, <row>]
// The dQ share (64 columns) added into the f32 workspace by TMA (the plan
// stages each consumer's share: 16 KB): the previous q-block's reduce has
// read the buffer (one thread waits, the warpgroup meets), 16 8-byte stores
// of the 128-byte-swizzled chunks, the async proxy fenced, the warpgroup
// meets, one thread issues a reduce-add per 32-column box and commits.
// Rows past the q-block's count are written as zeros (they add nothing to
// the next packed sequence's rows).
// CHECK: nvvm.cp.async.bulk.wait_group 0 {read}
// CHECK: nvvm.barrier id = {{.+}} number_of_threads = %c128_i32
// CHECK: %[[INSIDE:.+]] = arith.cmpi slt, %{{.+}}, %{{.+}} : index
// CHECK: arith.select %[[INSIDE]], %{{.+}}, %{{.+}} : f32
// CHECK-COUNT-16: llvm.store %{{.+}}, %{{.+}} {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr<3>
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK: nvvm.barrier id = {{.+}} number_of_threads = %c128_i32
// CHECK-COUNT-2: nvvm.cp.async.bulk.tensor.reduce %{{.+}}, %{{.+}}, box[%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}] {redKind = #nvvm.tma_redux_kind<add>}
// CHECK-NEXT: nvvm.cp.async.bulk.commit.group
// CHECK-NOT: red.global
// dK (scaled) and dV stored from registers after the loop.
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: llvm.store {{.+}} {alignment = 4 : i64} : i32, !llvm.ptr<1>
// The last reduce has read its buffer before the consumer exits.
// CHECK: nvvm.cp.async.bulk.wait_group 0 {read}
// CHECK: attn.program_grid {{.+}} attributes {kind = #attn.program_kind<grad_postprocess>}
func.func @grad(%q: memref<2x256x4x128xbf16>, %k: memref<2x256x4x128xbf16>, %v: memref<2x256x4x128xbf16>,
                %o: memref<2x256x4x128xbf16>, %do: memref<2x256x4x128xbf16>, %lse: memref<2x4x256xf32>,
                %dq: memref<2x256x4x128xbf16>, %dk: memref<2x256x4x128xbf16>, %dv: memref<2x256x4x128xbf16>,
                %acc: memref<2x256x4x128xf32>, %delta: memref<2x4x256xf32>) {
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<2x256x4x128xbf16>, memref<2x256x4x128xbf16>,
                          memref<2x256x4x128xbf16>, memref<2x256x4x128xbf16>, memref<2x256x4x128xbf16>,
                          memref<2x4x256xf32>)
      outs(%dq, %dk, %dv : memref<2x256x4x128xbf16>, memref<2x256x4x128xbf16>, memref<2x256x4x128xbf16>)
      workspace(%acc, %delta : memref<2x256x4x128xf32>, memref<2x4x256xf32>)
  return
}

// -----

// D = 64: q-blocks of 128 rows, so S, dP and dQ of each consumer are two m64
// fragments (two wgmma chains of four k16 steps, the second 64 rows further
// down Q, dO and the staged dS); dV and dK read the staged P and dS over
// K = 128 (eight steps); each stage writes both blocks (eight stmatrix); LSE
// and D give each thread four rows. dQ stays whole per consumer (a 32-column
// share would cut the 128-byte swizzle rows), and two [128, 64] f32 shares do
// not fit beside the rest: reds.
// CHECK-LABEL: func.func @grad_d64
// CHECK: nvvm.setmaxregister increase 240
// CHECK: scf.for
// CHECK-COUNT-16: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 64, k = 16>, D[<f32>, {{.+}}], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK-COUNT-4: llvm.load {{.+}} : !llvm.ptr<3> -> f32
// CHECK-COUNT-8: nvvm.stmatrix
// CHECK-NEXT: nvvm.fence.proxy
// CHECK-COUNT-8: nvvm.stmatrix
// CHECK-NEXT: nvvm.fence.proxy
// CHECK-COUNT-8: nvvm.wgmma.mma_async {{.+}} A[<bf16>, <one>, <row>], B[<bf16>, <one>, <row>]
// CHECK-COUNT-16: nvvm.wgmma.mma_async {{.+}} A[<bf16>, <one>, <col>], B[<bf16>, <one>, <row>]
// CHECK-COUNT-16: llvm.inline_asm has_side_effects asm_dialect = att "red.global.add.v4.f32 [$0], {$1, $2, $3, $4};"
func.func @grad_d64(%q: memref<1x300x2x64xbf16>, %k: memref<1x300x2x64xbf16>, %v: memref<1x300x2x64xbf16>,
                    %o: memref<1x300x2x64xbf16>, %do: memref<1x300x2x64xbf16>, %lse: memref<1x2x300xf32>,
                    %dq: memref<1x300x2x64xbf16>, %dk: memref<1x300x2x64xbf16>, %dv: memref<1x300x2x64xbf16>,
                    %acc: memref<1x300x2x64xf32>, %delta: memref<1x2x300xf32>) {
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>,
                          memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>,
                          memref<1x2x300xf32>)
      outs(%dq, %dk, %dv : memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>)
      workspace(%acc, %delta : memref<1x300x2x64xf32>, memref<1x2x300xf32>)
  return
}
