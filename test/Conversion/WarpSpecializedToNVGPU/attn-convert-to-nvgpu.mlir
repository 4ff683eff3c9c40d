// attn-convert-to-nvgpu on the warp-specialized level (L3) as
// --attn-warp-specialize builds it from attn.attention: the kernel each plan
// asks for (launch, shared memory, mbarrier rings, TMA producer, wgmma
// consumers taking turns, the P·V schedules, persistent loops, epilogues),
// with no attn op left.
// RUN: attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-warp-specialize="persistent-ctas=0" -attn-convert-to-nvgpu -canonicalize -cse | FileCheck %s --implicit-check-not="{{(= |^ *)attn\.}}"
// RUN: attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-warp-specialize="persistent-ctas=4" -attn-convert-to-nvgpu -canonicalize -cse | FileCheck %s --check-prefix=PERSIST
// RUN: attn-opt %s -split-input-file -attn-tile -attn-online-softmax -attn-warp-specialize="stages=2" -attn-convert-to-nvgpu -canonicalize -cse | FileCheck %s --check-prefix=STAGES
// RUN: attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-warp-specialize="stages=1 persistent-ctas=0" -attn-convert-to-nvgpu -canonicalize -cse | FileCheck %s --check-prefix=ONE
// RUN: attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-warp-specialize="persistent-ctas=0 pv-schedule=deferred" -attn-convert-to-nvgpu -canonicalize -cse | FileCheck %s --check-prefix=DEFER
// RUN: attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-warp-specialize="persistent-ctas=0 epilogue=direct" -attn-convert-to-nvgpu -canonicalize -cse | FileCheck %s --check-prefix=DIRECT
// RUN: attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-warp-specialize="persistent-ctas=4 epilogue=tma_in_q" -attn-convert-to-nvgpu -canonicalize -cse | FileCheck %s --check-prefix=INQ
// RUN: attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-warp-specialize="persistent-ctas=0 ping-pong=false" -attn-convert-to-nvgpu -canonicalize -cse | FileCheck %s --check-prefix=NOPP

