// A plan edited between the stages is checked again: each RUN line edits one
// decision of a real plan (sed) between attn-plan-hopper and the rest of
// --attn-warp-specialize; its own fields are checked when the plan is parsed,
// the plan against the program (shared memory, registers, consumers) by
// attn-convert-to-nvgpu (planFromAttr). Each must get its diagnostic, never a
// mis-built kernel.
// DEFINE: %{rest} = attn-opt -attn-partition-roles -attn-pipeline-mma -attn-consumer-turns -attn-convert-to-nvgpu
// RUN: attn-opt %s -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="persistent-ctas=0" | sed 's/stages = 4/stages = 99/' | not %{rest} 2>&1 | FileCheck %s --check-prefix=FIT
// RUN: attn-opt %s -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="persistent-ctas=0" | sed 's/stages = 4/stages = 1/' | not %{rest} 2>&1 | FileCheck %s --check-prefix=LATE
// RUN: attn-opt %s -attn-tile="block-m=64 block-n=64" -attn-online-softmax -attn-plan-hopper | sed 's/ping_pong = false/ping_pong = true/' | not %{rest} 2>&1 | FileCheck %s --check-prefix=PINGPONG
// RUN: attn-opt %s -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="persistent-ctas=0" | sed 's/producer_registers = 24/producer_registers = 64/' | not %{rest} 2>&1 | FileCheck %s --check-prefix=REGS
// RUN: attn-opt %s -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="persistent-ctas=0" | sed 's/consumer_registers = 240/consumer_registers = 241/' | not %{rest} 2>&1 | FileCheck %s --check-prefix=REG8
// RUN: attn-opt %s -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="persistent-ctas=0" | sed 's/pv_schedule = overlap, //' | not %{rest} 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: attn-opt %s -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="persistent-ctas=0" | sed 's/pv_schedule = overlap/pv_schedule = eager/' | not %{rest} 2>&1 | FileCheck %s --check-prefix=SCHEDULE
// RUN: attn-opt %s -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="persistent-ctas=0" | sed 's/persistent_ctas = 0/persistent_ctas = -3/' | not %{rest} 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// RUN: attn-opt %s -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper | sed 's/producer_registers = 40/producer_registers = 48/' | not %{rest} 2>&1 | FileCheck %s --check-prefix=LAUNCH
// RUN: attn-opt %s -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper | sed 's/persistent_ctas = 32/persistent_ctas = 0/' | not %{rest} 2>&1 | FileCheck %s --check-prefix=PAIRED
// RUN: not attn-opt %s -attn-tile -attn-online-softmax -attn-plan-hopper="stages=9" 2>&1 | FileCheck %s --check-prefix=OPTION
// RUN: not attn-opt %s -attn-tile -attn-online-softmax -attn-plan-hopper="persistent-ctas=-1" 2>&1 | FileCheck %s --check-prefix=CTAS
// RUN: not attn-opt %s -attn-tile -attn-online-softmax -attn-plan-hopper="stages=8" 2>&1 | FileCheck %s --check-prefix=SMEM
// RUN: not attn-opt %s -attn-tile -attn-online-softmax -attn-plan-hopper="pv-schedule=eager" 2>&1 | FileCheck %s --check-prefix=PVOPTION
// RUN: not attn-opt %s -attn-tile -attn-online-softmax -attn-plan-hopper="epilogue=stmatrix" 2>&1 | FileCheck %s --check-prefix=EPIOPTION
// RUN: not attn-opt %s -attn-tile -attn-online-softmax -attn-plan-hopper="ctas-per-sm=5" 2>&1 | FileCheck %s --check-prefix=CTASPERSM
// RUN: attn-opt %s -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="persistent-ctas=0" | sed 's/ctas_per_sm = 1/ctas_per_sm = 2/' | not %{rest} 2>&1 | FileCheck %s --check-prefix=TWOCTAS
// RUN: not attn-opt %s -attn-tile="block-m=128 block-n=128" -attn-online-softmax -attn-plan-hopper="ctas-per-sm=2" 2>&1 | FileCheck %s --check-prefix=LAUNCHWGMMA
// RUN: attn-opt %s -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="persistent-ctas=0" | sed 's/epilogue = tma_in_q, //' | not %{rest} 2>&1 | FileCheck %s --check-prefix=EPIMISSING
// RUN: attn-opt %s -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="persistent-ctas=0" | sed 's/epilogue = tma_in_q/epilogue = smem/' | not %{rest} 2>&1 | FileCheck %s --check-prefix=EPIVALUE
// RUN: attn-opt %s -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="persistent-ctas=0" | sed 's/epilogue = tma_in_q/epilogue = tma/; s/stages = 4/stages = 13/' | not %{rest} 2>&1 | FileCheck %s --check-prefix=EPIFIT
// RUN: not attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="epilogue=tma" 2>&1 | FileCheck %s --check-prefix=EPIVARLEN
// RUN: not attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper="epilogue=tma_in_q" 2>&1 | FileCheck %s --check-prefix=EPIDV
// f32 tiles (the CPU target's, or FP8's scaled loads): the wgmma kernel's TMA
// copies move the operands' own bf16/f16, so the planner refuses them.
// RUN: not attn-opt %s -attn-tile="target=cpu block-m=128 block-n=64" -attn-online-softmax -attn-plan-hopper 2>&1 | FileCheck %s --check-prefix=SCALED
// Tiles bufferized after attn-tile (an L2 program through a pipeline from L0,
// whose first step is one-shot bufferization): refused, not read as values.
// RUN: attn-opt %s -attn-tile="block-m=128 block-n=64" -attn-online-softmax | not attn-opt -one-shot-bufferize -attn-plan-hopper 2>&1 | FileCheck %s --check-prefix=BUFFERS
// RUN: attn-opt %s -attn-tile="target=sm_90a" -attn-online-softmax | not attn-opt -attn-to-ptx 2>&1 | FileCheck %s --check-prefix=BUFFERS

