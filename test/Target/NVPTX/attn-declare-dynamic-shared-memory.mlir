// RUN: attn-opt %s --pass-pipeline='builtin.module(gpu.module(attn-declare-dynamic-shared-memory))' | FileCheck %s

// attn-declare-dynamic-shared-memory alone: a GPU module that uses dynamic
// shared memory gets an *external* zero-length array in the shared address
// space (CUDA's `extern __shared__ char smem[]`), which the NVVM lowering of
// gpu.dynamic_shared_memory then reuses instead of defining an internal
// [0 x i8] that every access overruns (wrong results at -O3). A module without
// dynamic shared memory is left alone. The PTX it becomes:
// attn-to-ptx-simt.mlir (`.extern .shared .align 16 .b8 __flashmlir_dynamic_smem[]`).

// CHECK-LABEL: gpu.module @kernels
// CHECK-NEXT: llvm.mlir.global external @__flashmlir_dynamic_smem() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<0 x i8>
// CHECK-LABEL: gpu.module @plain
// CHECK-NOT: llvm.mlir.global
gpu.module @kernels {
  gpu.func @k() kernel {
    %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    gpu.return
  }
}
gpu.module @plain {
  gpu.func @k() kernel {
    gpu.return
  }
}
