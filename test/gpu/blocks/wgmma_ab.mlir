// Building block of the Hopper kernel: one warpgroup computes C = A · B for
// bf16 A [64, 64] and B [64, 64] stored row-major as [K][N] (the layout of V
// in O += P·V), with
//   TMA loads (128-byte swizzle) completing on an mbarrier,
//   wgmma from two shared-memory descriptors (B "transposed", i.e. MN-major),
//   f32 accumulators stored to global memory.
// Verified on the H100 (bench/RESULTS.md). The K-major B form that S = Q·Kᵀ
// needs (no transposeB) faulted with an illegal address: still to solve.
// Tensor maps come from the runtime (flashmlir::cuda::encodeTiledTensorMap)
// as pointers to device memory, cast to the nvgpu descriptor type inside.
//
//   attn-compile --gpu-module wgmma_ab.mlir -o wgmma_ab.ptx
//   (GPU) see wgmma_ab_main.cpp

!tmap = !nvgpu.tensormap.descriptor<tensor = memref<64x64xbf16, 3>, swizzle = swizzle_128b, l2promo = none, oob = zero, interleave = none>
!barrier = !nvgpu.mbarrier.group<memorySpace = #gpu.address_space<workgroup>>
!smemTile = memref<64x64xbf16, #gpu.address_space<workgroup>>
!acc = !nvgpu.warpgroup.accumulator<fragmented = vector<64x64xf32>>

module attributes {gpu.container_module} {
  gpu.module @wgmma_ab {
    gpu.func @ab_kernel(%qmapPtr: !llvm.ptr, %kmapPtr: !llvm.ptr, %s: memref<64x64xf32>) kernel
        attributes {known_block_size = array<i32: 128, 1, 1>} {
      %qmap = builtin.unrealized_conversion_cast %qmapPtr : !llvm.ptr to !tmap
      %kmap = builtin.unrealized_conversion_cast %kmapPtr : !llvm.ptr to !tmap
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c8192 = arith.constant 8192 : index
      %tx = arith.constant 16384 : index
      %ticks = arith.constant 10000000 : index
      %phase = arith.constant false
      %tid = gpu.thread_id x
      %first = arith.cmpi eq, %tid, %c0 : index

      // Shared memory: Q tile, then K tile 8 KB later, both 1024-byte aligned
      // (the 128-byte swizzle pattern repeats every 8 rows of 128 bytes, and
      // TMA rejects a misaligned destination). Dynamic shared memory starts
      // after the static mbarrier, so the first 1024-byte boundary is found
      // at run time: pad = (1024 - base % 1024) % 1024 (launch with 1 KB
      // extra).
      %c1024 = arith.constant 1024 : index
      %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
      %base = memref.extract_aligned_pointer_as_index %smem : memref<?xi8, #gpu.address_space<workgroup>> -> index
      %rem = arith.remui %base, %c1024 : index
      %gap = arith.subi %c1024, %rem : index
      %pad = arith.remui %gap, %c1024 : index
      %kOffset = arith.addi %pad, %c8192 : index
      %qs = memref.view %smem[%pad][] : memref<?xi8, #gpu.address_space<workgroup>> to !smemTile
      %ks = memref.view %smem[%kOffset][] : memref<?xi8, #gpu.address_space<workgroup>> to !smemTile

      // One mbarrier: thread 0 expects 2 x 8 KB and issues both TMA loads.
      %bar = nvgpu.mbarrier.create -> !barrier
      nvgpu.mbarrier.init %bar[%c0], %c1, predicate = %first : !barrier
      gpu.barrier
      scf.if %first {
        nvgpu.mbarrier.arrive.expect_tx %bar[%c0], %tx : !barrier
        nvgpu.tma.async.load %qmap[%c0, %c0], %bar[%c0] to %qs : !tmap, !barrier -> !smemTile
        nvgpu.tma.async.load %kmap[%c0, %c0], %bar[%c0] to %ks : !tmap, !barrier -> !smemTile
      }
      nvgpu.mbarrier.try_wait.parity %bar[%c0], %phase, %ticks : !barrier

      // C = A · B with B stored [K][N] row-major (MN-major): transposeB.
      %dq = nvgpu.warpgroup.generate.descriptor %qs, %qmap : !smemTile, !tmap -> !nvgpu.warpgroup.descriptor<tensor = memref<64x64xbf16, #gpu.address_space<workgroup>>>
      %dk = nvgpu.warpgroup.generate.descriptor %ks, %kmap : !smemTile, !tmap -> !nvgpu.warpgroup.descriptor<tensor = memref<64x64xbf16, #gpu.address_space<workgroup>>>
      %zero = nvgpu.warpgroup.mma.init.accumulator -> !acc
      %acc = nvgpu.warpgroup.mma %dq, %dk, %zero {transposeB} : <tensor = memref<64x64xbf16, #gpu.address_space<workgroup>>>, <tensor = memref<64x64xbf16, #gpu.address_space<workgroup>>>, !acc -> !acc
      nvvm.wgmma.wait.group.sync.aligned 0
      nvgpu.warpgroup.mma.store %acc, %s : !acc to memref<64x64xf32>
      gpu.return
    }
  }
}