// FIT: attn-convert-to-nvgpu: Q (16384 bytes) and 99 K/V stage(s) of 16384 bytes do not fit in the shared memory (232448 bytes)
// The plan's own fields are checked by the attribute (at parse time):
// LATE: pv_schedule = overlap needs at least 2 stages, got 1
// PINGPONG: attn-convert-to-nvgpu: ping_pong needs 2 or more consumer warpgroups, got 1
// REGS: attn-convert-to-nvgpu: register budgets 64 + 2 x 240 = 544 per thread exceed the 504 the CTA launches with (168 per thread for 384 threads)
// Within 64K registers but not within the launch's 3 x 168 (setmaxnreg.inc would wait forever):
// LAUNCH: attn-convert-to-nvgpu: register budgets 48 + 2 x 232 = 512 per thread exceed the 504 the CTA launches with
// REG8: register budgets must be multiples of 8 in [24, 256], got 241
// A missing field (the struct syntax lists all nine):
// MISSING: error: expected ','
// SCHEDULE: expected ::mlir::attn::PvSchedule to be one of: serial, deferred, overlap
// NEGATIVE: persistent_ctas must be >= 0, got -3
// PAIRED: paired_tiles needs a persistent kernel (persistent_ctas > 0)
// The options' ranges and values come from include/flashmlir/Compiler/KernelOptions.def:
// OPTION: attn-plan-hopper: stages must be in [0, 8], got 9
// CTAS: attn-plan-hopper: persistent-ctas must be >= 0, got -1
// SMEM: attn-plan-hopper: Q (16384 bytes) and 8 K/V stage(s) of 32768 bytes do not fit
// PVOPTION: attn-plan-hopper: pv-schedule must be auto, serial, deferred or overlap, got 'eager'
// EPIOPTION: attn-plan-hopper: epilogue must be auto, direct, tma or tma_in_q, got 'stmatrix'
// CTASPERSM: attn-plan-hopper: ctas-per-sm must be in [1, 4], got 5
// A plan edited to two CTAs per SM keeps one CTA's budgets, which no longer fit:
// TWOCTAS: attn-convert-to-nvgpu: register budgets 24 + 2 x 240 = 504 per thread exceed the 240 the CTA launches with (80 per thread for 384 threads, 2 CTAs per SM)
// Budgets that fit, but a launch budget below what one wgmma holds (ptxas: C7602):
// LAUNCHWGMMA: attn-plan-hopper: 2 CTAs per SM of 384 threads launch with 80 registers per thread, fewer than the 96 the Q·Kᵀ wgmma of BlockN = 128 needs; lower ctas_per_sm, block-m or block-n
// EPIMISSING: error: expected ','
// EPIVALUE: expected ::mlir::attn::Epilogue to be one of: direct, tma, tma_in_q
// The own O buffer counts against the ring:
// EPIFIT: attn-convert-to-nvgpu: Q (16384 bytes), O (16384 bytes) and 13 K/V stage(s) of 16384 bytes do not fit in the shared memory (232448 bytes)
// EPIVARLEN: attn-plan-hopper: epilogue = "tma" needs O to be a static, contiguous [B, S, H, Dv] argument of Q's element type, not varlen; use "direct"
// EPIDV: attn-plan-hopper: epilogue = "tma_in_q" needs each consumer's O tile within its rows of Q's buffer: Dv <= D and rows swizzled alike, got D = 64 (128-byte rows), Dv = 128 (128-byte rows)
// EPIDV: attn-plan-hopper: epilogue = "tma_in_q" needs each consumer's O tile within its rows of Q's buffer: Dv <= D and rows swizzled alike, got D = 96 (64-byte rows), Dv = 64 (128-byte rows)
// SCALED: attn-plan-hopper: the wgmma kernel takes tiles of the operands' own bf16/f16 (attn-tile target=sm_90a), got 'f32' tiles
// BUFFERS: the wgmma kernel is built from tiles as values (tensors), got tile ops on buffers

