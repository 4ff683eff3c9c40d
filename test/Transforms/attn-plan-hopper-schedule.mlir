// attn-plan-hopper's schedule option, on the online-softmax level: auto (the
// heuristic: persistent for Dv <= 128 without a mask_mod), tiles (one CTA per
// tile), persistent (wherever the persistent loops apply: Dv = 256 and
// softcap included).
// RUN: attn-opt %s -split-input-file -attn-tile -attn-online-softmax -attn-plan-hopper | FileCheck %s --check-prefix=AUTO
// RUN: attn-opt %s -split-input-file -attn-tile -attn-online-softmax -attn-plan-hopper="schedule=persistent" | FileCheck %s --check-prefix=PERSIST
// RUN: attn-opt %s -split-input-file -attn-tile -attn-online-softmax -attn-plan-hopper="schedule=tiles" | FileCheck %s --check-prefix=TILES
// RUN: not attn-opt %s -split-input-file -attn-tile -attn-online-softmax -attn-plan-hopper="schedule=dynamic" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not attn-opt %s -split-input-file -attn-tile -attn-online-softmax -attn-plan-hopper="schedule=persistent persistent-ctas=0" 2>&1 | FileCheck %s --check-prefix=NOCTAS
// BAD: attn-plan-hopper: schedule must be auto, tiles or persistent, got 'dynamic'
// NOCTAS: attn-plan-hopper: schedule = persistent needs persistent-ctas > 0 and a grid without run-time guards or a block mask, unmasked or causal with two consumer warpgroups

// Dv = 256 unmasked: one CTA per tile by the heuristic (the persistent
// consumers' 232 registers spill at Dv = 256 but for this shape), persistent on request
// over min(132, 3 q-blocks x 8 heads x 2) = 48 CTAs with its 40/232 budgets.
// AUTO-LABEL: func.func @plain_d256
// AUTO: persistent_ctas = 0,
// PERSIST-LABEL: func.func @plain_d256
// PERSIST: persistent_ctas = 48, {{.*}} producer_registers = 40, consumer_registers = 232>
// TILES-LABEL: func.func @plain_d256
// TILES: persistent_ctas = 0,
func.func @plain_d256(%q: memref<2x300x8x256xbf16>, %k: memref<2x300x8x256xbf16>,
                      %v: memref<2x300x8x256xbf16>, %o: memref<2x300x8x256xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x300x8x256xbf16>, memref<2x300x8x256xbf16>,
                                  memref<2x300x8x256xbf16>)
      outs(%o : memref<2x300x8x256xbf16>)
  return
}

// -----

// Softcap (per-score work) under a causal mask, d = 128: the paired
// persistent loop (2 x 8 x 2 pairs) by the heuristic too (measured faster).
// AUTO-LABEL: func.func @softcap_causal
// AUTO: persistent_ctas = 32, paired_tiles = true
// PERSIST-LABEL: func.func @softcap_causal
// PERSIST: persistent_ctas = 32, paired_tiles = true
// TILES-LABEL: func.func @softcap_causal
// TILES: persistent_ctas = 0, paired_tiles = false
func.func @softcap_causal(%q: memref<2x500x8x128xbf16>, %k: memref<2x500x8x128xbf16>,
                          %v: memref<2x500x8x128xbf16>, %o: memref<2x500x8x128xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x500x8x128xbf16>, memref<2x500x8x128xbf16>,
                                  memref<2x500x8x128xbf16>)
      outs(%o : memref<2x500x8x128xbf16>) mask<causal, bottom_right> softcap(30.0)
  return
}

// -----

// Unmasked d = 64: persistent by the heuristic, one CTA per tile on request.
// AUTO-LABEL: func.func @plain_d64
// AUTO: persistent_ctas = 48,
// PERSIST-LABEL: func.func @plain_d64
// PERSIST: persistent_ctas = 48,
// TILES-LABEL: func.func @plain_d64
// TILES: persistent_ctas = 0, {{.*}} producer_registers = 24, consumer_registers = 240>
func.func @plain_d64(%q: memref<2x300x8x64xbf16>, %k: memref<2x300x8x64xbf16>,
                     %v: memref<2x300x8x64xbf16>, %o: memref<2x300x8x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x300x8x64xbf16>, memref<2x300x8x64xbf16>,
                                  memref<2x300x8x64xbf16>)
      outs(%o : memref<2x300x8x64xbf16>)
  return
}
