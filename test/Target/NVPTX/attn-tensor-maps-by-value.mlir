// RUN: attn-opt %s -attn-tensor-maps-by-value | FileCheck %s

// attn-tensor-maps-by-value (after outlining): the kernel parameters that a
// launch feeds from an attn.tensor_map function argument are listed on the
// kernel (here parameters 1 and 2; parameter 0 is a plain memref).
// CHECK-LABEL: gpu.module @kernels
// CHECK: gpu.func @attention_kernel
// CHECK-SAME: attn.grid_constants = array<i64: 1, 2>
module attributes {gpu.container_module} {
  func.func @attention(%o: memref<4xf32>,
                       %qmap: !llvm.ptr {attn.tensor_map = {box = array<i64: 64, 1, 128, 1>, element = "bf16", operand = 0 : i64, swizzle = 128 : i64}},
                       %kmap: !llvm.ptr {attn.tensor_map = {box = array<i64: 64, 1, 64, 1>, element = "bf16", operand = 1 : i64, swizzle = 128 : i64}}) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @kernels::@attention_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
        args(%o : memref<4xf32>, %qmap : !llvm.ptr, %kmap : !llvm.ptr)
    return
  }
  gpu.module @kernels {
    gpu.func @attention_kernel(%o: memref<4xf32>, %q: !llvm.ptr, %k: !llvm.ptr) kernel {
      gpu.return
    }
  }
}

