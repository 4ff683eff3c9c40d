// A kernel whose grid cannot launch (grid.y and grid.z at most 65535, grid.x
// below 2^31) is diagnosed when it is compiled, not by the driver at the
// first call. One CTA per (q-block, head, sequence) here: 70,000 sequences.
// RUN: not attn-compile %s -o %t.ptx 2>&1 | FileCheck %s
// RUN: not attn-compile %s --kernel simt -o %t.simt.ptx 2>&1 | FileCheck %s
// CHECK: error: unsupported launch
// CHECK: grid ({{[0-9]+}}, 2, 70000) cannot launch: grid.z is at most 65535
func.func @attention(%q: memref<70000x64x2x64xbf16>, %o: memref<70000x64x2x64xbf16>) {
  attn.attention ins(%q, %q, %q : memref<70000x64x2x64xbf16>, memref<70000x64x2x64xbf16>,
                                  memref<70000x64x2x64xbf16>)
      outs(%o : memref<70000x64x2x64xbf16>) mask<window [16, 0], top_left>
  return
}
