// attn-opt --attn-to-ptx{format=bin}: the gpu.binary holds a cubin (ptxas from
// the CUDA toolkit: CUDA_ROOT, else $PATH or /usr/local/cuda) instead of PTX; an
// unknown format is an error naming the option. attn-compile --cubin writes one
// beside the PTX.
// RUN: %if ptxas %{ env CUDA_ROOT=%cuda_root attn-opt %s --attn-to-ptx="format=bin" | FileCheck %s %}
// RUN: attn-opt %s --attn-to-ptx | FileCheck %s --check-prefix=PTX
// RUN: not attn-opt %s --attn-to-ptx="format=cubin" 2>&1 | FileCheck %s --check-prefix=BAD
// attn-compile --cubin runs ptxas on the PTX it writes and shows its report.
// RUN: %if ptxas %{ env PATH=%cuda_root/bin:$PATH attn-compile %s -o %t.ptx --cubin %t.cubin 2>&1 | FileCheck %s --check-prefix=CUBIN %}
// RUN: %if ptxas %{ od -A n -c -N 4 %t.cubin | FileCheck %s --check-prefix=ELF %}
// CUBIN: 0 bytes spill stores, 0 bytes spill loads
// ELF: 177   E   L   F

// CHECK: gpu.binary @attention_kernel  [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx81">, properties = {{.*}}, bin = "\7FELF
// PTX: gpu.binary @attention_kernel  [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx81">, properties = {{.*}}, assembly = "
// PTX-SAME: .target sm_90a
// BAD: attn-to-ptx: format must be isa (PTX), bin (cubin) or fatbin, got 'cubin'
func.func @attention(%q: memref<1x300x2x64xbf16>, %k: memref<1x300x2x64xbf16>,
                     %v: memref<1x300x2x64xbf16>, %o: memref<1x300x2x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>,
                                  memref<1x300x2x64xbf16>)
      outs(%o : memref<1x300x2x64xbf16>) mask<causal, bottom_right>
  return
}
