// What the Hopper kernel cannot take, from attn.attention through
// --attn-warp-specialize and attn-convert-to-nvgpu: the first stage that
// sees the grid reports it (attn-plan-hopper the types, tiles and head dims;
// the conversion the operands' layout and the tensor maps' sources); the
// levels each stage needs; a grid without a plan.
// RUN: attn-opt %s -split-input-file -attn-tile -attn-online-softmax -attn-warp-specialize -attn-convert-to-nvgpu -verify-diagnostics
// RUN: not attn-opt %s -split-input-file -attn-tile="block-m=32" -attn-online-softmax -attn-warp-specialize 2>&1 | FileCheck %s --check-prefix=BLOCKM
// RUN: not attn-opt %s -split-input-file -attn-tile="block-n=24" -attn-online-softmax -attn-warp-specialize 2>&1 | FileCheck %s --check-prefix=BLOCKN
// The roles are split from the online-softmax level's tile ops, and the
// conversion takes the warp-specialized level:
// RUN: not attn-opt %s -split-input-file -attn-tile -attn-warp-specialize 2>&1 | FileCheck %s --check-prefix=LEVEL
// RUN: not attn-opt %s -split-input-file -attn-tile -attn-online-softmax -attn-plan-hopper -attn-convert-to-nvgpu 2>&1 | FileCheck %s --check-prefix=LEVEL3
// RUN: not attn-opt %s -split-input-file -attn-tile -attn-online-softmax -attn-partition-roles 2>&1 | FileCheck %s --check-prefix=NOPLAN
// RUN: not attn-opt %s -split-input-file -attn-tile -attn-online-softmax -attn-convert-to-nvgpu 2>&1 | FileCheck %s --check-prefix=NOPLANL2
// The program grid is an op: canonicalizations in between keep it (an
// scf.parallel with unit dimensions was once rebuilt without its marks).
// RUN: attn-opt %s -split-input-file -attn-tile -canonicalize -attn-online-softmax -canonicalize -attn-plan-hopper -canonicalize -attn-partition-roles -canonicalize -attn-pipeline-mma -attn-consumer-turns -attn-convert-to-nvgpu -verify-diagnostics
// (Option errors, shared-memory fit and edited plans:
// test/Transforms/attn-plan-hopper-invalid.mlir; the conversion's own
// diagnostics on hand-written L3, a warp-specialized grid without a plan
// included: attn-convert-to-nvgpu-l3-invalid.mlir.)

// BLOCKM: attn-plan-hopper: BlockM = 32 must be 64, 128 or 192
// BLOCKN: attn-plan-hopper: BlockN = 24 must be a multiple of 16 in [16, 256]
// LEVEL: attn-partition-roles: the program has no Q tile load or no KV loop (run attn-tile and attn-online-softmax first)
// LEVEL3: attn-convert-to-nvgpu: expected a warp-specialized program: channels and attn.warp_specialize (run --attn-warp-specialize first)
// NOPLAN: attn-partition-roles: the program grid has no plan (run attn-plan-hopper first)
// NOPLANL2: attn-convert-to-nvgpu: the program grid has no plan: run --attn-plan-hopper first (or --attn-warp-specialize)

func.func @f32_operands(%q: memref<1x64x1x64xf32>, %o: memref<1x64x1x64xf32>) {
  // expected-error @+1 {{attn-plan-hopper: Q/K/V must be bf16 or f16 for the wgmma kernel, got 'f32'}}
  attn.attention ins(%q, %q, %q : memref<1x64x1x64xf32>, memref<1x64x1x64xf32>, memref<1x64x1x64xf32>)
      outs(%o : memref<1x64x1x64xf32>)
  return
}

// -----

// FP8 tiles (with their descales) for the CPU path; the wgmma kernel says so.
func.func @fp8_operands(%q: memref<1x64x1x64xf8E4M3FN>, %d: memref<1x1xf32>,
                        %o: memref<1x64x1x64xbf16>) {
  // expected-error @+1 {{attn-plan-hopper: Q/K/V must be bf16 or f16 for the wgmma kernel, got 'f8E4M3FN' (FP8 runs on the CPU path only so far)}}
  attn.attention ins(%q, %q, %q : memref<1x64x1x64xf8E4M3FN>, memref<1x64x1x64xf8E4M3FN>, memref<1x64x1x64xf8E4M3FN>)
      descale(%d, %d, %d : memref<1x1xf32>, memref<1x1xf32>, memref<1x1xf32>)
      outs(%o : memref<1x64x1x64xbf16>)
  return
}

// -----

// Head dims the attn dialect takes (multiples of 8) but wgmma's k16 steps do
// not: the SIMT kernel's (flashmlir.compile resolves them to it).
func.func @head_dim_72(%q: memref<1x64x1x72xbf16>, %o: memref<1x64x1x72xbf16>) {
  // expected-error @+1 {{attn-plan-hopper: head dims D = 72, Dv = 72 must be multiples of 16 up to 256 (k16 steps of Q·Kᵀ, swizzled chunks of 16, 32 or 64 columns)}}
  attn.attention ins(%q, %q, %q : memref<1x64x1x72xbf16>, memref<1x64x1x72xbf16>, memref<1x64x1x72xbf16>)
      outs(%o : memref<1x64x1x72xbf16>)
  return
}

// -----

func.func @head_dim_v_40(%q: memref<1x64x1x64xbf16>, %v: memref<1x64x1x40xbf16>, %o: memref<1x64x1x40xbf16>) {
  // expected-error @+1 {{attn-plan-hopper: head dims D = 64, Dv = 40 must be multiples of 16 up to 256}}
  attn.attention ins(%q, %q, %v : memref<1x64x1x64xbf16>, memref<1x64x1x64xbf16>, memref<1x64x1x40xbf16>)
      outs(%o : memref<1x64x1x40xbf16>)
  return
}

// -----

// Dynamic B, S, H are accepted (test/Target/Hopper/dynamic-seqlens.mlir); a
// strided (non-contiguous) operand is not: TMA needs the dense layout.
func.func @strided(%q: memref<1x300x1x64xbf16, strided<[38400, 128, 64, 1]>>, %o: memref<1x300x1x64xbf16>) {
  // expected-error @+1 {{attn-convert-to-nvgpu: the kernel needs contiguous [B, S, H, D] operands, got 'memref<1x300x1x64xbf16, strided<[38400, 128, 64, 1]>>'}}
  attn.attention ins(%q, %q, %q : memref<1x300x1x64xbf16, strided<[38400, 128, 64, 1]>>, memref<1x300x1x64xbf16, strided<[38400, 128, 64, 1]>>, memref<1x300x1x64xbf16, strided<[38400, 128, 64, 1]>>)
      outs(%o : memref<1x300x1x64xbf16>)
  return
}

// -----

// The host encodes the tensor maps from the kernel's arguments: an operand
// the function allocates itself has none.
func.func @local_query(%k: memref<1x300x1x64xbf16>, %o: memref<1x300x1x64xbf16>) {
  %q = memref.alloc() : memref<1x300x1x64xbf16>
  // expected-error @+1 {{attn-convert-to-nvgpu: the source must be an argument of the function (the host encodes its tensor map)}}
  attn.attention ins(%q, %k, %k : memref<1x300x1x64xbf16>, memref<1x300x1x64xbf16>, memref<1x300x1x64xbf16>)
      outs(%o : memref<1x300x1x64xbf16>)
  return
}
