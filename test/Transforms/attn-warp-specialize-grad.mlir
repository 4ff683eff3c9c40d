// RUN: attn-opt %s -split-input-file -attn-tile="target=sm_90a" -attn-score-mod-grad -attn-online-softmax -attn-warp-specialize -canonicalize -cse | FileCheck %s
// The warp-specialized backward prints and parses again, custom and generic.
// RUN: attn-opt %s -split-input-file -attn-tile="target=sm_90a" -attn-score-mod-grad -attn-online-softmax -attn-warp-specialize | attn-opt -split-input-file -canonicalize -cse | FileCheck %s
// RUN: attn-opt %s -split-input-file -attn-tile="target=sm_90a" -attn-score-mod-grad -attn-online-softmax -attn-warp-specialize -mlir-print-op-generic | attn-opt -split-input-file -canonicalize -cse | FileCheck %s

// attn.attention_grad through the whole front end to the warp-specialized
// level (L0 -> attn-tile{target=sm_90a} -> attn-online-softmax ->
// attn-warp-specialize). D = 128 causal with GQA (4 query heads, 2 KV
// heads): q-blocks of 64 rows, 128 keys per main program (two consumer
// warpgroups of 64 keys). The preprocess and postprocess stay as they were
// (no plan, no roles); the main grid gets its plan, a producer of K and V
// once and of Q, dO, LSE, D per q-block of each query head of the group, and
// consumers that keep dK and dV in flight across each q-block loop.
// CHECK-LABEL: func.func @causal_gqa
// CHECK: attn.program_grid {{.+}} block_m(64) attributes {kind = #attn.program_kind<grad_preprocess>}
// CHECK-NOT: attn.warp_specialize
// CHECK: attn.program_grid (%{{.+}}) in (%c2, %c2, %c3) block_m(128) plan(<stages = 2, ping_pong = false, pv_schedule = overlap, persistent_ctas = 0, paired_tiles = false, epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>) attributes {kind = #attn.program_kind<grad_kv>}
// CHECK:   %[[KV:.+]] = attn.channel_create : <[tensor<128x128xbf16, #attn.layout<shared>>, tensor<128x128xbf16, #attn.layout<shared>>], 1>
// CHECK:   %[[QC:.+]] = attn.channel_create : <[tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>], 2>
// CHECK:   attn.warp_specialize consumers(2) producer {
// CHECK:     attn.channel_put %[[KV]]
// The query heads of the group, then the masked (diagonal) q-blocks and the
// interior ones.
// CHECK:     scf.for
// CHECK:       scf.for
// CHECK:         attn.channel_put %[[QC]]
// CHECK:       scf.for
// CHECK:         attn.channel_put %[[QC]]
// CHECK:   } consumer(%{{.+}}: index) {
// CHECK:     attn.channel_get %[[KV]]
// CHECK:     scf.for
// CHECK:       attn.mma_ready
// CHECK:       scf.for
// CHECK:         attn.channel_get %[[QC]]
// CHECK:         attn.mma_async {{.+}} transpose_rhs
// CHECK-NEXT:    attn.mma_async {{.+}} transpose_rhs
// CHECK:         attn.tile_mask {{.+}} {hide_rows, mask = #attn.mask<causal, bottom_right>}
// CHECK:         attn.tile_stage
// CHECK:         attn.tile_stage
// CHECK:         attn.mma_async
// CHECK-NEXT:    attn.mma_async {{.+}} transpose_lhs
// CHECK-NEXT:    attn.mma_async {{.+}} transpose_lhs
// CHECK-NEXT:    attn.mma_wait
// CHECK-NEXT:    attn.tile_store {{.+}} accumulate
// CHECK:       attn.mma_wait
// CHECK:       attn.mma_ready
// CHECK:       scf.for
// The interior q-blocks: no causal mask, only the ragged keys' under a
// condition.
// CHECK-NOT:     causal
// CHECK:         attn.tile_store {{.+}} accumulate
// CHECK:     attn.tile_store
// CHECK:     attn.tile_store
// CHECK: attn.program_grid {{.+}} block_m(64) attributes {kind = #attn.program_kind<grad_postprocess>}
func.func @causal_gqa(%q: memref<2x300x4x128xbf16>, %k: memref<2x300x2x128xbf16>, %v: memref<2x300x2x128xbf16>,
                      %o: memref<2x300x4x128xbf16>, %do: memref<2x300x4x128xbf16>, %lse: memref<2x4x300xf32>,
                      %dq: memref<2x300x4x128xbf16>, %dk: memref<2x300x2x128xbf16>,
                      %dv: memref<2x300x2x128xbf16>, %acc: memref<2x300x4x128xf32>, %delta: memref<2x4x300xf32>) {
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : memref<2x300x4x128xbf16>, memref<2x300x2x128xbf16>,
                          memref<2x300x2x128xbf16>, memref<2x300x4x128xbf16>, memref<2x300x4x128xbf16>,
                          memref<2x4x300xf32>)
      outs(%dq, %dk, %dv : memref<2x300x4x128xbf16>, memref<2x300x2x128xbf16>, memref<2x300x2x128xbf16>)
      workspace(%acc, %delta : memref<2x300x4x128xf32>, memref<2x4x300xf32>) mask<causal, bottom_right>
  return
}

