// Dynamic sequence lengths on the Hopper kernel: the memrefs the kernel reads
// and writes pass as base pointers (attn-dynamic-memrefs-as-pointers) plus
// sizes the launcher computes from the arguments' shapes; the grid is an
// expression of them; one CTA per tile (no static tile count to persist
// over). ptxas assembles it with no spills.
// RUN: attn-compile %s -o %t.ptx --json %t.json
// RUN: FileCheck %s --check-prefix=JSON < %t.json
// RUN: FileCheck %s --check-prefix=PTX < %t.ptx
// RUN: %if ptxas %{ %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin > %t.ptxas 2>&1 %}
// RUN: %if ptxas %{ FileCheck %s --check-prefix=PTXAS < %t.ptxas %}
// RUN: attn-opt %s -attn-tile -attn-plan-hopper -attn-lower-to-hopper -attn-dynamic-memrefs-as-pointers | FileCheck %s --check-prefix=VIEW
// Kernel parameters: O's Sq (argument 3, dim 1), O's base pointer, the tile
// count, ...; the grid's x is ceil(Sq / 128) of q's dim 1, y = Hq, z = B.
// JSON: "arguments": [
// JSON-NEXT: {
// JSON-NEXT: "size": {
// JSON-NEXT: "dim": [
// JSON-NEXT: 3,
// JSON-NEXT: 1
// JSON: 3,
// JSON: "op": "ceildivs"
// JSON: "grid": [
// JSON-NEXT: {
// JSON-NEXT: "args": [
// JSON-NEXT: {
// JSON-NEXT: "dim": [
// JSON-NEXT: 0,
// JSON-NEXT: 1
// JSON: 128
// JSON: "op": "ceildivs"
// JSON: 8,
// JSON-NEXT: 2
// PTX: .entry attention_kernel(
// PTX: wgmma.mma_async
// PTXAS: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// On the host O becomes a pointer-sized view and its sizes come from
// extract_strided_metadata; in the launch the [B, S, H, D] view is rebuilt.
// VIEW: %[[BASE:[a-z_0-9]+]] = memref.reinterpret_cast %arg3 to offset: [0], sizes: [1], strides: [1]
// VIEW: %{{.*}}, %{{.*}}, %[[SIZES:[a-z_0-9]+]]:4, %{{.*}}:4 = memref.extract_strided_metadata %arg3
// VIEW: gpu.launch
// VIEW: memref.reinterpret_cast %[[BASE]] to offset: [0], sizes: [2, %[[SIZES]]#1, 8, 128]
func.func @attention(%q: memref<2x?x8x128xbf16>, %k: memref<2x?x2x128xbf16>,
                     %v: memref<2x?x2x128xbf16>, %o: memref<2x?x8x128xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x?x8x128xbf16>, memref<2x?x2x128xbf16>,
                                  memref<2x?x2x128xbf16>)
      outs(%o : memref<2x?x8x128xbf16>) mask<causal, bottom_right>
  return
}
