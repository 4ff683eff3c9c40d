// RUN: attn-opt %s -attn-convert-to-nvgpu -verify-diagnostics -o /dev/null

// attn.tile_gather's rule in the conversion: a gathered stage is rewritten
// only when no MMA reading the previous contents (every consumer's dQ MMAs
// read every consumer's buffer) can still run. Here the backward's q-block
// loop (attn-pipeline-mma's serial output with split-dq) is edited to carry
// dQ_i's MMA in flight into iteration i + 1, past the next dS stage: the
// conversion refuses it (compute-sanitizer would not see the race: wgmma
// reads through the async proxy). The unedited loop converts
// (attn-convert-to-nvgpu-grad.mlir).
module {
  func.func @grad_kv(%arg0: memref<1x256x1x128xbf16>, %arg1: memref<1x256x1x128xbf16>, %arg2: memref<1x256x1x128xbf16>, %arg3: memref<1x256x1x128xbf16>, %arg4: memref<1x1x256xf32>, %arg5: memref<1x1x256xf32>, %arg6: memref<1x256x1x128xbf16>, %arg7: memref<1x256x1x128xbf16>, %arg8: memref<1x256x1x128xf32>) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c4 = arith.constant 4 : index
    %c64 = arith.constant 64 : index
    %c128 = arith.constant 128 : index
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant -1.44269502 : f32
    %cst_1 = arith.constant 0.127517432 : f32
    %cst_2 = arith.constant 0.0883883461 : f32
    attn.program_grid (%seq, %kv_head, %kv_block) in (%c1, %c1, %c2) block_m(128) plan(<stages = 2, ping_pong = false, pv_schedule = serial, persistent_ctas = 0, paired_tiles = false, epilogue = direct, ctas_per_sm = 1, producer_registers = 24, consumer_registers = 240>) attributes {kind = #attn.program_kind<grad_kv>} {
      %0 = attn.channel_create : <[tensor<128x128xbf16, #attn.layout<shared>>, tensor<128x128xbf16, #attn.layout<shared>>], 1>
      %1 = attn.channel_create : <[tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>], 2>
      attn.warp_specialize consumers(2) producer {
        %2 = arith.muli %kv_block, %c128 : index
        %3 = bufferization.alloc_tensor() : tensor<128x128xbf16, #attn.layout<shared>>
        %4 = attn.tile_load %arg1[%seq, %2, %kv_head] rows(%c128) into %3 : memref<1x256x1x128xbf16>, tensor<128x128xbf16, #attn.layout<shared>> -> tensor<128x128xbf16, #attn.layout<shared>>
        %5 = bufferization.alloc_tensor() : tensor<128x128xbf16, #attn.layout<shared>>
        %6 = attn.tile_load %arg2[%seq, %2, %kv_head] rows(%c128) into %5 : memref<1x256x1x128xbf16>, tensor<128x128xbf16, #attn.layout<shared>> -> tensor<128x128xbf16, #attn.layout<shared>>
        attn.channel_put %0, %4, %6 : <[tensor<128x128xbf16, #attn.layout<shared>>, tensor<128x128xbf16, #attn.layout<shared>>], 1>, tensor<128x128xbf16, #attn.layout<shared>>, tensor<128x128xbf16, #attn.layout<shared>>
        scf.for %arg9 = %c0 to %c4 step %c1 {
          %7 = arith.muli %arg9, %c64 : index
          %8 = bufferization.alloc_tensor() : tensor<64x128xbf16, #attn.layout<shared>>
          %9 = attn.tile_load %arg0[%seq, %7, %kv_head] rows(%c64) into %8 : memref<1x256x1x128xbf16>, tensor<64x128xbf16, #attn.layout<shared>> -> tensor<64x128xbf16, #attn.layout<shared>>
          %10 = bufferization.alloc_tensor() : tensor<64x128xbf16, #attn.layout<shared>>
          %11 = attn.tile_load %arg3[%seq, %7, %kv_head] rows(%c64) into %10 : memref<1x256x1x128xbf16>, tensor<64x128xbf16, #attn.layout<shared>> -> tensor<64x128xbf16, #attn.layout<shared>>
          %12 = bufferization.alloc_tensor() : tensor<64xf32, #attn.layout<shared>>
          %13 = attn.tile_load %arg4[%seq, %7, %kv_head] rows(%c64) into %12 : memref<1x1x256xf32>, tensor<64xf32, #attn.layout<shared>> -> tensor<64xf32, #attn.layout<shared>>
          %14 = bufferization.alloc_tensor() : tensor<64xf32, #attn.layout<shared>>
          %15 = attn.tile_load %arg5[%seq, %7, %kv_head] rows(%c64) into %14 : memref<1x1x256xf32>, tensor<64xf32, #attn.layout<shared>> -> tensor<64xf32, #attn.layout<shared>>
          attn.channel_put %1, %9, %11, %13, %15 : <[tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>], 2>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>
        }
      } consumer(%consumer: index) {
        %2 = arith.muli %consumer, %c64 : index
        %3 = arith.muli %kv_block, %c128 : index
        %4 = bufferization.alloc_tensor() : tensor<64x64xf32, #attn.layout<accumulator>>
        %5 = bufferization.alloc_tensor() : tensor<64x64xf32, #attn.layout<accumulator>>
        %6 = bufferization.alloc_tensor() : tensor<64x64xbf16, #attn.layout<operand_a>>
        %7 = bufferization.alloc_tensor() : tensor<64x64xbf16, #attn.layout<operand_a>>
        %8 = bufferization.alloc_tensor() : tensor<64xf32, #attn.layout<rows>>
        %9 = bufferization.alloc_tensor() : tensor<64x128xf32, #attn.layout<accumulator>>
        %10 = bufferization.alloc_tensor() : tensor<64x128xf32, #attn.layout<accumulator>>
        %tiles:2, %token = attn.channel_get %0 : <[tensor<128x128xbf16, #attn.layout<shared>>, tensor<128x128xbf16, #attn.layout<shared>>], 1> -> tensor<128x128xbf16, #attn.layout<shared>>, tensor<128x128xbf16, #attn.layout<shared>>, !attn.token
        %extracted_slice = tensor.extract_slice %tiles#0[%2, 0] [64, 128] [1, 1] : tensor<128x128xbf16, #attn.layout<shared>> to tensor<64x128xbf16, #attn.layout<shared>>
        %c64_3 = arith.constant 64 : index
        %11 = arith.muli %consumer, %c64_3 : index
        %extracted_slice_4 = tensor.extract_slice %tiles#0[0, %11] [128, 64] [1, 1] : tensor<128x128xbf16, #attn.layout<shared>> to tensor<128x64xbf16, #attn.layout<shared>>
        %extracted_slice_5 = tensor.extract_slice %tiles#1[%2, 0] [64, 128] [1, 1] : tensor<128x128xbf16, #attn.layout<shared>> to tensor<64x128xbf16, #attn.layout<shared>>
        %12 = attn.tile_fill %cst into %9 : f32, tensor<64x128xf32, #attn.layout<accumulator>> -> tensor<64x128xf32, #attn.layout<accumulator>>
        %13 = attn.tile_fill %cst into %10 : f32, tensor<64x128xf32, #attn.layout<accumulator>> -> tensor<64x128xf32, #attn.layout<accumulator>>
        %14 = arith.addi %3, %2 : index
        %dq0 = bufferization.alloc_tensor() : tensor<64x64xf32, #attn.layout<accumulator>>
        %dqz = attn.tile_fill %cst into %dq0 : f32, tensor<64x64xf32, #attn.layout<accumulator>> -> tensor<64x64xf32, #attn.layout<accumulator>>
        %dqready = attn.mma_ready %dqz : tensor<64x64xf32, #attn.layout<accumulator>>
        %15:3 = scf.for %arg9 = %c0 to %c4 step %c1 iter_args(%arg10 = %12, %arg11 = %13, %carried = %dqready) -> (tensor<64x128xf32, #attn.layout<accumulator>>, tensor<64x128xf32, #attn.layout<accumulator>>, !attn.async<tensor<64x64xf32, #attn.layout<accumulator>>>) {
          %17 = arith.muli %arg9, %c64 : index
          %tiles_6:4, %token_7 = attn.channel_get %1 : <[tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>], 2> -> tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>, !attn.token
          %18 = attn.tile_fill %cst into %4 : f32, tensor<64x64xf32, #attn.layout<accumulator>> -> tensor<64x64xf32, #attn.layout<accumulator>>
          %19 = attn.mma_async %tiles_6#0, %extracted_slice transpose_rhs into %18 : tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x64xf32, #attn.layout<accumulator>> -> <tensor<64x64xf32, #attn.layout<accumulator>>>
          %20 = attn.mma_wait %19 : <tensor<64x64xf32, #attn.layout<accumulator>>> -> tensor<64x64xf32, #attn.layout<accumulator>>
          %21 = attn.tile_mask %20 into %20 q_pos(%17) kv_pos(%14) diag(%c0) rows(%c64) cols(%c64) seq(%seq) head(%kv_head) attributes {mask = #attn.mask<causal, top_left>} : tensor<64x64xf32, #attn.layout<accumulator>> -> tensor<64x64xf32, #attn.layout<accumulator>>
          %22 = attn.tile_map ins(%tiles_6#2 : tensor<64xf32, #attn.layout<shared>>) into %8 : tensor<64xf32, #attn.layout<rows>> {
          ^bb0(%arg12: f32):
            %41 = arith.mulf %arg12, %cst_0 : f32
            attn.yield %41 : f32
          } -> tensor<64xf32, #attn.layout<rows>>
          attn.channel_release %1[2], %token_7 : <[tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>], 2>
          %23 = attn.tile_map ins(%21, %22 : tensor<64x64xf32, #attn.layout<accumulator>>, tensor<64xf32, #attn.layout<rows>>) into %21 : tensor<64x64xf32, #attn.layout<accumulator>> {
          ^bb0(%arg12: f32, %arg13: f32):
            %41 = math.fma %arg12, %cst_1, %arg13 : f32
            %42 = math.exp2 %41 : f32
            attn.yield %42 : f32
          } -> tensor<64x64xf32, #attn.layout<accumulator>>
          %24 = attn.tile_map ins(%23 : tensor<64x64xf32, #attn.layout<accumulator>>) into %6 : tensor<64x64xbf16, #attn.layout<operand_a>> {
          ^bb0(%arg12: f32):
            %41 = arith.truncf %arg12 : f32 to bf16
            attn.yield %41 : bf16
          } -> tensor<64x64xbf16, #attn.layout<operand_a>>
          %25 = attn.tile_stage %24 : tensor<64x64xbf16, #attn.layout<operand_a>> -> tensor<64x64xbf16, #attn.layout<shared>>
          %26 = attn.mma_async %25, %tiles_6#1 transpose_lhs into %arg11 : tensor<64x64xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xf32, #attn.layout<accumulator>> -> <tensor<64x128xf32, #attn.layout<accumulator>>>
          %27 = attn.mma_wait %26 : <tensor<64x128xf32, #attn.layout<accumulator>>> -> tensor<64x128xf32, #attn.layout<accumulator>>
          %28 = attn.tile_fill %cst into %5 : f32, tensor<64x64xf32, #attn.layout<accumulator>> -> tensor<64x64xf32, #attn.layout<accumulator>>
          %29 = attn.mma_async %tiles_6#1, %extracted_slice_5 transpose_rhs into %28 : tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x64xf32, #attn.layout<accumulator>> -> <tensor<64x64xf32, #attn.layout<accumulator>>>
          %30 = attn.mma_wait %29 : <tensor<64x64xf32, #attn.layout<accumulator>>> -> tensor<64x64xf32, #attn.layout<accumulator>>
          attn.channel_release %1[1], %token_7 : <[tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>], 2>
          %31 = attn.tile_map ins(%23, %30, %tiles_6#3 : tensor<64x64xf32, #attn.layout<accumulator>>, tensor<64x64xf32, #attn.layout<accumulator>>, tensor<64xf32, #attn.layout<shared>>) into %30 : tensor<64x64xf32, #attn.layout<accumulator>> {
          ^bb0(%arg12: f32, %arg13: f32, %arg14: f32):
            %41 = arith.subf %arg13, %arg14 : f32
            %42 = arith.mulf %arg12, %41 : f32
            attn.yield %42 : f32
          } -> tensor<64x64xf32, #attn.layout<accumulator>>
          attn.channel_release %1[3], %token_7 : <[tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>], 2>
          %32 = attn.tile_map ins(%31 : tensor<64x64xf32, #attn.layout<accumulator>>) into %7 : tensor<64x64xbf16, #attn.layout<operand_a>> {
          ^bb0(%arg12: f32):
            %41 = arith.truncf %arg12 : f32 to bf16
            attn.yield %41 : bf16
          } -> tensor<64x64xbf16, #attn.layout<operand_a>>
          // expected-error @+1 {{attn-convert-to-nvgpu: a loop carries an MMA that reads this gathered stage into the stage's next run (wait for it in its iteration)}}
          %33 = attn.tile_stage %32 : tensor<64x64xbf16, #attn.layout<operand_a>> -> tensor<64x64xbf16, #attn.layout<shared>>
          %34 = attn.mma_async %33, %tiles_6#0 transpose_lhs into %arg10 : tensor<64x64xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xf32, #attn.layout<accumulator>> -> <tensor<64x128xf32, #attn.layout<accumulator>>>
          %35 = attn.mma_wait %34 : <tensor<64x128xf32, #attn.layout<accumulator>>> -> tensor<64x128xf32, #attn.layout<accumulator>>
          attn.channel_release %1[0], %token_7 : <[tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>], 2>
          %36 = attn.tile_gather %33 : tensor<64x64xbf16, #attn.layout<shared>> -> tensor<64x128xbf16, #attn.layout<shared>>
          %37 = bufferization.alloc_tensor() : tensor<64x64xf32, #attn.layout<accumulator>>
          %38 = attn.tile_fill %cst into %37 : f32, tensor<64x64xf32, #attn.layout<accumulator>> -> tensor<64x64xf32, #attn.layout<accumulator>>
          %39 = attn.mma_async %36, %extracted_slice_4 into %38 : tensor<64x128xbf16, #attn.layout<shared>>, tensor<128x64xbf16, #attn.layout<shared>>, tensor<64x64xf32, #attn.layout<accumulator>> -> <tensor<64x64xf32, #attn.layout<accumulator>>>
          %40 = attn.mma_wait %carried : <tensor<64x64xf32, #attn.layout<accumulator>>> -> tensor<64x64xf32, #attn.layout<accumulator>>
          attn.tile_store %40 into %arg8[%seq, %17, %kv_head] rows(%c64) column(%11) accumulate : tensor<64x64xf32, #attn.layout<accumulator>>, memref<1x256x1x128xf32>
          scf.yield %35, %27, %39 : tensor<64x128xf32, #attn.layout<accumulator>>, tensor<64x128xf32, #attn.layout<accumulator>>, !attn.async<tensor<64x64xf32, #attn.layout<accumulator>>>
        }
        attn.channel_release %0[0], %token : <[tensor<128x128xbf16, #attn.layout<shared>>, tensor<128x128xbf16, #attn.layout<shared>>], 1>
        attn.channel_release %0[1], %token : <[tensor<128x128xbf16, #attn.layout<shared>>, tensor<128x128xbf16, #attn.layout<shared>>], 1>
        %16 = attn.tile_map ins(%15#0 : tensor<64x128xf32, #attn.layout<accumulator>>) into %15#0 : tensor<64x128xf32, #attn.layout<accumulator>> {
        ^bb0(%arg9: f32):
          %17 = arith.mulf %arg9, %cst_2 : f32
          attn.yield %17 : f32
        } -> tensor<64x128xf32, #attn.layout<accumulator>>
        attn.tile_store %16 into %arg6[%seq, %14, %kv_head] rows(%c64) : tensor<64x128xf32, #attn.layout<accumulator>>, memref<1x256x1x128xbf16>
        attn.tile_store %15#1 into %arg7[%seq, %14, %kv_head] rows(%c64) : tensor<64x128xf32, #attn.layout<accumulator>>, memref<1x256x1x128xbf16>
      }
    }
    return
  }
}

