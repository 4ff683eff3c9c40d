// The kernel's limits (shared HopperPlan checks: the first stage that sees the
// grid reports them), the tiled level it needs, and a grid without a plan.
// RUN: attn-opt %s -split-input-file -attn-tile -attn-warp-specialize -verify-diagnostics
// RUN: not attn-opt %s -split-input-file -attn-tile="block-m=32" -attn-warp-specialize 2>&1 | FileCheck %s --check-prefix=BLOCKM
// RUN: not attn-opt %s -split-input-file -attn-tile="block-n=24" -attn-warp-specialize 2>&1 | FileCheck %s --check-prefix=BLOCKN
// RUN: not attn-opt %s -split-input-file -attn-tile -attn-online-softmax -attn-warp-specialize 2>&1 | FileCheck %s --check-prefix=LEVEL
// RUN: not attn-opt %s -split-input-file -attn-tile -attn-lower-to-hopper 2>&1 | FileCheck %s --check-prefix=NOPLAN
// The program grid is an op: a canonicalization in between keeps it (an
// scf.parallel with unit dimensions was once rebuilt without its marks).
// RUN: attn-opt %s -split-input-file -attn-tile -canonicalize -attn-warp-specialize -verify-diagnostics
// (Option errors, shared-memory fit and edited plans: attn-plan-hopper-invalid.mlir.)

// BLOCKM: BlockM = 32 must be 64, 128 or 192
// BLOCKN: BlockN = 24 must be a multiple of 16 in [16, 256]
// LEVEL: attn-plan-hopper: the program grid has no Q tile load or no attn.block_update
// NOPLAN: attn-lower-to-hopper: the program grid has no plan: run --attn-plan-hopper first (or --attn-warp-specialize)

func.func @f32_operands(%q: memref<1x64x1x64xf32>, %o: memref<1x64x1x64xf32>) {
  // expected-error @+1 {{Q/K/V must be bf16 or f16 for the wgmma kernel, got 'f32'}}
  attn.attention ins(%q, %q, %q : memref<1x64x1x64xf32>, memref<1x64x1x64xf32>, memref<1x64x1x64xf32>)
      outs(%o : memref<1x64x1x64xf32>)
  return
}

// -----

// FP8 tiles (with their descales) for the CPU path; the wgmma kernel says so.
func.func @fp8_operands(%q: memref<1x64x1x64xf8E4M3FN>, %d: memref<1x1xf32>,
                        %o: memref<1x64x1x64xbf16>) {
  // expected-error @+1 {{Q/K/V must be bf16 or f16 for the wgmma kernel, got 'f8E4M3FN' (FP8 runs on the CPU path only so far)}}
  attn.attention ins(%q, %q, %q : memref<1x64x1x64xf8E4M3FN>, memref<1x64x1x64xf8E4M3FN>, memref<1x64x1x64xf8E4M3FN>)
      descale(%d, %d, %d : memref<1x1xf32>, memref<1x1xf32>, memref<1x1xf32>)
      outs(%o : memref<1x64x1x64xbf16>)
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

// Dynamic B, S, H are accepted (test/Target/Hopper/dynamic-seqlens.mlir); a
// strided (non-contiguous) operand is not: TMA needs the dense layout.
func.func @strided(%q: memref<1x64x1x64xbf16, strided<[8192, 128, 64, 1]>>, %o: memref<1x64x1x64xbf16>) {
  // expected-error @+1 {{the kernel needs contiguous [B, S, H, D] operands, got 'memref<1x64x1x64xbf16, strided<[8192, 128, 64, 1]>>'}}
  attn.attention ins(%q, %q, %q : memref<1x64x1x64xbf16, strided<[8192, 128, 64, 1]>>, memref<1x64x1x64xbf16, strided<[8192, 128, 64, 1]>>, memref<1x64x1x64xbf16, strided<[8192, 128, 64, 1]>>)
      outs(%o : memref<1x64x1x64xbf16>)
  return
}
