//===- SelftestKernels.h - hand-written PTX of the self-test ---*- C++ -*-===//
//
// Four sm_90a kernels, written by hand so that the runtime can be checked on
// a GPU before (and independently of) flashmlir's code generator:
//
//   vector_add(a, b, c, n)        c[i] = a[i] + b[i] (f32); 1-D grid.
//   tma_load_tile(tmap, out)      one 32x64 box of 16-bit elements per CTA at
//                                 (row 32 * ctaid.y, column 64 * ctaid.x),
//                                 loaded by cp.async.bulk.tensor.2d
//                                   .shared::cluster.global.tile
//                                   .mbarrier::complete_tx::bytes
//                                 from the tensor map passed as a 128-byte
//                                 kernel parameter, awaited on an mbarrier
//                                 (expect_tx 4096 bytes, try_wait.parity 0),
//                                 then copied verbatim (shared-memory layout,
//                                 zero-filled out-of-bound elements, swizzle
//                                 if any) to out + 4096 B * (ctaid.y *
//                                 nctaid.x + ctaid.x).
//   tma_negate_roundtrip(in, out) the same load, every element's sign bit
//                                 flipped in shared memory (f16 negation),
//                                 fence.proxy.async, then a TMA store
//                                 (cp.async.bulk.tensor.2d.global.shared::cta
//                                 .bulk_group) of the box through a second
//                                 tensor map; the store clips at the bounds.
//   cluster_info(out)             out[ctaid.x] = cluster_nctarank << 16 |
//                                 cluster_ctarank (checks cluster launches).
//
// The tiles live in static shared memory aligned to 1024 bytes, as the
// 128-byte swizzle requires. `flashmlir-gpu-selftest --dump-ptx FILE` writes
// this text out; `ptxas -arch=sm_90a FILE` must accept it (check-attn-cpp
// runs that where ptxas exists).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_TOOLS_GPU_SELFTEST_SELFTESTKERNELS_H
#define FLASHMLIR_TOOLS_GPU_SELFTEST_SELFTESTKERNELS_H

namespace flashmlir::selftest {

/// Box shape of the TMA kernels: 32 rows of 64 16-bit elements (128 bytes,
/// one 128-byte swizzle span per row), 4096 bytes.
constexpr unsigned kBoxRows = 32;
constexpr unsigned kBoxCols = 64;
constexpr unsigned kBoxBytes = kBoxRows * kBoxCols * 2;

inline const char *const kSelftestPtx = R"PTX(
//
// flashmlir GPU self-test kernels (hand-written PTX, see SelftestKernels.h)
//
.version 8.0
.target sm_90a
.address_size 64

// c[i] = a[i] + b[i] for i < n.
.visible .entry vector_add(
    .param .u64 vector_add_param_a,
    .param .u64 vector_add_param_b,
    .param .u64 vector_add_param_c,
    .param .u32 vector_add_param_n
)
{
    .reg .pred  %p<2>;
    .reg .b32   %r<6>;
    .reg .f32   %f<4>;
    .reg .b64   %rd<11>;

    ld.param.u64        %rd1, [vector_add_param_a];
    ld.param.u64        %rd2, [vector_add_param_b];
    ld.param.u64        %rd3, [vector_add_param_c];
    ld.param.u32        %r1, [vector_add_param_n];
    mov.u32             %r2, %ctaid.x;
    mov.u32             %r3, %ntid.x;
    mov.u32             %r4, %tid.x;
    mad.lo.s32          %r5, %r2, %r3, %r4;
    setp.ge.u32         %p1, %r5, %r1;
    @%p1 bra            VA_DONE;
    cvta.to.global.u64  %rd4, %rd1;
    cvta.to.global.u64  %rd5, %rd2;
    cvta.to.global.u64  %rd6, %rd3;
    mul.wide.u32        %rd7, %r5, 4;
    add.s64             %rd8, %rd4, %rd7;
    add.s64             %rd9, %rd5, %rd7;
    add.s64             %rd10, %rd6, %rd7;
    ld.global.f32       %f1, [%rd8];
    ld.global.f32       %f2, [%rd9];
    add.rn.f32          %f3, %f1, %f2;
    st.global.f32       [%rd10], %f3;
VA_DONE:
    ret;
}

// One TMA box per CTA into shared memory, then copied out verbatim.
.visible .entry tma_load_tile(
    .param .align 64 .b8 tma_load_tile_param_tmap[128],
    .param .u64 tma_load_tile_param_out
)
{
    .reg .pred  %p<4>;
    .reg .b16   %rs<2>;
    .reg .b32   %r<16>;
    .reg .b64   %rd<10>;
    .shared .align 1024 .b8 lt_tile[4096];
    .shared .align 8 .b64 lt_bar;

    mov.u32             %r1, %tid.x;
    mov.u32             %r2, lt_bar;
    mov.u32             %r3, lt_tile;
    setp.ne.u32         %p1, %r1, 0;
    // Thread 0 initializes the mbarrier (one arrival expected) and makes the
    // initialization visible to the async proxy that completes it.
    @%p1 bra            LT_INIT_DONE;
    mbarrier.init.shared::cta.b64 [%r2], 1;
    fence.proxy.async.shared::cta;
LT_INIT_DONE:
    bar.sync            0;
    @%p1 bra            LT_WAIT;
    // Thread 0: arrive, announcing 4096 bytes of transactions, and issue the
    // copy of the box at (column 64 * ctaid.x, row 32 * ctaid.y).
    mov.u32             %r4, %ctaid.x;
    shl.b32             %r5, %r4, 6;
    mov.u32             %r6, %ctaid.y;
    shl.b32             %r7, %r6, 5;
    mov.b64             %rd1, tma_load_tile_param_tmap;
    cvta.param.u64      %rd2, %rd1;
    mbarrier.arrive.expect_tx.shared::cta.b64 %rd3, [%r2], 4096;
    cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%r3], [%rd2, {%r5, %r7}], [%r2];
LT_WAIT:
    // Everyone waits for phase 0 of the mbarrier to complete.
    mbarrier.try_wait.parity.shared::cta.b64 %p2, [%r2], 0;
    @!%p2 bra           LT_WAIT;
    // out + 4096 * (ctaid.y * nctaid.x + ctaid.x), 2 bytes per element.
    ld.param.u64        %rd4, [tma_load_tile_param_out];
    cvta.to.global.u64  %rd5, %rd4;
    mov.u32             %r8, %ctaid.x;
    mov.u32             %r9, %ctaid.y;
    mov.u32             %r10, %nctaid.x;
    mad.lo.s32          %r11, %r9, %r10, %r8;
    mul.wide.u32        %rd6, %r11, 4096;
    add.s64             %rd7, %rd5, %rd6;
    mov.u32             %r12, %r1;
    mov.u32             %r13, %ntid.x;
LT_COPY:
    setp.ge.u32         %p3, %r12, 2048;
    @%p3 bra            LT_DONE;
    shl.b32             %r14, %r12, 1;
    add.s32             %r15, %r3, %r14;
    ld.shared.u16       %rs1, [%r15];
    cvt.u64.u32         %rd8, %r14;
    add.s64             %rd9, %rd7, %rd8;
    st.global.u16       [%rd9], %rs1;
    add.s32             %r12, %r12, %r13;
    bra                 LT_COPY;
LT_DONE:
    ret;
}

