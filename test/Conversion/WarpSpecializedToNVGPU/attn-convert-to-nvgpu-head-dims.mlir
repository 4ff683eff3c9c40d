// attn-convert-to-nvgpu for head dims whose rows are not a whole number of
// 128-byte swizzle spans: each tensor's shared tiles take the widest swizzle
// whose columns divide its width (SwizzledRows): 64 bytes (32 columns) at
// D = 96, 32 bytes (16 columns) at D = 80; D = 64 keeps 128 bytes (64
// columns). The TMA boxes, the wgmma descriptors (layout type, 8-row group
// stride, chunk stride), the k-step advances, the stmatrix epilogue's
// swizzle and the TMA stores all follow the tensor's layout.
// RUN: attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-warp-specialize="persistent-ctas=0" -attn-convert-to-nvgpu -canonicalize -cse | FileCheck %s
// RUN: attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=80" -attn-online-softmax -attn-warp-specialize="persistent-ctas=0 stages=3" -attn-convert-to-nvgpu -canonicalize -cse | FileCheck %s --check-prefix=ALIGN

// D = Dv = 96: three chunks of 32 columns per row (192 bytes), 64-byte
// swizzle. Each tensor map's box is one chunk.
// CHECK-LABEL: func.func @d96
// CHECK-SAME: attn.tensor_map = {box = array<i64: 32, 1, 128, 1>, element = "bf16", operand = 0 : i64, swizzle = 64 : i64}
// CHECK-SAME: attn.tensor_map = {box = array<i64: 32, 1, 64, 1>, element = "bf16", operand = 1 : i64, swizzle = 64 : i64}
// CHECK-SAME: attn.tensor_map = {box = array<i64: 32, 1, 64, 1>, element = "bf16", operand = 2 : i64, swizzle = 64 : i64}
// CHECK-SAME: attn.tensor_map = {box = array<i64: 32, 1, 64, 1>, element = "bf16", operand = 3 : i64, swizzle = 64 : i64}
// Descriptors of 64-byte-swizzled tiles: layout type 2 (bits 62-63), 8-row
// groups 8 x 64 = 512 bytes apart (bits 32-45, in 16-byte units); K-major Q
// and K with LBO 16, N-major V with its 32-column chunks BlockN x 64 = 4096
// bytes apart:
//   2 << 62 | 512/16 << 32 | 16/16 << 16   = 0x8000002000010000
//   2 << 62 | 512/16 << 32 | 4096/16 << 16 = 0x8000002001000000
// CHECK-DAG: %[[KMAJOR:.+]] = arith.constant -9223371899415756800 : i64
// CHECK-DAG: %[[NMAJOR:.+]] = arith.constant -9223371899399045120 : i64
// Q: 128 x 96 x 2 = 24576 bytes in three copies (columns 0, 32, 64), chunk
// after chunk; K and V: 64 x 96 x 2 = 12288 bytes per slot, three copies
// each.
// CHECK: nvgpu.mbarrier.arrive.expect_tx %{{.*}}[%c0], %c24576
// CHECK: nvgpu.tma.async.load %[[QMAP:.+]][%c0, {{.*}} : <tensor = memref<1x128x1x32xbf16, 3>, swizzle = swizzle_64b,
// CHECK: nvgpu.tma.async.load %[[QMAP]][%c32,
// CHECK: nvgpu.tma.async.load %[[QMAP]][%c64,
// CHECK: nvgpu.mbarrier.arrive.expect_tx %{{.*}}, %c12288
// CHECK: nvgpu.tma.async.load %[[KMAP:.+]][%c0, {{.*}} : <tensor = memref<1x64x1x32xbf16, 3>, swizzle = swizzle_64b,
// CHECK: nvgpu.tma.async.load %[[KMAP]][%c32,
// CHECK: nvgpu.tma.async.load %[[KMAP]][%c64,
// CHECK: nvgpu.mbarrier.arrive.expect_tx %{{.*}}, %c12288
// CHECK: nvgpu.tma.async.load %[[VMAP:.+]][%c0, {{.*}} : <tensor = memref<1x64x1x32xbf16, 3>, swizzle = swizzle_64b,
// CHECK: nvgpu.tma.async.load %[[VMAP]][%c64,
// Consumers: the descriptors of Q and of slot 0 of K and V.
// CHECK: nvvm.setmaxregister increase 240
// CHECK: arith.ori %{{.*}}, %[[KMAJOR]] : i64
// CHECK: %[[K:.+]] = arith.ori %{{.*}}, %[[KMAJOR]] : i64
// CHECK: arith.ori %{{.*}}, %[[NMAJOR]] : i64
// S = Q·Kᵀ in 6 k16 steps, two per 64-byte row: +32 bytes (+2) within a
// chunk, a chunk further between chunks (Q: 128 x 64 bytes = +512; K: 64 x
// 64 bytes = +256).
// CHECK: %{{.+}} = nvvm.wgmma.mma_async %[[Q:.+]], %[[K]], %{{.*}}, <m = 64, n = 64, k = 16>, D[<f32>, <zero>]
// CHECK-NEXT: %[[K1:.+]] = arith.addi %[[K]], %c2_i64
// CHECK-NEXT: %[[Q1:.+]] = arith.addi %[[Q]], %c2_i64
// CHECK-NEXT: nvvm.wgmma.mma_async %[[Q1]], %[[K1]]
// CHECK-NEXT: %[[K2:.+]] = arith.addi %[[K]], %c256_i64
// CHECK-NEXT: %[[Q2:.+]] = arith.addi %[[Q]], %c512_i64
// CHECK-NEXT: nvvm.wgmma.mma_async %[[Q2]], %[[K2]]
// CHECK-NEXT: %[[K3:.+]] = arith.addi %[[K]], %c258_i64
// CHECK-NEXT: %[[Q3:.+]] = arith.addi %[[Q]], %c514_i64
// CHECK-NEXT: nvvm.wgmma.mma_async %[[Q3]], %[[K3]]
// CHECK-NEXT: %[[K4:.+]] = arith.addi %[[K]], %c512_i64
// CHECK-NEXT: %[[Q4:.+]] = arith.addi %[[Q]], %c1024_i64
// CHECK-NEXT: nvvm.wgmma.mma_async %[[Q4]], %[[K4]]
// CHECK-NEXT: %[[K5:.+]] = arith.addi %[[K]], %c514_i64
// CHECK-NEXT: %[[Q5:.+]] = arith.addi %[[Q]], %c1026_i64
// CHECK-NEXT: nvvm.wgmma.mma_async %[[Q5]], %[[K5]]
// CHECK-NEXT: nvvm.wgmma.commit.group.sync.aligned
// O += P·V, N = Dv = 96 over all three chunks of V, in 4 k16 steps of 16
// rows x 64 bytes = 1024 bytes (+64) each (V carried into the loop: the
// overlapped schedule's previous block).
// CHECK: llvm.inline_asm {{.*}}wgmma.mma_async.sync.aligned.m64n96k16.f32.bf16.bf16
// CHECK: %[[V1:.+]] = arith.addi %[[V:.+]], %c64_i64 : i64
// CHECK-NEXT: llvm.inline_asm {{.*}}m64n96k16{{.*}}, %[[V1]],
// CHECK: arith.addi %[[V]], %c128_i64 : i64
// CHECK: arith.addi %[[V]], %c192_i64 : i64
// Epilogue (O in Q's buffer): row r at r·64 bytes, its 16-byte unit u at
// u ⊕ (r / 2) mod 4; lane l's row is ... + l mod 8, so its unit is
// (l / 16) ⊕ (l mod 8) / 2, then ⊕ (j mod 4) for columns 8j.
// CHECK: %[[LANE:.+]] = arith.remui %{{.*}}, %c32 : index
// CHECK: %[[LROW:.+]] = arith.remui %[[LANE]], %c8 : index
// CHECK: %[[RSW:.+]] = arith.divui %[[LROW]], %c2 : index
// CHECK: %[[HALF:.+]] = arith.divui %[[LANE]], %c16 : index
// CHECK: %[[UNIT:.+]] = arith.xori %[[HALF]], %[[RSW]] : index
// CHECK: %[[ROWB:.+]] = arith.muli %{{.*}}, %c64 : index
// CHECK: nvvm.stmatrix
// CHECK: arith.xori %[[UNIT]], %c2 : index
// CHECK: nvvm.stmatrix
// Columns 32.. are chunk 1, 128 rows x 64 bytes further.
// CHECK: arith.addi %{{.*}}, %c8192 : index
// CHECK: nvvm.stmatrix
// CHECK: nvvm.stmatrix
// CHECK: arith.addi %{{.*}}, %c16384 : index
// CHECK: nvvm.stmatrix
// CHECK: nvvm.stmatrix
// CHECK-NOT: nvvm.stmatrix
// One TMA store per 32-column chunk of the consumer's 64 rows.
// CHECK: nvgpu.tma.async.store %{{.*}} to %[[OMAP:.+]][%c0, {{.*}} : memref<1x64x1x32xbf16, #gpu.address_space<workgroup>> -> <tensor = memref<1x64x1x32xbf16, 3>, swizzle = swizzle_64b,
// CHECK: nvgpu.tma.async.store %{{.*}} to %[[OMAP]][%c32,
// CHECK: nvgpu.tma.async.store %{{.*}} to %[[OMAP]][%c64,
// CHECK-NOT: nvgpu.tma.async.store
func.func @d96(%q: memref<2x300x8x96xbf16>, %k: memref<2x300x2x96xbf16>,
               %v: memref<2x300x2x96xbf16>, %o: memref<2x300x8x96xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x300x8x96xbf16>, memref<2x300x2x96xbf16>,
                                  memref<2x300x2x96xbf16>)
      outs(%o : memref<2x300x8x96xbf16>) mask<causal, bottom_right>
  return
}

