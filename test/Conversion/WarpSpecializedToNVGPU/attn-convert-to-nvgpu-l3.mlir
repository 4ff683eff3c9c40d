// attn-convert-to-nvgpu on hand-written L3 (what --attn-warp-specialize
// produces, reduced to its skeleton): one consumer warpgroup, a two-slot K/V
// ring over three KV blocks, the serial schedule, O stored from the
// registers. The channels become shared memory and mbarriers (per slot a full
// barrier with a TMA transaction count, an empty one every consumer thread
// arrives on); a role's n-th get or put uses slot n mod 2 and parity
// (n / 2) mod 2; the MMAs become wgmma (Q·Kᵀ shared x shared, P·V with P in
// registers).
// RUN: attn-opt %s -attn-convert-to-nvgpu -canonicalize -cse | FileCheck %s --implicit-check-not="{{(= |^ *)attn\.}}"

// Tensor maps of Q, K, V only (no O map: epilogue = direct); 256 threads;
// shared memory Q 8 KB + 2 x (K 8 KB + V 8 KB) + 1 KB.
// CHECK-LABEL: func.func @ring
// CHECK-SAME: attn.tensor_map = {box = array<i64: 64, 1, 64, 1>, element = "bf16", operand = 0 : i64, swizzle = 128 : i64}
// CHECK-SAME: attn.tensor_map = {box = array<i64: 64, 1, 64, 1>, element = "bf16", operand = 1 : i64, swizzle = 128 : i64}
// CHECK-SAME: attn.tensor_map = {box = array<i64: 64, 1, 64, 1>, element = "bf16", operand = 2 : i64, swizzle = 128 : i64}}) {
// CHECK: gpu.launch {{.*}} threads({{.*}}) in ({{.*}} = %c256, {{.*}}) dynamic_shared_memory_size %c41984_i32
// CHECK: nvgpu.mbarrier.init %[[QFULL:[0-9]+]][%c0], %c1, {{.*}} : <memorySpace = #gpu.address_space<workgroup>>
// CHECK: nvgpu.mbarrier.init %[[KFULL:[0-9]+]][%c0], %c1, {{.*}}, num_barriers = 2>
// CHECK-NEXT: nvgpu.mbarrier.init %[[KEMPTY:[0-9]+]][%c0], %c128,
// CHECK-NEXT: nvgpu.mbarrier.init %[[VFULL:[0-9]+]][%c0], %c1,
// CHECK-NEXT: nvgpu.mbarrier.init %[[VEMPTY:[0-9]+]][%c0], %c128,
// CHECK-NEXT: nvgpu.mbarrier.init %[[KFULL]][%c1], %c1,
// CHECK: gpu.barrier
// Producer: put Q (8192 bytes), then per block wait until the slot is
// empty (parity: the opposite of round r's, so round 0 passes), expect its
// bytes, copy; K at row j·64 into slot s at 8 KB + s·8 KB, V at 24 KB + s·8 KB.
// CHECK: nvvm.setmaxregister decrease 24
// CHECK: nvgpu.mbarrier.arrive.expect_tx %[[QFULL]][%c0], %c8192
// CHECK-NEXT: memref.view
// CHECK-NEXT: nvgpu.tma.async.load %{{.*}}[%c0, %c0, %c0, %c0], %[[QFULL]][%c0] to
// CHECK: scf.for %[[J:.+]] = %c0 to %c3 step %c1 iter_args(%[[N:.+]] = %c0) -> (index) {
// CHECK-NEXT: %[[ROW:.+]] = arith.muli %[[J]], %c64
// CHECK-NEXT: %[[S:.+]] = arith.remui %[[N]], %c2
// CHECK-NEXT: %[[R:.+]] = arith.divui %[[N]], %c2
// CHECK-NEXT: %[[RP:.+]] = arith.remui %[[R]], %c2
// CHECK-NEXT: %[[FREE:.+]] = arith.cmpi eq, %[[RP]], %c0
// CHECK-NEXT: %[[N1:.+]] = arith.addi %[[N]], %c1
// CHECK-NEXT: nvgpu.mbarrier.try_wait.parity %[[KEMPTY]][%[[S]]], %[[FREE]]
// CHECK-NEXT: nvgpu.mbarrier.arrive.expect_tx %[[KFULL]][%[[S]]], %c8192
// CHECK-NEXT: %[[SOFF:.+]] = arith.muli %[[S]], %c8192
// CHECK-NEXT: %[[SLOT:.+]] = arith.addi %{{.*}}, %[[SOFF]]
// CHECK-NEXT: %[[KOFF:.+]] = arith.addi %[[SLOT]], %c8192
// CHECK-NEXT: memref.view %{{.*}}[%[[KOFF]]]
// CHECK-NEXT: nvgpu.tma.async.load %{{.*}}[%c0, %c0, %[[ROW]], %c0], %[[KFULL]][%[[S]]] to
// CHECK-NEXT: nvgpu.mbarrier.try_wait.parity %[[VEMPTY]][%[[S]]], %[[FREE]]
// CHECK-NEXT: nvgpu.mbarrier.arrive.expect_tx %[[VFULL]][%[[S]]], %c8192
// CHECK-NEXT: %[[VOFF:.+]] = arith.addi %[[SLOT]], %c24576
// CHECK-NEXT: memref.view %{{.*}}[%[[VOFF]]]
// CHECK-NEXT: nvgpu.tma.async.load %{{.*}}[%c0, %c0, %[[ROW]], %c0], %[[VFULL]][%[[S]]] to
// CHECK-NEXT: scf.yield %[[N1]] : index
// Consumer: wait for Q, then per block wait for the slot's K (parity of
// round r), S = Q·Kᵀ as D/16 = 4 wgmma from shared memory, wait, release K;
// wait for V, P·V as 4 register-A wgmma, wait, release V. O (32 registers)
// and the ring count ride the loop.
// CHECK: } else {
// CHECK-NEXT: nvvm.setmaxregister increase 240
// CHECK: nvgpu.mbarrier.try_wait.parity %[[QFULL]][%c0], %false
// CHECK-NEXT: scf.for %{{.*}} = %c0 to %c3 step %c1 {{.*}} -> ({{(f32, ){32}index}}) {
// CHECK-NEXT: %[[S:.+]] = arith.remui %[[N:arg[0-9]+]], %c2
// CHECK-NEXT: %[[R:.+]] = arith.divui %[[N]], %c2
// CHECK-NEXT: %[[RP:.+]] = arith.remui %[[R]], %c2
// CHECK-NEXT: %[[PHASE:.+]] = arith.cmpi ne, %[[RP]], %c0
// CHECK: nvgpu.mbarrier.try_wait.parity %[[KFULL]][%[[S]]], %[[PHASE]]
// CHECK-NEXT: nvvm.wgmma.fence.aligned
// CHECK-COUNT-4: nvvm.wgmma.mma_async {{.*}}, <m = 64, n = 64, k = 16>, D[<f32>, {{.*}}], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK-NEXT: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: nvgpu.mbarrier.arrive %[[KEMPTY]][%[[S]]]
// CHECK: nvgpu.mbarrier.try_wait.parity %[[VFULL]][%[[S]]], %[[PHASE]]
// CHECK-NEXT: nvvm.wgmma.fence.aligned
// CHECK-COUNT-4: llvm.inline_asm has_side_effects asm_dialect = att {{.*}}wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT: nvgpu.mbarrier.arrive %[[VEMPTY]][%[[S]]]
// CHECK-NEXT: scf.yield
// O from the registers: two rows per thread, 8 words of two columns each.
// CHECK: memref.extract_aligned_pointer_as_index %arg3
// CHECK-COUNT-16: llvm.store %{{.*}}, %{{.*}} {alignment = 4 : i64} : i32, !llvm.ptr<1>
// CHECK-NOT: llvm.store
// CHECK: gpu.terminator
// CHECK-NEXT: } {attn.tiles = {block_m = 64 : i64, block_n = 64 : i64, consumer_warpgroups = 1 : i64, persistent_ctas = 0 : i64, stages = 2 : i64}}