// Causal GQA (8 query heads over 2 KV heads), D = 64, BlockM 128 (two
// consumer warpgroups), BlockN 64: the ring gets 4 stages; O goes through
// Q's buffer (tma_in_q, one tile per CTA).
// The function gains the tensor maps of Q, K, V (box: 64 columns, 1 head,
// BlockM or BlockN rows, 1 batch) and, for the TMA epilogue, of O (64 rows:
// one consumer's).
// CHECK-LABEL: func.func @causal
// CHECK-SAME: %[[OUT:[^:]+]]: memref<2x300x8x64xbf16>, %[[LSE:[^:]+]]: memref<2x8x300xf32>
// CHECK-SAME: !llvm.ptr {attn.tensor_map = {box = array<i64: 64, 1, 128, 1>, element = "bf16", operand = 0 : i64, swizzle = 128 : i64}}
// CHECK-SAME: !llvm.ptr {attn.tensor_map = {box = array<i64: 64, 1, 64, 1>, element = "bf16", operand = 1 : i64, swizzle = 128 : i64}}
// CHECK-SAME: !llvm.ptr {attn.tensor_map = {box = array<i64: 64, 1, 64, 1>, element = "bf16", operand = 2 : i64, swizzle = 128 : i64}}
// CHECK-SAME: !llvm.ptr {attn.tensor_map = {box = array<i64: 64, 1, 64, 1>, element = "bf16", operand = 3 : i64, swizzle = 128 : i64}}
// Grid (q-block, head, batch); 3 warpgroups: 1 producer + 2 consumers;
// shared memory Q 16 KB + 4 x (K 8 KB + V 8 KB) + 1 KB (1024-byte alignment).
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c3, {{.*}} = %c8, {{.*}} = %c2) threads({{.*}}) in ({{.*}} = %c384, {{.*}}) dynamic_shared_memory_size %c82944_i32
// Q full (TMA transaction), then per ring slot K full, K empty, V full, V
// empty; the empty barriers wait for every consumer thread (2 x 128).
// CHECK: nvgpu.mbarrier.init %[[QFULL:[0-9]+]][%c0], %c1, {{.*}} : <memorySpace = #gpu.address_space<workgroup>>
// CHECK: nvgpu.mbarrier.init %[[KFULL:[0-9]+]][%c0], %c1, {{.*}}, num_barriers = 4>
// CHECK-NEXT: nvgpu.mbarrier.init %[[KEMPTY:[0-9]+]][%c0], %c256,
// CHECK-NEXT: nvgpu.mbarrier.init %[[VFULL:[0-9]+]][%c0], %c1,
// CHECK-NEXT: nvgpu.mbarrier.init %[[VEMPTY:[0-9]+]][%c0], %c256,
// CHECK: nvgpu.mbarrier.init %[[VEMPTY]][%c3], %c256,
// CHECK: gpu.barrier
// Producer: fewer registers, one elected thread, Q once (128 x 64 x 2
// bytes); the K/V head of query head h is h / 4.
// CHECK: nvvm.setmaxregister decrease 24
// CHECK: %[[KVHEAD:.+]] = arith.divui %{{.*}}, %c4 : index
// CHECK: nvgpu.mbarrier.arrive.expect_tx %[[QFULL]][%c0], %c16384
// CHECK: nvgpu.tma.async.load {{.*}}, %[[QFULL]][%c0] to
// KV block number n: slot s = n mod 4, round r = n / 4; the slot's K (V)
// buffer is free once the consumers released its phase of round r - 1.
// CHECK: scf.for {{.*}} iter_args(%[[N:.+]] = %c0) -> (index)
// CHECK:   %[[S:.+]] = arith.remui %[[N]], %c4
// CHECK:   nvgpu.mbarrier.try_wait.parity %[[KEMPTY]][%[[S]]]
// CHECK:   nvgpu.mbarrier.arrive.expect_tx %[[KFULL]][%[[S]]], %c8192
// CHECK:   nvgpu.tma.async.load %{{.*}}[%c0, %[[KVHEAD]], %{{.*}}], %[[KFULL]][%[[S]]] to
// CHECK:   nvgpu.mbarrier.try_wait.parity %[[VEMPTY]][%[[S]]]
// CHECK:   nvgpu.mbarrier.arrive.expect_tx %[[VFULL]][%[[S]]], %c8192
// CHECK:   nvgpu.tma.async.load %{{.*}}[%c0, %[[KVHEAD]], %{{.*}}], %[[VFULL]][%[[S]]] to
// CHECK: } else {
// Consumers: more registers. Ping-pong: warpgroup c waits on named barrier
// c + 1 before its MMAs and arrives on the other's after them; warpgroup 1
// opens barrier 1 so that warpgroup 0 goes first.
// CHECK: nvvm.setmaxregister increase 240
// CHECK: %[[MINE:.+]] = arith.addi %[[C:.+]], %c1_i32 : i32
// CHECK-NEXT: %[[NEXT:.+]] = arith.remui %[[MINE]], %c2_i32 : i32
// CHECK-NEXT: %[[OTHER:.+]] = arith.addi %[[NEXT]], %c1_i32 : i32
// CHECK-NEXT: %[[SECOND:.+]] = arith.cmpi eq, %[[C]], %c1_i32 : i32
// CHECK-NEXT: scf.if %[[SECOND]] {
// CHECK-NEXT: nvvm.barrier.arrive id = %c1_i32 number_of_threads = %c256_i32
// CHECK: nvgpu.mbarrier.try_wait.parity %[[QFULL]][%c0], %false
// The P·V schedule is "overlap": the tile's first block (the prologue, when
// the tile has a block) computes S and P only ...
// CHECK: scf.if %[[ANY:.+]] -> ({{(f32, ){4}(i32, ){15}i32}}) {
// CHECK:   nvgpu.mbarrier.try_wait.parity %[[KFULL]][%c0], %false
// S = Q·Kᵀ: D/16 = 4 k-steps of m64n64k16, both operands in shared memory.
// CHECK:   nvvm.barrier id = %[[MINE]] number_of_threads = %c256_i32
// CHECK-NEXT: nvvm.wgmma.fence.aligned
// CHECK-COUNT-4: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 64, k = 16>
// CHECK:   nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.barrier.arrive id = %[[OTHER]] number_of_threads = %c256_i32
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK:   nvgpu.mbarrier.arrive %[[KEMPTY]][%c0]
// Boundary block: hidden keys become -inf.
// CHECK:   arith.select {{.*}} : f32
// m_new = max(m, c·rowmax(S)) with the row spread over a quad (2 shuffles);
// p = exp2(S·c - m_new); P packed (16 registers).
// CHECK:   gpu.shuffle xor {{.*}}, %c1_i32, %c32_i32
// CHECK:   gpu.shuffle xor {{.*}}, %c2_i32, %c32_i32
// CHECK:   nvvm.inline_ptx "ex2.approx.ftz.f32 $0, $1;"
// CHECK:   nvgpu.mbarrier.try_wait.parity %[[VFULL]][%c0]
// CHECK-NOT: wgmma
// CHECK:   scf.yield
// CHECK: } else {
// ... then every loop block issues its Q·Kᵀ and the previous block's P·V
// (BlockN/16 = 4 register-A wgmma) as two groups in one turn, waits for the
// first only, releases K, and runs the softmax while that P·V is in flight.
// The loops carry O (32), m, l (2 + 2), P (16), the previous V's descriptor
// and slot, and the ring's count.
// CHECK: scf.for {{.*}} -> ({{(f32, ){36}(i32, ){16}i64}}, index, index) {
// CHECK:   %[[S:.+]] = arith.remui %{{.*}}, %c4 : index
// CHECK:   nvgpu.mbarrier.try_wait.parity %[[KFULL]][%[[S]]]
// CHECK:   nvvm.barrier id = %[[MINE]] number_of_threads = %c256_i32
// CHECK-NEXT: nvvm.wgmma.fence.aligned
// CHECK-COUNT-4: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 64, k = 16>
// CHECK:   nvvm.wgmma.commit.group.sync.aligned
// CHECK-COUNT-4: llvm.inline_asm has_side_effects asm_dialect = att {{.*}}wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// CHECK:   nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.barrier.arrive id = %[[OTHER]] number_of_threads = %c256_i32
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK:   nvgpu.mbarrier.arrive %[[KEMPTY]][%[[S]]]
// CHECK:   nvvm.inline_ptx "ex2.approx.ftz.f32 $0, $1;"
// This block's V is awaited for the next P·V before the wait for the
// previous one (the barrier's wait overlaps the tensor cores); once that P·V
// is done its V is released (its slot rides the loop), O rescaled.
// CHECK:   nvgpu.mbarrier.try_wait.parity %[[VFULL]][%[[S]]]
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT: nvgpu.mbarrier.arrive %[[VEMPTY]][%arg{{[0-9]+}}]
// CHECK-NOT: nvgpu.mbarrier.try_wait
// CHECK:   scf.yield
// Epilogue: the tile's last P·V when it had a block (the prologue's test),
// completed in its branch; O / l through Q's buffer (one tile per CTA: its
// rows are free): Dv/16 = 4 stmatrix.x4 per thread, the async-proxy fence,
// the warpgroup's barrier, then its first thread stores the 64 rows (one
// 64-column chunk) with TMA; LSE from registers. The CTA exits once the
// store has read shared memory.
// CHECK: scf.if %[[ANY]] -> ({{(f32, ){31}f32}}) {
// CHECK-NEXT: nvvm.wgmma.fence.aligned
// CHECK-COUNT-4: llvm.inline_asm {{.*}}wgmma.mma_async.sync.aligned.m64n64k16
// CHECK:   nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT: nvgpu.mbarrier.arrive %[[VEMPTY]]
// CHECK: llvm.inline_asm has_side_effects {{.*}}"mov.u32 $0, %tid.x;"
// CHECK-COUNT-4: nvvm.stmatrix {{.*}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<row>, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>} : !llvm.ptr<3>, i32, i32, i32, i32
// CHECK-NOT: nvvm.stmatrix
// CHECK: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK: nvvm.barrier id = %{{.*}} number_of_threads = %c128_i32
// CHECK: memref.view
// CHECK-NEXT: nvgpu.tma.async.store {{.*}} : memref<1x64x1x64xbf16, #gpu.address_space<workgroup>>
// CHECK-NEXT: nvvm.cp.async.bulk.commit.group
// CHECK-NOT: llvm.store
// The LSE's row guard in i32, on an opaque copy of the clamped row count:
// after the KV loop only its low word is read (LLVM would widen an i32
// compare of truncated values back to i64).
// CHECK: %[[ROWS:.*]] = llvm.inline_asm asm_dialect = att "mov.b32 $0, $1;", "=r,r" %{{.*}} : (i32) -> i32
// CHECK: arith.cmpi slt, %{{.*}}, %[[ROWS]] : i32
// CHECK: memref.store {{.*}}, %[[LSE]]
// CHECK: nvvm.cp.async.bulk.wait_group 0 {read}
// The tiles travel to the launch metadata on the launch.
// CHECK: gpu.terminator
// CHECK-NEXT: } {attn.tiles = {block_m = 128 : i64, block_n = 64 : i64, consumer_warpgroups = 2 : i64, persistent_ctas = 0 : i64, stages = 4 : i64}}

