// RUN: attn-opt %s -split-input-file -attn-bufferize-tiles -verify-diagnostics | FileCheck %s

// Each tile becomes one alloca at the top of its program; the ops write in
// place (no copy); the loop no longer carries the buffer it updates.
// CHECK-LABEL: func.func @program
// CHECK: attn.program_grid
// CHECK:   %[[Q:.+]] = memref.alloca() : memref<16x8xf32>
// CHECK:   %[[M:.+]] = memref.alloca() : memref<16xf32>
// CHECK:   attn.tile_load %{{.+}} into %[[Q]] : memref<1x40x1x8xbf16>, memref<16x8xf32>
// CHECK:   attn.tile_fill %{{.+}} into %[[M]] : f32, memref<16xf32>
// CHECK:   scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK-NOT: memref.alloca
// CHECK:     attn.tile_reduce max %[[Q]] into %[[M]] : memref<16x8xf32>, memref<16xf32>
// CHECK:   }
// CHECK:   attn.tile_store %[[M]] into
// CHECK-NOT: memref.copy
func.func @program(%q: memref<1x40x1x8xbf16>, %lse: memref<1x1x40xf32>, %n: index) {
  attn.program_grid (%s, %h, %b) in (%n, %n, %n) block_m(16) {
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c1 = arith.constant 1 : index
    %ninf = arith.constant 0xFF800000 : f32
    %eq = bufferization.alloc_tensor() : tensor<16x8xf32>
    %em = bufferization.alloc_tensor() : tensor<16xf32>
    %qt = attn.tile_load %q[%s, %b, %h] rows(%n) into %eq : memref<1x40x1x8xbf16>, tensor<16x8xf32> -> tensor<16x8xf32>
    %m0 = attn.tile_fill %ninf into %em : f32, tensor<16xf32> -> tensor<16xf32>
    %m = scf.for %i = %c0 to %c4 step %c1 iter_args(%mi = %m0) -> (tensor<16xf32>) {
      %mn = attn.tile_reduce max %qt into %mi : tensor<16x8xf32>, tensor<16xf32> -> tensor<16xf32>
      scf.yield %mn : tensor<16xf32>
    }
    attn.tile_store %m into %lse[%s, %b, %h] rows(%n) : tensor<16xf32>, memref<1x1x40xf32>
  }
  return
}

// -----

// A tile allocated inside a loop would be a new buffer every iteration.
func.func @allocation_in_loop(%q: memref<1x40x1x8xbf16>, %o: memref<1x40x1x8xbf16>, %n: index) {
  attn.program_grid (%s, %h, %b) in (%n, %n, %n) block_m(16) {
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c1 = arith.constant 1 : index
    scf.for %i = %c0 to %c4 step %c1 {
      // expected-error @+2 {{attn-bufferize-tiles: a tile would be allocated inside a loop}}
      // expected-error @+1 {{failed to bufferize op}}
      %e = bufferization.alloc_tensor() : tensor<16x8xf32>
      %t = attn.tile_load %q[%s, %i, %h] rows(%n) into %e : memref<1x40x1x8xbf16>, tensor<16x8xf32> -> tensor<16x8xf32>
      attn.tile_store %t into %o[%s, %i, %h] rows(%n) : tensor<16x8xf32>, memref<1x40x1x8xbf16>
    }
  }
  return
}

// -----

// Operands must be memrefs already (attn.attention bufferized first).
// expected-error @+1 {{attn-bufferize-tiles expects memref operands}}
func.func @tensor_operands(%q: tensor<1x40x1x8xbf16>) {
  return
}
