// RUN: attn-opt %s -split-input-file -verify-diagnostics

// Negative tests for the warp-specialized level: one split per verifier
// branch of dialects/attn/AttnWarpOps.cpp.

// expected-error @+1 {{a channel needs at least one slot, got depth 0}}
func.func @f(%c: !attn.channel<[tensor<64x64xbf16>], 0>) {
  return
}

// -----

// expected-error @+1 {{channel parts must be static rank-2 tiles or rank-1 per-row values, got 'tensor<2x64x64xbf16>'}}
func.func @f(%c: !attn.channel<[tensor<2x64x64xbf16>], 2>) {
  return
}

// -----

// expected-error @+1 {{channel parts must be static rank-2 tiles or rank-1 per-row values, got 'tensor<?xf32>'}}
func.func @f(%c: !attn.channel<[tensor<?xf32>], 2>) {
  return
}

// -----

// expected-error @+2 {{expected non-function type}}
// expected-error @+1 {{failed to parse Attn_ChannelType parameter 'parts'}}
func.func @f(%c: !attn.channel<[], 2>) {
  return
}

// -----

func.func @f(%c: !attn.channel<[tensor<64x64xbf16>], 2>, %t: tensor<64x32xbf16>) {
  // expected-error @+1 {{tiles must match the channel's parts ('tensor<64x64xbf16>')}}
  attn.channel_put %c, %t : !attn.channel<[tensor<64x64xbf16>], 2>, tensor<64x32xbf16>
  return
}

// -----

func.func @f(%c: !attn.channel<[tensor<64x64xbf16>], 2>) {
  // expected-error @+1 {{tiles must match the channel's parts ('tensor<64x64xbf16>')}}
  %a, %b, %tok = attn.channel_get %c : !attn.channel<[tensor<64x64xbf16>], 2> -> tensor<64x64xbf16>, tensor<64x64xbf16>, !attn.token
  return
}

// -----

func.func @f(%c: !attn.channel<[tensor<64x64xbf16>], 2>, %tok: !attn.token) {
  // expected-error @+1 {{part 1 of a channel of 1 part(s)}}
  attn.channel_release %c[1], %tok : !attn.channel<[tensor<64x64xbf16>], 2>
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{the consumer region takes its warpgroup index (one index argument)}}
  "attn.warp_specialize"() ({
    attn.yield
  }, {
  ^bb0(%a: i32):
    attn.yield
  }) {consumers = 2 : i64} : () -> ()
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{the producer region takes no arguments}}
  "attn.warp_specialize"() ({
  ^bb0(%a: index):
    attn.yield
  }, {
  ^bb0(%a: index):
    attn.yield
  }) {consumers = 2 : i64} : () -> ()
  return
}

// -----

func.func @f(%x: index) {
  // expected-error @+1 {{the roles yield no values}}
  "attn.warp_specialize"() ({
    attn.yield %x : index
  }, {
  ^bb0(%a: index):
    attn.yield
  }) {consumers = 2 : i64} : () -> ()
  return
}

// -----

func.func @f(%a: tensor<64x32xbf16>, %b: tensor<64x32xbf16>, %c: tensor<64x64xf32>) {
  // expected-error @+1 {{shapes do not compose: op(lhs) [64, 32], op(rhs) [64, 32], dest 'tensor<64x64xf32>'}}
  %f = attn.mma_async %a, %b into %c : tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x64xf32> -> !attn.async<tensor<64x64xf32>>
  return
}

// -----

func.func @f(%a: tensor<64x32xbf16>, %b: tensor<32x64xbf16>, %c: tensor<64x64xf32>) {
  // expected-error @+1 {{result must be the async form of 'dest'}}
  %f = attn.mma_async %a, %b into %c : tensor<64x32xbf16>, tensor<32x64xbf16>, tensor<64x64xf32> -> !attn.async<tensor<64x32xf32>>
  return
}

// -----

func.func @f(%a: tensor<64x32xbf16>, %b: tensor<32x64xbf16>, %c: !attn.async<tensor<64x32xf32>>) {
  // expected-error @+1 {{accumulates into an MMA of another type}}
  %f = attn.mma_async %a, %b into %c : tensor<64x32xbf16>, tensor<32x64xbf16>, !attn.async<tensor<64x32xf32>> -> !attn.async<tensor<64x64xf32>>
  return
}

// -----

func.func @f(%a: tensor<64x32xbf16>, %b: tensor<32x64xbf16>, %c: tensor<64x64xbf16>) {
  // expected-error @+1 {{expects rank-2 operands and an f32 destination}}
  %f = attn.mma_async %a, %b into %c : tensor<64x32xbf16>, tensor<32x64xbf16>, tensor<64x64xbf16> -> !attn.async<tensor<64x64xbf16>>
  return
}

// -----

func.func @f(%f: !attn.async<tensor<64x64xf32>>) {
  // expected-error @+1 {{result must be the completed form of the MMA}}
  %s = attn.mma_wait %f : !attn.async<tensor<64x64xf32>> -> tensor<64x32xf32>
  return
}

