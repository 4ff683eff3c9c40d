// The SIMT bring-up path emits PTX for sm_90a that ptxas assembles.
// RUN: attn-compile %s --kernel simt -o %t.ptx --json %t.json --block-m 64 --block-n 64
// RUN: FileCheck %s < %t.ptx
// RUN: FileCheck %s --check-prefix=JSON < %t.json
// RUN: %if ptxas %{ %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}
// RUN: attn-opt %s -attn-to-ptx-simt | FileCheck %s --check-prefix=BINARY

// CHECK: .target sm_90a
// Dynamic shared memory is an extern zero-length array (extern __shared__),
// never a defined object that accesses would overrun.
// CHECK: .extern .shared .align 16 .b8 __flashmlir_dynamic_smem[];
// CHECK: .entry attention_kernel(
// CHECK: bar.sync
// CHECK: ex2.approx

// JSON: "arguments": [
// JSON-NEXT: 0,
// JSON-NEXT: 1,
// JSON-NEXT: 2,
// JSON-NEXT: 3,
// JSON-NEXT: 4
// JSON: "block": [
// JSON-NEXT: 64,
// JSON: "dynamic_shared_memory": {{[0-9]+}}
// JSON: "grid": [
// JSON-NEXT: 4,
// JSON-NEXT: 4,
// JSON-NEXT: 2
// JSON: "name": "attention_kernel"

// PTXAS: Function properties for attention_kernel
// PTXAS-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads

// BINARY: gpu.binary @attention_kernel
func.func @attention(%q: memref<2x200x4x64xbf16>, %k: memref<2x173x2x64xbf16>, %v: memref<2x173x2x64xbf16>,
                     %o: memref<2x200x4x64xbf16>, %lse: memref<2x4x200xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x200x4x64xbf16>, memref<2x173x2x64xbf16>, memref<2x173x2x64xbf16>)
      outs(%o, %lse : memref<2x200x4x64xbf16>, memref<2x4x200xf32>) mask<causal, bottom_right>
  return
}
