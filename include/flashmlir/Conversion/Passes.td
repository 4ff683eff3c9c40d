//===- Passes.td - flashmlir conversion passes -------------*- tablegen -*-===//
//
// From the attn levels to the targets' dialects.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_CONVERSION_PASSES_TD
#define FLASHMLIR_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnConvertToNVGPUPass : Pass<"attn-convert-to-nvgpu", "::mlir::func::FuncOp"> {
  let summary = "Lowers each warp-specialized program (L3) to a Hopper kernel "
                "of NVGPU/NVVM ops";
  let description = [{
    The conversion after `--attn-warp-specialize`. Each `attn.program_grid`
    (with its plan) holding channels and `attn.warp_specialize` becomes a
    `gpu.launch` of 128·(1 + consumers) threads:

    1. Channels become shared memory (1024-byte aligned buffers of rows
       swizzled in chunks of the widest span whose columns divide the
       width: 128 bytes / 64 columns, 64 / 32 or 32 / 16; what TMA writes
       and wgmma reads) and
       mbarriers: per part and ring slot a full barrier (TMA transaction
       counts) and an empty one (every consumer thread arrives). A role's
       n-th get or put of a channel uses slot n mod S and phase parity
       (n / S) mod 2; the rings' counts are threaded through the roles'
       loops and conditionals and across persistent tiles.
    2. The producer (warpgroup 0, setmaxnreg.dec, one elected thread): each
       channel_put waits for its slot, expects the bytes and issues one TMA
       copy per chunk of each part's attn.tile_load.
    3. The consumers (setmaxnreg.inc): channel_get waits for each part where
       it is first read (K before the turn that issues Q·Kᵀ); channel_release
       arrives on the part's empty barrier; attn.mma_async is a wgmma group
       (SS for Q·Kᵀ, register-A inline PTX for P·V; a run of MMAs shares one
       fence), attn.mma_wait a wgmma.wait_group of the younger groups issued
       in its block; attn.consumer_turn named barriers (ping-pong); the tile
       ops act on register fragments (an accumulator's N/2 f32 per thread,
       two rows per thread, P as bf16/f16 pairs; the running row sum l as
       the quad's four partial sums, added across the quad once where the
       whole row is read); exp2/log2/tanh as
       ex2/lg2/tanh.approx; tile_store of O through shared memory and TMA
       (the plan's epilogue) or from the registers, of the LSE from one lane
       per row.
    4. The plan's persistent_ctas: the roles loop over tiles (grid order,
       or pairs of causal q-blocks) with their ring counts carried.
    5. The ops cloned from score_mod / mask_mod bodies are marked
       attn.modifier for --attn-narrow-modifier-arith.

    The backward's grids are refused by name: its main grid's
    warp-specialized level is built, its conversion (staged P and dS,
    MN-major operands, rank-1 channel parts, the dQ accumulate store:
    docs/WarpSpecialization.md) is not yet; the preprocess and postprocess
    map to the SIMT kernel.
  }];
  let options = [
    Option<"maxSharedMemory", "max-shared-memory", "int64_t",
           /*default=*/"232448",
           "Dynamic shared memory available per block, in bytes (227 KB on "
           "sm_90): the plan's ring must fit">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::nvgpu::NVGPUDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

#endif // FLASHMLIR_CONVERSION_PASSES_TD