// -----

// D = Dv = 80: five chunks of 16 columns (32-byte swizzle, layout type 3,
// 8-row groups 256 bytes apart). Past four chunks each copy's column and
// shared offset come through an opaque move where the copy is issued (LLVM
// hoisted them out of the KV loop, the 24-register producer spilled).
// CHECK-LABEL: func.func @d80
// ALIGN-LABEL: func.func @d80
// ALIGN-SAME: attn.tensor_map = {box = array<i64: 16, 1, 128, 1>, element = "f16", operand = 0 : i64, swizzle = 32 : i64}
// ALIGN-SAME: attn.tensor_map = {box = array<i64: 16, 1, 80, 1>, element = "f16", operand = 0 : i64, swizzle = 32 : i64}
// ALIGN-SAME: attn.tensor_map = {box = array<i64: 16, 1, 80, 1>, element = "f16", operand = 0 : i64, swizzle = 32 : i64}
// ALIGN-SAME: attn.tensor_map = {box = array<i64: 16, 1, 64, 1>, element = "f16", operand = 1 : i64, swizzle = 32 : i64}
//   3 << 62 | 256/16 << 32 | 16/16 << 16          = 0xC000001000010000
//   3 << 62 | 256/16 << 32 | (80 x 32)/16 << 16   = 0xC000001000A00000
// ALIGN-DAG: %[[VDESC:.+]] = arith.constant -4611685949697425408 : i64
// ALIGN-DAG: %[[KDESC:.+]] = arith.constant -4611685949707845632 : i64
// Shared memory: Q 128 x 80 x 2 = 20480 bytes, then 3 K slots of 80 x 80 x 2
// = 12800 bytes ending at 58880, so V starts at the next 1024 bytes, 59392
// (TMA and wgmma swizzle by address bits); 3 V slots end at 97792, + 1024
// for the base's alignment.
// ALIGN: dynamic_shared_memory_size %c98816_i32
// ALIGN: nvgpu.mbarrier.arrive.expect_tx %{{.*}}[%c0], %c20480
// ALIGN: llvm.inline_asm has_side_effects asm_dialect = att "mov.u32 $0, 0;"
// ALIGN: llvm.inline_asm has_side_effects asm_dialect = att "mov.u32 $0, 0;"
// ALIGN: nvgpu.tma.async.load {{.*}} : <tensor = memref<1x128x1x16xf16, 3>, swizzle = swizzle_32b,
// ALIGN: "mov.u32 $0, 4096;"
// ALIGN: "mov.u32 $0, 16;"
// ALIGN: nvgpu.tma.async.load
// ALIGN: "mov.u32 $0, 16384;"
// ALIGN: "mov.u32 $0, 64;"
// ALIGN: nvgpu.tma.async.load
// K slot s at 20480 + 12800 s, chunk c 80 x 32 = 2560 bytes further.
// ALIGN: nvgpu.mbarrier.arrive.expect_tx %{{.*}}, %c12800
// ALIGN: "mov.u32 $0, 20480;"
// ALIGN: "mov.u32 $0, 23040;"
// ALIGN: "mov.u32 $0, 30720;"
// ALIGN: nvgpu.mbarrier.arrive.expect_tx %{{.*}}, %c12800
// ALIGN: "mov.u32 $0, 59392;"
// ALIGN: nvgpu.tma.async.load {{.*}} : <tensor = memref<1x80x1x16xf16, 3>, swizzle = swizzle_32b,
// ALIGN: "mov.u32 $0, 61952;"
// Consumers: one k16 step per 32-byte row, so each step is a chunk further
// (Q: 128 x 32 bytes = +256; K: 80 x 32 bytes = +160).
// ALIGN: nvvm.setmaxregister increase 240
// ALIGN: arith.ori %{{.*}}, %[[KDESC]] : i64
// ALIGN: %[[K:.+]] = arith.ori %{{.*}}, %[[KDESC]] : i64
// ALIGN: arith.ori %{{.*}}, %[[VDESC]] : i64
// ALIGN: nvvm.wgmma.mma_async %[[Q:.+]], %[[K]], %{{.*}}, <m = 64, n = 80, k = 16>, D[<f32>, <zero>]
// ALIGN-NEXT: %[[K1:.+]] = arith.addi %[[K]], %c160_i64
// ALIGN-NEXT: %[[Q1:.+]] = arith.addi %[[Q]], %c256_i64
// ALIGN-NEXT: nvvm.wgmma.mma_async %[[Q1]], %[[K1]]
// ALIGN: arith.addi %[[K]], %c640_i64
// ALIGN-NEXT: arith.addi %[[Q]], %c1024_i64
// ALIGN-NEXT: nvvm.wgmma.mma_async
// ALIGN-NEXT: nvvm.wgmma.commit.group.sync.aligned
// P·V: N = 80, k16 steps of 16 rows x 32 bytes (+32).
// ALIGN: llvm.inline_asm {{.*}}wgmma.mma_async.sync.aligned.m64n80k16.f32.f16.f16
// ALIGN: arith.addi %{{.*}}, %c32_i64 : i64
// ALIGN-NEXT: llvm.inline_asm {{.*}}m64n80k16
// Epilogue: units u ⊕ (r / 4) mod 2 of 32-byte rows, one chunk per stmatrix.x4.
// ALIGN: %[[LANE:.+]] = arith.remui %{{.*}}, %c32 : index
// ALIGN: %[[LROW:.+]] = arith.remui %[[LANE]], %c8 : index
// ALIGN: arith.divui %[[LROW]], %c4 : index
// ALIGN-COUNT-5: nvvm.stmatrix
// ALIGN-NOT: nvvm.stmatrix
// ALIGN-COUNT-5: nvgpu.tma.async.store {{.*}} <tensor = memref<1x64x1x16xf16, 3>, swizzle = swizzle_32b,
func.func @d80(%q: memref<1x300x2x80xf16>, %o: memref<1x300x2x80xf16>) {
  attn.attention ins(%q, %q, %q : memref<1x300x2x80xf16>, memref<1x300x2x80xf16>,
                                  memref<1x300x2x80xf16>)
      outs(%o : memref<1x300x2x80xf16>)
  return
}

