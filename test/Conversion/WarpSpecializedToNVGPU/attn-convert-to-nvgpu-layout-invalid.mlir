// The conversion checks the plan's shared-memory layout against the tiles the
// channels carry: every part's slots inside the plan's bytes and apart from
// every other region. Here the backward's q-block ring is edited to three
// slots while the plan lays out two (stages = 2): Q's third slot would be
// dO's first. Before the check such a kernel was built and raced silently
// (TMA writes and wgmma reads, which no sanitizer reports); a plan that read
// D off split-dq's [128, 64] slice of K laid V over K the same way.
// RUN: attn-opt %s -attn-tile="target=sm_90a" -attn-score-mod-grad -attn-online-softmax -attn-warp-specialize \
// RUN:   | sed 's/\], 2>/], 3>/g' | not attn-opt -attn-convert-to-nvgpu 2>&1 | FileCheck %s
// The unedited ring converts:
// RUN: attn-opt %s -attn-tile="target=sm_90a" -attn-score-mod-grad -attn-online-softmax -attn-warp-specialize -attn-convert-to-nvgpu | FileCheck %s --check-prefix=OK

// CHECK: error: 'attn.program_grid' op attn-convert-to-nvgpu: the plan's shared-memory layout overlaps the ring's part 0 [65536, 114688) and the ring's part 1 [98304, 147456) (the plan's shapes disagree with the channels' tiles)
// OK: gpu.launch {{.+}} dynamic_shared_memory_size %c198656_i32
func.func @grad(%q: memref<2x256x4x128xbf16>, %k: memref<2x256x4x128xbf16>, %v: memref<2x256x4x128xbf16>,
                %o: memref<2x256x4x128xbf16>, %do: memref<2x256x4x128xbf16>, %lse: memref<2x4x256xf32>,
                %dq: memref<2x256x4x128xbf16>, %dk: memref<2x256x4x128xbf16>, %dv: memref<2x256x4x128xbf16>,
                %acc: memref<2x256x4x128xf32>, %delta: memref<2x4x256xf32>) {
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<2x256x4x128xbf16>, memref<2x256x4x128xbf16>,
                          memref<2x256x4x128xbf16>, memref<2x256x4x128xbf16>, memref<2x256x4x128xbf16>,
                          memref<2x4x256xf32>)
      outs(%dq, %dk, %dv : memref<2x256x4x128xbf16>, memref<2x256x4x128xbf16>, memref<2x256x4x128xbf16>)
      workspace(%acc, %delta : memref<2x256x4x128xf32>, memref<2x4x256xf32>)
  return
}
