// RUN: attn-opt %s -split-input-file --pass-pipeline='builtin.module(gpu.module(attn-set-register-cap))' | FileCheck %s

// A kernel that moves registers with setmaxnreg gets nvvm.maxntid (its block
// size; known_block_size dropped: .reqntid and .maxntid exclude each other) and
// nvvm.minctasm, the CTAs per SM its budgets were planned for: 64K / (384
// threads x mean(24, 240, 240) = 168) -> 1.
// CHECK-LABEL: gpu.func @fa3_budgets
// CHECK-SAME: nvvm.maxntid = array<i32: 384, 1, 1>
// CHECK-SAME: nvvm.minctasm = 1 : i32
// CHECK-NOT: known_block_size
gpu.module @kernels {
  gpu.func @fa3_budgets() kernel attributes {known_block_size = array<i32: 384, 1, 1>} {
    nvvm.setmaxregister decrease 24
    nvvm.setmaxregister increase 240
    gpu.return
  }
}

// -----

// One consumer at 24 + 232 over 256 threads: mean 128 -> 2 CTAs per SM.
// CHECK-LABEL: gpu.func @two_per_sm
// CHECK-SAME: nvvm.maxntid = array<i32: 256, 1, 1>
// CHECK-SAME: nvvm.minctasm = 2 : i32
gpu.module @kernels {
  gpu.func @two_per_sm() kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    nvvm.setmaxregister decrease 24
    nvvm.setmaxregister increase 232
    gpu.return
  }
}

// -----

// No setmaxnreg (a SIMT kernel): the block size as maxntid and minctasm = 1,
// so that ptxas does not cap registers for an occupancy shared memory rules
// out (it spilled an FP8 SIMT kernel at 56).
// CHECK-LABEL: gpu.func @plain
// CHECK-SAME: nvvm.maxntid = array<i32: 128, 1, 1>, nvvm.minctasm = 1 : i32
// CHECK-NOT: known_block_size
gpu.module @kernels {
  gpu.func @plain() kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
    gpu.return
  }
}
