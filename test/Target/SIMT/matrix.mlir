// Every SIMT kernel specialization of the CI matrix: f16/bf16 x D 64/128/256 x
// none/causal/window, with GQA (8 query heads over 2 KV heads), odd lengths and
// Sq != Sk, and FP8 e4m3 with descales (bf16/f16 out). ptxas -arch=sm_90a must
// assemble all 21 kernels (+ softcap: tanh must not become a libdevice call
// either) with no spills.
// RUN: attn-compile %s --kernel simt -o %t.ptx --json %t.json --block-m 64 --block-n 32
// RUN: FileCheck %s --check-prefix=PTX < %t.ptx
// RUN: FileCheck %s --check-prefix=FP8 < %t.ptx
// RUN: %if ptxas %{ %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}

// PTX-COUNT-21: .entry
// PTX-NOT: __nv_

// PTXAS-COUNT-21: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads

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

// FP8 kernels: the tile loads decode e4m3 and apply the (batch, KV head) descales.
// FP8: .entry fp8_d128_causal_bf16_kernel(
// FP8: add.s32 {{.*}}, 1006632960;
// FP8: selp.b32 {{.*}}, 2143289344,
func.func @fp8_d128_causal_bf16(%q: memref<2x129x8x128xf8E4M3FN>, %k: memref<2x200x2x128xf8E4M3FN>, %v: memref<2x200x2x128xf8E4M3FN>, %dq: memref<2x2xf32>, %dk: memref<2x2xf32>, %dv: memref<2x2xf32>, %o: memref<2x129x8x128xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x128xf8E4M3FN>, memref<2x200x2x128xf8E4M3FN>, memref<2x200x2x128xf8E4M3FN>)
      descale(%dq, %dk, %dv : memref<2x2xf32>, memref<2x2xf32>, memref<2x2xf32>)
      outs(%o : memref<2x129x8x128xbf16>) mask<causal, bottom_right>
  return
}

func.func @fp8_d64_none_f16(%q: memref<1x100x4x64xf8E4M3FN>, %k: memref<1x77x4x64xf8E4M3FN>, %v: memref<1x77x4x64xf8E4M3FN>, %dq: memref<1x4xf32>, %dk: memref<1x4xf32>, %dv: memref<1x4xf32>, %o: memref<1x100x4x64xf16>) {
  attn.attention ins(%q, %k, %v : memref<1x100x4x64xf8E4M3FN>, memref<1x77x4x64xf8E4M3FN>, memref<1x77x4x64xf8E4M3FN>)
      descale(%dq, %dk, %dv : memref<1x4xf32>, memref<1x4xf32>, memref<1x4xf32>)
      outs(%o : memref<1x100x4x64xf16>)
  return
}
