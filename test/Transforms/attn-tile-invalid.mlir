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

