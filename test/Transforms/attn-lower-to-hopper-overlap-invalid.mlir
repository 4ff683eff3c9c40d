// The overlapped P·V peels each tile's first block into a prologue built from
// the first KV loop's body, which must stand for every loop: a tiled level
// whose loops differ (here: an extra op in the second) is diagnosed, not
// emitted with the wrong index math. (The tiled level as attn-tile +
// attn-plan-hopper print it, with that one edit.)
// RUN: attn-opt %s -attn-lower-to-hopper -verify-diagnostics

module {
  func.func @causal(%arg0: memref<1x200x2x64xbf16>, %arg1: memref<1x200x2x64xbf16>, %arg2: memref<1x200x2x64xbf16>, %arg3: memref<1x200x2x64xbf16>) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c2_0 = arith.constant 2 : index
    %c2_1 = arith.constant 2 : index
    %c2_2 = arith.constant 2 : index
    %c1_3 = arith.constant 1 : index
    %c1_4 = arith.constant 1 : index
    %c200 = arith.constant 200 : index
    %c1_5 = arith.constant 1 : index
    %c200_6 = arith.constant 200 : index
    %c128 = arith.constant 128 : index
    %c2_7 = arith.constant 2 : index
    %c0_8 = arith.constant 0 : index
    %c1_9 = arith.constant 1 : index
    scf.parallel (%arg4, %arg5, %arg6) = (%c0_8, %c0_8, %c0_8) to (%c1, %c2_0, %c2_7) step (%c1_9, %c1_9, %c1_9) {
      memref.alloca_scope  {
        %c128_10 = arith.constant 128 : index
        %0 = arith.muli %arg6, %c128_10 : index
        %c0_11 = arith.constant 0 : index
        %1 = arith.subi %c200, %0 : index
        %c128_12 = arith.constant 128 : index
        %2 = arith.minsi %1, %c128_12 : index
        %3 = arith.divui %arg5, %c1_3 : index
        %c0_13 = arith.constant 0 : index
        %alloca = memref.alloca() : memref<128x64xf32>
        %alloca_14 = memref.alloca() : memref<64x64xf32>
        %alloca_15 = memref.alloca() : memref<64x64xf32>
        %alloca_16 = memref.alloca() : memref<128x64xf32>
        %alloca_17 = memref.alloca() : memref<128xf32>
        %alloca_18 = memref.alloca() : memref<128xf32>
        attn.tile_load %arg0[%arg4, %0, %arg5] rows(%2) into %alloca : memref<1x200x2x64xbf16>, memref<128x64xf32>
        attn.block_init %alloca_16, %alloca_17, %alloca_18 : memref<128x64xf32>, memref<128xf32>, memref<128xf32>
        %c64 = arith.constant 64 : index
        %c0_19 = arith.constant 0 : index
        %c1_20 = arith.constant 1 : index
        %c64_21 = arith.constant 64 : index
        %4 = arith.addi %0, %2 : index
        %5 = arith.subi %4, %c1_20 : index
        %c64_22 = arith.constant 64 : index
        %6 = arith.subi %0, %c64_22 : index
        %7 = arith.maxsi %6, %c0_19 : index
        %8 = arith.subi %5, %c64_22 : index
        %9 = arith.maxsi %8, %c0_19 : index
        %c1_23 = arith.constant 1 : index
        %10 = arith.addi %5, %c1_23 : index
        %11 = arith.minsi %10, %c200_6 : index
        %12 = arith.addi %0, %c1_23 : index
        %13 = arith.minsi %12, %c200_6 : index
        %14 = arith.floordivsi %7, %c64_21 : index
        %15 = arith.ceildivsi %11, %c64_21 : index
        %16 = arith.cmpi sge, %7, %11 : index
        %17 = arith.select %16, %14, %15 : index
        %18 = arith.ceildivsi %9, %c64_21 : index
        %19 = arith.maxsi %18, %14 : index
        %20 = arith.minsi %19, %17 : index
        %21 = arith.floordivsi %13, %c64_21 : index
        %c4 = arith.constant 4 : index
        %22 = arith.cmpi sge, %13, %c200_6 : index
        %23 = arith.select %22, %c4, %21 : index
        %24 = arith.minsi %23, %17 : index
        %25 = arith.maxsi %24, %20 : index
        %c1_24 = arith.constant 1 : index
        scf.for %arg7 = %14 to %20 step %c1_24 {
          %c64_27 = arith.constant 64 : index
          %26 = arith.muli %arg7, %c64_27 : index
          %27 = arith.subi %c200_6, %26 : index
          %c64_28 = arith.constant 64 : index
          %28 = arith.minsi %27, %c64_28 : index
          attn.tile_load %arg1[%arg4, %26, %3] rows(%28) into %alloca_14 : memref<1x200x2x64xbf16>, memref<64x64xf32>
          attn.tile_load %arg2[%arg4, %26, %3] rows(%28) into %alloca_15 : memref<1x200x2x64xbf16>, memref<64x64xf32>
          attn.block_update q(%alloca) k(%alloca_14) v(%alloca_15) state(%alloca_16, %alloca_17, %alloca_18) rows(%2) cols(%28) seq(%arg4) head(%arg5) q_pos(%0) kv_pos(%26) diag(%c0_13) masked attributes {mask = #attn.mask<window [64, 0], bottom_right>, scale = 1.250000e-01 : f32} : memref<128x64xf32>, memref<64x64xf32>, memref<64x64xf32>, memref<128x64xf32>, memref<128xf32>, memref<128xf32>
        }
        %c1_25 = arith.constant 1 : index
        // expected-error @+1 {{attn-lower-to-hopper: pv_schedule = "overlap" needs KV loops with the same body (attn-tile's)}}
        scf.for %arg7 = %20 to %25 step %c1_25 {
          %extra = arith.addi %arg7, %arg7 : index
          %c64_27 = arith.constant 64 : index
          %26 = arith.muli %arg7, %c64_27 : index
          %27 = arith.subi %c200_6, %26 : index
          %c64_28 = arith.constant 64 : index
          %28 = arith.minsi %27, %c64_28 : index
          attn.tile_load %arg1[%arg4, %26, %3] rows(%28) into %alloca_14 : memref<1x200x2x64xbf16>, memref<64x64xf32>
          attn.tile_load %arg2[%arg4, %26, %3] rows(%28) into %alloca_15 : memref<1x200x2x64xbf16>, memref<64x64xf32>
          attn.block_update q(%alloca) k(%alloca_14) v(%alloca_15) state(%alloca_16, %alloca_17, %alloca_18) rows(%2) cols(%28) seq(%arg4) head(%arg5) q_pos(%0) kv_pos(%26) diag(%c0_13) attributes {mask = #attn.mask<window [64, 0], bottom_right>, scale = 1.250000e-01 : f32} : memref<128x64xf32>, memref<64x64xf32>, memref<64x64xf32>, memref<128x64xf32>, memref<128xf32>, memref<128xf32>
        }
        %c1_26 = arith.constant 1 : index
        scf.for %arg7 = %25 to %17 step %c1_26 {
          %c64_27 = arith.constant 64 : index
          %26 = arith.muli %arg7, %c64_27 : index
          %27 = arith.subi %c200_6, %26 : index
          %c64_28 = arith.constant 64 : index
          %28 = arith.minsi %27, %c64_28 : index
          attn.tile_load %arg1[%arg4, %26, %3] rows(%28) into %alloca_14 : memref<1x200x2x64xbf16>, memref<64x64xf32>
          attn.tile_load %arg2[%arg4, %26, %3] rows(%28) into %alloca_15 : memref<1x200x2x64xbf16>, memref<64x64xf32>
          attn.block_update q(%alloca) k(%alloca_14) v(%alloca_15) state(%alloca_16, %alloca_17, %alloca_18) rows(%2) cols(%28) seq(%arg4) head(%arg5) q_pos(%0) kv_pos(%26) diag(%c0_13) masked attributes {mask = #attn.mask<window [64, 0], bottom_right>, scale = 1.250000e-01 : f32} : memref<128x64xf32>, memref<64x64xf32>, memref<64x64xf32>, memref<128x64xf32>, memref<128xf32>, memref<128xf32>
        }
        attn.block_finalize state(%alloca_16, %alloca_17, %alloca_18) rows(%2) into %arg3[%arg4, %0, %arg5] : memref<128x64xf32>, memref<128xf32>, memref<128xf32>, memref<1x200x2x64xbf16>
      }
      scf.reduce 
    } {attn.hopper_plan = {consumer_registers = 240 : i64, ctas_per_sm = 1 : i64, epilogue = "direct", paired_tiles = false, persistent_ctas = 0 : i64, ping_pong = true, producer_registers = 24 : i64, pv_schedule = "overlap", stages = 4 : i64}, attn.program_grid = 128 : i64}
    return
  }
}

