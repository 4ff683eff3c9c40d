// attn.attention_grad to one PTX module of three kernels, launched in this
// order: the preprocess (D, dQ_acc zeroed) and the postprocess (dq = scale ·
// dQ_acc) through the SIMT mapping, the main grid (dK, dV, the dQ shares)
// through the warp-specialized level on wgmma. The kernels outlined from one
// function get distinct names in the merged module; ptxas assembles them.
// At D = 128 the consumers' dQ shares go into the f32 accumulator by TMA
// reduce-adds of 32-column boxes (an f32 tensor map of the accumulator).
// RUN: attn-compile %s -o %t.ptx --json %t.json
// RUN: FileCheck %s --check-prefix=JSON < %t.json
// RUN: FileCheck %s --check-prefix=PTX < %t.ptx
// RUN: %if ptxas %{ %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin > %t.ptxas 2>&1 %}
// RUN: %if ptxas %{ FileCheck %s --check-prefix=PTXAS < %t.ptxas %}

// JSON: "kernels": [
// JSON: "block": [
// JSON-NEXT: 64,
// JSON: "name": "grad_kernel",
// JSON: "block": [
// JSON-NEXT: 384,
// JSON: "grid": [
// JSON-NEXT: 1,
// JSON-NEXT: 2,
// JSON-NEXT: 1
// JSON: "name": "grad_kernel_1",
// JSON: "tensor_maps": [
// JSON: 32,
// JSON-NEXT: 1,
// JSON-NEXT: 64,
// JSON-NEXT: 1
// JSON: "element": "f32",
// JSON-NEXT: "operand": 9,
// JSON: "block_n": 128,
// JSON: "block": [
// JSON-NEXT: 64,
// JSON: "name": "grad_kernel_2",

// PTX-DAG: .entry grad_kernel(
// PTX-DAG: .entry grad_kernel_1(
// PTX-DAG: .entry grad_kernel_2(
// PTX-DAG: cp.async.mbarrier.arrive.noinc.shared
// PTX-DAG: stmatrix.sync.aligned
// PTX-DAG: cp.reduce.async.bulk.tensor.4d.global.shared::cta.add.tile.bulk_group
// PTX-DAG: cp.async.bulk.wait_group.read 0
// PTX-NOT: red.global.add
// PTXAS-DAG: Compiling entry function 'grad_kernel' for 'sm_90a'
// PTXAS-DAG: Compiling entry function 'grad_kernel_1' for 'sm_90a'
// PTXAS-DAG: Compiling entry function 'grad_kernel_2' for 'sm_90a'
// PTXAS-DAG: Used 168 registers, used 16 barriers
func.func @grad(%q: memref<1x129x4x128xbf16>, %k: memref<1x127x2x128xbf16>,
                %v: memref<1x127x2x128xbf16>, %o: memref<1x129x4x128xbf16>,
                %do: memref<1x129x4x128xbf16>, %lse: memref<1x4x129xf32>,
                %dq: memref<1x129x4x128xbf16>, %dk: memref<1x127x2x128xbf16>,
                %dv: memref<1x127x2x128xbf16>, %acc: memref<1x129x4x128xf32>,
                %delta: memref<1x4x129xf32>) {
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<1x129x4x128xbf16>,
                          memref<1x127x2x128xbf16>, memref<1x127x2x128xbf16>,
                          memref<1x129x4x128xbf16>, memref<1x129x4x128xbf16>, memref<1x4x129xf32>)
      outs(%dq, %dk, %dv : memref<1x129x4x128xbf16>, memref<1x127x2x128xbf16>, memref<1x127x2x128xbf16>)
      workspace(%acc, %delta : memref<1x129x4x128xf32>, memref<1x4x129xf32>) mask<causal, top_left>
  return
}
