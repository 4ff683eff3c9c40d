// Built for two resident CTAs per SM (--ctas-per-sm 2, one consumer of 64 rows):
// ptxas is told .minnctapersm 2 and caps the launch at 128 registers per thread;
// setmaxnreg moves them to 24 (producer) / 232 (consumer) and ptxas honours it
// (no C7508/C7507), with no spills.
// RUN: attn-compile %s -o %t.ptx --json %t.json --block-m 64 --ctas-per-sm 2
// RUN: FileCheck %s --check-prefix=PTX < %t.ptx
// RUN: %if ptxas %{ %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin > %t.ptxas 2>&1 %}
// RUN: %if ptxas %{ FileCheck %s --check-prefix=PTXAS < %t.ptxas %}
// PTX: .maxntid 256, 1, 1
// PTX-NEXT: .minnctapersm 2
// PTX: setmaxnreg.dec.sync.aligned.u32 24;
// PTX: setmaxnreg.inc.sync.aligned.u32 232;
// PTXAS-NOT: C7508
// PTXAS-NOT: C7507
// PTXAS: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NEXT: Used 128 registers
func.func @attention(%q: memref<32x512x32x64xbf16>, %k: memref<32x512x32x64xbf16>,
                     %v: memref<32x512x32x64xbf16>, %o: memref<32x512x32x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<32x512x32x64xbf16>, memref<32x512x32x64xbf16>,
                                  memref<32x512x32x64xbf16>)
      outs(%o : memref<32x512x32x64xbf16>) mask<causal, bottom_right>
  return
}
