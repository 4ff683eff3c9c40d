// Shapes the backward's warp-specialized kernel does not take (yet), each a
// named diagnostic of attn-plan-hopper (the options and edited plans:
// attn-plan-hopper-grad-invalid.mlir).
// DEFINE: %{l2} = attn-opt %s -split-input-file -attn-tile="target=sm_90a" -attn-online-softmax

// RUN: not %{l2} -attn-plan-hopper 2>&1 | FileCheck %s --check-prefix=D256
// D256: attn-plan-hopper: the backward's warp-specialized kernel is built for head dims 64 and 128 so far, got D = 256, Dv = 256
func.func @d256(%q: memref<1x300x2x256xbf16>, %lse: memref<1x2x300xf32>, %acc: memref<1x300x2x256xf32>) {
  attn.attention_grad
      ins(%q, %q, %q, %q, %q, %lse : memref<1x300x2x256xbf16>, memref<1x300x2x256xbf16>,
          memref<1x300x2x256xbf16>, memref<1x300x2x256xbf16>, memref<1x300x2x256xbf16>, memref<1x2x300xf32>)
      outs(%q, %q, %q : memref<1x300x2x256xbf16>, memref<1x300x2x256xbf16>, memref<1x300x2x256xbf16>)
      workspace(%acc, %lse : memref<1x300x2x256xf32>, memref<1x2x300xf32>)
  return
}

// -----

// RUN: not %{l2} -attn-plan-hopper 2>&1 | FileCheck %s --check-prefix=BLOCKMASK
// BLOCKMASK: attn-plan-hopper: the backward's warp-specialized kernel takes no block mask yet (its main programs scan the forward's lists under conditionals the roles do not split)
func.func @block_mask(%q: memref<2x256x2x64xbf16>, %lse: memref<2x2x256xf32>,
                      %n: memref<1x2x2xi32>, %i: memref<1x2x2x2xi32>, %acc: memref<2x256x2x64xf32>) {
  attn.attention_grad
      ins(%q, %q, %q, %q, %q, %lse : memref<2x256x2x64xbf16>, memref<2x256x2x64xbf16>,
          memref<2x256x2x64xbf16>, memref<2x256x2x64xbf16>, memref<2x256x2x64xbf16>,
          memref<2x2x256xf32>)
      block_mask(%n, %i : memref<1x2x2xi32>, memref<1x2x2x2xi32>) block_size [128, 128]
      outs(%q, %q, %q : memref<2x256x2x64xbf16>, memref<2x256x2x64xbf16>, memref<2x256x2x64xbf16>)
      workspace(%acc, %lse : memref<2x256x2x64xf32>, memref<2x2x256xf32>)
  return
}
