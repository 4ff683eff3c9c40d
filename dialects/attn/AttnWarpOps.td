//===- AttnWarpOps.td - attn dialect: warp-specialized level (L3) -*- td -*-===//
//
// L3 (--attn-warp-specialize): a program split into roles — a producer that
// moves tiles into shared memory and consumer warpgroups that compute — which
// communicate through channels: rings of buffer slots with put / get /
// release, in the spirit of Triton's NVWS arefs. The schedule shows as ops:
// asynchronous MMAs and their waits (the P·V pipelining), turns between the
// consumers (ping-pong). There are no barrier phases, ring indices or
// register budgets here: the conversion to NVGPU/NVVM chooses them.
//
// Tiles carry their layout as the tensor encoding #attn.layout<...>: in
// shared memory (what a channel holds), an MMA accumulator fragment, the A
// operand of a register-sourced MMA, or per-row values of an accumulator.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_WARP_OPS_TD
#define ATTN_WARP_OPS_TD

include "attn/AttnBase.td"
include "attn/AttnTileOps.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Types and layouts
//===----------------------------------------------------------------------===//

class Attn_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Attn_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

def Attn_ChannelType : Attn_Type<"Channel", "channel"> {
  let summary = "A ring of buffer slots between a producer and consumers";
  let description = [{
    `depth` slots, each holding one tile of every part type: a put fills the
    next slot (waiting until its previous contents were released), a get
    takes the next filled slot. Every consumer warpgroup gets every slot; a
    slot is free again once each of its parts was released by all of them.
    Parts are rank-2 tiles or rank-1 per-row values (the backward's LSE and
    D of a q-block, f32).

    ```mlir
    !attn.channel<[tensor<128x128xbf16, #attn.layout<shared>>,
                   tensor<128x128xbf16, #attn.layout<shared>>], 2>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"Type">:$parts, "int64_t":$depth);
  let assemblyFormat = "`<` `[` $parts `]` `,` $depth `>`";
  let genVerifyDecl = 1;
}

def Attn_TokenType : Attn_Type<"Token", "token"> {
  let summary = "The slot a channel get took, for releasing its parts";
}

def Attn_AsyncType : Attn_Type<"Async", "async"> {
  let summary = "A tile an asynchronous MMA is still computing";
  let description = [{
    Only attn.mma_wait reads it (or a later attn.mma_async accumulating into
    it); until then its registers belong to the tensor cores.
  }];
  let parameters = (ins "RankedTensorType":$value);
  let assemblyFormat = "`<` $value `>`";
}

def Attn_LayoutKind : I32EnumAttr<"LayoutKind", "where a tile lives", [
    // A buffer in shared memory (swizzled rows, in chunks of 64, 32 or 16
    // columns by the tile's width), read by the MMA through a matrix
    // descriptor.
    I32EnumAttrCase<"Shared", 0, "shared">,
    // An MMA accumulator fragment: 64 rows per m64 wgmma, N/2 f32 per thread
    // and m64 block (a consumer of the backward holds R/64 of them for the
    // R query rows of its scores).
    I32EnumAttrCase<"Accumulator", 1, "accumulator">,
    // The A operand of a register-sourced MMA (16-bit pairs, N/4 per thread).
    I32EnumAttrCase<"OperandA", 2, "operand_a">,
    // Per-row values of an accumulator: two rows per thread.
    I32EnumAttrCase<"Rows", 3, "rows">
  ]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}

def Attn_LayoutAttr : Attn_Attr<"Layout", "layout"> {
  let summary = "Where a tile of the warp-specialized level lives";
  let parameters = (ins EnumParameter<Attn_LayoutKind>:$kind);
  let assemblyFormat = "`<` $kind `>`";
}

//===----------------------------------------------------------------------===//
// Roles and channels
//===----------------------------------------------------------------------===//

def Attn_WarpSpecializeOp : Attn_Op<"warp_specialize", [
    RecursiveMemoryEffects, SingleBlockImplicitTerminator<"YieldOp">,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>
  ]> {
  let summary = "A program run by a producer and consumer warpgroups";
  let description = [{
    The `producer` region runs once (its copies are issued by one thread);
    the `consumer` region runs once per consumer warpgroup c in
    [0, consumers), its tiles being that warpgroup's rows of the program.
    The roles share only channels.

    ```mlir
    attn.warp_specialize consumers(2) producer {
      ...
      attn.channel_put %kv, %k, %v : !attn.channel<...>, ...
    } consumer(%c: index) {
      %k, %v, %tok = attn.channel_get %kv : ...
      ...
    }
    ```
  }];
  let arguments = (ins ConfinedAttr<I64Attr, [IntPositive]>:$consumers);
  let regions = (region SizedRegion<1>:$producer, SizedRegion<1>:$consumer);
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
}

def Attn_ChannelCreateOp : Attn_Op<"channel_create", [
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "A ring of buffer slots (shared memory on Hopper)";
  let description = [{
    ```mlir
    %kv = attn.channel_create : !attn.channel<[tensor<128x128xbf16,
        #attn.layout<shared>>, tensor<128x128xbf16, #attn.layout<shared>>], 2>
    ```
  }];
  let results = (outs Attn_ChannelType:$channel);
  let assemblyFormat = "attr-dict `:` type($channel)";
}

def Attn_ChannelPutOp : Attn_Op<"channel_put"> {
  let summary = "Fills the channel's next slot with a tile per part";
  let description = [{
    Waits until the slot is free, then writes the tiles (on Hopper each must
    be an attn.tile_load: a TMA copy whose completion the getters wait for).

    ```mlir
    attn.channel_put %kv, %k, %v : !attn.channel<...>, tensor<...>, tensor<...>
    ```
  }];
  let arguments = (ins
    Arg<Attn_ChannelType, "", [MemWrite]>:$channel,
    Variadic<Attn_TileTensor>:$tiles);
  let assemblyFormat = [{
    $channel `,` $tiles attr-dict `:` type($channel) `,` type($tiles)
  }];
  let hasVerifier = 1;
}

def Attn_ChannelGetOp : Attn_Op<"channel_get"> {
  let summary = "Takes the channel's next filled slot";
  let description = [{
    Returns the slot's tiles (valid until their part is released) and the
    token that releases them.

    ```mlir
    %k, %v, %tok = attn.channel_get %kv : !attn.channel<...>
        -> tensor<...>, tensor<...>, !attn.token
    ```
  }];
  let arguments = (ins Arg<Attn_ChannelType, "", [MemRead]>:$channel);
  let results = (outs Variadic<Attn_TileTensor>:$tiles, Attn_TokenType:$token);
  let assemblyFormat = [{
    $channel attr-dict `:` type($channel) `->` type(results)
  }];
  let hasVerifier = 1;
}

def Attn_ChannelReleaseOp : Attn_Op<"channel_release"> {
  let summary = "Gives a part of a slot back to the producer";
  let description = [{
    The tile of part `part` that the get of `token` returned is no longer
    read by this consumer. Parts are released separately (K a softmax before
    V); the slot is free once every part was released by every consumer.

    ```mlir
    attn.channel_release %kv[0], %tok : !attn.channel<...>
    ```
  }];
  let arguments = (ins Arg<Attn_ChannelType, "", [MemWrite]>:$channel,
                       Attn_TokenType:$token,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$part);
  let assemblyFormat = [{
    $channel `[` $part `]` `,` $token attr-dict `:` type($channel)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// The schedule
//===----------------------------------------------------------------------===//

def Attn_MmaAsyncOp : Attn_Op<"mma_async"> {
  let summary = "Starts dest + op(lhs)·op(rhs) on the tensor cores";
  let description = [{
    attn.tile_matmul, issued without waiting: the result is ready only after
    its attn.mma_wait. `dest` may itself be in flight (an attn.async):
    chained MMAs accumulate in order.

    Where the operands are read from is their layout: `rhs` (wgmma's B) from
    shared memory; `lhs` (A) from shared memory or from registers
    (`operand_a`), and registers only as they are (K-major): a transposed
    register tile must be staged in shared memory first (attn.tile_stage).
    A shared operand read transposed (`transpose_lhs`, or `rhs` without
    `transpose_rhs`) is an MN-major descriptor, which wgmma allows for
    16-bit elements.

    ```mlir
    %f = attn.mma_async %q, %k transpose_rhs into %z : ... -> !attn.async<...>
    ```
  }];
  let arguments = (ins Attn_TileTensor:$lhs, Attn_TileTensor:$rhs,
                       AnyTypeOf<[Attn_TileTensor, Attn_AsyncType]>:$dest,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs Attn_AsyncType:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`transpose_lhs` $transpose_lhs^)?
    (`transpose_rhs` $transpose_rhs^)? `into` $dest
    attr-dict `:` type($lhs) `,` type($rhs) `,` type($dest) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Attn_MmaReadyOp : Attn_Op<"mma_ready", [Pure,
    TypesMatchWith<"result is the asynchronous form of the value", "value",
                   "result", "::mlir::attn::AsyncType::get($_self.getContext(), "
                   "::llvm::cast<::mlir::RankedTensorType>($_self))">]> {
  let summary = "A completed tile in the asynchronous form";
  let description = [{
    The start of a chain of asynchronous MMAs that is carried around a loop
    (the deferred P·V: the first iteration's accumulator is not in flight).
    Waiting for it costs nothing.

    ```mlir
    %f = attn.mma_ready %acc : tensor<64x128xf32, #attn.layout<accumulator>>
    ```
  }];
  let arguments = (ins Attn_TileTensor:$value);
  let results = (outs Attn_AsyncType:$result);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

def Attn_MmaWaitOp : Attn_Op<"mma_wait"> {
  let summary = "Waits for an asynchronous MMA (and the ones before it)";
  let description = [{
    MMAs complete in the order they were started: waiting for one completes
    every earlier one; later ones may stay in flight.

    ```mlir
    %s = attn.mma_wait %f : !attn.async<tensor<64x128xf32, #attn.layout<accumulator>>>
        -> tensor<64x128xf32, #attn.layout<accumulator>>
    ```
  }];
  let arguments = (ins Attn_AsyncType:$pending);
  let results = (outs Attn_TileTensor:$result);
  let assemblyFormat = "$pending attr-dict `:` type($pending) `->` type($result)";
  let hasVerifier = 1;
}

def Attn_TileStageOp : Attn_Op<"tile_stage"> {
  let summary = "Copies a consumer's register tile into shared memory";
  let description = [{
    The tile, held in the registers of a consumer warpgroup, written to a
    shared-memory buffer of that warpgroup and returned as a `shared` tile:
    how an MMA reads a register tile transposed (wgmma takes a register A
    operand K-major only). The backward stages P and dS for dV += Pᵀ·dO and
    dK += dSᵀ·Q, as FlashAttention-3 does where the accumulators are not
    computed transposed.

    Each op has one buffer per consumer warpgroup: running it again
    overwrites the buffer, so every MMA that reads the previous contents
    must have been waited for before (attn-pipeline-mma orders them so).
    The conversion writes it with stmatrix, then fences the async proxy and
    synchronizes the warpgroup before an MMA reads it.

    ```mlir
    %ps = attn.tile_stage %p : tensor<64x64xbf16, #attn.layout<operand_a>>
        -> tensor<64x64xbf16, #attn.layout<shared>>
    ```
  }];
  let arguments = (ins Attn_TileTensor:$tile);
  let results = (outs Attn_TileTensor:$result);
  let assemblyFormat = "$tile attr-dict `:` type($tile) `->` type($result)";
  let hasVerifier = 1;
}

def Attn_TileGatherOp : Attn_Op<"tile_gather"> {
  let summary = "The staged tiles of every consumer warpgroup, side by side";
  let description = [{
    A collective of the consumer warpgroups: each runs it on its own staged
    tile [R, C] (an attn.tile_stage result) and gets every consumer's,
    consumer j's at columns [j·C, (j + 1)·C) of an [R, n·C] shared tile (n
    consumers). The backward's dQ = dS·K over all of a program's keys: the
    consumers own 64 keys each, so each computes its share of dQ's columns
    from every consumer's dS rather than all of dQ from its own keys (half
    the dQ reductions into global memory with two consumers).

    Every consumer runs it as often as the others, in the same order. The
    conversion synchronizes the consumers after their stage (every tile is
    written before any MMA reads the gathered one), and before the stage is
    rewritten (no consumer still reads the previous contents: the MMAs that
    read the gathered tile must have been waited for before the stage runs
    again, which attn-pipeline-mma orders so and the conversion checks).

    ```mlir
    %all = attn.tile_gather %ds : tensor<64x64xbf16, #attn.layout<shared>>
        -> tensor<64x128xbf16, #attn.layout<shared>>
    ```
  }];
  let arguments = (ins Attn_TileTensor:$tile);
  let results = (outs Attn_TileTensor:$result);
  let assemblyFormat = "$tile attr-dict `:` type($tile) `->` type($result)";
  let hasVerifier = 1;
}

def Attn_ConsumerTurnOp : Attn_Op<"consumer_turn", [
    RecursiveMemoryEffects, SingleBlock]> {
  let summary = "A region the consumer warpgroups run one at a time, in turn";
  let description = [{
    Ping-pong: consumer c enters after consumer c - 1 (mod n) left its
    previous turn, so that one warpgroup's MMAs are issued while another
    computes its softmax. The region yields the values it defines that are
    used after it.

    ```mlir
    %s = attn.consumer_turn -> !attn.async<...> {
      %f = attn.mma_async ...
      attn.yield %f : !attn.async<...>
    }
    ```
  }];
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "(`->` type($results)^)? $body attr-dict";
  let hasRegionVerifier = 1;
}

#endif // ATTN_WARP_OPS_TD
