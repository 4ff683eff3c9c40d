// RUN: attn-opt %s -attn-map-to-gpu -verify-diagnostics

// The SIMT mapping gives each query row of a program a thread: forward
// programs and the backward's preprocess and postprocess are that shape; the
// backward's KV-stationary main grid is not (the warp-specialized level
// builds it).
func.func @grad_grid(%n: index) {
  // expected-error @+1 {{attn-map-to-gpu maps forward grids and the backward's preprocess and postprocess (the KV-stationary main grid is the warp-specialized level's)}}
  attn.program_grid (%s, %h, %b) in (%n, %n, %n) block_m(32)
      attributes {kind = #attn.program_kind<grad_kv>} {
  }
  return
}
