// RUN: attn-opt %s -split-input-file -attn-tensor-maps-by-value | FileCheck %s --check-prefix=LIST
// RUN: attn-opt %s -split-input-file --pass-pipeline='builtin.module(gpu.module(attn-mark-grid-constants))' -verify-diagnostics | FileCheck %s --check-prefix=MARK

// attn-tensor-maps-by-value (after outlining): the kernel parameters that a
// launch feeds from an attn.tensor_map function argument are listed on the
// kernel (here parameters 1 and 2; parameter 0 is a plain memref).
// LIST-LABEL: gpu.module @kernels
// LIST: gpu.func @attention_kernel
// LIST-SAME: attn.grid_constants = array<i64: 1, 2>
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

// -----

// attn-mark-grid-constants (kernels lowered to llvm.func): each listed
// parameter becomes a 128-byte byval grid constant, 64-byte aligned; the list
// is consumed.
// MARK-LABEL: gpu.module @kernels
// MARK: llvm.func @attention_kernel(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr {llvm.align = 64 : i64, llvm.byval = !llvm.array<128 x i8>, nvvm.grid_constant})
// MARK-NOT: attn.grid_constants
module attributes {gpu.container_module} {
  gpu.module @kernels {
    llvm.func @attention_kernel(%o: !llvm.ptr, %q: !llvm.ptr) attributes {attn.grid_constants = array<i64: 1>, nvvm.kernel} {
      llvm.return
    }
  }
}

// -----

// A listed parameter that is not a pointer of the lowered kernel.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    // expected-error @below {{attn.grid_constants: parameter 1 is not a pointer of the lowered kernel}}
    llvm.func @attention_kernel(%o: !llvm.ptr, %n: i64) attributes {attn.grid_constants = array<i64: 1>, nvvm.kernel} {
      llvm.return
    }
  }
}
