// RUN: attn-opt %s -split-input-file -attn-partition-roles -verify-diagnostics

// What attn-partition-roles refuses in a backward main program (hand-written
// at L2 with a plan; each program holds just enough of the backward for its
// plan to be read: K and V loaded once, dP = dO·Vᵀ and dQ = dP·K).

#plan = #attn.hopper_plan<stages = 2, ping_pong = false, pv_schedule = overlap, persistent_ctas = 0,
                          paired_tiles = false, epilogue = direct, ctas_per_sm = 1,
                          producer_registers = 24, consumer_registers = 240>

// A third tile loaded once: the roles put K and V, nothing else, in the
// stationary slot.
func.func @three_stationary(%k: memref<1x128x1x128xbf16>, %q: memref<1x128x1x128xbf16>, %acc: memref<1x128x1x128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{attn-partition-roles: the backward's main program must load K and V once and its q-blocks in loops}}
  attn.program_grid (%s, %kvh, %kb) in (%c1, %c1, %c1) block_m(128) plan(#plan)
      attributes {kind = #attn.program_kind<grad_kv>} {
    %ek = bufferization.alloc_tensor() : tensor<128x128xbf16>
    %ev = bufferization.alloc_tensor() : tensor<128x128xbf16>
    %ex = bufferization.alloc_tensor() : tensor<128x128xbf16>
    %eq = bufferization.alloc_tensor() : tensor<64x128xbf16>
    %ep = bufferization.alloc_tensor() : tensor<64x128xf32>
    %eb = bufferization.alloc_tensor() : tensor<64x128xbf16>
    %eo = bufferization.alloc_tensor() : tensor<64x128xf32>
    %kt = attn.tile_load %k[%s, %c0, %kvh] rows(%c128) into %ek : memref<1x128x1x128xbf16>, tensor<128x128xbf16> -> tensor<128x128xbf16>
    %vt = attn.tile_load %k[%s, %c0, %kvh] rows(%c128) into %ev : memref<1x128x1x128xbf16>, tensor<128x128xbf16> -> tensor<128x128xbf16>
    %xt = attn.tile_load %k[%s, %c0, %kvh] rows(%c128) into %ex : memref<1x128x1x128xbf16>, tensor<128x128xbf16> -> tensor<128x128xbf16>
    scf.for %qb = %c0 to %c2 step %c1 {
      %q0 = arith.muli %qb, %c64 : index
      %dot = attn.tile_load %q[%s, %q0, %kvh] rows(%c64) into %eq : memref<1x128x1x128xbf16>, tensor<64x128xbf16> -> tensor<64x128xbf16>
      %z = attn.tile_fill %zero into %ep : f32, tensor<64x128xf32> -> tensor<64x128xf32>
      %dp = attn.tile_matmul %dot, %vt transpose_rhs into %z : tensor<64x128xbf16>, tensor<128x128xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
      %b = attn.tile_map ins(%dp : tensor<64x128xf32>) into %eb : tensor<64x128xbf16> {
      ^bb0(%x: f32):
        %t = arith.truncf %x : f32 to bf16
        attn.yield %t : bf16
      } -> tensor<64x128xbf16>
      %z2 = attn.tile_fill %zero into %eo : f32, tensor<64x128xf32> -> tensor<64x128xf32>
      %dq = attn.tile_matmul %b, %kt into %z2 : tensor<64x128xbf16>, tensor<128x128xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
      attn.tile_store %dq into %acc[%s, %q0, %kvh] rows(%c64) accumulate : tensor<64x128xf32>, memref<1x128x1x128xf32>
    }
  }
  return
}

// -----

#plan = #attn.hopper_plan<stages = 2, ping_pong = false, pv_schedule = overlap, persistent_ctas = 0,
                          paired_tiles = false, epilogue = direct, ctas_per_sm = 1,
                          producer_registers = 24, consumer_registers = 240>

// A q-block's tile loaded under a condition: the producer's put and the
// consumers' get would not match.
func.func @conditional_load(%k: memref<1x128x1x128xbf16>, %q: memref<1x128x1x128xbf16>, %acc: memref<1x128x1x128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  %zero = arith.constant 0.0 : f32
  attn.program_grid (%s, %kvh, %kb) in (%c1, %c1, %c1) block_m(128) plan(#plan)
      attributes {kind = #attn.program_kind<grad_kv>} {
    %ek = bufferization.alloc_tensor() : tensor<128x128xbf16>
    %ev = bufferization.alloc_tensor() : tensor<128x128xbf16>
    %eq = bufferization.alloc_tensor() : tensor<64x128xbf16>
    %ep = bufferization.alloc_tensor() : tensor<64x128xf32>
    %eb = bufferization.alloc_tensor() : tensor<64x128xbf16>
    %eo = bufferization.alloc_tensor() : tensor<64x128xf32>
    %kt = attn.tile_load %k[%s, %c0, %kvh] rows(%c128) into %ek : memref<1x128x1x128xbf16>, tensor<128x128xbf16> -> tensor<128x128xbf16>
    %vt = attn.tile_load %k[%s, %c0, %kvh] rows(%c128) into %ev : memref<1x128x1x128xbf16>, tensor<128x128xbf16> -> tensor<128x128xbf16>
    scf.for %qb = %c0 to %c2 step %c1 {
      %q0 = arith.muli %qb, %c64 : index
      %first = arith.cmpi eq, %qb, %c0 : index
      %dot = scf.if %first -> (tensor<64x128xbf16>) {
        // expected-error @+1 {{attn-partition-roles: a q-block tile load under a conditional of its loop}}
        %t = attn.tile_load %q[%s, %q0, %kvh] rows(%c64) into %eq : memref<1x128x1x128xbf16>, tensor<64x128xbf16> -> tensor<64x128xbf16>
        scf.yield %t : tensor<64x128xbf16>
      } else {
        scf.yield %eq : tensor<64x128xbf16>
      }
      %z = attn.tile_fill %zero into %ep : f32, tensor<64x128xf32> -> tensor<64x128xf32>
      %dp = attn.tile_matmul %dot, %vt transpose_rhs into %z : tensor<64x128xbf16>, tensor<128x128xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
      %b = attn.tile_map ins(%dp : tensor<64x128xf32>) into %eb : tensor<64x128xbf16> {
      ^bb0(%x: f32):
        %t = arith.truncf %x : f32 to bf16
        attn.yield %t : bf16
      } -> tensor<64x128xbf16>
      %z2 = attn.tile_fill %zero into %eo : f32, tensor<64x128xf32> -> tensor<64x128xf32>
      %dq = attn.tile_matmul %b, %kt into %z2 : tensor<64x128xbf16>, tensor<128x128xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
      attn.tile_store %dq into %acc[%s, %q0, %kvh] rows(%c64) accumulate : tensor<64x128xf32>, memref<1x128x1x128xf32>
    }
  }
  return
}

// -----

#plan = #attn.hopper_plan<stages = 2, ping_pong = false, pv_schedule = overlap, persistent_ctas = 0,
                          paired_tiles = false, epilogue = direct, ctas_per_sm = 1,
                          producer_registers = 24, consumer_registers = 240>

// Two q-block loops that load different tiles: one channel carries them all.
func.func @different_loops(%k: memref<1x128x1x128xbf16>, %q: memref<1x128x1x128xbf16>, %lse: memref<1x1x128xf32>,
                           %acc: memref<1x128x1x128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  %zero = arith.constant 0.0 : f32
  attn.program_grid (%s, %kvh, %kb) in (%c1, %c1, %c1) block_m(128) plan(#plan)
      attributes {kind = #attn.program_kind<grad_kv>} {
    %ek = bufferization.alloc_tensor() : tensor<128x128xbf16>
    %ev = bufferization.alloc_tensor() : tensor<128x128xbf16>
    %eq = bufferization.alloc_tensor() : tensor<64x128xbf16>
    %el = bufferization.alloc_tensor() : tensor<64xf32>
    %ep = bufferization.alloc_tensor() : tensor<64x128xf32>
    %eb = bufferization.alloc_tensor() : tensor<64x128xbf16>
    %eo = bufferization.alloc_tensor() : tensor<64x128xf32>
    %kt = attn.tile_load %k[%s, %c0, %kvh] rows(%c128) into %ek : memref<1x128x1x128xbf16>, tensor<128x128xbf16> -> tensor<128x128xbf16>
    %vt = attn.tile_load %k[%s, %c0, %kvh] rows(%c128) into %ev : memref<1x128x1x128xbf16>, tensor<128x128xbf16> -> tensor<128x128xbf16>
    scf.for %qb = %c0 to %c1 step %c1 {
      %q0 = arith.muli %qb, %c64 : index
      %dot = attn.tile_load %q[%s, %q0, %kvh] rows(%c64) into %eq : memref<1x128x1x128xbf16>, tensor<64x128xbf16> -> tensor<64x128xbf16>
      %z = attn.tile_fill %zero into %ep : f32, tensor<64x128xf32> -> tensor<64x128xf32>
      %dp = attn.tile_matmul %dot, %vt transpose_rhs into %z : tensor<64x128xbf16>, tensor<128x128xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
      %b = attn.tile_map ins(%dp : tensor<64x128xf32>) into %eb : tensor<64x128xbf16> {
      ^bb0(%x: f32):
        %t = arith.truncf %x : f32 to bf16
        attn.yield %t : bf16
      } -> tensor<64x128xbf16>
      %z2 = attn.tile_fill %zero into %eo : f32, tensor<64x128xf32> -> tensor<64x128xf32>
      %dq = attn.tile_matmul %b, %kt into %z2 : tensor<64x128xbf16>, tensor<128x128xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
      attn.tile_store %dq into %acc[%s, %q0, %kvh] rows(%c64) accumulate : tensor<64x128xf32>, memref<1x128x1x128xf32>
    }
    // expected-error @+1 {{attn-partition-roles: every q-block loop of a backward program must load the same tiles (Q, dO, LSE, D)}}
    scf.for %qb = %c1 to %c2 step %c1 {
      %q0 = arith.muli %qb, %c64 : index
      %lt = attn.tile_load %lse[%s, %q0, %kvh] rows(%c64) into %el : memref<1x1x128xf32>, tensor<64xf32> -> tensor<64xf32>
    }
  }
  return
}

// -----

#plan = #attn.hopper_plan<stages = 2, ping_pong = false, pv_schedule = overlap, persistent_ctas = 0,
                          paired_tiles = false, epilogue = direct, ctas_per_sm = 1,
                          producer_registers = 24, consumer_registers = 240>

// A product of K and V: keys in both dimensions, which no consumer's 64 keys
// can split.
func.func @keys_twice(%k: memref<1x128x1x128xbf16>, %q: memref<1x128x1x128xbf16>, %acc: memref<1x128x1x128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  %zero = arith.constant 0.0 : f32
  attn.program_grid (%s, %kvh, %kb) in (%c1, %c1, %c1) block_m(128) plan(#plan)
      attributes {kind = #attn.program_kind<grad_kv>} {
    %ek = bufferization.alloc_tensor() : tensor<128x128xbf16>
    %ev = bufferization.alloc_tensor() : tensor<128x128xbf16>
    %ekv = bufferization.alloc_tensor() : tensor<128x128xf32>
    %eq = bufferization.alloc_tensor() : tensor<64x128xbf16>
    %ep = bufferization.alloc_tensor() : tensor<64x128xf32>
    %eb = bufferization.alloc_tensor() : tensor<64x128xbf16>
    %eo = bufferization.alloc_tensor() : tensor<64x128xf32>
    %kt = attn.tile_load %k[%s, %c0, %kvh] rows(%c128) into %ek : memref<1x128x1x128xbf16>, tensor<128x128xbf16> -> tensor<128x128xbf16>
    %vt = attn.tile_load %k[%s, %c0, %kvh] rows(%c128) into %ev : memref<1x128x1x128xbf16>, tensor<128x128xbf16> -> tensor<128x128xbf16>
    // expected-error @+1 {{attn-partition-roles: keys in both dimensions of the product}}
    %kv = attn.tile_matmul %kt, %vt transpose_rhs into %ekv : tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128x128xf32> -> tensor<128x128xf32>
    scf.for %qb = %c0 to %c2 step %c1 {
      %q0 = arith.muli %qb, %c64 : index
      %dot = attn.tile_load %q[%s, %q0, %kvh] rows(%c64) into %eq : memref<1x128x1x128xbf16>, tensor<64x128xbf16> -> tensor<64x128xbf16>
      %z = attn.tile_fill %zero into %ep : f32, tensor<64x128xf32> -> tensor<64x128xf32>
      %dp = attn.tile_matmul %dot, %vt transpose_rhs into %z : tensor<64x128xbf16>, tensor<128x128xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
      %b = attn.tile_map ins(%dp : tensor<64x128xf32>) into %eb : tensor<64x128xbf16> {
      ^bb0(%x: f32):
        %t = arith.truncf %x : f32 to bf16
        attn.yield %t : bf16
      } -> tensor<64x128xbf16>
      %z2 = attn.tile_fill %zero into %eo : f32, tensor<64x128xf32> -> tensor<64x128xf32>
      %dq = attn.tile_matmul %b, %kt into %z2 : tensor<64x128xbf16>, tensor<128x128xbf16>, tensor<64x128xf32> -> tensor<64x128xf32>
      attn.tile_store %dq into %acc[%s, %q0, %kvh] rows(%c64) accumulate : tensor<64x128xf32>, memref<1x128x1x128xf32>
    }
  }
  return
}

// -----

#plan = #attn.hopper_plan<stages = 2, ping_pong = false, pv_schedule = overlap, persistent_ctas = 0,
                          paired_tiles = false, epilogue = direct, ctas_per_sm = 1,
                          producer_registers = 24, consumer_registers = 240>

// No matmuls: the plan cannot be read back.
func.func @empty(%n: index) {
  // expected-error @+1 {{attn-partition-roles: the backward's main program has no K tile load or not the five matmuls of a q-block (run attn-tile and attn-online-softmax first)}}
  attn.program_grid (%s, %kvh, %kb) in (%n, %n, %n) block_m(128) plan(#plan)
      attributes {kind = #attn.program_kind<grad_kv>} {
  }
  return
}

// -----

#plan = #attn.hopper_plan<stages = 2, ping_pong = false, pv_schedule = overlap, persistent_ctas = 0,
                          paired_tiles = false, epilogue = direct, ctas_per_sm = 1,
                          producer_registers = 24, consumer_registers = 240>

// A plan on the preprocess (which stays off the warp-specialized level).
func.func @planned_preprocess(%o: memref<1x64x1x128xbf16>, %delta: memref<1x1x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{attn-partition-roles: the backward's grad_preprocess grid stays off the warp-specialized level (no MMA: the SIMT mapping, attn-map-to-gpu, builds it)}}
  attn.program_grid (%s, %h, %qb) in (%c1, %c1, %c1) block_m(64) plan(#plan)
      attributes {kind = #attn.program_kind<grad_preprocess>} {
    %ed = bufferization.alloc_tensor() : tensor<64xf32>
    %d = attn.tile_fill %zero into %ed : f32, tensor<64xf32> -> tensor<64xf32>
    attn.tile_store %d into %delta[%s, %c0, %h] rows(%c64) : tensor<64xf32>, memref<1x1x64xf32>
  }
  return
}