// -----

func.func @f(%x: index) {
  // expected-error @+1 {{must be inside a consumer role}}
  %r = attn.consumer_turn -> index {
    attn.yield %x : index
  }
  return
}

// -----

func.func @f(%x: index) {
  "attn.warp_specialize"() ({
    attn.yield
  }, {
  ^bb0(%c: index):
    // expected-error @+1 {{body must end in attn.yield of the results}}
    %r = attn.consumer_turn -> index {
      attn.yield
    }
    attn.yield
  }) {consumers = 2 : i64} : () -> ()
  return
}

// -----

// Where an MMA reads its operands (layouts present): B from shared memory.
func.func @f(%a: tensor<64x64xbf16, #attn.layout<shared>>, %b: tensor<64x64xbf16, #attn.layout<operand_a>>,
             %c: tensor<64x64xf32, #attn.layout<accumulator>>) {
  // expected-error @+1 {{the rhs (wgmma's B) is read from shared memory, got #attn.layout<operand_a>}}
  %f = attn.mma_async %a, %b transpose_rhs into %c : tensor<64x64xbf16, #attn.layout<shared>>, tensor<64x64xbf16, #attn.layout<operand_a>>,
      tensor<64x64xf32, #attn.layout<accumulator>> -> !attn.async<tensor<64x64xf32, #attn.layout<accumulator>>>
  return
}

// -----

// A from shared memory or A registers, not an accumulator fragment.
func.func @f(%a: tensor<64x64xf32, #attn.layout<accumulator>>, %b: tensor<64x64xbf16, #attn.layout<shared>>,
             %c: tensor<64x64xf32, #attn.layout<accumulator>>) {
  // expected-error @+1 {{the lhs (wgmma's A) is read from shared memory or from registers in #attn.layout<operand_a>, got #attn.layout<accumulator>}}
  %f = attn.mma_async %a, %b into %c : tensor<64x64xf32, #attn.layout<accumulator>>, tensor<64x64xbf16, #attn.layout<shared>>,
      tensor<64x64xf32, #attn.layout<accumulator>> -> !attn.async<tensor<64x64xf32, #attn.layout<accumulator>>>
  return
}

// -----

// The backward's dV += Pᵀ·dO with P still in registers: it must be staged.
func.func @f(%p: tensor<64x64xbf16, #attn.layout<operand_a>>, %do: tensor<64x128xbf16, #attn.layout<shared>>,
             %dv: tensor<64x128xf32, #attn.layout<accumulator>>) {
  // expected-error @+1 {{a register lhs (#attn.layout<operand_a>) cannot be read transposed (wgmma takes register A operands K-major only): stage it in shared memory with attn.tile_stage}}
  %f = attn.mma_async %p, %do transpose_lhs into %dv : tensor<64x64xbf16, #attn.layout<operand_a>>, tensor<64x128xbf16, #attn.layout<shared>>,
      tensor<64x128xf32, #attn.layout<accumulator>> -> !attn.async<tensor<64x128xf32, #attn.layout<accumulator>>>
  return
}

// -----

// An MN-major shared operand (B = V [K, N], N contiguous) of 8-bit elements.
func.func @f(%p: tensor<64x64xf8E4M3FN, #attn.layout<operand_a>>, %v: tensor<64x64xf8E4M3FN, #attn.layout<shared>>,
             %c: tensor<64x64xf32, #attn.layout<accumulator>>) {
  // expected-error @+1 {{a shared operand read transposed (MN-major) must hold f16 or bf16 (wgmma transposes only 16-bit elements), got 'f8E4M3FN'}}
  %f = attn.mma_async %p, %v into %c : tensor<64x64xf8E4M3FN, #attn.layout<operand_a>>, tensor<64x64xf8E4M3FN, #attn.layout<shared>>,
      tensor<64x64xf32, #attn.layout<accumulator>> -> !attn.async<tensor<64x64xf32, #attn.layout<accumulator>>>
  return
}

// -----

// attn.tile_stage: a register tile into shared memory, in a consumer.
func.func @f(%p: tensor<64x64xbf16, #attn.layout<shared>>) {
  "attn.warp_specialize"() ({
    attn.yield
  }, {
  ^bb0(%c: index):
    // expected-error @+1 {{stages a consumer's register tile (#attn.layout<operand_a> or <accumulator>), got 'tensor<64x64xbf16, #attn.layout<shared>>'}}
    %s = attn.tile_stage %p : tensor<64x64xbf16, #attn.layout<shared>> -> tensor<64x64xbf16, #attn.layout<shared>>
    attn.yield
  }) {consumers = 2 : i64} : () -> ()
  return
}

// -----

func.func @f(%p: tensor<64x64xbf16, #attn.layout<operand_a>>) {
  "attn.warp_specialize"() ({
    attn.yield
  }, {
  ^bb0(%c: index):
    // expected-error @+1 {{the result must be a #attn.layout<shared> tile, got 'tensor<64x64xbf16, #attn.layout<operand_a>>'}}
    %s = attn.tile_stage %p : tensor<64x64xbf16, #attn.layout<operand_a>> -> tensor<64x64xbf16, #attn.layout<operand_a>>
    attn.yield
  }) {consumers = 2 : i64} : () -> ()
  return
}