// -----

// D = 64, f16, a window bounded on both sides: q-blocks of 128 rows, 128
// keys per program. Each consumer's scores are [128, 64] (two m64 fragments
// of the Q·Kᵀ wgmma) — Q and K have the same tile type [128, 64] here, so
// which dimension holds keys is found from the matmuls, not the shapes. Three
// q-block loops (boundary, interior, boundary).
// CHECK-LABEL: func.func @d64_window
// CHECK: plan(<stages = 2, ping_pong = false, pv_schedule = overlap,
// CHECK: attn.channel_create : <[tensor<128x64xf16, #attn.layout<shared>>, tensor<128x64xf16, #attn.layout<shared>>], 1>
// CHECK: attn.channel_create : <[tensor<128x64xf16, #attn.layout<shared>>, tensor<128x64xf16, #attn.layout<shared>>, tensor<128xf32, #attn.layout<shared>>, tensor<128xf32, #attn.layout<shared>>], 2>
// CHECK: consumer
// CHECK: %[[MYK:.+]] = tensor.extract_slice %{{.+}}#0[%{{.+}}, 0] [64, 64] [1, 1] : tensor<128x64xf16, #attn.layout<shared>> to tensor<64x64xf16, #attn.layout<shared>>
// CHECK: scf.for {{.+}} -> (!attn.async<tensor<64x64xf32, #attn.layout<accumulator>>>, !attn.async<tensor<64x64xf32, #attn.layout<accumulator>>>, !attn.token, i1)
// CHECK:   attn.mma_async %{{.+}}, %[[MYK]] transpose_rhs into %{{.+}} : tensor<128x64xf16, #attn.layout<shared>>, tensor<64x64xf16, #attn.layout<shared>>, tensor<128x64xf32, #attn.layout<accumulator>>
// CHECK:   attn.tile_mask {{.+}} {hide_rows, mask = #attn.mask<window [3, 20], top_left>} : tensor<128x64xf32, #attn.layout<accumulator>>
// CHECK:   attn.tile_stage %{{.+}} : tensor<128x64xf16, #attn.layout<operand_a>> -> tensor<128x64xf16, #attn.layout<shared>>
// CHECK:   attn.mma_async %{{.+}}, %[[MYK]] into %{{.+}} -> <tensor<128x64xf32, #attn.layout<accumulator>>>
// CHECK: scf.for {{.+}} -> (!attn.async
// CHECK: scf.for {{.+}} -> (!attn.async
func.func @d64_window(%q: memref<1x300x2x64xf16>, %lse: memref<1x2x300xf32>, %acc: memref<1x300x2x64xf32>) {
  attn.attention_grad
      ins(%q, %q, %q, %q, %q, %lse : memref<1x300x2x64xf16>, memref<1x300x2x64xf16>,
          memref<1x300x2x64xf16>, memref<1x300x2x64xf16>, memref<1x300x2x64xf16>, memref<1x2x300xf32>)
      outs(%q, %q, %q : memref<1x300x2x64xf16>, memref<1x300x2x64xf16>, memref<1x300x2x64xf16>)
      workspace(%acc, %lse : memref<1x300x2x64xf32>, memref<1x2x300xf32>) mask<window [3, 20], top_left>
  return
}

