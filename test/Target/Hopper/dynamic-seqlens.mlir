// Dynamic sequence lengths on the Hopper kernel: Q, K, V and O through tensor
// maps (encoded from the actual tensors), other memrefs the kernel writes
// pass as base pointers (attn-dynamic-memrefs-as-pointers) plus
// sizes the launcher computes from the arguments' shapes; the grid is an
// expression of them: persistent over pairs of causal q-blocks, min(132,
// B·H·ceil(QB / 2)) CTAs with the pair count a kernel parameter. ptxas
// assembles it with no spills.
// RUN: attn-compile %s -o %t.ptx --json %t.json
// RUN: FileCheck %s --check-prefix=JSON < %t.json
// RUN: FileCheck %s --check-prefix=PTX < %t.ptx
// RUN: %if ptxas %{ %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin > %t.ptxas 2>&1 %}
// RUN: %if ptxas %{ FileCheck %s --check-prefix=PTXAS < %t.ptxas %}
// RUN: attn-opt %s -attn-tile -attn-online-softmax -attn-warp-specialize -attn-convert-to-nvgpu -attn-dynamic-memrefs-as-pointers | FileCheck %s --check-prefix=VIEW
// Kernel parameters: LSE's Sq (argument 4, dim 2) and base pointer, ...,
// the pairs' count; O leaves through its tensor map (TMA store, encoded from
// the actual tensor); the grid's x is min(ceil(ceil(Sq / 128) / 2) · 16, 132)
// of q's dim 1 (B·Hq = 16), y = z = 1.
// JSON: "arguments": [
// JSON-NEXT: {
// JSON-NEXT: "size": {
// JSON-NEXT: "dim": [
// JSON-NEXT: 4,
// JSON-NEXT: 2
// JSON: "op": "ceildivu"
// JSON: "grid": [
// JSON: "dim": [
// JSON-NEXT: 0,
// JSON-NEXT: 1
// JSON: 128
// JSON: "op": "ceildivs"
// JSON: 2
// JSON: "op": "ceildivu"
// JSON: 16
// JSON: "op": "mul"
// JSON: 132
// JSON-NEXT: ],
// JSON-NEXT: "op": "minu"
// JSON-NEXT: },
// JSON-NEXT: 1,
// JSON-NEXT: 1
// JSON: "tensor_maps": [
// JSON-COUNT-4: "by_value": true
// JSON: "persistent_ctas": 132
// PTX: .entry attention_kernel(
// PTX: wgmma.mma_async
// PTX: cp.async.bulk.tensor.4d.global.shared::cta.tile.bulk_group
// PTXAS: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// On the host LSE becomes a pointer-sized view and its sizes come from
// extract_strided_metadata; in the launch the [B, H, S] view is rebuilt.
// VIEW: %[[BASE:[a-z_0-9]+]] = memref.reinterpret_cast %arg4 to offset: [0], sizes: [1], strides: [1]
// VIEW: %{{.*}}, %{{.*}}, %[[SIZES:[a-z_0-9]+]]:3, %{{.*}}:3 = memref.extract_strided_metadata %arg4
// VIEW: gpu.launch
// VIEW: memref.reinterpret_cast %[[BASE]] to offset: [0], sizes: [2, 8, %[[SIZES]]#2]
func.func @attention(%q: memref<2x?x8x128xbf16>, %k: memref<2x?x2x128xbf16>,
                     %v: memref<2x?x2x128xbf16>, %o: memref<2x?x8x128xbf16>,
                     %lse: memref<2x8x?xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x?x8x128xbf16>, memref<2x?x2x128xbf16>,
                                  memref<2x?x2x128xbf16>)
      outs(%o, %lse : memref<2x?x8x128xbf16>, memref<2x8x?xf32>) mask<causal, bottom_right>
  return
}