// Without ping-pong the consumers issue their MMAs without named barriers.
// NOPP-LABEL: func.func @causal
// NOPP-NOT: number_of_threads = %c256_i32
// NOPP: gpu.terminator

// "deferred": each block's P·V is left in flight (no wait) until the next
// block's Q·Kᵀ, whose wait completes both; then the previous V is released
// (when there is one: the loop carries its slot and a flag), then K.
// DEFER-LABEL: func.func @causal
// DEFER: nvgpu.mbarrier.init %[[KEMPTY:[0-9]+]][%c0], %c256
// DEFER-NEXT: nvgpu.mbarrier.init %[[VFULL:[0-9]+]][%c0], %c1
// DEFER-NEXT: nvgpu.mbarrier.init %[[VEMPTY:[0-9]+]][%c0], %c256
// DEFER: nvvm.setmaxregister increase 240
// DEFER: scf.for {{.*}} -> ({{(f32, ){36}index}}, i1, index) {
// DEFER:   nvvm.wgmma.fence.aligned
// DEFER-COUNT-4: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 64, k = 16>
// DEFER:   nvvm.wgmma.commit.group.sync.aligned
// DEFER:   nvvm.wgmma.wait.group.sync.aligned 0
// DEFER:   scf.if %[[PENDING:arg[0-9]+]] {
// DEFER-NEXT: nvgpu.mbarrier.arrive %[[VEMPTY]][%{{.*}}]
// DEFER:   nvgpu.mbarrier.arrive %[[KEMPTY]]
// DEFER:   nvvm.inline_ptx "ex2.approx.ftz.f32 $0, $1;"
// DEFER:   nvgpu.mbarrier.try_wait.parity %[[VFULL]]
// DEFER-NEXT: nvvm.wgmma.fence.aligned
// DEFER-COUNT-4: llvm.inline_asm has_side_effects asm_dialect = att {{.*}}wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// DEFER:   nvvm.wgmma.commit.group.sync.aligned
// DEFER-NEXT: scf.yield
// Each loop's last P·V completes at its exit.
// DEFER: nvvm.wgmma.wait.group.sync.aligned 0
// DEFER-NEXT: scf.if %{{.*}} {
// DEFER-NEXT: nvgpu.mbarrier.arrive %[[VEMPTY]]
// DEFER-NOT: nvvm.wgmma.wait.group.sync.aligned 1
// DEFER: memref.store