// -----

func.func @f(%p: tensor<64x64xbf16, #attn.layout<operand_a>>) {
  "attn.warp_specialize"() ({
    attn.yield
  }, {
  ^bb0(%c: index):
    // expected-error @+1 {{the result must have the tile's rank-2 shape and element type}}
    %s = attn.tile_stage %p : tensor<64x64xbf16, #attn.layout<operand_a>> -> tensor<64x64xf16, #attn.layout<shared>>
    attn.yield
  }) {consumers = 2 : i64} : () -> ()
  return
}

// -----

func.func @f(%p: tensor<64x64xf32, #attn.layout<accumulator>>) {
  "attn.warp_specialize"() ({
    attn.yield
  }, {
  ^bb0(%c: index):
    // expected-error @+1 {{stages 16-bit tiles (what an MMA reads), got 'f32'}}
    %s = attn.tile_stage %p : tensor<64x64xf32, #attn.layout<accumulator>> -> tensor<64x64xf32, #attn.layout<shared>>
    attn.yield
  }) {consumers = 2 : i64} : () -> ()
  return
}

// -----

func.func @f(%p: tensor<64x64xbf16, #attn.layout<operand_a>>) {
  "attn.warp_specialize"() ({
    // expected-error @+1 {{must be inside a consumer role}}
    %s = attn.tile_stage %p : tensor<64x64xbf16, #attn.layout<operand_a>> -> tensor<64x64xbf16, #attn.layout<shared>>
    attn.yield
  }, {
  ^bb0(%c: index):
    attn.yield
  }) {consumers = 2 : i64} : () -> ()
  return
}

// -----

// attn.tile_gather: the consumers' staged tiles, side by side, in a consumer.
func.func @f(%p: tensor<64x64xbf16, #attn.layout<shared>>) {
  "attn.warp_specialize"() ({
    attn.yield
  }, {
  ^bb0(%c: index):
    // expected-error @+1 {{gathers the consumers' staged tiles: the operand must be an attn.tile_stage result}}
    %all = attn.tile_gather %p : tensor<64x64xbf16, #attn.layout<shared>> -> tensor<64x128xbf16, #attn.layout<shared>>
    attn.yield
  }) {consumers = 2 : i64} : () -> ()
  return
}

// -----

func.func @f(%p: tensor<64x64xbf16, #attn.layout<operand_a>>) {
  "attn.warp_specialize"() ({
    attn.yield
  }, {
  ^bb0(%c: index):
    %s = attn.tile_stage %p : tensor<64x64xbf16, #attn.layout<operand_a>> -> tensor<64x64xbf16, #attn.layout<shared>>
    // expected-error @+1 {{the result must be the 2 consumers' tiles side by side: 64x128 of 'bf16', got 'tensor<64x192xbf16, #attn.layout<shared>>'}}
    %all = attn.tile_gather %s : tensor<64x64xbf16, #attn.layout<shared>> -> tensor<64x192xbf16, #attn.layout<shared>>
    attn.yield
  }) {consumers = 2 : i64} : () -> ()
  return
}

// -----

func.func @f(%p: tensor<64x64xbf16, #attn.layout<operand_a>>) {
  "attn.warp_specialize"() ({
    attn.yield
  }, {
  ^bb0(%c: index):
    %s = attn.tile_stage %p : tensor<64x64xbf16, #attn.layout<operand_a>> -> tensor<64x64xbf16, #attn.layout<shared>>
    // expected-error @+1 {{the result must be a #attn.layout<shared> tile, got 'tensor<64x128xbf16, #attn.layout<operand_a>>'}}
    %all = attn.tile_gather %s : tensor<64x64xbf16, #attn.layout<shared>> -> tensor<64x128xbf16, #attn.layout<operand_a>>
    attn.yield
  }) {consumers = 2 : i64} : () -> ()
  return
}

// -----

// A gather in a producer (here of a warp_specialize nested in a consumer,
// where the staged tile is in scope): not a consumer collective.
func.func @f(%p: tensor<64x64xbf16, #attn.layout<operand_a>>) {
  "attn.warp_specialize"() ({
    attn.yield
  }, {
  ^bb0(%c: index):
    %s = attn.tile_stage %p : tensor<64x64xbf16, #attn.layout<operand_a>> -> tensor<64x64xbf16, #attn.layout<shared>>
    "attn.warp_specialize"() ({
      // expected-error @+1 {{must be inside a consumer role}}
      %all = attn.tile_gather %s : tensor<64x64xbf16, #attn.layout<shared>> -> tensor<64x128xbf16, #attn.layout<shared>>
      attn.yield
    }, {
    ^bb0(%d: index):
      attn.yield
    }) {consumers = 2 : i64} : () -> ()
    attn.yield
  }) {consumers = 2 : i64} : () -> ()
  return
}
