// The FlashAttention inner loop on wgmma (test/gpu/blocks/wgmma_attn_loop.mlir,
// generated, verified on the H100 against float64): per KV block, TMA loads on
// an mbarrier whose phase flips, S = Q·Kᵀ, the running softmax in registers
// (max, alpha = exp2(m_old - m_new), l and O rescaled), O += P·V with P in
// registers; O / l at the end.
// RUN: attn-compile --gpu-module %S/../../gpu/blocks/wgmma_attn_loop.mlir -o %t.ptx
// RUN: FileCheck %s < %t.ptx
// RUN: %if ptxas %{ %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}
// RUN: %python %S/../../gpu/blocks/gen_wgmma_attn_loop.py | diff - %S/../../gpu/blocks/wgmma_attn_loop.mlir

// CHECK: .entry attn_loop_kernel(
// CHECK-COUNT-3: cp.async.bulk.tensor.2d
// CHECK: mbarrier.try_wait.parity.shared.b64
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 0, 0;
// CHECK: ex2.approx.ftz.f32
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}, {%r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}}, %rd{{[0-9]+}}, p, 1, 1, 1;
// The next three KV blocks: two TMA loads each.
// CHECK-COUNT-2: cp.async.bulk.tensor.2d
// CHECK-COUNT-2: cp.async.bulk.tensor.2d
// CHECK-COUNT-2: cp.async.bulk.tensor.2d

// PTXAS: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
