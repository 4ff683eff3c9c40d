// attn-convert-to-nvgpu's diagnostics on hand-written L3: each split is the
// kernel of attn-convert-to-nvgpu-l3.mlir (which converts) with one edit the
// conversion has no lowering for; it must say so at the op, not emit a wrong
// kernel.
// RUN: attn-opt %s -split-input-file -attn-convert-to-nvgpu -verify-diagnostics

#shared = #attn.layout<shared>
#acc = #attn.layout<accumulator>
#opa = #attn.layout<operand_a>
!q = !attn.channel<[tensor<64x64xbf16, #shared>], 1>
!kv = !attn.channel<[tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>], 2>

// P for the P·V wgmma is packed from f32 registers: a tile_map making an
// operand_a tile must end in its rounding.
func.func @rounded_then_negated(%q: memref<1x64x1x64xbf16>, %k: memref<1x192x1x64xbf16>,
                %v: memref<1x192x1x64xbf16>, %o: memref<1x64x1x64xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  attn.program_grid (%seq, %head, %q_block) in (%c1, %c1, %c1) block_m(64) plan(<stages = 2, ping_pong = false, pv_schedule = serial, persistent_ctas = 0, paired_tiles = false, epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>) {
    %qc = attn.channel_create : !q
    %kvc = attn.channel_create : !kv
    attn.warp_specialize consumers(1) producer {
      %qb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
      %qt = attn.tile_load %q[%seq, %c0, %head] rows(%c64) into %qb : memref<1x64x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
      attn.channel_put %qc, %qt : !q, tensor<64x64xbf16, #shared>
      scf.for %j = %c0 to %c3 step %c1 {
        %kv_pos = arith.muli %j, %c64 : index
        %kb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %kt = attn.tile_load %k[%seq, %kv_pos, %head] rows(%c64) into %kb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        %vb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %vt = attn.tile_load %v[%seq, %kv_pos, %head] rows(%c64) into %vb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        attn.channel_put %kvc, %kt, %vt : !kv, tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>
      }
    } consumer(%c: index) {
      %sb = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %pb = bufferization.alloc_tensor() : tensor<64x64xbf16, #opa>
      %ob = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %qt, %qtok = attn.channel_get %qc : !q -> tensor<64x64xbf16, #shared>, !attn.token
      %o0 = attn.tile_fill %zero into %ob : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
      %out = scf.for %j = %c0 to %c3 step %c1 iter_args(%acc = %o0) -> (tensor<64x64xf32, #acc>) {
        %kv:2, %tok = attn.channel_get %kvc : !kv -> tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, !attn.token
        %s0 = attn.tile_fill %zero into %sb : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
        // S = Q·Kᵀ
        %sa = attn.mma_async %qt, %kv#0 transpose_rhs into %s0 : tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %s = attn.mma_wait %sa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        attn.channel_release %kvc[0], %tok : !kv
        // P = bf16(S)
        %p = attn.tile_map ins(%s : tensor<64x64xf32, #acc>) into %pb : tensor<64x64xbf16, #opa> {
        ^bb0(%x: f32):
          %r = arith.truncf %x : f32 to bf16
          attn.yield %r : bf16
        } -> tensor<64x64xbf16, #opa>
        // expected-error @+1 {{attn-convert-to-nvgpu: an A operand is an f32 tile rounded to the MMA's type (its body must end in arith.truncf)}}
        %negated = attn.tile_map ins(%s : tensor<64x64xf32, #acc>) into %pb : tensor<64x64xbf16, #opa> {
        ^bb0(%x: f32):
          %r = arith.truncf %x : f32 to bf16
          %n = arith.negf %r : bf16
          attn.yield %n : bf16
        } -> tensor<64x64xbf16, #opa>
        // O += P·V
        %oa = attn.mma_async %p, %kv#1 into %acc : tensor<64x64xbf16, #opa>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %on = attn.mma_wait %oa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        attn.channel_release %kvc[1], %tok : !kv
        scf.yield %on : tensor<64x64xf32, #acc>
      }
      attn.channel_release %qc[0], %qtok : !q
      attn.tile_store %out into %o[%seq, %c0, %head] rows(%c64) : tensor<64x64xf32, #acc>, memref<1x64x1x64xbf16>
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

// P·V takes A from registers (Q·Kᵀ both operands from shared memory): a
// shared-memory A without a transposed B has no lowering.
func.func @shared_a(%q: memref<1x64x1x64xbf16>, %k: memref<1x192x1x64xbf16>,
                %v: memref<1x192x1x64xbf16>, %o: memref<1x64x1x64xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  attn.program_grid (%seq, %head, %q_block) in (%c1, %c1, %c1) block_m(64) plan(<stages = 2, ping_pong = false, pv_schedule = serial, persistent_ctas = 0, paired_tiles = false, epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>) {
    %qc = attn.channel_create : !q
    %kvc = attn.channel_create : !kv
    attn.warp_specialize consumers(1) producer {
      %qb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
      %qt = attn.tile_load %q[%seq, %c0, %head] rows(%c64) into %qb : memref<1x64x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
      attn.channel_put %qc, %qt : !q, tensor<64x64xbf16, #shared>
      scf.for %j = %c0 to %c3 step %c1 {
        %kv_pos = arith.muli %j, %c64 : index
        %kb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %kt = attn.tile_load %k[%seq, %kv_pos, %head] rows(%c64) into %kb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        %vb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %vt = attn.tile_load %v[%seq, %kv_pos, %head] rows(%c64) into %vb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        attn.channel_put %kvc, %kt, %vt : !kv, tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>
      }
    } consumer(%c: index) {
      %sb = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %pb = bufferization.alloc_tensor() : tensor<64x64xbf16, #opa>
      %ob = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %qt, %qtok = attn.channel_get %qc : !q -> tensor<64x64xbf16, #shared>, !attn.token
      %o0 = attn.tile_fill %zero into %ob : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
      %out = scf.for %j = %c0 to %c3 step %c1 iter_args(%acc = %o0) -> (tensor<64x64xf32, #acc>) {
        %kv:2, %tok = attn.channel_get %kvc : !kv -> tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, !attn.token
        %s0 = attn.tile_fill %zero into %sb : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
        // S = Q·Kᵀ
        %sa = attn.mma_async %qt, %kv#0 transpose_rhs into %s0 : tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %s = attn.mma_wait %sa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        attn.channel_release %kvc[0], %tok : !kv
        // P = bf16(S)
        %p = attn.tile_map ins(%s : tensor<64x64xf32, #acc>) into %pb : tensor<64x64xbf16, #opa> {
        ^bb0(%x: f32):
          %r = arith.truncf %x : f32 to bf16
          attn.yield %r : bf16
        } -> tensor<64x64xbf16, #opa>
        // expected-error @+1 {{attn-convert-to-nvgpu: the tensor cores take Q·Kᵀ and a staged A (transposed or not) times B from shared memory, and P·V with P in registers and V in shared memory}}
        %oa = attn.mma_async %qt, %kv#1 into %acc : tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %on = attn.mma_wait %oa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        attn.channel_release %kvc[1], %tok : !kv
        scf.yield %on : tensor<64x64xf32, #acc>
      }
      attn.channel_release %qc[0], %qtok : !q
      attn.tile_store %out into %o[%seq, %c0, %head] rows(%c64) : tensor<64x64xf32, #acc>, memref<1x64x1x64xbf16>
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

// Every channel slot is filled by TMA: a put of a tile no attn.tile_load
// wrote (here K's empty buffer) has no copy to issue.
func.func @put_unloaded(%q: memref<1x64x1x64xbf16>, %k: memref<1x192x1x64xbf16>,
                %v: memref<1x192x1x64xbf16>, %o: memref<1x64x1x64xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  attn.program_grid (%seq, %head, %q_block) in (%c1, %c1, %c1) block_m(64) plan(<stages = 2, ping_pong = false, pv_schedule = serial, persistent_ctas = 0, paired_tiles = false, epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>) {
    %qc = attn.channel_create : !q
    %kvc = attn.channel_create : !kv
    attn.warp_specialize consumers(1) producer {
      %qb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
      %qt = attn.tile_load %q[%seq, %c0, %head] rows(%c64) into %qb : memref<1x64x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
      attn.channel_put %qc, %qt : !q, tensor<64x64xbf16, #shared>
      scf.for %j = %c0 to %c3 step %c1 {
        %kv_pos = arith.muli %j, %c64 : index
        %kb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %kt = attn.tile_load %k[%seq, %kv_pos, %head] rows(%c64) into %kb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        %vb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %vt = attn.tile_load %v[%seq, %kv_pos, %head] rows(%c64) into %vb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        // expected-error @+1 {{attn-convert-to-nvgpu: every channel_put must put attn.tile_load results (TMA)}}
        attn.channel_put %kvc, %kb, %vt : !kv, tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>
      }
    } consumer(%c: index) {
      %sb = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %pb = bufferization.alloc_tensor() : tensor<64x64xbf16, #opa>
      %ob = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %qt, %qtok = attn.channel_get %qc : !q -> tensor<64x64xbf16, #shared>, !attn.token
      %o0 = attn.tile_fill %zero into %ob : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
      %out = scf.for %j = %c0 to %c3 step %c1 iter_args(%acc = %o0) -> (tensor<64x64xf32, #acc>) {
        %kv:2, %tok = attn.channel_get %kvc : !kv -> tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, !attn.token
        %s0 = attn.tile_fill %zero into %sb : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
        // S = Q·Kᵀ
        %sa = attn.mma_async %qt, %kv#0 transpose_rhs into %s0 : tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %s = attn.mma_wait %sa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        attn.channel_release %kvc[0], %tok : !kv
        // P = bf16(S)
        %p = attn.tile_map ins(%s : tensor<64x64xf32, #acc>) into %pb : tensor<64x64xbf16, #opa> {
        ^bb0(%x: f32):
          %r = arith.truncf %x : f32 to bf16
          attn.yield %r : bf16
        } -> tensor<64x64xbf16, #opa>
        // O += P·V
        %oa = attn.mma_async %p, %kv#1 into %acc : tensor<64x64xbf16, #opa>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %on = attn.mma_wait %oa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        attn.channel_release %kvc[1], %tok : !kv
        scf.yield %on : tensor<64x64xf32, #acc>
      }
      attn.channel_release %qc[0], %qtok : !q
      attn.tile_store %out into %o[%seq, %c0, %head] rows(%c64) : tensor<64x64xf32, #acc>, memref<1x64x1x64xbf16>
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

// A consumer slices its rows out of a shared tile (Q's slot); a slice of a
// register tile has no lowering.
func.func @slice_of_registers(%q: memref<1x64x1x64xbf16>, %k: memref<1x192x1x64xbf16>,
                %v: memref<1x192x1x64xbf16>, %o: memref<1x64x1x64xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  attn.program_grid (%seq, %head, %q_block) in (%c1, %c1, %c1) block_m(64) plan(<stages = 2, ping_pong = false, pv_schedule = serial, persistent_ctas = 0, paired_tiles = false, epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>) {
    %qc = attn.channel_create : !q
    %kvc = attn.channel_create : !kv
    attn.warp_specialize consumers(1) producer {
      %qb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
      %qt = attn.tile_load %q[%seq, %c0, %head] rows(%c64) into %qb : memref<1x64x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
      attn.channel_put %qc, %qt : !q, tensor<64x64xbf16, #shared>
      scf.for %j = %c0 to %c3 step %c1 {
        %kv_pos = arith.muli %j, %c64 : index
        %kb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %kt = attn.tile_load %k[%seq, %kv_pos, %head] rows(%c64) into %kb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        %vb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %vt = attn.tile_load %v[%seq, %kv_pos, %head] rows(%c64) into %vb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        attn.channel_put %kvc, %kt, %vt : !kv, tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>
      }
    } consumer(%c: index) {
      %sb = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %pb = bufferization.alloc_tensor() : tensor<64x64xbf16, #opa>
      %ob = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %qt, %qtok = attn.channel_get %qc : !q -> tensor<64x64xbf16, #shared>, !attn.token
      %o0 = attn.tile_fill %zero into %ob : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
      %out = scf.for %j = %c0 to %c3 step %c1 iter_args(%acc = %o0) -> (tensor<64x64xf32, #acc>) {
        %kv:2, %tok = attn.channel_get %kvc : !kv -> tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, !attn.token
        %s0 = attn.tile_fill %zero into %sb : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
        // S = Q·Kᵀ
        %sa = attn.mma_async %qt, %kv#0 transpose_rhs into %s0 : tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %s = attn.mma_wait %sa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        attn.channel_release %kvc[0], %tok : !kv
        // expected-error @+1 {{attn-convert-to-nvgpu: slices of shared tiles only}}
        %half = tensor.extract_slice %s[0, 0] [32, 64] [1, 1] : tensor<64x64xf32, #acc> to tensor<32x64xf32, #acc>
        // P = bf16(S)
        %p = attn.tile_map ins(%s : tensor<64x64xf32, #acc>) into %pb : tensor<64x64xbf16, #opa> {
        ^bb0(%x: f32):
          %r = arith.truncf %x : f32 to bf16
          attn.yield %r : bf16
        } -> tensor<64x64xbf16, #opa>
        // O += P·V
        %oa = attn.mma_async %p, %kv#1 into %acc : tensor<64x64xbf16, #opa>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %on = attn.mma_wait %oa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        attn.channel_release %kvc[1], %tok : !kv
        scf.yield %on : tensor<64x64xf32, #acc>
      }
      attn.channel_release %qc[0], %qtok : !q
      attn.tile_store %out into %o[%seq, %c0, %head] rows(%c64) : tensor<64x64xf32, #acc>, memref<1x64x1x64xbf16>
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

// The roles only read memory besides their tile ops (cu_seqlens, block-mask
// lists, modifier operands): a store is not lowered.
func.func @write_in_role(%q: memref<1x64x1x64xbf16>, %k: memref<1x192x1x64xbf16>,
                %v: memref<1x192x1x64xbf16>, %o: memref<1x64x1x64xbf16>,
                %scratch: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  attn.program_grid (%seq, %head, %q_block) in (%c1, %c1, %c1) block_m(64) plan(<stages = 2, ping_pong = false, pv_schedule = serial, persistent_ctas = 0, paired_tiles = false, epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>) {
    %qc = attn.channel_create : !q
    %kvc = attn.channel_create : !kv
    attn.warp_specialize consumers(1) producer {
      %qb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
      %qt = attn.tile_load %q[%seq, %c0, %head] rows(%c64) into %qb : memref<1x64x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
      attn.channel_put %qc, %qt : !q, tensor<64x64xbf16, #shared>
      scf.for %j = %c0 to %c3 step %c1 {
        %kv_pos = arith.muli %j, %c64 : index
        %kb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %kt = attn.tile_load %k[%seq, %kv_pos, %head] rows(%c64) into %kb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        %vb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %vt = attn.tile_load %v[%seq, %kv_pos, %head] rows(%c64) into %vb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        attn.channel_put %kvc, %kt, %vt : !kv, tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>
      }
    } consumer(%c: index) {
      %sb = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %pb = bufferization.alloc_tensor() : tensor<64x64xbf16, #opa>
      %ob = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %qt, %qtok = attn.channel_get %qc : !q -> tensor<64x64xbf16, #shared>, !attn.token
      %o0 = attn.tile_fill %zero into %ob : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
      %out = scf.for %j = %c0 to %c3 step %c1 iter_args(%acc = %o0) -> (tensor<64x64xf32, #acc>) {
        %kv:2, %tok = attn.channel_get %kvc : !kv -> tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, !attn.token
        %s0 = attn.tile_fill %zero into %sb : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
        // S = Q·Kᵀ
        %sa = attn.mma_async %qt, %kv#0 transpose_rhs into %s0 : tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %s = attn.mma_wait %sa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        attn.channel_release %kvc[0], %tok : !kv
        // P = bf16(S)
        %p = attn.tile_map ins(%s : tensor<64x64xf32, #acc>) into %pb : tensor<64x64xbf16, #opa> {
        ^bb0(%x: f32):
          %r = arith.truncf %x : f32 to bf16
          attn.yield %r : bf16
        } -> tensor<64x64xbf16, #opa>
        // O += P·V
        %oa = attn.mma_async %p, %kv#1 into %acc : tensor<64x64xbf16, #opa>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %on = attn.mma_wait %oa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        attn.channel_release %kvc[1], %tok : !kv
        scf.yield %on : tensor<64x64xf32, #acc>
      }
      attn.channel_release %qc[0], %qtok : !q
      // expected-error @+1 {{attn-convert-to-nvgpu: unexpected op in a role}}
      memref.store %zero, %scratch[%c0] : memref<64xf32>
      attn.tile_store %out into %o[%seq, %c0, %head] rows(%c64) : tensor<64x64xf32, #acc>, memref<1x64x1x64xbf16>
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

// attn.tile_store accumulate (the backward's dQ) adds into a contiguous f32
// [B, S, H, D] operand: a strided one is refused.
func.func @accumulate(%q: memref<1x64x1x64xbf16>, %k: memref<1x192x1x64xbf16>,
                %v: memref<1x192x1x64xbf16>, %o: memref<1x64x1x64xf32, strided<[8192, 128, 64, 1]>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  attn.program_grid (%seq, %head, %q_block) in (%c1, %c1, %c1) block_m(64) plan(<stages = 2, ping_pong = false, pv_schedule = serial, persistent_ctas = 0, paired_tiles = false, epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>) {
    %qc = attn.channel_create : !q
    %kvc = attn.channel_create : !kv
    attn.warp_specialize consumers(1) producer {
      %qb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
      %qt = attn.tile_load %q[%seq, %c0, %head] rows(%c64) into %qb : memref<1x64x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
      attn.channel_put %qc, %qt : !q, tensor<64x64xbf16, #shared>
      scf.for %j = %c0 to %c3 step %c1 {
        %kv_pos = arith.muli %j, %c64 : index
        %kb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %kt = attn.tile_load %k[%seq, %kv_pos, %head] rows(%c64) into %kb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        %vb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %vt = attn.tile_load %v[%seq, %kv_pos, %head] rows(%c64) into %vb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        attn.channel_put %kvc, %kt, %vt : !kv, tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>
      }
    } consumer(%c: index) {
      %sb = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %pb = bufferization.alloc_tensor() : tensor<64x64xbf16, #opa>
      %ob = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %qt, %qtok = attn.channel_get %qc : !q -> tensor<64x64xbf16, #shared>, !attn.token
      %o0 = attn.tile_fill %zero into %ob : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
      %out = scf.for %j = %c0 to %c3 step %c1 iter_args(%acc = %o0) -> (tensor<64x64xf32, #acc>) {
        %kv:2, %tok = attn.channel_get %kvc : !kv -> tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, !attn.token
        %s0 = attn.tile_fill %zero into %sb : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
        // S = Q·Kᵀ
        %sa = attn.mma_async %qt, %kv#0 transpose_rhs into %s0 : tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %s = attn.mma_wait %sa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        attn.channel_release %kvc[0], %tok : !kv
        // P = bf16(S)
        %p = attn.tile_map ins(%s : tensor<64x64xf32, #acc>) into %pb : tensor<64x64xbf16, #opa> {
        ^bb0(%x: f32):
          %r = arith.truncf %x : f32 to bf16
          attn.yield %r : bf16
        } -> tensor<64x64xbf16, #opa>
        // O += P·V
        %oa = attn.mma_async %p, %kv#1 into %acc : tensor<64x64xbf16, #opa>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %on = attn.mma_wait %oa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        attn.channel_release %kvc[1], %tok : !kv
        scf.yield %on : tensor<64x64xf32, #acc>
      }
      attn.channel_release %qc[0], %qtok : !q
      // expected-error @+1 {{attn-convert-to-nvgpu: an accumulating store adds an accumulator tile of 64-row blocks and whole 8-column groups into a contiguous f32 [B, S, H, D] operand with a static D}}
      attn.tile_store %out into %o[%seq, %c0, %head] rows(%c64) accumulate : tensor<64x64xf32, #acc>, memref<1x64x1x64xf32, strided<[8192, 128, 64, 1]>>
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

// The conversion builds what the plan says: a grid without one is refused.
func.func @no_plan(%q: memref<1x64x1x64xbf16>, %k: memref<1x192x1x64xbf16>,
                %v: memref<1x192x1x64xbf16>, %o: memref<1x64x1x64xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{attn-convert-to-nvgpu: the program grid has no plan: run --attn-plan-hopper first (or --attn-warp-specialize)}}
  attn.program_grid (%seq, %head, %q_block) in (%c1, %c1, %c1) block_m(64) {
    %qc = attn.channel_create : !q
    %kvc = attn.channel_create : !kv
    attn.warp_specialize consumers(1) producer {
      %qb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
      %qt = attn.tile_load %q[%seq, %c0, %head] rows(%c64) into %qb : memref<1x64x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
      attn.channel_put %qc, %qt : !q, tensor<64x64xbf16, #shared>
      scf.for %j = %c0 to %c3 step %c1 {
        %kv_pos = arith.muli %j, %c64 : index
        %kb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %kt = attn.tile_load %k[%seq, %kv_pos, %head] rows(%c64) into %kb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        %vb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %vt = attn.tile_load %v[%seq, %kv_pos, %head] rows(%c64) into %vb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        attn.channel_put %kvc, %kt, %vt : !kv, tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>
      }
    } consumer(%c: index) {
      %sb = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %pb = bufferization.alloc_tensor() : tensor<64x64xbf16, #opa>
      %ob = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %qt, %qtok = attn.channel_get %qc : !q -> tensor<64x64xbf16, #shared>, !attn.token
      %o0 = attn.tile_fill %zero into %ob : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
      %out = scf.for %j = %c0 to %c3 step %c1 iter_args(%acc = %o0) -> (tensor<64x64xf32, #acc>) {
        %kv:2, %tok = attn.channel_get %kvc : !kv -> tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, !attn.token
        %s0 = attn.tile_fill %zero into %sb : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
        // S = Q·Kᵀ
        %sa = attn.mma_async %qt, %kv#0 transpose_rhs into %s0 : tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %s = attn.mma_wait %sa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        attn.channel_release %kvc[0], %tok : !kv
        // P = bf16(S)
        %p = attn.tile_map ins(%s : tensor<64x64xf32, #acc>) into %pb : tensor<64x64xbf16, #opa> {
        ^bb0(%x: f32):
          %r = arith.truncf %x : f32 to bf16
          attn.yield %r : bf16
        } -> tensor<64x64xbf16, #opa>
        // O += P·V
        %oa = attn.mma_async %p, %kv#1 into %acc : tensor<64x64xbf16, #opa>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %on = attn.mma_wait %oa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        attn.channel_release %kvc[1], %tok : !kv
        scf.yield %on : tensor<64x64xf32, #acc>
      }
      attn.channel_release %qc[0], %qtok : !q
      attn.tile_store %out into %o[%seq, %c0, %head] rows(%c64) : tensor<64x64xf32, #acc>, memref<1x64x1x64xbf16>
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

// K's part released before the wait of the Q·Kᵀ that reads it: the producer
// could refill the slot under the wgmma (a race compute-sanitizer does not
// see: TMA and wgmma are async-proxy accesses).
func.func @early_release(%q: memref<1x64x1x64xbf16>, %k: memref<1x192x1x64xbf16>,
                %v: memref<1x192x1x64xbf16>, %o: memref<1x64x1x64xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  attn.program_grid (%seq, %head, %q_block) in (%c1, %c1, %c1) block_m(64) plan(<stages = 2, ping_pong = false, pv_schedule = serial, persistent_ctas = 0, paired_tiles = false, epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>) {
    %qc = attn.channel_create : !q
    %kvc = attn.channel_create : !kv
    attn.warp_specialize consumers(1) producer {
      %qb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
      %qt = attn.tile_load %q[%seq, %c0, %head] rows(%c64) into %qb : memref<1x64x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
      attn.channel_put %qc, %qt : !q, tensor<64x64xbf16, #shared>
      scf.for %j = %c0 to %c3 step %c1 {
        %kv_pos = arith.muli %j, %c64 : index
        %kb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %kt = attn.tile_load %k[%seq, %kv_pos, %head] rows(%c64) into %kb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        %vb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %vt = attn.tile_load %v[%seq, %kv_pos, %head] rows(%c64) into %vb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        attn.channel_put %kvc, %kt, %vt : !kv, tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>
      }
    } consumer(%c: index) {
      %sb = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %pb = bufferization.alloc_tensor() : tensor<64x64xbf16, #opa>
      %ob = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %qt, %qtok = attn.channel_get %qc : !q -> tensor<64x64xbf16, #shared>, !attn.token
      %o0 = attn.tile_fill %zero into %ob : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
      %out = scf.for %j = %c0 to %c3 step %c1 iter_args(%acc = %o0) -> (tensor<64x64xf32, #acc>) {
        %kv:2, %tok = attn.channel_get %kvc : !kv -> tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, !attn.token
        %s0 = attn.tile_fill %zero into %sb : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
        // expected-note @below {{the MMA}}
        %sa = attn.mma_async %qt, %kv#0 transpose_rhs into %s0 : tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        // expected-error @below {{releases part 0 of a slot that an MMA still in flight reads (wait for it first)}}
        attn.channel_release %kvc[0], %tok : !kv
        %s = attn.mma_wait %sa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        %p = attn.tile_map ins(%s : tensor<64x64xf32, #acc>) into %pb : tensor<64x64xbf16, #opa> {
        ^bb0(%x: f32):
          %r = arith.truncf %x : f32 to bf16
          attn.yield %r : bf16
        } -> tensor<64x64xbf16, #opa>
        %oa = attn.mma_async %p, %kv#1 into %acc : tensor<64x64xbf16, #opa>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %on = attn.mma_wait %oa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        attn.channel_release %kvc[1], %tok : !kv
        scf.yield %on : tensor<64x64xf32, #acc>
      }
      attn.channel_release %qc[0], %qtok : !q
      attn.tile_store %out into %o[%seq, %c0, %head] rows(%c64) : tensor<64x64xf32, #acc>, memref<1x64x1x64xbf16>
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

// The overlapped schedule's shape: block j-1's P·V reads V_{j-1}, carried
// into iteration j beside its get's token; releasing that V before the P·V's
// wait is found through the loop's carried values.
func.func @early_release_carried(%q: memref<1x64x1x64xbf16>, %k: memref<1x192x1x64xbf16>,
                %v: memref<1x192x1x64xbf16>, %o: memref<1x64x1x64xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  attn.program_grid (%seq, %head, %q_block) in (%c1, %c1, %c1) block_m(64) plan(<stages = 2, ping_pong = false, pv_schedule = overlap, persistent_ctas = 0, paired_tiles = false, epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>) {
    %qc = attn.channel_create : !q
    %kvc = attn.channel_create : !kv
    attn.warp_specialize consumers(1) producer {
      %qb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
      %qt = attn.tile_load %q[%seq, %c0, %head] rows(%c64) into %qb : memref<1x64x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
      attn.channel_put %qc, %qt : !q, tensor<64x64xbf16, #shared>
      scf.for %j = %c0 to %c3 step %c1 {
        %kv_pos = arith.muli %j, %c64 : index
        %kb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %kt = attn.tile_load %k[%seq, %kv_pos, %head] rows(%c64) into %kb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        %vb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %vt = attn.tile_load %v[%seq, %kv_pos, %head] rows(%c64) into %vb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        attn.channel_put %kvc, %kt, %vt : !kv, tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>
      }
    } consumer(%c: index) {
      %sb = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %pb = bufferization.alloc_tensor() : tensor<64x64xbf16, #opa>
      %ob = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %qt, %qtok = attn.channel_get %qc : !q -> tensor<64x64xbf16, #shared>, !attn.token
      %o0 = attn.tile_fill %zero into %ob : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
      // Block 0, peeled: S_0, P_0.
      %kv0:2, %tok0 = attn.channel_get %kvc : !kv -> tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, !attn.token
      %s00 = attn.tile_fill %zero into %sb : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
      %sa0 = attn.mma_async %qt, %kv0#0 transpose_rhs into %s00 : tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
      %s0 = attn.mma_wait %sa0 : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
      attn.channel_release %kvc[0], %tok0 : !kv
      %p0 = attn.tile_map ins(%s0 : tensor<64x64xf32, #acc>) into %pb : tensor<64x64xbf16, #opa> {
      ^bb0(%x: f32):
        %r = arith.truncf %x : f32 to bf16
        attn.yield %r : bf16
      } -> tensor<64x64xbf16, #opa>
      %out:4 = scf.for %j = %c1 to %c3 step %c1 iter_args(%acc = %o0, %pp = %p0, %vp = %kv0#1, %tp = %tok0) -> (tensor<64x64xf32, #acc>, tensor<64x64xbf16, #opa>, tensor<64x64xbf16, #shared>, !attn.token) {
        %kv:2, %tok = attn.channel_get %kvc : !kv -> tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, !attn.token
        // expected-note @below {{the MMA}}
        %oa = attn.mma_async %pp, %vp into %acc : tensor<64x64xbf16, #opa>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        // expected-error @below {{releases part 1 of a slot that an MMA still in flight reads (wait for it first)}}
        attn.channel_release %kvc[1], %tp : !kv
        %s1 = attn.tile_fill %zero into %sb : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
        %sa = attn.mma_async %qt, %kv#0 transpose_rhs into %s1 : tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %s = attn.mma_wait %sa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        attn.channel_release %kvc[0], %tok : !kv
        %p = attn.tile_map ins(%s : tensor<64x64xf32, #acc>) into %pb : tensor<64x64xbf16, #opa> {
        ^bb0(%x: f32):
          %r = arith.truncf %x : f32 to bf16
          attn.yield %r : bf16
        } -> tensor<64x64xbf16, #opa>
        %on = attn.mma_wait %oa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        scf.yield %on, %p, %kv#1, %tok : tensor<64x64xf32, #acc>, tensor<64x64xbf16, #opa>, tensor<64x64xbf16, #shared>, !attn.token
      }
      %ol = attn.mma_async %out#1, %out#2 into %out#0 : tensor<64x64xbf16, #opa>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
      %of = attn.mma_wait %ol : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
      attn.channel_release %kvc[1], %out#3 : !kv
      attn.channel_release %qc[0], %qtok : !q
      attn.tile_store %of into %o[%seq, %c0, %head] rows(%c64) : tensor<64x64xf32, #acc>, memref<1x64x1x64xbf16>
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

// The same early release under a condition (as the backward releases the
// previous q-block's parts): the enclosing block's MMA is still in flight.
func.func @early_release_under_if(%q: memref<1x64x1x64xbf16>, %k: memref<1x192x1x64xbf16>,
                %v: memref<1x192x1x64xbf16>, %o: memref<1x64x1x64xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  attn.program_grid (%seq, %head, %q_block) in (%c1, %c1, %c1) block_m(64) plan(<stages = 2, ping_pong = false, pv_schedule = serial, persistent_ctas = 0, paired_tiles = false, epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>) {
    %qc = attn.channel_create : !q
    %kvc = attn.channel_create : !kv
    attn.warp_specialize consumers(1) producer {
      %qb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
      %qt = attn.tile_load %q[%seq, %c0, %head] rows(%c64) into %qb : memref<1x64x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
      attn.channel_put %qc, %qt : !q, tensor<64x64xbf16, #shared>
      scf.for %j = %c0 to %c3 step %c1 {
        %kv_pos = arith.muli %j, %c64 : index
        %kb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %kt = attn.tile_load %k[%seq, %kv_pos, %head] rows(%c64) into %kb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        %vb = bufferization.alloc_tensor() : tensor<64x64xbf16, #shared>
        %vt = attn.tile_load %v[%seq, %kv_pos, %head] rows(%c64) into %vb : memref<1x192x1x64xbf16>, tensor<64x64xbf16, #shared> -> tensor<64x64xbf16, #shared>
        attn.channel_put %kvc, %kt, %vt : !kv, tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>
      }
    } consumer(%c: index) {
      %sb = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %pb = bufferization.alloc_tensor() : tensor<64x64xbf16, #opa>
      %ob = bufferization.alloc_tensor() : tensor<64x64xf32, #acc>
      %qt, %qtok = attn.channel_get %qc : !q -> tensor<64x64xbf16, #shared>, !attn.token
      %o0 = attn.tile_fill %zero into %ob : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
      %out = scf.for %j = %c0 to %c3 step %c1 iter_args(%acc = %o0) -> (tensor<64x64xf32, #acc>) {
        %kv:2, %tok = attn.channel_get %kvc : !kv -> tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, !attn.token
        %s0 = attn.tile_fill %zero into %sb : f32, tensor<64x64xf32, #acc> -> tensor<64x64xf32, #acc>
        // expected-note @below {{the MMA}}
        %sa = attn.mma_async %qt, %kv#0 transpose_rhs into %s0 : tensor<64x64xbf16, #shared>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %first = arith.cmpi eq, %j, %c0 : index
        scf.if %first {
          // expected-error @below {{releases part 0 of a slot that an MMA still in flight reads (wait for it first)}}
          attn.channel_release %kvc[0], %tok : !kv
        }
        %s = attn.mma_wait %sa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        %p = attn.tile_map ins(%s : tensor<64x64xf32, #acc>) into %pb : tensor<64x64xbf16, #opa> {
        ^bb0(%x: f32):
          %r = arith.truncf %x : f32 to bf16
          attn.yield %r : bf16
        } -> tensor<64x64xbf16, #opa>
        %oa = attn.mma_async %p, %kv#1 into %acc : tensor<64x64xbf16, #opa>, tensor<64x64xbf16, #shared>, tensor<64x64xf32, #acc> -> <tensor<64x64xf32, #acc>>
        %on = attn.mma_wait %oa : <tensor<64x64xf32, #acc>> -> tensor<64x64xf32, #acc>
        attn.channel_release %kvc[1], %tok : !kv
        scf.yield %on : tensor<64x64xf32, #acc>
      }
      attn.channel_release %qc[0], %qtok : !q
      attn.tile_store %out into %o[%seq, %c0, %head] rows(%c64) : tensor<64x64xf32, #acc>, memref<1x64x1x64xbf16>
    }
  }
  return
}
