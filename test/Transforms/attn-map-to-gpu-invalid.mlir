// RUN: attn-opt %s -attn-map-to-gpu -verify-diagnostics

// The SIMT mapping gives each query row of a forward program a thread; the
// backward's grids (here a KV-stationary one) are not that shape.
func.func @grad_grid(%n: index) {
  // expected-error @+1 {{attn-map-to-gpu maps forward grids only (the SIMT kernel has no backward)}}
  attn.program_grid (%s, %h, %b) in (%n, %n, %n) block_m(32)
      attributes {kind = #attn.program_kind<grad_kv>} {
  }
  return
}