// -----

// Softcap, a score_mod (its derivative from attn-score-mod-grad) and a
// mask_mod: the modifiers see the consumer's keys (kv_pos + 64c, at most 64
// of them), the math is the online-softmax level's.
// CHECK-LABEL: func.func @modifiers
// CHECK: consumer(%[[C:.+]]: index)
// CHECK: %[[KEY0:.+]] = arith.muli %[[C]], %c64
// CHECK: math.tanh
// CHECK: %[[KP:.+]] = arith.addi %{{.+}}, %[[KEY0]]
// CHECK: attn.tile_score_mod %{{.+}} into %{{.+}} seq(%{{.+}}) head(%{{.+}}) q_pos(%{{.+}}) kv_pos(%[[KP]]) rows(%{{.+}}) cols(%{{.+}}) : tensor<64x64xf32, #attn.layout<accumulator>>
// CHECK: attn.tile_mask %{{.+}} kv_pos(%[[KP]]) {{.+}} mask_mod {
func.func @modifiers(%q: memref<1x300x2x128xbf16>, %lse: memref<1x2x300xf32>, %acc: memref<1x300x2x128xf32>,
                     %bias: memref<2xf32>) {
  attn.attention_grad
      ins(%q, %q, %q, %q, %q, %lse : memref<1x300x2x128xbf16>, memref<1x300x2x128xbf16>,
          memref<1x300x2x128xbf16>, memref<1x300x2x128xbf16>, memref<1x300x2x128xbf16>, memref<1x2x300xf32>)
      outs(%q, %q, %q : memref<1x300x2x128xbf16>, memref<1x300x2x128xbf16>, memref<1x300x2x128xbf16>)
      workspace(%acc, %lse : memref<1x300x2x128xf32>, memref<1x2x300xf32>) scale(0.5) softcap(30.0)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
        %x = memref.load %bias[%h] : memref<2xf32>
        %r = arith.addf %s, %x : f32
        attn.yield %r : f32
      }
      mask_mod {
      ^bb0(%b: index, %h: index, %i: index, %j: index):
        %r = arith.cmpi ule, %j, %i : index
        attn.yield %r : i1
      }
  return
}

// -----

// Varlen: each role keeps the program's run-time guard (programs past their
// sequence's end do nothing).
// CHECK-LABEL: func.func @varlen
// CHECK: kind = #attn.program_kind<grad_kv>
// CHECK: attn.warp_specialize consumers(2) producer {
// CHECK:   scf.if
// CHECK:     attn.channel_put
// CHECK: } consumer(
// CHECK:   scf.if
// CHECK:     attn.channel_get
func.func @varlen(%q: memref<1x300x4x128xbf16>, %k: memref<1x50x1x128xbf16>, %lse: memref<1x4x300xf32>,
                  %acc: memref<1x300x4x128xf32>, %cq: memref<3xi32>, %ck: memref<3xi32>) {
  attn.attention_grad
      ins(%q, %k, %k, %q, %q, %lse : memref<1x300x4x128xbf16>, memref<1x50x1x128xbf16>,
          memref<1x50x1x128xbf16>, memref<1x300x4x128xbf16>, memref<1x300x4x128xbf16>, memref<1x4x300xf32>)
      cu_seqlens(%cq, %ck : memref<3xi32>, memref<3xi32>)
      outs(%q, %k, %k : memref<1x300x4x128xbf16>, memref<1x50x1x128xbf16>, memref<1x50x1x128xbf16>)
      workspace(%acc, %lse : memref<1x300x4x128xf32>, memref<1x4x300xf32>) mask<causal, bottom_right>
  return
}
