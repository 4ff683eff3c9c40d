// The conversion of the backward's main grid checks its plan against the grid
// first: a grid without the backward's program (here an empty one) is
// diagnosed, never half converted. The preprocess and postprocess grids are
// not the conversion's (the SIMT mapping's, attn-map-to-gpu): it leaves them
// as they are.
// RUN: attn-opt %s -split-input-file -attn-convert-to-nvgpu -verify-diagnostics | FileCheck %s

func.func @grad_kv(%n: index) {
  // expected-error @+1 {{attn-convert-to-nvgpu: the backward's main program has no K tile load or not the five matmuls of a q-block (run attn-tile and attn-online-softmax first)}}
  attn.program_grid (%s, %kvh, %kb) in (%n, %n, %n) block_m(128)
      plan(<stages = 2, ping_pong = false, pv_schedule = overlap, persistent_ctas = 0, paired_tiles = false,
            epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>)
      attributes {kind = #attn.program_kind<grad_kv>} {
  }
  return
}

// -----

// CHECK-LABEL: func.func @grad_postprocess
// CHECK: attn.program_grid {{.+}} attributes {kind = #attn.program_kind<grad_postprocess>}
func.func @grad_postprocess(%n: index) {
  attn.program_grid (%s, %h, %qb) in (%n, %n, %n) block_m(64)
      attributes {kind = #attn.program_kind<grad_postprocess>} {
  }
  return
}