// epilogue=direct: O stored from the registers as 4-byte words (two columns
// of a row), 8 per row half at Dv = 64; no O tensor map.
// DIRECT-LABEL: func.func @causal
// DIRECT-SAME: %[[OUT:[^:]+]]: memref<2x300x8x64xbf16>, %[[LSE:[^:]+]]: memref<2x8x300xf32>
// DIRECT-NOT: operand = 3
// DIRECT: %[[OPTR:.*]] = memref.extract_aligned_pointer_as_index %[[OUT]]
// DIRECT-COUNT-8: llvm.store %{{.*}}, %{{.*}} {alignment = 4 : i64} : i32, !llvm.ptr<1>
// DIRECT: memref.store {{.*}}, %[[LSE]]
// DIRECT-NOT: nvvm.stmatrix
// DIRECT-NOT: nvvm.cp.async.bulk
// DIRECT: gpu.terminator

// One stage: a late release would free the only stage a block late (the
// producer would wait forever), so the plan is "serial": each block
// completes its P·V and frees the stage itself; single barriers, slot 0.
// ONE-LABEL: func.func @causal
// ONE: nvgpu.mbarrier.init %[[KEMPTY:[0-9]+]][%c0], %c256, {{.*}} : <memorySpace = #gpu.address_space<workgroup>>
// ONE: nvgpu.mbarrier.init %[[VEMPTY:[0-9]+]][%c0], %c256, {{.*}} : <memorySpace = #gpu.address_space<workgroup>>
// ONE: nvvm.wgmma.wait.group.sync.aligned 0
// ONE: nvgpu.mbarrier.arrive %[[KEMPTY]][%c0]
// ONE: llvm.inline_asm {{.*}}wgmma.mma_async.sync.aligned.m64n64k16
// ONE: nvvm.wgmma.commit.group.sync.aligned
// ONE-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// ONE-NEXT: nvgpu.mbarrier.arrive %[[VEMPTY]][%c0]
// ONE-NOT: nvvm.wgmma.wait.group.sync.aligned 1
// ONE: gpu.terminator

