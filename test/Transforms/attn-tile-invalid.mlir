// RUN: attn-opt %s -split-input-file -attn-tile -verify-diagnostics
// RUN: not attn-opt %s -split-input-file -attn-tile="target=gpu" 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not attn-opt %s -split-input-file -attn-tile="block-m=-1" 2>&1 | FileCheck %s --check-prefix=BLOCK

// TARGET: attn-tile: unknown target 'gpu'; expected sm_90a or cpu
// BLOCK: attn-tile: block-m and block-n must be positive (or 0 for the heuristic), got block-m=-1 block-n=0

func.func @tensors(%q: tensor<1x16x1x64xf16>, %o: tensor<1x16x1x64xf16>) -> tensor<1x16x1x64xf16> {
  // expected-error @+1 {{attn-tile expects operands on memrefs; bufferize tensors first}}
  %r = attn.attention ins(%q, %q, %q : tensor<1x16x1x64xf16>, tensor<1x16x1x64xf16>, tensor<1x16x1x64xf16>)
      outs(%o : tensor<1x16x1x64xf16>) -> tensor<1x16x1x64xf16>
  return %r : tensor<1x16x1x64xf16>
}


// -----

func.func @grad_tensors(%q: tensor<1x16x1x64xf16>, %l: tensor<1x1x16xf32>, %a: tensor<1x16x1x64xf32>) {
  // expected-error @+1 {{attn-tile expects operands on memrefs; bufferize tensors first}}
  %r:5 = attn.attention_grad ins(%q, %q, %q, %q, %q, %l : tensor<1x16x1x64xf16>, tensor<1x16x1x64xf16>,
                                 tensor<1x16x1x64xf16>, tensor<1x16x1x64xf16>, tensor<1x16x1x64xf16>,
                                 tensor<1x1x16xf32>)
      outs(%q, %q, %q : tensor<1x16x1x64xf16>, tensor<1x16x1x64xf16>, tensor<1x16x1x64xf16>)
      workspace(%a, %l : tensor<1x16x1x64xf32>, tensor<1x1x16xf32>)
      -> tensor<1x16x1x64xf16>, tensor<1x16x1x64xf16>, tensor<1x16x1x64xf16>, tensor<1x16x1x64xf32>,
         tensor<1x1x16xf32>
  return
}

// -----

// The backward's tiles must divide the block mask's block too (here no
// multiple of the Hopper key granule, 16, divides 8).
func.func @grad_block_mask_tiles(%q: memref<1x100x1x128xf16>, %l: memref<1x1x100xf32>, %a: memref<1x100x1x128xf32>,
                                 %n: memref<1x1x2xi32>, %i: memref<1x1x2x2xi32>) {
  // expected-error @+1 {{attn-tile: tiles of 64 x 128 must divide the block mask's block_size [64, 8]}}
  attn.attention_grad ins(%q, %q, %q, %q, %q, %l : memref<1x100x1x128xf16>, memref<1x100x1x128xf16>,
                          memref<1x100x1x128xf16>, memref<1x100x1x128xf16>, memref<1x100x1x128xf16>,
                          memref<1x1x100xf32>)
      block_mask(%n, %i : memref<1x1x2xi32>, memref<1x1x2x2xi32>) block_size [64, 8]
      outs(%q, %q, %q : memref<1x100x1x128xf16>, memref<1x100x1x128xf16>, memref<1x100x1x128xf16>)
      workspace(%a, %l : memref<1x100x1x128xf32>, memref<1x1x100xf32>)
  return
}
