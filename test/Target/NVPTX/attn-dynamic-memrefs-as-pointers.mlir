// attn-dynamic-memrefs-as-pointers: a dynamically shaped memref a gpu.launch
// uses reaches it as a memref<1xT> base plus its sizes (extract_strided_metadata
// on the host); the launch rebuilds the identity-layout view
// (strides[3] = 1, strides[i] = strides[i + 1] · sizes[i + 1]). Static memrefs
// and memrefs the launch does not use are left alone.
// RUN: attn-opt %s -attn-dynamic-memrefs-as-pointers | FileCheck %s

// CHECK-LABEL: func.func @dynamic
// CHECK-SAME: (%[[A:.*]]: memref<2x?x8xf32>, %[[S:.*]]: memref<4xf32>)
// CHECK: %[[BASE:.*]] = memref.reinterpret_cast %[[A]] to offset: [0], sizes: [1], strides: [1] : memref<2x?x8xf32> to memref<1xf32>
// CHECK: %{{.*}}, %{{.*}}, %[[SIZES:[a-z_0-9]+]]:3, %{{.*}}:3 = memref.extract_strided_metadata %[[A]]
// CHECK: gpu.launch
// CHECK:   %[[C1:.*]] = arith.constant 1 : index
// CHECK:   %[[C8:.*]] = arith.constant 8 : index
// CHECK:   %[[S1:.*]] = arith.muli %[[C1]], %[[C8]] : index
// CHECK:   %[[S0:.*]] = arith.muli %[[S1]], %[[SIZES]]#1 : index
// CHECK:   %[[VIEW:.*]] = memref.reinterpret_cast %[[BASE]] to offset: [0], sizes: [2, %[[SIZES]]#1, 8], strides: [%[[S0]], %[[S1]], %[[C1]]]
// CHECK:   %[[CAST:.*]] = memref.cast %[[VIEW]] : memref<2x?x8xf32, strided<[?, ?, ?]>> to memref<2x?x8xf32>
// CHECK:   memref.load %[[CAST]]
// CHECK:   memref.load %[[S]]
func.func @dynamic(%a: memref<2x?x8xf32>, %s: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%x = %c1, %y = %c1, %z = %c1) {
    %x0 = memref.load %a[%c0, %c0, %c0] : memref<2x?x8xf32>
    %x1 = memref.load %s[%c0] : memref<4xf32>
    gpu.terminator
  }
  return
}
