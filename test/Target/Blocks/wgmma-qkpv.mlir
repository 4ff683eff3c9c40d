// S = Q·Kᵀ then O = bf16(S)·V with P taken from the accumulator registers
// (test/gpu/blocks/wgmma_qkpv.mlir, generated, verified on the H100): four
// shared-memory wgmma (K-major B) and four register-A wgmma through inline PTX
// (V MN-major: tnspB = 1), the pair at the heart of the attention kernel.
// RUN: attn-compile --gpu-module %S/../../gpu/blocks/wgmma_qkpv.mlir -o %t.ptx
// RUN: FileCheck %s < %t.ptx
// RUN: %if ptxas %{ %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}
// RUN: %python %S/../../gpu/blocks/gen_wgmma_qk.py qkpv | diff - %S/../../gpu/blocks/wgmma_qkpv.mlir

// CHECK: .entry qkpv_kernel(
// CHECK-COUNT-3: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}, %rd{{[0-9]+}}, %rd{{[0-9]+}}, p, 1, 1, 0, 0;
// CHECK: wgmma.wait_group.sync.aligned 0
// CHECK: cvt.rn.bf16x2.f32
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}, {%r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}}, %rd{{[0-9]+}}, p, 1, 1, 1;
// CHECK: wgmma.wait_group.sync.aligned 0

// PTXAS: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