// TMA load, negate in shared memory, TMA store.
.visible .entry tma_negate_roundtrip(
    .param .align 64 .b8 tma_negate_roundtrip_param_in[128],
    .param .align 64 .b8 tma_negate_roundtrip_param_out[128]
)
{
    .reg .pred  %p<4>;
    .reg .b32   %r<16>;
    .reg .b64   %rd<8>;
    .shared .align 1024 .b8 rt_tile[4096];
    .shared .align 8 .b64 rt_bar;

    mov.u32             %r1, %tid.x;
    mov.u32             %r2, rt_bar;
    mov.u32             %r3, rt_tile;
    mov.u32             %r4, %ctaid.x;
    shl.b32             %r5, %r4, 6;
    mov.u32             %r6, %ctaid.y;
    shl.b32             %r7, %r6, 5;
    setp.ne.u32         %p1, %r1, 0;
    @%p1 bra            RT_INIT_DONE;
    mbarrier.init.shared::cta.b64 [%r2], 1;
    fence.proxy.async.shared::cta;
RT_INIT_DONE:
    bar.sync            0;
    @%p1 bra            RT_WAIT;
    mov.b64             %rd1, tma_negate_roundtrip_param_in;
    cvta.param.u64      %rd2, %rd1;
    mbarrier.arrive.expect_tx.shared::cta.b64 %rd3, [%r2], 4096;
    cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%r3], [%rd2, {%r5, %r7}], [%r2];
RT_WAIT:
    mbarrier.try_wait.parity.shared::cta.b64 %p2, [%r2], 0;
    @!%p2 bra           RT_WAIT;
    // Flip the sign bits, two 16-bit elements per 32-bit word.
    mov.u32             %r8, %r1;
    mov.u32             %r9, %ntid.x;
RT_NEGATE:
    setp.ge.u32         %p3, %r8, 1024;
    @%p3 bra            RT_NEGATE_DONE;
    shl.b32             %r10, %r8, 2;
    add.s32             %r11, %r3, %r10;
    ld.shared.b32       %r12, [%r11];
    xor.b32             %r13, %r12, -2147450880;  // 0x80008000
    st.shared.b32       [%r11], %r13;
    add.s32             %r8, %r8, %r9;
    bra                 RT_NEGATE;
RT_NEGATE_DONE:
    // Generic-proxy writes to shared memory must be made visible to the async
    // proxy (the TMA store) before it reads them.
    fence.proxy.async.shared::cta;
    bar.sync            0;
    @%p1 bra            RT_DONE;
    mov.b64             %rd4, tma_negate_roundtrip_param_out;
    cvta.param.u64      %rd5, %rd4;
    cp.async.bulk.tensor.2d.global.shared::cta.tile.bulk_group [%rd5, {%r5, %r7}], [%r3];
    cp.async.bulk.commit_group;
    // Shared memory must stay valid until the store has read it.
    cp.async.bulk.wait_group.read 0;
RT_DONE:
    ret;
}

// out[ctaid.x] = cluster_nctarank << 16 | cluster_ctarank.
.visible .entry cluster_info(
    .param .u64 cluster_info_param_out
)
{
    .reg .b32   %r<6>;
    .reg .b64   %rd<5>;

    ld.param.u64        %rd1, [cluster_info_param_out];
    cvta.to.global.u64  %rd2, %rd1;
    mov.u32             %r1, %cluster_nctarank;
    mov.u32             %r2, %cluster_ctarank;
    shl.b32             %r3, %r1, 16;
    or.b32              %r4, %r3, %r2;
    mov.u32             %r5, %ctaid.x;
    mul.wide.u32        %rd3, %r5, 4;
    add.s64             %rd4, %rd2, %rd3;
    st.global.u32       [%rd4], %r4;
    ret;
}
)PTX";

} // namespace flashmlir::selftest

#endif // FLASHMLIR_TOOLS_GPU_SELFTEST_SELFTESTKERNELS_H
