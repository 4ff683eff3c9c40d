// The conversion takes L3 as the stages leave it and as generic cleanups
// leave it: constants CSE'd out of tile_map bodies into the role, poison
// values canonicalize hoisted to the function's entry (both once crashed or
// left unlinked operands). Skipped stages are diagnosed, not crashed on.
// RUN: attn-opt %s -split-input-file -attn-tile -attn-online-softmax -attn-warp-specialize -cse -attn-convert-to-nvgpu | FileCheck %s
// RUN: attn-opt %s -split-input-file -attn-tile -attn-online-softmax -attn-warp-specialize -canonicalize -attn-convert-to-nvgpu | FileCheck %s
// RUN: attn-opt %s -split-input-file -attn-tile -attn-online-softmax -attn-plan-hopper -attn-partition-roles -attn-pipeline-mma -canonicalize -attn-consumer-turns -attn-convert-to-nvgpu | FileCheck %s
// RUN: not attn-opt %s -split-input-file -attn-tile -attn-online-softmax -attn-plan-hopper -attn-partition-roles -attn-convert-to-nvgpu 2>&1 | FileCheck %s --check-prefix=NOPIPE
// RUN: not attn-opt %s -split-input-file -attn-tile -attn-online-softmax -attn-plan-hopper -attn-partition-roles -attn-pipeline-mma -attn-convert-to-nvgpu 2>&1 | FileCheck %s --check-prefix=NOTURNS

// CHECK-LABEL: func.func @causal
// CHECK: gpu.launch
// CHECK: nvvm.wgmma.mma_async
// CHECK-NOT: {{^ *(%[^ ]+ = )?attn\.[a-z_]+}}
// CHECK-NOT: ub.poison
// CHECK: return
// NOPIPE: error: 'attn.warp_specialize' op attn-convert-to-nvgpu: the consumers' MMAs must be attn.mma_async (run --attn-pipeline-mma first)
// NOTURNS: error: 'attn.warp_specialize' op attn-convert-to-nvgpu: the plan has ping-pong but the consumers take no turns (run --attn-consumer-turns first)
func.func @causal(%q: memref<1x300x2x64xbf16>, %k: memref<1x300x2x64xbf16>,
                  %v: memref<1x300x2x64xbf16>, %o: memref<1x300x2x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>,
                     memref<1x300x2x64xbf16>)
      outs(%o : memref<1x300x2x64xbf16>) mask<causal, top_left>
  return
}

// -----

// A canonicalization before the stages inlines a KV loop of one block; the
// roles need the loop and say so.
// RUN: not attn-opt %s -split-input-file -attn-tile -canonicalize -attn-online-softmax -attn-warp-specialize 2>&1 | FileCheck %s --check-prefix=ONEBLOCK
// ONEBLOCK: error: 'attn.tile_load' op attn-partition-roles: a K/V tile load outside a KV loop (a canonicalization inlines a loop of one block: canonicalize after --attn-warp-specialize, not before)
func.func @one_block(%q: memref<1x64x1x64xbf16>, %o: memref<1x64x1x64xbf16>) {
  attn.attention ins(%q, %q, %q : memref<1x64x1x64xbf16>, memref<1x64x1x64xbf16>, memref<1x64x1x64xbf16>)
      outs(%o : memref<1x64x1x64xbf16>)
  return
}
