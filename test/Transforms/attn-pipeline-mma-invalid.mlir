// RUN: attn-opt %s -split-input-file -attn-pipeline-mma -verify-diagnostics

// attn-pipeline-mma's diagnostics on hand-written L3 (the consumer of one
// warpgroup as attn-partition-roles leaves it, reduced to the ops the stage
// reads: the K/V get, S = Q·Kᵀ, the accumulator's rescale, P in V's type,
// O += P·V, the releases). Each split is one edit the stage cannot schedule;
// it must say so at the op, not reorder MMAs it does not understand. The
// serial schedule only makes each MMA synchronous and matches nothing, so the
// edits run under deferred and overlap.

// The stage schedules what the grid's plan says: a program without a plan is
// refused.
func.func @no_plan(%o: memref<1x64x1x64xbf16>) {
  %c1 = arith.constant 1 : index
  attn.program_grid (%seq, %head, %q_block) in (%c1, %c1, %c1) block_m(64) {
    // expected-error @+1 {{attn-pipeline-mma: a warp-specialized program needs its grid's plan}}
    attn.warp_specialize consumers(1) producer {
    } consumer(%c: index) {
    }
  }
  return
}

// -----

// Nor is one outside any program grid.
func.func @no_grid() {
  // expected-error @+1 {{attn-pipeline-mma: a warp-specialized program needs its grid's plan}}
  attn.warp_specialize consumers(1) producer {
  } consumer(%c: index) {
  }
  return
}

// -----

