// What the backward's plan refuses. Shapes and options at attn-plan-hopper;
// a plan edited afterwards (sed on a real plan) by the first stage that reads
// it back, attn-partition-roles — never a mis-built kernel.
// DEFINE: %{l2} = attn-opt %s -split-input-file -attn-tile="target=sm_90a" -attn-online-softmax
// RUN: not attn-opt %s -split-input-file -attn-tile="target=sm_90a block-m=64 block-n=80" -attn-online-softmax -attn-plan-hopper 2>&1 | FileCheck %s --check-prefix=KEYS
// RUN: not attn-opt %s -split-input-file -attn-tile="target=sm_90a block-m=32 block-n=128" -attn-online-softmax -attn-plan-hopper 2>&1 | FileCheck %s --check-prefix=QROWS
// RUN: not %{l2} -attn-plan-hopper="ctas-per-sm=2" 2>&1 | FileCheck %s --check-prefix=CTASPERSM
// RUN: not %{l2} -attn-plan-hopper="schedule=persistent" 2>&1 | FileCheck %s --check-prefix=PERSISTENT
// RUN: not %{l2} -attn-plan-hopper="epilogue=tma" 2>&1 | FileCheck %s --check-prefix=EPILOGUE
// RUN: not %{l2} -attn-plan-hopper="stages=1 pv-schedule=overlap" 2>&1 | FileCheck %s --check-prefix=ONESTAGE
// RUN: not %{l2} -attn-plan-hopper="stages=8" 2>&1 | FileCheck %s --check-prefix=FIT
// RUN: not attn-opt %s -split-input-file -attn-tile="target=cpu" -attn-online-softmax -attn-plan-hopper 2>&1 | FileCheck %s --check-prefix=CPU
// RUN: %{l2} -attn-plan-hopper | sed 's/ping_pong = false/ping_pong = true/' | not attn-opt -split-input-file -attn-partition-roles 2>&1 | FileCheck %s --check-prefix=PINGPONG
// RUN: %{l2} -attn-plan-hopper | sed 's/pv_schedule = overlap/pv_schedule = deferred/' | not attn-opt -split-input-file -attn-partition-roles 2>&1 | FileCheck %s --check-prefix=DEFERRED
// RUN: %{l2} -attn-plan-hopper | sed 's/persistent_ctas = 0/persistent_ctas = 4/' | not attn-opt -split-input-file -attn-partition-roles 2>&1 | FileCheck %s --check-prefix=EDITCTAS
// RUN: %{l2} -attn-plan-hopper | sed 's/epilogue = direct/epilogue = tma/' | not attn-opt -split-input-file -attn-partition-roles 2>&1 | FileCheck %s --check-prefix=EDITEPI
// RUN: %{l2} -attn-plan-hopper | sed 's/ctas_per_sm = 1/ctas_per_sm = 2/' | not attn-opt -split-input-file -attn-partition-roles 2>&1 | FileCheck %s --check-prefix=EDITCTASPERSM
// RUN: %{l2} -attn-plan-hopper | sed 's/producer_registers = 24/producer_registers = 64/' | not attn-opt -split-input-file -attn-partition-roles 2>&1 | FileCheck %s --check-prefix=REGS
// RUN: %{l2} -attn-plan-hopper | sed 's/stages = 2/stages = 5/' | not attn-opt -split-input-file -attn-partition-roles 2>&1 | FileCheck %s --check-prefix=EDITFIT

// KEYS: attn-plan-hopper: the backward's programs of 80 keys (block-n) must hold 64, 128 or 192 (64 keys per consumer warpgroup: its rows of K, V, dK and dV)
// QROWS: attn-plan-hopper: the backward's q-blocks of 32 rows (block-m) must be 64 or 128 (the M of each consumer's Q·Kᵀ and dO·Vᵀ wgmma, one or two m64 fragments)
// CTASPERSM: attn-plan-hopper: ctas-per-sm must be 1 for the backward, got 2
// PERSISTENT: attn-plan-hopper: schedule = persistent is not built for the backward (one CTA per KV block)
// EPILOGUE: attn-plan-hopper: epilogue = tma is the forward's O store; the backward stores dK and dV from registers (auto or direct)
// ONESTAGE: attn-plan-hopper: pv-schedule = overlap needs at least 2 stages, got 1
// FIT: attn-plan-hopper: K and V (65536 bytes), the staged P and dS (32768 bytes) and 8 q-block stage(s) of 33280 bytes do not fit in the shared memory (232448 bytes); lower block-m, block-n or stages
// CPU: attn-plan-hopper: the wgmma kernel takes tiles of the operands' own bf16/f16 (attn-tile target=sm_90a), got 'f32' tiles
// PINGPONG: attn-partition-roles: ping_pong is not built for the backward (its consumer warpgroups split the keys of every q-block, there is no softmax to overlap with another's MMAs)
// DEFERRED: attn-partition-roles: pv_schedule = deferred is the forward's (P·V across the back-edge); the backward's MMA schedule is serial or overlap
// EDITCTAS: attn-partition-roles: persistent_ctas must be 0 for the backward (one CTA per KV block), got 4
// EDITEPI: attn-partition-roles: epilogue = "tma" is the forward's O store; the backward stores dK and dV from registers ("direct")
// EDITCTASPERSM: attn-partition-roles: ctas_per_sm must be 1 for the backward, got 2
// REGS: attn-partition-roles: register budgets 64 + 2 x 240 = 544 per thread exceed the 504 the CTA launches with (168 per thread for 384 threads)
// EDITFIT: attn-partition-roles: K and V (65536 bytes), the staged P and dS (32768 bytes) and 5 q-block stage(s) of 33280 bytes do not fit in the shared memory (232448 bytes); lower block-m, block-n or stages
func.func @causal(%q: memref<1x300x2x128xbf16>, %lse: memref<1x2x300xf32>, %acc: memref<1x300x2x128xf32>) {
  attn.attention_grad
      ins(%q, %q, %q, %q, %q, %lse : memref<1x300x2x128xbf16>, memref<1x300x2x128xbf16>,
          memref<1x300x2x128xbf16>, memref<1x300x2x128xbf16>, memref<1x300x2x128xbf16>, memref<1x2x300xf32>)
      outs(%q, %q, %q : memref<1x300x2x128xbf16>, memref<1x300x2x128xbf16>, memref<1x300x2x128xbf16>)
      workspace(%acc, %lse : memref<1x300x2x128xf32>, memref<1x2x300xf32>) mask<causal, bottom_right>
  return
}