// Under a causal mask the tiles cost unequal work: the persistent CTAs take
// pairs of one head's q-blocks (QB-1-p, p) instead, whose costs sum to QB + 1
// blocks: 3 q-blocks -> P = 2 pairs per (sequence, head), 2 x 8 x 2 = 32
// pairs over 4 CTAs; pair u: seq = u / 16, head = (u / 2) mod 8, p = u mod 2;
// the inner loop runs the longer tile (QB-1-p), then p if p < QB-1-p.
// PERSIST-LABEL: func.func @causal
// PERSIST: gpu.launch blocks(%[[BX:[^,]+]], {{.*}}) in ({{.*}} = %c4, {{.*}} = %c1, {{.*}} = %c1)
// PERSIST: scf.for %[[U:.+]] = %[[BX]] to %c32 step %c4 iter_args({{.*}}) -> (index, index)
// PERSIST-NEXT: arith.divui %[[U]], %c16
// PERSIST-NEXT: %[[HP:.+]] = arith.divui %[[U]], %c2
// PERSIST-NEXT: arith.remui %[[HP]], %c8
// PERSIST-NEXT: %[[P:.+]] = arith.remui %[[U]], %c2
// PERSIST-NEXT: %[[LONG:.+]] = arith.subi %c2, %[[P]]
// PERSIST-NEXT: %[[TWO:.+]] = arith.cmpi ult, %[[P]], %[[LONG]]
// PERSIST-NEXT: %[[M:.+]] = arith.select %[[TWO]], %c2, %c1
// PERSIST-NEXT: scf.for %[[I:.+]] = %c0 to %[[M]] step %c1
// PERSIST-NEXT: %[[FIRST:.+]] = arith.cmpi eq, %[[I]], %c0
// PERSIST-NEXT: arith.select %[[FIRST]], %[[LONG]], %[[P]]
// PERSIST: persistent_ctas = 4
func.func @causal(%q: memref<2x300x8x64xbf16>, %k: memref<2x300x2x64xbf16>,
                  %v: memref<2x300x2x64xbf16>, %o: memref<2x300x8x64xbf16>,
                  %lse: memref<2x8x300xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x300x8x64xbf16>, memref<2x300x2x64xbf16>,
                                  memref<2x300x2x64xbf16>)
      outs(%o, %lse : memref<2x300x8x64xbf16>, memref<2x8x300xf32>)
      mask<causal, bottom_right>
  return
}

