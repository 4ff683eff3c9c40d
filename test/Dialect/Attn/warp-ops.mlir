// Round trip of the warp-specialized level (L3): roles, channels, the
// asynchronous MMA and the consumers' turns, custom and generic form.
// RUN: attn-opt %s -split-input-file | attn-opt -split-input-file | FileCheck %s
// RUN: attn-opt %s -split-input-file -mlir-print-op-generic | attn-opt -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @roles
// CHECK: %[[Q:.+]] = attn.channel_create : <[tensor<128x64xbf16, #attn.layout<shared>>], 1>
// CHECK: %[[KV:.+]] = attn.channel_create : <[tensor<64x64xbf16, #attn.layout<shared>>, tensor<64x64xbf16, #attn.layout<shared>>], 2>
// CHECK: attn.warp_specialize consumers(2) producer {
// CHECK:   attn.channel_put %[[Q]], %{{.+}} : <[tensor<128x64xbf16, #attn.layout<shared>>], 1>, tensor<128x64xbf16, #attn.layout<shared>>
// CHECK:   attn.channel_put %[[KV]], %{{.+}}, %{{.+}} :
// CHECK: } consumer(%[[C:.+]]: index) {
// CHECK:   %[[KV2:.+]]:2, %[[TOK:.+]] = attn.channel_get %[[KV]] : <{{.*}}> -> tensor<64x64xbf16, #attn.layout<shared>>, tensor<64x64xbf16, #attn.layout<shared>>, !attn.token
// CHECK:   %[[F:.+]] = attn.consumer_turn -> !attn.async<tensor<64x64xf32, #attn.layout<accumulator>>> {
// CHECK:     %[[M:.+]] = attn.mma_async %{{.+}}, %[[KV2]]#0 transpose_rhs into %{{.+}} : {{.*}} -> <tensor<64x64xf32, #attn.layout<accumulator>>>
// CHECK:     attn.yield %[[M]]
// CHECK:   %[[S:.+]] = attn.mma_wait %[[F]] : <tensor<64x64xf32, #attn.layout<accumulator>>> -> tensor<64x64xf32, #attn.layout<accumulator>>
// CHECK:   attn.channel_release %[[KV]][0], %[[TOK]] : <
// CHECK:   attn.channel_release %[[KV]][1], %[[TOK]] : <
func.func @roles(%query: memref<1x256x1x64xbf16>, %n: index) {
  %q = attn.channel_create : !attn.channel<[tensor<128x64xbf16, #attn.layout<shared>>], 1>
  %kv = attn.channel_create : !attn.channel<[tensor<64x64xbf16, #attn.layout<shared>>, tensor<64x64xbf16, #attn.layout<shared>>], 2>
  attn.warp_specialize consumers(2) producer {
    %e = bufferization.alloc_tensor() : tensor<128x64xbf16, #attn.layout<shared>>
    %qt = attn.tile_load %query[%n, %n, %n] rows(%n) into %e
        : memref<1x256x1x64xbf16>, tensor<128x64xbf16, #attn.layout<shared>> -> tensor<128x64xbf16, #attn.layout<shared>>
    attn.channel_put %q, %qt : !attn.channel<[tensor<128x64xbf16, #attn.layout<shared>>], 1>, tensor<128x64xbf16, #attn.layout<shared>>
    %ek = bufferization.alloc_tensor() : tensor<64x64xbf16, #attn.layout<shared>>
    %kt = attn.tile_load %query[%n, %n, %n] rows(%n) into %ek
        : memref<1x256x1x64xbf16>, tensor<64x64xbf16, #attn.layout<shared>> -> tensor<64x64xbf16, #attn.layout<shared>>
    attn.channel_put %kv, %kt, %kt : !attn.channel<[tensor<64x64xbf16, #attn.layout<shared>>, tensor<64x64xbf16, #attn.layout<shared>>], 2>,
        tensor<64x64xbf16, #attn.layout<shared>>, tensor<64x64xbf16, #attn.layout<shared>>
  } consumer(%c: index) {
    %qs, %qtok = attn.channel_get %q : !attn.channel<[tensor<128x64xbf16, #attn.layout<shared>>], 1>
        -> tensor<128x64xbf16, #attn.layout<shared>>, !attn.token
    %qc = tensor.extract_slice %qs[%c, 0] [64, 64] [1, 1]
        : tensor<128x64xbf16, #attn.layout<shared>> to tensor<64x64xbf16, #attn.layout<shared>>
    %k, %v, %tok = attn.channel_get %kv : !attn.channel<[tensor<64x64xbf16, #attn.layout<shared>>, tensor<64x64xbf16, #attn.layout<shared>>], 2>
        -> tensor<64x64xbf16, #attn.layout<shared>>, tensor<64x64xbf16, #attn.layout<shared>>, !attn.token
    %e = bufferization.alloc_tensor() : tensor<64x64xf32, #attn.layout<accumulator>>
    %f = attn.consumer_turn -> !attn.async<tensor<64x64xf32, #attn.layout<accumulator>>> {
      %m = attn.mma_async %qc, %k transpose_rhs into %e
          : tensor<64x64xbf16, #attn.layout<shared>>, tensor<64x64xbf16, #attn.layout<shared>>,
            tensor<64x64xf32, #attn.layout<accumulator>> -> !attn.async<tensor<64x64xf32, #attn.layout<accumulator>>>
      attn.yield %m : !attn.async<tensor<64x64xf32, #attn.layout<accumulator>>>
    }
    %s = attn.mma_wait %f : !attn.async<tensor<64x64xf32, #attn.layout<accumulator>>> -> tensor<64x64xf32, #attn.layout<accumulator>>
    attn.channel_release %kv[0], %tok : !attn.channel<[tensor<64x64xbf16, #attn.layout<shared>>, tensor<64x64xbf16, #attn.layout<shared>>], 2>
    attn.channel_release %kv[1], %tok : !attn.channel<[tensor<64x64xbf16, #attn.layout<shared>>, tensor<64x64xbf16, #attn.layout<shared>>], 2>
    attn.channel_release %q[0], %qtok : !attn.channel<[tensor<128x64xbf16, #attn.layout<shared>>], 1>
  }
  return
}

// -----

// An MMA accumulating into one still in flight (the chained P·V).
// CHECK-LABEL: func.func @chained
// CHECK: %[[F1:.+]] = attn.mma_async
// CHECK: attn.mma_async %{{.+}}, %{{.+}} into %[[F1]] : {{.*}}, !attn.async<tensor<64x64xf32, #attn.layout<accumulator>>> -> <
func.func @chained(%p: tensor<64x64xbf16, #attn.layout<operand_a>>, %v: tensor<64x64xbf16, #attn.layout<shared>>,
                   %acc: tensor<64x64xf32, #attn.layout<accumulator>>) {
  %f1 = attn.mma_async %p, %v into %acc
      : tensor<64x64xbf16, #attn.layout<operand_a>>, tensor<64x64xbf16, #attn.layout<shared>>,
        tensor<64x64xf32, #attn.layout<accumulator>> -> !attn.async<tensor<64x64xf32, #attn.layout<accumulator>>>
  %f2 = attn.mma_async %p, %v into %f1
      : tensor<64x64xbf16, #attn.layout<operand_a>>, tensor<64x64xbf16, #attn.layout<shared>>,
        !attn.async<tensor<64x64xf32, #attn.layout<accumulator>>> -> !attn.async<tensor<64x64xf32, #attn.layout<accumulator>>>
  return
}

// -----

// The backward's pieces: a channel of a q-block's Q, dO, LSE and D (rank-1
// per-row parts), and P staged in shared memory for dV += Pᵀ·dO (a register
// tile cannot be read transposed).
// CHECK-LABEL: func.func @backward
// CHECK: %[[QC:.+]] = attn.channel_create : <[tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>], 2>
// CHECK: consumer
// CHECK: %[[T:.+]]:4, %{{.+}} = attn.channel_get %[[QC]]
// CHECK: %[[PS:.+]] = attn.tile_stage %{{.+}} : tensor<64x64xbf16, #attn.layout<operand_a>> -> tensor<64x64xbf16, #attn.layout<shared>>
// CHECK: attn.mma_async %[[PS]], %[[T]]#1 transpose_lhs into
// Every consumer's staged tile side by side (two consumers: [64, 128]).
// CHECK: %[[ALL:.+]] = attn.tile_gather %[[PS]] : tensor<64x64xbf16, #attn.layout<shared>> -> tensor<64x128xbf16, #attn.layout<shared>>
// CHECK: attn.mma_async %[[ALL]], %{{.+}} into
func.func @backward(%p: tensor<64x64xbf16, #attn.layout<operand_a>>, %dv: tensor<64x128xf32, #attn.layout<accumulator>>,
                    %k: tensor<128x64xbf16, #attn.layout<shared>>, %dq: tensor<64x64xf32, #attn.layout<accumulator>>) {
  %qc = attn.channel_create : !attn.channel<[tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>,
                                             tensor<64xf32, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>], 2>
  attn.warp_specialize consumers(2) producer {
  } consumer(%c: index) {
    %q, %do, %lse, %d, %tok = attn.channel_get %qc : !attn.channel<[tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>,
                                                                   tensor<64xf32, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>], 2>
        -> tensor<64x128xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>,
           tensor<64xf32, #attn.layout<shared>>, tensor<64xf32, #attn.layout<shared>>, !attn.token
    %ps = attn.tile_stage %p : tensor<64x64xbf16, #attn.layout<operand_a>> -> tensor<64x64xbf16, #attn.layout<shared>>
    %f = attn.mma_async %ps, %do transpose_lhs into %dv
        : tensor<64x64xbf16, #attn.layout<shared>>, tensor<64x128xbf16, #attn.layout<shared>>,
          tensor<64x128xf32, #attn.layout<accumulator>> -> !attn.async<tensor<64x128xf32, #attn.layout<accumulator>>>
    %all = attn.tile_gather %ps : tensor<64x64xbf16, #attn.layout<shared>> -> tensor<64x128xbf16, #attn.layout<shared>>
    %g = attn.mma_async %all, %k into %dq
        : tensor<64x128xbf16, #attn.layout<shared>>, tensor<128x64xbf16, #attn.layout<shared>>,
          tensor<64x64xf32, #attn.layout<accumulator>> -> !attn.async<tensor<64x64xf32, #attn.layout<accumulator>>>
  }
  return
}
