// One KV block of attention on wgmma (test/gpu/blocks/wgmma_attn.mlir,
// generated, verified on the H100 against float64): S = Q·Kᵀ on four
// shared-memory wgmma, the softmax in registers (quad shuffles for the row max
// and sum, ex2.approx), O = P·V on four register-A wgmma, normalization.
// RUN: attn-compile --gpu-module %S/../../gpu/blocks/wgmma_attn.mlir -o %t.ptx
// RUN: FileCheck %s < %t.ptx
// RUN: %if ptxas %{ %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}
// RUN: %python %S/../../gpu/blocks/gen_wgmma_qk.py attn | diff - %S/../../gpu/blocks/wgmma_attn.mlir

// CHECK: .entry attn_kernel(
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 0, 0;
// CHECK: shfl.sync.bfly.b32
// CHECK: ex2.approx.ftz.f32
// CHECK: shfl.sync.bfly.b32
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}, {%r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}}, %rd{{[0-9]+}}, p, 1, 1, 1;

// PTXAS: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
