// The overlapped P·V peels each tile's first block into a prologue built from
// the first KV loop's body, which must stand for every loop: a tiled level
// whose loops differ (here: an extra op in the second) is diagnosed, not
// emitted with the wrong index math. (The tiled level as attn-tile +
// attn-plan-hopper print it, with that one edit.)
// RUN: attn-opt %s -attn-lower-to-hopper -verify-diagnostics

module {
  func.func @causal(%arg0: memref<1x200x2x64xbf16>, %arg1: memref<1x200x2x64xbf16>, %arg2: memref<1x200x2x64xbf16>, %arg3: memref<1x200x2x64xbf16>) {
    %c65 = arith.constant 65 : index
    %c4 = arith.constant 4 : index
    %c64 = arith.constant 64 : index
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c200 = arith.constant 200 : index
    %c128 = arith.constant 128 : index
    attn.program_grid (%seq, %head, %q_block) in (%c1, %c2, %c2) block_m(128) plan(<stages = 4, ping_pong = true, pv_schedule = overlap, persistent_ctas = 0, paired_tiles = false, epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>) {
      %0 = arith.muli %q_block, %c128 : index
      %1 = arith.subi %c200, %0 : index
      %2 = arith.minsi %1, %c128 : index
      %3 = bufferization.alloc_tensor() : tensor<128x64xbf16>
      %4 = attn.tile_load %arg0[%seq, %0, %head] rows(%2) into %3 : memref<1x200x2x64xbf16>, tensor<128x64xbf16> -> tensor<128x64xbf16>
      %5 = bufferization.alloc_tensor() : tensor<64x64xbf16>
      %6 = bufferization.alloc_tensor() : tensor<64x64xbf16>
      %acc, %max, %sum = attn.block_init : tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>
      %7 = arith.addi %0, %2 : index
      %8 = arith.subi %0, %c64 : index
      %9 = arith.maxsi %8, %c0 : index
      %10 = arith.subi %7, %c65 : index
      %11 = arith.maxsi %10, %c0 : index
      %12 = arith.minsi %7, %c200 : index
      %13 = arith.addi %0, %c1 : index
      %14 = arith.minsi %13, %c200 : index
      %15 = arith.floordivsi %9, %c64 : index
      %16 = arith.ceildivsi %12, %c64 : index
      %17 = arith.cmpi sge, %9, %12 : index
      %18 = arith.select %17, %15, %16 : index
      %19 = arith.ceildivsi %11, %c64 : index
      %20 = arith.maxsi %19, %15 : index
      %21 = arith.minsi %20, %18 : index
      %22 = arith.floordivsi %14, %c64 : index
      %23 = arith.cmpi sge, %14, %c200 : index
      %24 = arith.select %23, %c4, %22 : index
      %25 = arith.minsi %24, %18 : index
      %26 = arith.maxsi %25, %21 : index
      %27:3 = scf.for %arg4 = %15 to %21 step %c1 iter_args(%arg5 = %acc, %arg6 = %max, %arg7 = %sum) -> (tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>) {
        %30 = arith.muli %arg4, %c64 : index
        %31 = arith.subi %c200, %30 : index
        %32 = arith.minsi %31, %c64 : index
        %33 = attn.tile_load %arg1[%seq, %30, %head] rows(%32) into %5 : memref<1x200x2x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xbf16>
        %34 = attn.tile_load %arg2[%seq, %30, %head] rows(%32) into %6 : memref<1x200x2x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xbf16>
        %35:3 = attn.block_update q(%4) k(%33) v(%34) state(%arg5, %arg6, %arg7) rows(%2) cols(%32) seq(%seq) head(%head) q_pos(%0) kv_pos(%30) diag(%c0) masked attributes {mask = #attn.mask<window [64, 0], bottom_right>, scale = 1.250000e-01 : f32} : tensor<128x64xbf16>, tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>
        scf.yield %35#0, %35#1, %35#2 : tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>
      }
      // expected-error @+1 {{attn-lower-to-hopper: pv_schedule = "overlap" needs KV loops with the same body (attn-tile's)}}
      %28:3 = scf.for %arg4 = %21 to %26 step %c1 iter_args(%arg5 = %27#0, %arg6 = %27#1, %arg7 = %27#2) -> (tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>) {
        %extra = arith.addi %arg4, %arg4 : index
        %30 = arith.muli %arg4, %c64 : index
        %31 = arith.subi %c200, %30 : index
        %32 = arith.minsi %31, %c64 : index
        %33 = attn.tile_load %arg1[%seq, %30, %head] rows(%32) into %5 : memref<1x200x2x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xbf16>
        %34 = attn.tile_load %arg2[%seq, %30, %head] rows(%32) into %6 : memref<1x200x2x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xbf16>
        %35:3 = attn.block_update q(%4) k(%33) v(%34) state(%arg5, %arg6, %arg7) rows(%2) cols(%32) seq(%seq) head(%head) q_pos(%0) kv_pos(%30) diag(%c0) attributes {mask = #attn.mask<window [64, 0], bottom_right>, scale = 1.250000e-01 : f32} : tensor<128x64xbf16>, tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>
        scf.yield %35#0, %35#1, %35#2 : tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>
      }
      %29:3 = scf.for %arg4 = %26 to %18 step %c1 iter_args(%arg5 = %28#0, %arg6 = %28#1, %arg7 = %28#2) -> (tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>) {
        %30 = arith.muli %arg4, %c64 : index
        %31 = arith.subi %c200, %30 : index
        %32 = arith.minsi %31, %c64 : index
        %33 = attn.tile_load %arg1[%seq, %30, %head] rows(%32) into %5 : memref<1x200x2x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xbf16>
        %34 = attn.tile_load %arg2[%seq, %30, %head] rows(%32) into %6 : memref<1x200x2x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xbf16>
        %35:3 = attn.block_update q(%4) k(%33) v(%34) state(%arg5, %arg6, %arg7) rows(%2) cols(%32) seq(%seq) head(%head) q_pos(%0) kv_pos(%30) diag(%c0) masked attributes {mask = #attn.mask<window [64, 0], bottom_right>, scale = 1.250000e-01 : f32} : tensor<128x64xbf16>, tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>
        scf.yield %35#0, %35#1, %35#2 : tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>
      }
      attn.block_finalize state(%29#0, %29#1, %29#2) rows(%2) into %arg3[%seq, %0, %head] : tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>, memref<1x200x2x64xbf16>
    }
    return
  }
}

