//===- Passes.td - flashmlir transformation passes ---------*- tablegen -*-===//

#ifndef FLASHMLIR_TRANSFORMS_PASSES_TD
#define FLASHMLIR_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnTilePass : Pass<"attn-tile", "::mlir::func::FuncOp"> {
  let summary = "Maps attn.attention onto programs over (batch, head, q-block) "
                "that stream KV blocks, skipping fully masked ones";
  let description = [{
    Rewrites each `attn.attention` on memrefs into the tiled level (L1):

    1. Choose BlockM (query rows per program) and BlockN (keys per KV block):
       the pass options, or the heuristic of docs/Tiling.md keyed on
       (head dim, dtype, mask, target); with a block mask, tiles that divide
       its block size (explicit ones that do not are an error).
    2. Emit an `attn.program_grid` over (sequence, q-head, q-block); under
       varlen the q-block count bounds the longest sequence and programs past
       their sequence's end do nothing. A program's tiles are values of
       O(BlockM·D + BlockN·D) elements: f32 on the CPU target and for scaled
       (FP8) loads, else the operands' own bf16/f16 (the tensor cores' input).
    3. Per program: sequence offsets and lengths (from cu_seqlens under
       varlen), the KV head h / (Hq / Hkv) (GQA reads the shared head, no
       copy), the diagonal shift (Sk - Sq for bottom-right alignment).
    4. The KV-block ranges of MaskBounds.h: blocks outside [lo, hi) hold no
       visible key and are not visited; [interiorLo, interiorHi) is emitted as
       a loop of unmasked `attn.block_update`s, the two sides as loops of
       `masked` ones. With a mask_mod every visited block is masked; with no
       mask a single unmasked loop remains. With a block mask the loops walk
       its lists instead: i in [0, n·r) masked, [n·r, (n+f)·r) unmasked, kernel
       block list[i / r]·r + i mod r (r = mask block / BlockN), one body for
       both; the grid is marked `attn.block_sparse`.
    5. Load the Q tile once (`attn.tile_load`), start the running state
       (`attn.block_init`), stream K/V tiles in the loops, which carry the
       state (acc, m, l) as iter_args from `attn.block_update` to the next,
       and finish with `attn.block_finalize` into `out` (and `lse`).
    6. FP8 (f8E4M3FN with descales): each program loads the descales of its
       sequence and KV head once and gives them to the Q, K and V tile loads
       as their `scale` (S = scale·(dq·Q)(dk·K)ᵀ, O = P·(dv·V)).
    7. `attn.attention_grad` becomes three grids (AttnTileGrad.cpp), run in
       order: a preprocess over (sequence, q-head, q-block) storing
       D = rowsum(dO∘O) − dLSE (`attn.block_grad_delta`) and zeroing the dQ
       accumulator's rows; the main grid over (sequence, kv-head, kv-block),
       KV-stationary: K and V loaded once, dK and dV carried by the loops
       over the q-blocks of every query head of the group (GQA sums in the
       program), those q-blocks split by the transposed mask algebra of
       MaskBounds.h into boundary and interior ranges (or, with a block
       mask, the q-blocks whose lists hold the program's block), each
       `attn.block_grad_update`'s dQ part added to the accumulator
       (`attn.tile_store ... accumulate`), `attn.block_grad_finalize`
       storing scale·dK and dV; a postprocess storing dQ = scale·dQ_acc.
       Here `block-m` is the q-block's rows and `block-n` the keys per
       program.
  }];
  let options = [
    Option<"blockM", "block-m", "int64_t", /*default=*/"0",
           "Query rows per program; 0 = heuristic">,
    Option<"blockN", "block-n", "int64_t", /*default=*/"0",
           "Keys per KV block; 0 = heuristic">,
    Option<"target", "target", "std::string", /*default=*/"\"sm_90a\"",
           "Target whose tile heuristic applies: sm_90a or cpu">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def AttnOnlineSoftmaxPass : Pass<"attn-online-softmax", "::mlir::func::FuncOp"> {
  let summary = "Rewrites the tiled softmax ops into the value-semantic tile "
                "ops of the running (online) form";
  let description = [{
    Expands `attn.block_init`, `attn.block_update` and `attn.block_finalize`
    (L1) into L2 tile ops on values — the one place the online softmax is
    written; every target lowers these ops. Per KV block:

        S     = Q·Kᵀ                                  attn.tile_matmul
        S     = softcap·tanh(S·scale/softcap), score_mod(S·scale, ...)
                (when present; then c = log2 e, else c = scale·log2 e)
        S     = -inf where hidden (window, mask_mod, past the block's
                columns)                               attn.tile_mask
        m_new = max(m, c·rowmax(S))      (NaN-propagating)
        alpha = exp2(m - m_safe)         m_safe = m_new, or 0 while -inf
        P     = exp2(fma(S, c, -m_safe))              one fma, one exp2
        l     = l·alpha + rowsum(P)
        O     = O·alpha + P·V            P rounded to V's element type

    and in the epilogue O = acc / l, LSE = (m + log2 l)·ln 2 — O = 0 and
    LSE = -inf for a row that saw no key (l = 0), NaN where a NaN score
    reached the row. Boundary blocks are masked; an interior block only
    when it is the ragged last one (an scf.if on cols < BlockN). The running
    state stays in the loops' iter_args and is updated in place; scratch
    tiles are `tensor.empty` values at the top of the program, one per
    purpose (`bufferization.alloc_tensor`, which CSE never merges), so a
    bufferized program holds O(BlockM·BlockN) scratch, never an Sq × Sk
    buffer.

    The backward's ops (AttnOnlineSoftmaxGrad.cpp), into the same tile ops:

        D      = rowsum(dO∘O) − dLSE                  attn.block_grad_delta
        dK, dV = 0                                    attn.block_grad_init
      per q-block (attn.block_grad_update), with S as above:
        G      = ∂z/∂x = (1 − (S/softcap)²) · score_mod'(S)   (when present)
        LSE₂   = LSE·log2 e, +inf where LSE = -inf
        P      = exp2(fma(S, c, −LSE₂))       0 for hidden keys and for
                                              rows without a key (no NaN)
        dV    += Pᵀ·dO                        P rounded to dO's type
        dP     = dO·Vᵀ
        dS     = P∘(dP − D) (∘ G)
        dK    += dSᵀ·Q,  dQ = dS·K            dS rounded to Q's/K's type
      and at the end dK = scale·dK (attn.block_grad_finalize).
  }];
  let options = [
    Option<"testDropAlpha", "test-drop-alpha", "bool", /*default=*/"false",
           "(dev only) omit the alpha rescale of l and acc: a deliberately "
           "wrong kernel that the numerical tests must reject">,
    Option<"testDropDelta", "test-drop-delta", "bool", /*default=*/"false",
           "(dev only) the backward without D (dS = P∘dP): a deliberately "
           "wrong kernel that the numerical tests must reject">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect"];
}

def AttnBufferizeTilesPass : Pass<"attn-bufferize-tiles", "::mlir::func::FuncOp"> {
  let summary = "Bufferizes the tiles of the online-softmax level in place, "
                "one static alloca per scratch tile and program";
  let description = [{
    One-shot bufferization of the L2 tiles for the loop lowerings (CPU,
    SIMT); the operands are memrefs already.

    1. Every tile op writes its destination in place (attn-online-softmax
       builds them so).
    2. Each tile allocation (`bufferization.alloc_tensor` or `tensor.empty`)
       becomes one static `memref.alloca` at the top of its program
       (O(BlockM·D + BlockN·D) bytes per program).
    3. A copy — an op that could not write in place — is diagnosed: it
       would be a copy per KV block.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect"];
}

def AttnTilesToLoopsPass : Pass<"attn-tiles-to-loops", "::mlir::func::FuncOp"> {
  let summary = "Lowers the bufferized tile ops to loop nests (the CPU and "
                "SIMT paths)";
  let description = [{
    Each tile op on memrefs becomes a loop nest whose outer loop, over the
    rows of its destination, is marked `attn.row_loop` (rows are independent
    in every tile op: the SIMT mapping gives each to a thread):

        tile_load    dest[r, d] = r < rows ? T(src[b, row + r, h, d]) : 0
        tile_matmul  dest[i, j] += Σ_k f32(op(lhs)[i, k]) · f32(op(rhs)[k, j])
        tile_reduce  dest[i] = combine(dest[i], tile[i, :])
        tile_map     dest[i, j] = body(x[i, j] or x[i], ...)
        tile_mask    dest[i, j] = visible(i, j) ? tile[i, j] : -inf
        tile_store   out[b, row + i, h, :] (+)= T(tile[i, :])   i < rows

    With `programs`, each `attn.program_grid` becomes an `scf.parallel`
    whose body is a `memref.alloca_scope` (a program's tiles are freed when
    it ends, so a sequential lowering does not grow the stack).
  }];
  let options = [
    Option<"loads", "loads", "bool", /*default=*/"true",
           "Lower attn.tile_load too (the SIMT mapping copies tiles "
           "cooperatively itself)">,
    Option<"stores", "stores", "bool", /*default=*/"true",
           "Lower attn.tile_store too (the SIMT mapping stores tiles "
           "cooperatively itself: coalesced, where a row per thread is "
           "not)">,
    Option<"programs", "programs", "bool", /*default=*/"true",
           "Lower attn.program_grid to scf.parallel (the SIMT mapping maps "
           "grids itself)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def AttnMapToGpuPass : Pass<"attn-map-to-gpu", "::mlir::func::FuncOp"> {
  let summary = "Maps the programs of the online-softmax level onto a GPU "
                "grid, one thread per query row (the SIMT bring-up lowering)";
  let description = [{
    The first GPU lowering: correct on any NVIDIA GPU and simple to check,
    not fast. It exists to bring up the GPU toolchain (PTX emission, the
    runtime, device numerics) before the warp-specialized Hopper lowering.
    It also maps the backward's preprocess and postprocess grids (one value
    per q row, no MMA); the backward's KV-stationary main grid is refused
    (the warp-specialized level builds it).

    1. Each `attn.program_grid` (sequence, q-head, q-block) becomes a
       `gpu.launch` with grid (q-block, q-head, sequence) and BlockM threads
       per block.
    2. The program's static tiles (the allocas of attn-bufferize-tiles)
       become views into one dynamic shared-memory buffer.
    3. Loops over a tile's rows (`attn.row_loop`) become a guard: thread t
       computes row t (rows are independent in the online softmax).
    4. `attn.tile_load` and `attn.tile_store` become cooperative copies
       (all threads, strided: consecutive threads, consecutive elements)
       between two `gpu.barrier`s. Stored row by row (a thread per row) the
       backward's preprocess took 2.3 ms at d = 128, S = 4k, B = 4 on an
       H100: each warp's store touched 32 rows.
  }];
  let options = [
    Option<"maxSharedMemory", "max-shared-memory", "int64_t",
           /*default=*/"232448",
           "Dynamic shared memory available per block, in bytes (227 KB on "
           "sm_90)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def AttnPlanHopperPass : Pass<"attn-plan-hopper", "::mlir::func::FuncOp"> {
  let summary = "Decides the warp-specialized Hopper kernel of each program "
                "grid and records it as its #attn.hopper_plan";
  let description = [{
    The first stage of `--attn-warp-specialize` (`attn-plan-hopper`,
    `attn-partition-roles`, `attn-pipeline-mma`, `attn-consumer-turns`). On
    each `attn.program_grid` of the online-softmax level (tiles of the
    operands' own type: `attn-tile{target=sm_90a}`) it checks what the kernel can do
    (bf16/f16, BlockM 64/128/192, BlockN, head dims, no modifiers) and records
    the decisions as the grid's `plan(#attn.hopper_plan<stages, ping_pong,
    pv_schedule, persistent_ctas, paired_tiles, epilogue, ctas_per_sm,
    producer_registers, consumer_registers>)`:

    - stages: the K/V ring depth, as many as fit (at most 4) unless given;
    - ping_pong: with two or more consumer warpgroups;
    - pv_schedule: when each block's P·V is issued: "serial", "deferred"
      (in flight until the next Q·Kᵀ, at Dv <= 128 with two or more stages)
      or "overlap" (FA3's intra-warpgroup overlap: issued with the next
      Q·Kᵀ, the next softmax runs while it does);
    - persistent_ctas: min(N, tiles) for an unguarded (not varlen) grid
      with Dv <= 128, unmasked or causal with two consumers (a dynamic
      grid: N, the launch takes min(N, units) CTAs counted on the host);
    - paired_tiles: causal persistent kernels loop over pairs of q-blocks
      (QB-1-p, p) of one head, whose costs sum to a constant;
    - setmaxnreg budgets: 24/240 (3 consumers: 32/160), 40/232 when
      persistent (the persistent producer spilled at 24).

    The later stages and `attn-convert-to-nvgpu` read the plan back and
    check it again, so a plan can be edited in between (tuning) but never
    silently mis-built.

    The backward's main grid (`grad_kv`, KV-stationary) is planned too:
    64 keys per consumer warpgroup, a q-block ring of min(fit, 2) stages,
    no ping-pong, the serial or overlapped MMA schedule, one CTA per KV
    block, dK and dV stored from registers (docs/HopperPlan.md); its
    preprocess and postprocess grids get no plan (they have no MMA and stay
    off the warp-specialized level: attn-map-to-gpu maps them).

    ```mlir
    attn.program_grid (%seq, %head, %q_block) in (%c1, %c16, %c8)
        block_m(128) plan(<stages = 4, ping_pong = true,
        pv_schedule = overlap, persistent_ctas = 72, paired_tiles = true,
        epilogue = tma, ctas_per_sm = 1, producer_registers = 40,
        consumer_registers = 232>) { ... }
    ```
  }];
  // The kernel options (stages, ping-pong, pv-schedule, persistent-ctas,
  // schedule, epilogue, ctas-per-sm) are declared by the pass class from the
  // one table of them, include/flashmlir/Compiler/KernelOptions.def (the
  // plan rows), and set through createAttnPlanHopperPass(KernelOptions);
  // here only the pass's own.
  let options = [
    Option<"maxSharedMemory", "max-shared-memory", "int64_t",
           /*default=*/"232448",
           "Dynamic shared memory available per block, in bytes (227 KB on "
           "sm_90)">,
  ];
}

def AttnPartitionRolesPass : Pass<"attn-partition-roles", "::mlir::func::FuncOp"> {
  let summary = "Splits each planned program into a TMA producer and MMA "
                "consumer warpgroups that share channels (L2 -> L3)";
  let description = [{
    A stage of `--attn-warp-specialize`, after `--attn-plan-hopper`, on the
    online-softmax level:

    1. Channels: Q (one slot) and K/V (the plan's `stages` slots, K and V two
       parts of a slot, released apart), holding `#attn.layout<shared>`
       tiles.
    2. `attn.warp_specialize consumers(BlockM / 64)`: the producer role is
       the program's data movement (index arithmetic, guards, KV loops
       without the running state, each tile_load followed by a
       channel_put); the consumer role, per warpgroup c, is the program with
       the loads replaced by channel_gets (Q: rows [64c, 64c + 64) of the
       slot), every BlockM-row tile retyped to 64 rows with its layout
       (`accumulator`, `operand_a`, `rows`), q positions and row counts
       shifted by 64c, and each part released after its last use (Q's after
       the O store when the plan's epilogue stages O in Q's slot).

    The backward's main grid: K and V in a one-slot channel (put once), each
    q-block's Q, dO, LSE and D (rank-1 parts) in a ring of the plan's
    stages; consumer c owns keys [64c, 64c + 64): its rows of the K/V slot,
    every tile with a key dimension retyped to those 64 keys (found from
    the matmuls), key positions and counts shifted, dK and dV stored to its
    rows, its share of dQ added with tile_store ... accumulate. The
    preprocess and postprocess grids are left alone.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def AttnPipelineMmaPass : Pass<"attn-pipeline-mma", "::mlir::func::FuncOp"> {
  let summary = "Makes the consumers' MMAs asynchronous in the order of the "
                "plan's P·V schedule";
  let description = [{
    A stage of `--attn-warp-specialize`, after `--attn-partition-roles`.
    Every attn.tile_matmul of a consumer becomes attn.mma_async and
    attn.mma_wait; with block i's S_i = Q·K_iᵀ and O += P_i·V_i:

    - serial: S_i, wait; softmax_i; P_i·V_i, wait; release V_i.
    - deferred: P_i·V_i stays in flight across the back-edge (the loop
      carries it as an !attn.async, starting from attn.mma_ready); block
      i+1's wait for S_{i+1} completes it (MMAs complete in order), then V_i
      is released; each loop's last P·V completes at its exit.
    - overlap (FA3): the tile's first block — of the first non-empty KV
      loop, built from a fully masking loop's body — is peeled into a
      prologue (S_0, softmax_0 -> P_0); block i issues S_i and
      P_{i-1}·V_{i-1}, waits for S_i only, runs softmax_i meanwhile, then
      O = (O + P_{i-1}·V_{i-1})·alpha_i and releases V_{i-1}; the loops carry
      (P, V, V's token); after the last loop the tile's last P·V, when any
      block ran. Values of a branch that runs no block are `ub.poison`.

    A register tile an MMA reads transposed (the backward's P and dS, the A
    of dV += Pᵀ·dO and dK += dSᵀ·Q) is staged in shared memory first
    (attn.tile_stage). The backward's q-block loops: serial, or overlap (S
    and dP issued together; dQ, dV, dK issued together, dQ waited for
    alone; dV and dK in flight across the back-edge, completed by the next
    S's wait, which frees their Q, dO and staged buffers). With several
    consumers (`split-dq`), dQ is split by columns: each consumer computes
    D/n of them from every consumer's staged dS (attn.tile_gather) and K's
    columns, where D/n is a multiple of 64.
  }];
  let options = [
    Option<"splitDq", "split-dq", "bool", /*default=*/"true",
           "The backward's dQ split among the consumers by columns (over all "
           "of a program's keys) rather than by keys (a whole dQ from each "
           "consumer's 64: n times the reductions into global memory)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::ub::UBDialect"];
}

def AttnConsumerTurnsPass : Pass<"attn-consumer-turns", "::mlir::func::FuncOp"> {
  let summary = "Ping-pong: the consumer warpgroups take turns to issue their "
                "MMAs";
  let description = [{
    A stage of `--attn-warp-specialize`, after `--attn-pipeline-mma`, for
    plans with `ping_pong`: each run of attn.mma_async ops that starts with
    a Q·Kᵀ (a transposed right-hand side; the previous block's P·V follows it
    under the overlapped schedule) becomes an attn.consumer_turn, so one
    warpgroup's Q·Kᵀ runs while another computes its softmax.
  }];
}

def AttnNarrowModifierArithPass
    : Pass<"attn-narrow-modifier-arith", "::mlir::func::FuncOp"> {
  let summary = "Narrows the index arithmetic cloned from score_mod / "
                "mask_mod bodies to i32 where its range allows";
  let description = [{
    The stage after `--attn-convert-to-nvgpu`, which
    clones a modifier body once per score a consumer thread holds and marks
    the clones `attn.modifier`; their position arithmetic is index or i64
    (the dialect's positions are index), 64-bit on the GPU, and an ALiBi
    bias's i64 index math spilled every kernel that kept it. The emitter
    clamps the positions to the tensors' extents (2^31 - 1 when dynamic),
    so integer range analysis (on the whole function) bounds every
    intermediate; where a result fits in i32 the op is rebuilt in i32
    (`arith` int-range narrowing, on the marked ops only: the rest of the
    kernel stays as emitted), then `index_cast(index_cast(x : iN) : iM)`
    becomes `extsi` and `sitofp(extsi x)` becomes `sitofp x`. The mark is
    removed from every op; a function without marked ops is unchanged.

    ```mlir
    %d = arith.subi %kv, %q {attn.modifier} : index   // kv, q in [0, 299]
    %i = arith.index_cast %d {attn.modifier} : index to i64
    %f = arith.sitofp %i {attn.modifier} : i64 to f32
    // becomes, with %kv32 / %q32 the i32 positions:
    %d = arith.subi %kv32, %q32 : i32
    %f = arith.sitofp %d : i32 to f32
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def AttnScoreModGradPass : Pass<"attn-score-mod-grad", "::mlir::func::FuncOp"> {
  let summary = "Writes the derivative of each backward block's score_mod "
                "with respect to the score";
  let description = [{
    For every `attn.block_grad_update` with a `score_mod` region and no
    `score_mod_grad`, builds `score_mod_grad`: the same signature
    (score, b, h, q_idx, kv_idx), yielding ∂score_mod/∂score by forward-mode
    differentiation of the body (AttnScoreModGrad.cpp):

    1. Clone the body; the score's tangent is 1, every value that does not
       depend on it has none (0): position arithmetic, loads of captured
       tensors, constants.
    2. After each op with a tangent operand, emit its tangent:
         a ± b      ta ± tb            a · b    ta·b + a·tb
         a / b      (ta − (a/b)·tb)/b  −a       −ta
         fma(a,b,c) ta·b + a·tb + tc   select(p, a, b)  select(p, ta, tb)
         tanh(a)    (1 − tanh²(a))·ta  exp(a)   exp(a)·ta
         exp2(a)    exp2(a)·ln2·ta     |a|      sign(a)·ta
         max/min(a, b)  the chosen operand's tangent (ties: the mean)
         extf/truncf    the tangent converted alike
       Comparisons and float-to-integer casts have no tangent (piecewise
       constant); any other op on the score's path is an error naming it.
    3. Yield the tangent of the yielded value (0.0 when it has none).

    `attn-online-softmax` multiplies dS by it; `attn-to-cpu-loops` runs this
    pass after `attn-tile`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

#endif // FLASHMLIR_TRANSFORMS_PASSES_TD
