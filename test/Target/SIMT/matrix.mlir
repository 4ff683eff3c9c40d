// Every SIMT kernel specialization of the CI matrix: f16/bf16 x D 64/128/256 x
// none/causal/window, with GQA (8 query heads over 2 KV heads), odd lengths and
// Sq != Sk. ptxas -arch=sm_90a must assemble all 19 kernels (+ softcap:
// tanh must not become a libdevice call either) with no spills.
// RUN: attn-compile %s --kernel simt -o %t.ptx --json %t.json --block-m 64 --block-n 32
// RUN: FileCheck %s --check-prefix=PTX < %t.ptx
// RUN: %if ptxas %{ %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}

// PTX-COUNT-19: .entry
// PTX-NOT: __nv_

// PTXAS-COUNT-19: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads

func.func @f16_d64_none(%q: memref<2x129x8x64xf16>, %k: memref<2x200x2x64xf16>, %v: memref<2x200x2x64xf16>, %o: memref<2x129x8x64xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x64xf16>, memref<2x200x2x64xf16>, memref<2x200x2x64xf16>)
      outs(%o : memref<2x129x8x64xf16>)
  return
}

func.func @f16_d64_causal(%q: memref<2x129x8x64xf16>, %k: memref<2x200x2x64xf16>, %v: memref<2x200x2x64xf16>, %o: memref<2x129x8x64xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x64xf16>, memref<2x200x2x64xf16>, memref<2x200x2x64xf16>)
      outs(%o : memref<2x129x8x64xf16>) mask<causal, bottom_right>
  return
}

func.func @f16_d64_window(%q: memref<2x129x8x64xf16>, %k: memref<2x200x2x64xf16>, %v: memref<2x200x2x64xf16>, %o: memref<2x129x8x64xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x64xf16>, memref<2x200x2x64xf16>, memref<2x200x2x64xf16>)
      outs(%o : memref<2x129x8x64xf16>) mask<window [64, 0], top_left>
  return
}

func.func @f16_d128_none(%q: memref<2x129x8x128xf16>, %k: memref<2x200x2x128xf16>, %v: memref<2x200x2x128xf16>, %o: memref<2x129x8x128xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x128xf16>, memref<2x200x2x128xf16>, memref<2x200x2x128xf16>)
      outs(%o : memref<2x129x8x128xf16>)
  return
}

func.func @f16_d128_causal(%q: memref<2x129x8x128xf16>, %k: memref<2x200x2x128xf16>, %v: memref<2x200x2x128xf16>, %o: memref<2x129x8x128xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x128xf16>, memref<2x200x2x128xf16>, memref<2x200x2x128xf16>)
      outs(%o : memref<2x129x8x128xf16>) mask<causal, bottom_right>
  return
}

func.func @f16_d128_window(%q: memref<2x129x8x128xf16>, %k: memref<2x200x2x128xf16>, %v: memref<2x200x2x128xf16>, %o: memref<2x129x8x128xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x128xf16>, memref<2x200x2x128xf16>, memref<2x200x2x128xf16>)
      outs(%o : memref<2x129x8x128xf16>) mask<window [64, 0], top_left>
  return
}

func.func @f16_d256_none(%q: memref<2x129x8x256xf16>, %k: memref<2x200x2x256xf16>, %v: memref<2x200x2x256xf16>, %o: memref<2x129x8x256xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x256xf16>, memref<2x200x2x256xf16>, memref<2x200x2x256xf16>)
      outs(%o : memref<2x129x8x256xf16>)
  return
}

func.func @f16_d256_causal(%q: memref<2x129x8x256xf16>, %k: memref<2x200x2x256xf16>, %v: memref<2x200x2x256xf16>, %o: memref<2x129x8x256xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x256xf16>, memref<2x200x2x256xf16>, memref<2x200x2x256xf16>)
      outs(%o : memref<2x129x8x256xf16>) mask<causal, bottom_right>
  return
}

func.func @f16_d256_window(%q: memref<2x129x8x256xf16>, %k: memref<2x200x2x256xf16>, %v: memref<2x200x2x256xf16>, %o: memref<2x129x8x256xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x256xf16>, memref<2x200x2x256xf16>, memref<2x200x2x256xf16>)
      outs(%o : memref<2x129x8x256xf16>) mask<window [64, 0], top_left>
  return
}