#shared = #attn.layout<shared>
#acc = #attn.layout<accumulator>
#opa = #attn.layout<operand_a>
!q = !attn.channel<[tensor<64x64xbf16, #shared>], 1>
!kv = !attn.channel<[tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>], 2>
func.func @ring(%q: memref<1x64x1x64xbf16>, %k: memref<1x192x1x64xbf16>,
                %v: memref<1x192x1x64xbf16>, %o: memref<1x64x1x64xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  attn.program_grid (%seq, %head, %q_block) in (%c1, %c1, %c1) block_m(64) plan(<stages = 2, ping_pong = false, pv_schedule = serial, persistent_ctas = 0, paired_tiles = false, epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>) {
    %qc = attn.channel_create : !q
    %kvc = attn.channel_create : !kv
    attn.warp_specialize consumers(1) producer {
      %qb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
      %qt = attn.tile_load %q[%seq, %c0, %head] rows(%c64) into %qb : memref<1x64x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
      attn.channel_put %qc, %qt : !q, tensor<64x64xbf16, #shared>
      scf.for %j = %c0 to %c3 step %c1 {
        %kv_pos = arith.muli %j, %c64 : index
        %kb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %kt = attn.tile_load %k[%seq, %kv_pos, %head] rows(%c64) into %kb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        %vb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %vt = attn.tile_load %v[%seq, %kv_pos, %head] rows(%c64) into %vb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        attn.channel_put %kvc, %kt, %vt : !kv, tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>
      }
    } consumer(%c: index) {
      %sb = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %pb = bufferization.alloc_tensor() : tensor<64x64xbf16, #opa>
      %ob = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %qt, %qtok = attn.channel_get %qc : !q -> tensor<64x64xbf16, #shared>, !attn.token
      %o0 = attn.tile_fill %zero into %ob : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
      %out = scf.for %j = %c0 to %c3 step %c1 iter_args(%acc = %o0) -> (tensor<64x64xf32, #acc>) {
        %kv:2, %tok = attn.channel_get %kvc : !kv -> tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, !attn.token
        %s0 = attn.tile_fill %zero into %sb : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
        // S = Q·Kᵀ
        %sa = attn.mma_async %qt, %kv#0 transpose_rhs into %s0 : tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %s = attn.mma_wait %sa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        attn.channel_release %kvc[0], %tok : !kv
        // P = bf16(S)
        %p = attn.tile_map ins(%s : tensor<64x64xf32, #acc>) into %pb : tensor<64x64xbf16, #opa> {
        ^bb0(%x: f32):
          %r = arith.truncf %x : f32 to bf16
          attn.yield %r : bf16
        } -> tensor<64x64xbf16, #opa>
        // O += P·V
        %oa = attn.mma_async %p, %kv#1 into %acc : tensor<64x64xbf16, #opa>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %on = attn.mma_wait %oa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        attn.channel_release %kvc[1], %tok : !kv
        scf.yield %on : tensor<64x64xf32, #acc>
      }
      attn.channel_release %qc[0], %qtok : !q
      attn.tile_store %out into %o[%seq, %c0, %head] rows(%c64) : tensor<64x64xf32, #acc>, memref<1x64x1x64xbf16>
    }
  }
  return
}