#shared = #attn.layout<shared>
#acc = #attn.layout<accumulator>
#opa = #attn.layout<operand_a>
!q = !attn.channel<[tensor<64x64xbf16, #shared>], 1>
!kv = !attn.channel<[tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>], 2>
!t = tensor<64x64xbf16, #shared>
!f = tensor<64x64xf32, #acc>
!p = tensor<64x64xbf16, #opa>

// Deferred: V is never released. The stage moves V's release after the wait
// that completes its P·V; with none there is no KV block to pipeline.
func.func @no_v_release(%o: memref<1x64x1x64xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  attn.program_grid (%seq, %head, %q_block) in (%c1, %c1, %c1) block_m(64) plan(<stages = 2, ping_pong = false, pv_schedule = deferred, persistent_ctas = 0, paired_tiles = false, epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>) {
    %qc = attn.channel_create : !q
    %kvc = attn.channel_create : !kv
    attn.warp_specialize consumers(1) producer {
    } consumer(%c: index) {
      %sbuf = bufferization.alloc_tensor() : !f
      %pbuf = bufferization.alloc_tensor() : !p
      %abuf = bufferization.alloc_tensor() : !f
      %qt, %qtok = attn.channel_get %qc : !q -> !t, !attn.token
      %acc0 = attn.tile_fill %zero into %abuf : f32, !f -> !f
      // expected-error @+1 {{attn-pipeline-mma: expected a consumer's KV loop (a K/V get, Q·Kᵀ, P·V and V's release in one body)}}
      %r = scf.for %i = %c0 to %c2 step %c1 iter_args(%acc = %acc0) -> (!f) {
        %kvt:2, %tok = attn.channel_get %kvc : !kv -> !t, !t, !attn.token
        %s0 = attn.tile_fill %zero into %sbuf : f32, !f -> !f
        %s = attn.tile_matmul %qt, %kvt#0 transpose_rhs into %s0 : !t, !t, !f -> !f
        attn.channel_release %kvc[0], %tok : !kv
        %sc = attn.tile_map ins(%acc : !f) into %acc : !f {
        ^bb0(%x: f32):
          attn.yield %x : f32
        } -> !f
        %p = attn.tile_map ins(%s : !f) into %pbuf : !p {
        ^bb0(%x: f32):
          %y = arith.truncf %x : f32 to bf16
          attn.yield %y : bf16
        } -> !p
        %pv = attn.tile_matmul %p, %kvt#1 into %sc : !p, !t, !f -> !f
        scf.yield %pv : !f
      }
      attn.channel_release %qc[0], %qtok : !q
      attn.tile_store %r into %o[%seq, %c0, %head] rows(%c64) : !f, memref<1x64x1x64xbf16>
    }
  }
  return
}

// -----

#shared = #attn.layout<shared>
#acc = #attn.layout<accumulator>
#opa = #attn.layout<operand_a>
!q = !attn.channel<[tensor<64x64xbf16, #shared>], 1>
!kv = !attn.channel<[tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>], 2>
!t = tensor<64x64xbf16, #shared>
!f = tensor<64x64xf32, #acc>
!p = tensor<64x64xbf16, #opa>

// Overlap: P·V accumulates into the loop's accumulator without the rescale
// (acc·alpha) the stage moves after the previous block's P·V completes.
func.func @no_rescale(%o: memref<1x64x1x64xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  attn.program_grid (%seq, %head, %q_block) in (%c1, %c1, %c1) block_m(64) plan(<stages = 2, ping_pong = false, pv_schedule = overlap, persistent_ctas = 0, paired_tiles = false, epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>) {
    %qc = attn.channel_create : !q
    %kvc = attn.channel_create : !kv
    attn.warp_specialize consumers(1) producer {
    } consumer(%c: index) {
      %sbuf = bufferization.alloc_tensor() : !f
      %pbuf = bufferization.alloc_tensor() : !p
      %abuf = bufferization.alloc_tensor() : !f
      %qt, %qtok = attn.channel_get %qc : !q -> !t, !attn.token
      %acc0 = attn.tile_fill %zero into %abuf : f32, !f -> !f
      // expected-error @+1 {{attn-pipeline-mma: expected the accumulator (iter_arg 0) rescaled, then P·V accumulated into it and yielded}}
      %r = scf.for %i = %c0 to %c2 step %c1 iter_args(%acc = %acc0) -> (!f) {
        %kvt:2, %tok = attn.channel_get %kvc : !kv -> !t, !t, !attn.token
        %s0 = attn.tile_fill %zero into %sbuf : f32, !f -> !f
        %s = attn.tile_matmul %qt, %kvt#0 transpose_rhs into %s0 : !t, !t, !f -> !f
        attn.channel_release %kvc[0], %tok : !kv
        %p = attn.tile_map ins(%s : !f) into %pbuf : !p {
        ^bb0(%x: f32):
          %y = arith.truncf %x : f32 to bf16
          attn.yield %y : bf16
        } -> !p
        %pv = attn.tile_matmul %p, %kvt#1 into %acc : !p, !t, !f -> !f
        attn.channel_release %kvc[1], %tok : !kv
        scf.yield %pv : !f
      }
      attn.channel_release %qc[0], %qtok : !q
      attn.tile_store %r into %o[%seq, %c0, %head] rows(%c64) : !f, memref<1x64x1x64xbf16>
    }
  }
  return
}

// -----

#shared = #attn.layout<shared>
#acc = #attn.layout<accumulator>
#opa = #attn.layout<operand_a>
!q = !attn.channel<[tensor<64x64xbf16, #shared>], 1>
!kv = !attn.channel<[tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>], 2>
!t = tensor<64x64xbf16, #shared>
!f = tensor<64x64xf32, #acc>
!p = tensor<64x64xbf16, #opa>

// Overlap: the tile's two KV loops both start from the initial state (two
// partial sums, not attn-tile's sequence of one running state). The overlap
// carries one P·V from each loop into the next, so it needs the sequence.
func.func @loops_not_in_sequence(%o: memref<1x64x1x64xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  attn.program_grid (%seq, %head, %q_block) in (%c1, %c1, %c1) block_m(64) plan(<stages = 2, ping_pong = false, pv_schedule = overlap, persistent_ctas = 0, paired_tiles = false, epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>) {
    %qc = attn.channel_create : !q
    %kvc = attn.channel_create : !kv
    attn.warp_specialize consumers(1) producer {
    } consumer(%c: index) {
      %sbuf = bufferization.alloc_tensor() : !f
      %pbuf = bufferization.alloc_tensor() : !p
      %abuf = bufferization.alloc_tensor() : !f
      %qt, %qtok = attn.channel_get %qc : !q -> !t, !attn.token
      %acc0 = attn.tile_fill %zero into %abuf : f32, !f -> !f
      %r = scf.for %i = %c0 to %c2 step %c1 iter_args(%acc = %acc0) -> (!f) {
        %kvt:2, %tok = attn.channel_get %kvc : !kv -> !t, !t, !attn.token
        %s0 = attn.tile_fill %zero into %sbuf : f32, !f -> !f
        %s = attn.tile_matmul %qt, %kvt#0 transpose_rhs into %s0 : !t, !t, !f -> !f
        attn.channel_release %kvc[0], %tok : !kv
        %sc = attn.tile_map ins(%acc : !f) into %acc : !f {
        ^bb0(%x: f32):
          attn.yield %x : f32
        } -> !f
        %p = attn.tile_map ins(%s : !f) into %pbuf : !p {
        ^bb0(%x: f32):
          %y = arith.truncf %x : f32 to bf16
          attn.yield %y : bf16
        } -> !p
        %pv = attn.tile_matmul %p, %kvt#1 into %sc : !p, !t, !f -> !f
        attn.channel_release %kvc[1], %tok : !kv
        scf.yield %pv : !f
      }
      // expected-error @+1 {{attn-pipeline-mma: pv_schedule = overlap needs the tile's KV loops in sequence, each starting from the previous one's state (attn-tile's)}}
      %r2 = scf.for %i = %c2 to %c4 step %c1 iter_args(%acc = %acc0) -> (!f) {
        %kvt:2, %tok = attn.channel_get %kvc : !kv -> !t, !t, !attn.token
        %s0 = attn.tile_fill %zero into %sbuf : f32, !f -> !f
        %s = attn.tile_matmul %qt, %kvt#0 transpose_rhs into %s0 : !t, !t, !f -> !f
        attn.channel_release %kvc[0], %tok : !kv
        %sc = attn.tile_map ins(%acc : !f) into %acc : !f {
        ^bb0(%x: f32):
          attn.yield %x : f32
        } -> !f
        %p = attn.tile_map ins(%s : !f) into %pbuf : !p {
        ^bb0(%x: f32):
          %y = arith.truncf %x : f32 to bf16
          attn.yield %y : bf16
        } -> !p
        %pv = attn.tile_matmul %p, %kvt#1 into %sc : !p, !t, !f -> !f
        attn.channel_release %kvc[1], %tok : !kv
        scf.yield %pv : !f
      }
      attn.channel_release %qc[0], %qtok : !q
      attn.tile_store %r2 into %o[%seq, %c0, %head] rows(%c64) : !f, memref<1x64x1x64xbf16>
    }
  }
  return
}
