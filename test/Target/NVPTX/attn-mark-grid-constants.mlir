// RUN: attn-opt %s -split-input-file --pass-pipeline='builtin.module(gpu.module(attn-mark-grid-constants))' -verify-diagnostics | FileCheck %s


// attn-mark-grid-constants (kernels lowered to llvm.func): each listed
// parameter becomes a 128-byte byval grid constant, 64-byte aligned; the list
// is consumed.
// CHECK-LABEL: gpu.module @kernels
// CHECK: llvm.func @attention_kernel(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr {llvm.align = 64 : i64, llvm.byval = !llvm.array<128 x i8>, nvvm.grid_constant})
// CHECK-NOT: attn.grid_constants
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

// -----

// A listed parameter the kernel does not have (negative or past its last).
module attributes {gpu.container_module} {
  gpu.module @kernels {
    // expected-error @below {{attn.grid_constants: parameter -1 is not a pointer of the lowered kernel}}
    llvm.func @attention_kernel(%o: !llvm.ptr) attributes {attn.grid_constants = array<i64: -1>, nvvm.kernel} {
      llvm.return
    }
  }
}