func.func @bf16_d64_none(%q: memref<2x129x8x64xbf16>, %k: memref<2x200x2x64xbf16>, %v: memref<2x200x2x64xbf16>, %o: memref<2x129x8x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x64xbf16>, memref<2x200x2x64xbf16>, memref<2x200x2x64xbf16>)
      outs(%o : memref<2x129x8x64xbf16>)
  return
}

func.func @bf16_d64_causal(%q: memref<2x129x8x64xbf16>, %k: memref<2x200x2x64xbf16>, %v: memref<2x200x2x64xbf16>, %o: memref<2x129x8x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x64xbf16>, memref<2x200x2x64xbf16>, memref<2x200x2x64xbf16>)
      outs(%o : memref<2x129x8x64xbf16>) mask<causal, bottom_right>
  return
}

func.func @bf16_d64_window(%q: memref<2x129x8x64xbf16>, %k: memref<2x200x2x64xbf16>, %v: memref<2x200x2x64xbf16>, %o: memref<2x129x8x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x64xbf16>, memref<2x200x2x64xbf16>, memref<2x200x2x64xbf16>)
      outs(%o : memref<2x129x8x64xbf16>) mask<window [64, 0], top_left>
  return
}

func.func @bf16_d128_none(%q: memref<2x129x8x128xbf16>, %k: memref<2x200x2x128xbf16>, %v: memref<2x200x2x128xbf16>, %o: memref<2x129x8x128xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x128xbf16>, memref<2x200x2x128xbf16>, memref<2x200x2x128xbf16>)
      outs(%o : memref<2x129x8x128xbf16>)
  return
}

func.func @bf16_d128_causal(%q: memref<2x129x8x128xbf16>, %k: memref<2x200x2x128xbf16>, %v: memref<2x200x2x128xbf16>, %o: memref<2x129x8x128xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x128xbf16>, memref<2x200x2x128xbf16>, memref<2x200x2x128xbf16>)
      outs(%o : memref<2x129x8x128xbf16>) mask<causal, bottom_right>
  return
}

func.func @bf16_d128_window(%q: memref<2x129x8x128xbf16>, %k: memref<2x200x2x128xbf16>, %v: memref<2x200x2x128xbf16>, %o: memref<2x129x8x128xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x128xbf16>, memref<2x200x2x128xbf16>, memref<2x200x2x128xbf16>)
      outs(%o : memref<2x129x8x128xbf16>) mask<window [64, 0], top_left>
  return
}

func.func @bf16_d256_none(%q: memref<2x129x8x256xbf16>, %k: memref<2x200x2x256xbf16>, %v: memref<2x200x2x256xbf16>, %o: memref<2x129x8x256xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x256xbf16>, memref<2x200x2x256xbf16>, memref<2x200x2x256xbf16>)
      outs(%o : memref<2x129x8x256xbf16>)
  return
}

func.func @bf16_d256_causal(%q: memref<2x129x8x256xbf16>, %k: memref<2x200x2x256xbf16>, %v: memref<2x200x2x256xbf16>, %o: memref<2x129x8x256xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x256xbf16>, memref<2x200x2x256xbf16>, memref<2x200x2x256xbf16>)
      outs(%o : memref<2x129x8x256xbf16>) mask<causal, bottom_right>
  return
}

func.func @bf16_d256_window(%q: memref<2x129x8x256xbf16>, %k: memref<2x200x2x256xbf16>, %v: memref<2x200x2x256xbf16>, %o: memref<2x129x8x256xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x256xbf16>, memref<2x200x2x256xbf16>, memref<2x200x2x256xbf16>)
      outs(%o : memref<2x129x8x256xbf16>) mask<window [64, 0], top_left>
  return
}
func.func @bf16_d128_causal_softcap(%q: memref<1x77x4x128xbf16>, %o: memref<1x77x4x128xbf16>) {
  attn.attention ins(%q, %q, %q : memref<1x77x4x128xbf16>, memref<1x77x4x128xbf16>, memref<1x77x4x128xbf16>)
      outs(%o : memref<1x77x4x128xbf16>) mask<causal, top_left> softcap(30.0)
  return
}
