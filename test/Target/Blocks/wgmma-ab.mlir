// The TMA + mbarrier + wgmma building block (test/gpu/blocks/wgmma_ab.mlir,
// verified on the H100) lowers to the Hopper instructions, and ptxas accepts it.
// RUN: attn-compile --gpu-module %S/../../gpu/blocks/wgmma_ab.mlir -o %t.ptx
// RUN: FileCheck %s < %t.ptx
// RUN: %if ptxas %{ %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}

// CHECK: .target sm_90a
// CHECK: .entry ab_kernel(
// CHECK: mbarrier.init.shared.b64
// CHECK: mbarrier.arrive.expect_tx.shared.b64
// CHECK-COUNT-2: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// CHECK: mbarrier.try_wait.parity.shared.b64
// CHECK: wgmma.fence.sync.aligned
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// CHECK: wgmma.commit_group.sync.aligned
// CHECK: wgmma.wait_group.sync.aligned 0

// PTXAS: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
