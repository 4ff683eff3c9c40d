// The whole-attention grid form of the wgmma reference kernel
// (gen_wgmma_attn_loop.py grid B S H; on the H100: B=4 S=4096 H=32 D=64 bf16
// at 450 TFLOP/s beside cuDNN's 485, bench/RESULTS.md): 3-D tensor maps, one
// CTA per (q-tile, head, batch), the KV blocks in an scf.for with the running
// softmax state as iter_args.
// RUN: %python %S/../../gpu/blocks/gen_wgmma_attn_loop.py grid 2 256 3 > %t.mlir
// RUN: attn-compile --gpu-module %t.mlir -o %t.ptx
// RUN: FileCheck %s < %t.ptx
// RUN: %if ptxas %{ %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}

// CHECK: .entry attn_grid_kernel(
// CHECK: cp.async.bulk.tensor.3d
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 0, 0;
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}, {%r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}}, %rd{{[0-9]+}}, p, 1, 1, 1;
// The KV loop is a loop, not unrolled: four shared-memory and four
// register-A wgmma in all.
// CHECK-NOT: wgmma.mma_async

// PTXAS: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