func.func @causal(%q: memref<2x300x8x64xbf16>, %k: memref<2x300x2x64xbf16>,
                  %v: memref<2x300x2x64xbf16>, %o: memref<2x300x8x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x300x8x64xbf16>, memref<2x300x2x64xbf16>,
                                  memref<2x300x2x64xbf16>)
      outs(%o : memref<2x300x8x64xbf16>) mask<causal, bottom_right>
  return
}

// -----

// Varlen (packed sequences): a TMA store of a sequence's last tile would
// write the next sequence's rows.
func.func @varlen(%q: memref<1x300x2x64xbf16>, %k: memref<1x300x2x64xbf16>,
                  %v: memref<1x300x2x64xbf16>, %o: memref<1x300x2x64xbf16>,
                  %cq: memref<3xi32>, %ck: memref<3xi32>) {
  attn.attention ins(%q, %k, %v : memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>,
                                  memref<1x300x2x64xbf16>)
      cu_seqlens(%cq, %ck : memref<3xi32>, memref<3xi32>)
      outs(%o : memref<1x300x2x64xbf16>)
  return
}

// -----

// Dv > D: O's tile does not fit in Q's.
func.func @wide_v(%q: memref<1x300x2x64xbf16>, %k: memref<1x300x2x64xbf16>,
                  %v: memref<1x300x2x128xbf16>, %o: memref<1x300x2x128xbf16>) {
  attn.attention ins(%q, %k, %v : memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>,
                                  memref<1x300x2x128xbf16>)
      outs(%o : memref<1x300x2x128xbf16>)
  return
}

// -----

// Dv < D, but O's rows (128 bytes, chunks BlockM x 128 apart) are not laid out
// as Q's (64 bytes): consumer 1's O rows would overwrite consumer 0's Q.
func.func @unlike_rows(%q: memref<1x300x2x96xbf16>, %k: memref<1x300x2x96xbf16>,
                       %v: memref<1x300x2x64xbf16>, %o: memref<1x300x2x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<1x300x2x96xbf16>, memref<1x300x2x96xbf16>,
                                  memref<1x300x2x64xbf16>)
      outs(%o : memref<1x300x2x64xbf16>)
  return
}
