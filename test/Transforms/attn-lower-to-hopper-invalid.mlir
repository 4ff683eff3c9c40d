// RUN: attn-opt %s -split-input-file -attn-tile -attn-lower-to-hopper -verify-diagnostics
// RUN: not attn-opt %s -split-input-file -attn-tile -attn-lower-to-hopper="stages=9" 2>&1 | FileCheck %s --check-prefix=STAGES
// RUN: not attn-opt %s -split-input-file -attn-tile="block-m=32" -attn-lower-to-hopper 2>&1 | FileCheck %s --check-prefix=BLOCKM
// RUN: not attn-opt %s -split-input-file -attn-tile="block-n=24" -attn-lower-to-hopper 2>&1 | FileCheck %s --check-prefix=BLOCKN
// RUN: not attn-opt %s -split-input-file -attn-tile -attn-lower-to-hopper="stages=8" 2>&1 | FileCheck %s --check-prefix=SMEM
// RUN: not attn-opt %s -split-input-file -attn-tile -attn-online-softmax -attn-lower-to-hopper 2>&1 | FileCheck %s --check-prefix=LEVEL
// RUN: not attn-opt %s -split-input-file -attn-tile -attn-lower-to-hopper="persistent-ctas=-1" 2>&1 | FileCheck %s --check-prefix=CTAS

// STAGES: attn-lower-to-hopper: stages must be in [1, 8] (or 0 for as many as fit), got 9
// CTAS: attn-lower-to-hopper: persistent-ctas must be >= 0, got -1
// BLOCKM: BlockM = 32 must be 64, 128 or 192
// BLOCKN: BlockN = 24 must be a multiple of 16 in [16, 256]
// SMEM: Q (24576 bytes) and 8 K/V stage(s) of 32768 bytes do not fit in the shared memory (232448 bytes); lower block-m, block-n or stages
// LEVEL: attn-lower-to-hopper: the program grid has no Q tile load or no attn.block_update

func.func @f32_operands(%q: memref<1x64x1x64xf32>, %o: memref<1x64x1x64xf32>) {
  // expected-error @+1 {{Q/K/V must be bf16 or f16 for the wgmma kernel, got 'f32'}}
  attn.attention ins(%q, %q, %q : memref<1x64x1x64xf32>, memref<1x64x1x64xf32>, memref<1x64x1x64xf32>)
      outs(%o : memref<1x64x1x64xf32>)
  return
}

// -----

func.func @head_dim_96(%q: memref<1x64x1x96xbf16>, %o: memref<1x64x1x96xbf16>) {
  // expected-error @+1 {{head dims D = 96, Dv = 96 must be 64, 128, 192 or 256}}
  attn.attention ins(%q, %q, %q : memref<1x64x1x96xbf16>, memref<1x64x1x96xbf16>, memref<1x64x1x96xbf16>)
      outs(%o : memref<1x64x1x96xbf16>)
  return
}

// -----

func.func @score_mod(%q: memref<1x64x1x64xbf16>, %o: memref<1x64x1x64xbf16>) {
  // expected-error @+1 {{score_mod and mask_mod are not supported by the Hopper kernel yet}}
  attn.attention ins(%q, %q, %q : memref<1x64x1x64xbf16>, memref<1x64x1x64xbf16>, memref<1x64x1x64xbf16>)
      outs(%o : memref<1x64x1x64xbf16>)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        attn.yield %s : f32
      }
  return
}

// -----

func.func @dynamic(%q: memref<1x?x1x64xbf16>, %o: memref<1x?x1x64xbf16>) {
  // expected-error @+1 {{the kernel needs static, contiguous [B, S, H, D] operands for now}}
  attn.attention ins(%q, %q, %q : memref<1x?x1x64xbf16>, memref<1x?x1x64xbf16>, memref<1x?x1x64xbf16>)
      outs(%o : memref<1x?x1x64xbf16>)
  return
}
