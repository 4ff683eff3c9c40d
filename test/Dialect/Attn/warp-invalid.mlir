// RUN: attn-opt %s -split-input-file -verify-diagnostics

// Negative tests for the warp-specialized level: one split per verifier
// branch of dialects/attn/AttnWarpOps.cpp.

// expected-error @+1 {{a channel needs at least one slot, got depth 0}}
func.func @f(%c: !attn.channel<[tensor<64x64xbf16>], 0>) {
  return
}

// -----

// expected-error @+1 {{channel parts must be static rank-2 tiles, got 'tensor<64xbf16>'}}
func.func @f(%c: !attn.channel<[tensor<64xbf16>], 2>) {
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
