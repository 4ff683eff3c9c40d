// The softmax math is written once, at L2: the dev-only test-drop-alpha of
// --attn-online-softmax (alpha = 1: the running max's rescale of acc and l
// dropped, a wrong kernel the CPU numerics reject in test_cpu_numerics.py)
// also changes the Hopper kernel. The conversion has no softmax formulas of
// its own: without alpha's exp2 per row and block the kernel's ex2.approx
// count drops (198 -> 192 here). Were the conversion to compute alpha itself,
// the counts would be equal and the assert below would fail.

// RUN: attn-opt %s -attn-tile=target=sm_90a -attn-online-softmax -attn-warp-specialize -attn-convert-to-nvgpu | grep -c "ex2.approx" > %t.keep
// RUN: attn-opt %s -attn-tile=target=sm_90a -attn-online-softmax=test-drop-alpha=1 -attn-warp-specialize -attn-convert-to-nvgpu | grep -c "ex2.approx" > %t.drop
// RUN: %python -c "import sys; keep, drop = (int(open(p).read()) for p in sys.argv[1:]); print('ex2', keep, drop); assert 0 < drop < keep" %t.keep %t.drop | FileCheck %s
// CHECK: ex2 [[KEEP:[0-9]+]] [[DROP:[0-9]+]]

func.func @attention(%q: memref<2x1000x8x128xbf16>, %k: memref<2x1500x2x128xbf16>,
                     %v: memref<2x1500x2x128xbf16>, %o: memref<2x1000x8x128xbf16>,
                     %lse: memref<2x8x1000xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x1000x8x128xbf16>, memref<2x1500x2x128xbf16>,
                                  memref<2x1500x2x128xbf16>)
      outs(%o, %lse : memref<2x1000x8x128xbf16>, memref<2x8x1000xf32>)
      mask<causal, bottom_right>
  return
}
