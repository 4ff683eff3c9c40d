// The tensor form end to end: attn.attention on tensors (values in, values
// out) goes through every pipeline from L0. Each starts with one-shot
// bufferization (function boundaries included, identity layouts): the results
// become fresh 64-byte-aligned buffers the kernel writes, the arguments dense
// memrefs the tensor maps can describe.

// RUN: attn-opt %s --attn-to-ptx | FileCheck %s --check-prefix=PTX
// RUN: attn-opt %s --attn-to-ptx-simt | FileCheck %s --check-prefix=SIMT
// RUN: attn-opt %s --attn-to-cpu | FileCheck %s --check-prefix=CPU
// RUN: attn-opt %s --attn-to-cpu-loops | FileCheck %s --check-prefix=LOOPS

// The Hopper kernel: Q, K, V through tensor maps; O and LSE allocated by the
// host function and returned.
// PTX-NOT: bufferize tensors first
// PTX: llvm.func @malloc
// PTX: llvm.func @attention({{.*}}attn.tensor_map = {box = array<i64: 64, 1, 128, 1>, element = "bf16", operand = 0
// PTX-SAME: -> !llvm.struct<(struct<(ptr, ptr, i64, array<4 x i64>, array<4 x i64>)>, struct<(ptr, ptr, i64, array<3 x i64>, array<3 x i64>)>)>
// PTX: gpu.binary @attention_kernel
// PTX-SAME: cp.async.bulk.tensor
// PTX-SAME: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16

// SIMT: gpu.binary @attention_kernel

// The CPU path: a C interface that returns both buffers.
// CPU: llvm.func @attention(
// CPU: llvm.func @_mlir_ciface_attention(

// Before the LLVM lowering: the loops write into the two allocations the
// function returns.
// LOOPS: func.func @attention(%{{.*}}: memref<1x200x4x64xbf16>, %{{.*}}: memref<1x300x2x64xbf16>, %{{.*}}: memref<1x300x2x64xbf16>) -> (memref<1x200x4x64xbf16>, memref<1x4x200xf32>)
// LOOPS-DAG: %[[O:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x200x4x64xbf16>
// LOOPS-DAG: %[[LSE:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x4x200xf32>
// LOOPS-NOT: attn.attention
// LOOPS: return %[[O]], %[[LSE]]

func.func @attention(%q: tensor<1x200x4x64xbf16>, %k: tensor<1x300x2x64xbf16>,
                     %v: tensor<1x300x2x64xbf16>)
    -> (tensor<1x200x4x64xbf16>, tensor<1x4x200xf32>) {
  %o0 = tensor.empty() : tensor<1x200x4x64xbf16>
  %l0 = tensor.empty() : tensor<1x4x200xf32>
  %o, %lse = attn.attention
      ins(%q, %k, %v : tensor<1x200x4x64xbf16>, tensor<1x300x2x64xbf16>,
                       tensor<1x300x2x64xbf16>)
      outs(%o0, %l0 : tensor<1x200x4x64xbf16>, tensor<1x4x200xf32>)
      mask<causal, bottom_right>
      -> tensor<1x200x4x64xbf16>, tensor<1x4x200xf32>
  return %o, %lse : tensor<1x200x4x64xbf16>, tensor<1x4x200xf32>
}
