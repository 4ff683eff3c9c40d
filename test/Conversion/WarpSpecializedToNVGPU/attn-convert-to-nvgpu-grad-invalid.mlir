// The backward is not converted yet: its main grid stops at the
// warp-specialized level (docs/WarpSpecialization.md, "The backward", says
// what its conversion needs), its preprocess and postprocess are the SIMT
// mapping's. The conversion says so by name, never emits a partial kernel.
// RUN: attn-opt %s -split-input-file -attn-convert-to-nvgpu -verify-diagnostics
// From attn.attention_grad through the whole front end, the first grid (the
// preprocess) is refused:
// RUN: not attn-opt %s -split-input-file -attn-tile="target=sm_90a" -attn-online-softmax -attn-warp-specialize -attn-convert-to-nvgpu 2>&1 | FileCheck %s --check-prefix=FRONT
// FRONT: attn-convert-to-nvgpu: the backward's grad_preprocess grid is not converted here: it maps to the SIMT kernel (attn-map-to-gpu)

func.func @grad_kv(%n: index) {
  // expected-error @+1 {{attn-convert-to-nvgpu: the backward's grad_kv grid is not converted yet (its warp-specialized level is built; the conversion still needs the staged P and dS, MN-major wgmma operands, rank-1 channel parts and the dQ accumulate store)}}
  attn.program_grid (%s, %kvh, %kb) in (%n, %n, %n) block_m(128)
      plan(<stages = 2, ping_pong = false, pv_schedule = overlap, persistent_ctas = 0, paired_tiles = false,
            epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>)
      attributes {kind = #attn.program_kind<grad_kv>} {
  }
  return
}

// -----

func.func @grad_postprocess(%n: index) {
  // expected-error @+1 {{attn-convert-to-nvgpu: the backward's grad_postprocess grid is not converted here: it maps to the SIMT kernel (attn-map-to-gpu)}}
  attn.program_grid (%s, %h, %qb) in (%n, %n, %n) block_m(64)
      attributes {kind = #attn.program_kind<grad_postprocess>} {
  }
  return
}

// -----

// The FRONT run's input (the first run has nothing to convert here).
func.func @causal(%q: memref<1x300x2x128xbf16>, %lse: memref<1x2x300xf32>, %acc: memref<1x300x2x128xf32>) {
  attn.attention_grad
      ins(%q, %q, %q, %q, %q, %lse : memref<1x300x2x128xbf16>, memref<1x300x2x128xbf16>,
          memref<1x300x2x128xbf16>, memref<1x300x2x128xbf16>, memref<1x300x2x128xbf16>, memref<1x2x300xf32>)
      outs(%q, %q, %q : memref<1x300x2x128xbf16>, memref<1x300x2x128xbf16>, memref<1x300x2x128xbf16>)
      workspace(%acc, %lse : memref<1x300x2x128xf32>, memref<1x2x300xf32>) mask<causal, bottom_right>
  return
}
