// RUN: attn-opt %s -attn-bufferize-tiles -attn-tiles-to-loops="loads=0 stores=0 programs=0" -attn-map-to-gpu | FileCheck %s

// The backward's preprocess and postprocess (hand-written at L2) on the SIMT
// mapping: they have no MMA (a row reduction and an element-wise scale,
// memory-bound), so they stay off the warp-specialized level; each is a
// launch over (q-block, q-head, sequence) with one thread per q row, like a
// forward program.
// A [64, 128] tile's rows are padded by 16 bytes in shared memory (a thread
// per row reads down a column: 256- or 512-byte rows put all 32 lanes in one
// bank); rank-1 tiles are not.
// Every copy is cooperative (consecutive threads, consecutive addresses) and
// issues eight loads per thread before their stores (one in flight made the
// copy latency-bound); where the global base pointer is 16-byte aligned
// (checked at run time: a tensor view may start anywhere) each load is a
// 16-byte vector, else a scalar.
// CHECK-LABEL: func.func @pre_post
// CHECK-SAME: (%[[O:[^:]+]]: memref<1x256x2x128xbf16>
// CHECK-SAME: %[[DLSE:[^:]+]]: memref<1x2x256xf32>, %[[DELTA:[^:]+]]: memref<1x2x256xf32>, %[[ACC:[^:]+]]: memref<1x256x2x128xf32>, %[[DQ:[^:]+]]: memref<1x256x2x128xbf16>
// CHECK: gpu.launch blocks(%{{.+}}, %[[H:.+]], %[[S:.+]]) in (%{{.+}} = %c4, %{{.+}} = %c2, %{{.+}} = %c1) threads(%[[TID:[^,]+]], {{.+}} in (%{{.+}} = %c64
// CHECK: %[[OV:.+]] = memref.view %{{.+}}[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64x136xbf16, #gpu.address_space<workgroup>>
// CHECK: %[[OT:.+]] = memref.subview %[[OV]][0, 0] [64, 128] [1, 1] : memref<64x136xbf16, #gpu.address_space<workgroup>> to memref<64x128xbf16, strided<[136, 1]>, #gpu.address_space<workgroup>>
// CHECK: memref.view %{{.+}} to memref<64x132xf32, #gpu.address_space<workgroup>>
// CHECK: memref.view %{{.+}} to memref<64xf32, #gpu.address_space<workgroup>>
// CHECK: %[[PTR:.+]] = memref.extract_aligned_pointer_as_index %[[O]]
// CHECK: %[[MIS:.+]] = arith.remui %[[PTR]], %c16
// CHECK: %[[ALIGNED:.+]] = arith.cmpi eq, %[[MIS]], %c0
// CHECK: gpu.barrier
// CHECK: scf.if %[[ALIGNED]] {
// CHECK:   scf.for %{{.+}} = %[[TID]] to %c1024 step %c512 {
// CHECK-COUNT-8: vector.load %[[O]][%[[S]], %{{.+}}, %[[H]], %{{.+}}] {alignment = 16 : i64} : memref<1x256x2x128xbf16>, vector<8xbf16>
// CHECK-COUNT-8: vector.store %{{.+}}, %[[OT]][%{{.+}}, %{{.+}}] {alignment = 16 : i64} : memref<64x128xbf16, strided<[136, 1]>, #gpu.address_space<workgroup>>, vector<8xbf16>
// CHECK: } else {
// CHECK:   scf.for %{{.+}} = %[[TID]] to %c8192 step %c512 {
// CHECK-COUNT-8: memref.load %[[O]]
// CHECK-NOT: memref.load %[[O]]
// CHECK-COUNT-8: memref.store %{{.+}}, %[[OT]]
// CHECK: gpu.barrier
// The dLSE rows (a rank-1 tile) load as scalars.
// CHECK: scf.for %[[E:.+]] = %[[TID]] to %c64{{.*}} step %c64
// CHECK:   memref.load %[[DLSE]][%[[S]], %[[H]], %{{.+}}] : memref<1x2x256xf32>
// CHECK:   memref.store %{{.+}}, %{{.+}}[%{{.+}}] : memref<64xf32, #gpu.address_space<workgroup>>
// CHECK: gpu.barrier
// CHECK: scf.for %{{.+}} = %[[TID]] to %c64{{.*}} step %c64
// CHECK:   memref.store %{{.+}}, %[[DELTA]][%[[S]], %[[H]], %{{.+}}] : memref<1x2x256xf32>
// CHECK: gpu.barrier
// The zeros of dQ_acc: 16-byte f32 vectors (or scalars).
// CHECK: memref.extract_aligned_pointer_as_index %[[ACC]]
// CHECK: scf.if
// CHECK:   scf.for %{{.+}} = %[[TID]] to %c2048 step %c512
// CHECK:     vector.load %{{.+}} {alignment = 16 : i64} : memref<64x128xf32, strided<[132, 1]>, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK:     vector.store %{{.+}}, %[[ACC]][%[[S]], %{{.+}}, %[[H]], %{{.+}}] {alignment = 16 : i64} : memref<1x256x2x128xf32>, vector<4xf32>
// CHECK: } else {
// CHECK:   scf.for %{{.+}} = %[[TID]] to %c8192 step %c512
// CHECK:     memref.store %{{.+}}, %[[ACC]][%[[S]], %{{.+}}, %[[H]], %{{.+}}] : memref<1x256x2x128xf32>
// CHECK: gpu.barrier
// CHECK: attn.tiles = {block_m = 64 : i64}
// The postprocess: dq = scale·dQ_acc, f32 vectors of 4 in (scaled), bf16
// vectors of 4 out (8 bytes: the f32 side bounds the group to 16 bytes).
// CHECK: gpu.launch
// CHECK: %[[LOADED:.+]] = vector.load %[[ACC]][{{.+}}] {alignment = 16 : i64} : memref<1x256x2x128xf32>, vector<4xf32>
// CHECK: arith.mulf %[[LOADED]], %{{.+}} : vector<4xf32>
// CHECK: } else {
// CHECK: arith.mulf %{{.+}}, %{{.+}} : f32
// CHECK: %[[NARROW:.+]] = arith.truncf %{{.+}} : vector<4xf32> to vector<4xbf16>
// CHECK: vector.store %[[NARROW]], %[[DQ]][{{.+}}] {alignment = 8 : i64} : memref<1x256x2x128xbf16>, vector<4xbf16>
// CHECK: attn.tiles = {block_m = 64 : i64}
// CHECK-NOT: attn.
func.func @pre_post(%o: memref<1x256x2x128xbf16>, %do: memref<1x256x2x128xbf16>, %dlse: memref<1x2x256xf32>,
                    %delta: memref<1x2x256xf32>, %acc: memref<1x256x2x128xf32>, %dq: memref<1x256x2x128xbf16>) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  %scale = arith.constant 0.0883883461 : f32
  // D = rowsum(dO∘O) − dLSE; dQ_acc rows = 0
  attn.program_grid (%seq, %h, %qb) in (%c1, %c2, %c4) block_m(64) attributes {kind = #attn.program_kind<grad_preprocess>} {
    %eo = bufferization.alloc_tensor() : tensor<64x128xbf16>
    %edo = bufferization.alloc_tensor() : tensor<64x128xbf16>
    %eprod = bufferization.alloc_tensor() : tensor<64x128xf32>
    %ed = bufferization.alloc_tensor() : tensor<64xf32>
    %ez = bufferization.alloc_tensor() : tensor<64x128xf32>
    %edl = bufferization.alloc_tensor() : tensor<64xf32>
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
    %r = attn.tile_reduce add %prod into %z : tensor<64x128xf32>, tensor<64xf32> -> tensor<64xf32>
    %dl = attn.tile_load %dlse[%seq, %q0, %h] rows(%c64) into %edl
        : memref<1x2x256xf32>, tensor<64xf32> -> tensor<64xf32>
    %d = attn.tile_map ins(%r, %dl : tensor<64xf32>, tensor<64xf32>) into %r : tensor<64xf32> {
    ^bb0(%x: f32, %y: f32):
      %u = arith.subf %x, %y : f32
      attn.yield %u : f32
    } -> tensor<64xf32>
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