// -----

// D = 64, Dv = 96: Q and K in 128-byte-swizzled 64-column chunks, V and O in
// 64-byte-swizzled 32-column ones; the descriptors differ per tensor.
// CHECK-LABEL: func.func @d64_dv96
// CHECK-SAME: attn.tensor_map = {box = array<i64: 64, 1, 128, 1>, element = "f16", operand = 0 : i64, swizzle = 128 : i64}
// CHECK-SAME: attn.tensor_map = {box = array<i64: 64, 1, 64, 1>, element = "f16", operand = 0 : i64, swizzle = 128 : i64}
// CHECK-SAME: attn.tensor_map = {box = array<i64: 32, 1, 64, 1>, element = "f16", operand = 1 : i64, swizzle = 64 : i64}
// CHECK-SAME: attn.tensor_map = {box = array<i64: 32, 1, 64, 1>, element = "f16", operand = 2 : i64, swizzle = 64 : i64}
//   1 << 62 | 1024/16 << 32 | 16/16 << 16   (K-major Q, K)
//   2 << 62 | 512/16 << 32 | 4096/16 << 16  (N-major V)
// CHECK-DAG: %[[KMAJOR:.+]] = arith.constant 4611686293305360384 : i64
// CHECK-DAG: %[[NMAJOR:.+]] = arith.constant -9223371899399045120 : i64
// CHECK: nvvm.setmaxregister increase 240
// CHECK: arith.ori %{{.*}}, %[[KMAJOR]] : i64
// CHECK: arith.ori %{{.*}}, %[[NMAJOR]] : i64
// CHECK: llvm.inline_asm {{.*}}wgmma.mma_async.sync.aligned.m64n96k16.f32.f16.f16
func.func @d64_dv96(%q: memref<1x200x2x64xf16>, %v: memref<1x200x2x96xf16>,
                    %o: memref<1x200x2x96xf16>) {
  attn.attention ins(%q, %q, %v : memref<1x200x2x64xf16>, memref<1x200x2x64xf16>,
                                  memref<1x200x2x96xf16>)
      outs(%o : memref<1x200x2x96xf16>)
  return
}