// -----

// No mask, f16, D = Dv = 128: an interior loop whose ragged last block is
// masked at run time (cols < BlockN). With block-n=64: Q and K in two
// 64-column chunks (two TMA copies each), 8 k-steps of QKᵀ, 4 of P·V; with
// the heuristic's tiles (128 x 128) and stages=2: n = 128 and 8 k-steps of
// P·V.
// CHECK-LABEL: func.func @plain_f16
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c8, {{.*}} = %c2, {{.*}} = %c1)
// CHECK: nvvm.setmaxregister decrease 24
// CHECK: nvgpu.mbarrier.arrive.expect_tx %[[QFULL:[0-9]+]][%c0], %c32768
// CHECK-COUNT-2: nvgpu.tma.async.load {{.*}}, %[[QFULL]][%c0] to
// Every tile has 16 blocks: the prologue is not conditional, the loop runs
// blocks 1 to 15.
// CHECK: nvvm.setmaxregister increase 240
// CHECK-NOT: scf.if {{.*}} -> (f32
// CHECK: scf.for %{{.*}} = %c1 to %c16 step %c1 {{.*}} -> ({{(f32, ){68}(i32, ){16}i64}}, index, index) {
// CHECK-COUNT-8: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 64, k = 16>, D[<f32>, {{.*}}], A[<f16>
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16
// CHECK: arith.cmpi slt, {{.*}}, %c64
// CHECK-NEXT: scf.if {{.*}} -> (f32
// O through Q's buffer in two 64-column chunks per consumer.
// CHECK-COUNT-2: nvgpu.tma.async.store
// CHECK: gpu.terminator
// Persistent (no mask: every tile costs the same): min(4, 8 q-blocks x 2 heads
// x 1 sequence = 16) CTAs loop over the tiles t = blockIdx.x, +4, .. in the
// hardware's grid order: q-block = 7 - t mod 8, head = (t / 8) mod 2, seq =
// t / 16. The ring's block count and the CTA's tile number n are carried; Q
// arrives in phase n of qFull, and the producer reuses the Q buffer once
// qEmpty (all 256 consumer threads) completed phase n - 1. The consumers
// arrive on it once the tile's last P·V is done, before the stores.
// PERSIST-LABEL: func.func @plain_f16
// PERSIST: gpu.launch blocks(%[[BX:[^,]+]], {{.*}}) in ({{.*}} = %c4, {{.*}} = %c1, {{.*}} = %c1)
// PERSIST: nvgpu.mbarrier.init %[[QFULL:[0-9]+]][%c0], %c1,
// PERSIST: nvgpu.mbarrier.init %[[QEMPTY:[0-9]+]][%c0], %c256, {{.*}} : <memorySpace = #gpu.address_space<workgroup>>
// PERSIST: nvvm.setmaxregister decrease 40
// PERSIST: scf.for %[[T:.+]] = %[[BX]] to %c16 step %c4 iter_args(%{{.+}} = %c0, %[[N:.+]] = %c0) -> (index, index)
// PERSIST-NEXT: arith.divui %[[T]], %c16
// PERSIST-NEXT: arith.divui %[[T]], %c8
// PERSIST: arith.remui %[[N]], %c2
// PERSIST: nvgpu.mbarrier.try_wait.parity %[[QEMPTY]][%c0]
// PERSIST-NEXT: nvgpu.mbarrier.arrive.expect_tx %[[QFULL]][%c0], %c32768
// PERSIST: nvgpu.tma.async.load
// PERSIST: nvvm.setmaxregister increase 232
// PERSIST: scf.for %{{.+}} = %[[BX]] to %c16 step %c4 iter_args
// PERSIST: nvgpu.mbarrier.try_wait.parity %[[QFULL]][%c0]
// PERSIST: gpu.shuffle xor
// PERSIST: scf.for
// PERSIST: wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16
// After the loops Q is released first (its last reader, the last Q·Kᵀ, is
// complete), so the producer loads the next tile's Q while the tile's last
// P·V runs; that P·V then releases its V (the slot: a loop result).
// PERSIST: nvgpu.mbarrier.arrive %[[QEMPTY]][%c0]
// PERSIST-NOT: nvvm.wgmma.wait
// PERSIST: llvm.inline_asm {{.*}}wgmma.mma_async
// PERSIST: nvvm.wgmma.wait.group.sync.aligned 0
// PERSIST-NEXT: nvgpu.mbarrier.arrive %{{.*}}[%{{[0-9]+}}#{{[0-9]+}}]
// O's own buffer fits beside the ring here (Q 32 KB + 4 stages of 32 KB +
// O 32 KB): its first thread waits for the previous tile's store to have
// read the buffer, the warpgroup syncs, writes it (8 stmatrix at Dv = 128)
// and stores two chunks; the store overlaps the next tile.
// PERSIST: nvvm.cp.async.bulk.wait_group 0 {read}
// PERSIST: nvvm.barrier id = %{{.*}} number_of_threads = %c128_i32
// PERSIST-COUNT-8: nvvm.stmatrix
// PERSIST: nvvm.fence.proxy
// PERSIST: nvvm.barrier id = %{{.*}} number_of_threads = %c128_i32
// PERSIST-COUNT-2: nvgpu.tma.async.store
// PERSIST-NEXT: nvvm.cp.async.bulk.commit.group
// PERSIST: persistent_ctas = 4
// epilogue=tma_in_q, persistent: O goes through Q's buffer, so the consumers
// release Q (qEmpty) only after the store has read it.
// INQ-LABEL: func.func @plain_f16
// INQ: nvgpu.mbarrier.init %[[QEMPTY:.+]][%c0], %c256
// INQ: nvvm.setmaxregister increase 232
// INQ-NOT: nvgpu.mbarrier.arrive %[[QEMPTY]]
// INQ: nvvm.stmatrix
// INQ: nvgpu.tma.async.store
// INQ: nvvm.cp.async.bulk.commit.group
// INQ-NEXT: nvvm.cp.async.bulk.wait_group 0 {read}
// INQ: nvvm.barrier id = %{{.*}} number_of_threads = %c128_i32
// INQ-NEXT: nvgpu.mbarrier.arrive %[[QEMPTY]][%c0]
// STAGES-LABEL: func.func @plain_f16
// STAGES: nvgpu.mbarrier.create -> <memorySpace = #gpu.address_space<workgroup>, num_barriers = 2>
// STAGES: scf.for {{.*}} -> ({{(f32, ){36}f32}}
// STAGES-COUNT-8: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 128, k = 16>
// STAGES-COUNT-8: wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16
// STAGES: arith.cmpi slt, {{.*}}, %c128
// STAGES: attn.tiles = {block_m = 128 : i64, block_n = 128 : i64, {{.*}} stages = 2 : i64}
func.func @plain_f16(%q: memref<1x1000x2x128xf16>, %k: memref<1x1000x2x128xf16>,
                     %v: memref<1x1000x2x128xf16>, %o: memref<1x1000x2x128xf16>) {
  attn.attention ins(%q, %k, %v : memref<1x1000x2x128xf16>, memref<1x1000x2x128xf16>,
                                  memref<1x1000x2x128xf16>)
      outs(%o : memref<1x1000x2x128xf16>)
  return
}
