// attn-compile refuses what it cannot build with a diagnostic and exit code 1,
// never a crash, and leaves no output behind when any output fails.

// A chip the kernel is not built for is refused before code generation (it
// used to end in NVPTX's "Cannot select: intrinsic setmaxnreg").
// RUN: not attn-compile %s -o %t.ptx --chip sm_90 2>&1 | FileCheck %s --check-prefix=HOPPER-CHIP
// RUN: not attn-compile %s -o %t.ptx --chip sm_100a 2>&1 | FileCheck %s --check-prefix=HOPPER-CHIP
// HOPPER-CHIP: error: --chip: chip '{{sm_90|sm_100a}}' is not a target of the Hopper kernel: it needs sm_90a
// RUN: not attn-compile %s -o %t.ptx --kernel simt --chip sm_20 2>&1 | FileCheck %s --check-prefix=UNKNOWN-CHIP
// UNKNOWN-CHIP: error: --chip: unknown chip 'sm_20': the kernels are built for sm_80, {{.*}}sm_90a

// The PTX ISA version follows the chip.
// RUN: attn-compile %s -o %t.simt80.ptx --kernel simt --chip sm_80
// RUN: FileCheck %s --check-prefix=SM80 < %t.simt80.ptx
// SM80: .version 7.0
// SM80: .target sm_80
// RUN: attn-compile %s -o %t.hopper.ptx
// RUN: FileCheck %s --check-prefix=SM90A < %t.hopper.ptx
// SM90A: .version 8.1
// SM90A: .target sm_90a

// A failed write is a diagnostic, and the other outputs are removed again.
// RUN: not attn-compile %s -o /dev/full 2>&1 | FileCheck %s --check-prefix=FULL
// FULL: error: cannot write '/dev/full'
// RUN: rm -f %t.partial.ptx
// RUN: not attn-compile %s -o %t.partial.ptx --json /dev/full 2>&1 | FileCheck %s --check-prefix=FULL
// RUN: not ls %t.partial.ptx

// 5,000 nested regions (MLIR's parser recursed until the stack overflowed).
// RUN: %python -c "n = 5000; print('func.func @f() {' + ' scf.execute_region {' * n + ' scf.yield' + ' } scf.yield' * (n - 1) + ' } return }')" > %t.deep.mlir
// RUN: not attn-compile %t.deep.mlir -o %t.deep.ptx 2>&1 | FileCheck %s --check-prefix=DEEP
// DEEP: error: the MLIR source nests 5001 levels deep; at most 256 are accepted

// The kernel options' names, ranges and allowed values come from their one
// definition, include/flashmlir/Compiler/KernelOptions.def (the values of
// pv-schedule and epilogue: the attn dialect's enums and auto), and are
// checked before anything runs.
// RUN: not attn-compile %s -o %t.ptx --pv-schedule=eager 2>&1 | FileCheck %s --check-prefix=PVSCHEDULE
// PVSCHEDULE: error: --pv-schedule must be auto, serial, deferred or overlap, got 'eager'
// RUN: not attn-compile %s -o %t.ptx --epilogue=smem 2>&1 | FileCheck %s --check-prefix=EPILOGUE
// EPILOGUE: error: --epilogue must be auto, direct, tma or tma_in_q, got 'smem'
// RUN: not attn-compile %s -o %t.ptx --schedule=dynamic 2>&1 | FileCheck %s --check-prefix=SCHEDULE
// SCHEDULE: error: --schedule must be auto, tiles or persistent, got 'dynamic'
// RUN: not attn-compile %s -o %t.ptx --kernel=cuda 2>&1 | FileCheck %s --check-prefix=KERNEL
// KERNEL: error: --kernel must be hopper or simt, got 'cuda'
// RUN: not attn-compile %s -o %t.ptx --ctas-per-sm=5 2>&1 | FileCheck %s --check-prefix=CTASPERSM
// CTASPERSM: error: --ctas-per-sm must be in [1, 4], got 5
// RUN: not attn-compile %s -o %t.ptx --stages=9 2>&1 | FileCheck %s --check-prefix=STAGES
// STAGES: error: --stages must be in [0, 8], got 9
// RUN: not attn-compile %s -o %t.ptx --block-n=-64 2>&1 | FileCheck %s --check-prefix=BLOCKN
// BLOCKN: error: --block-n must be >= 0, got -64
// RUN: not attn-compile %s -o %t.ptx --opt-level=4 2>&1 | FileCheck %s --check-prefix=OPTLEVEL
// OPTLEVEL: error: --opt-level must be in [0, 3], got 4
// Through attn-opt, the pipeline and pass options are the same table's.
// RUN: not attn-opt %s --attn-to-ptx="pv-schedule=eager" 2>&1 | FileCheck %s --check-prefix=PIPELINE
// PIPELINE: attn-plan-hopper: pv-schedule must be auto, serial, deferred or overlap, got 'eager'

// --help lists attn-compile's options, not LLVM's hundreds.
// RUN: attn-compile --help | FileCheck %s --check-prefix=HELP
// HELP: attn-compile options:
// HELP: --block-m=<long>
// HELP: --block-n=<long>
// HELP: --chip=<string>
// HELP: --ctas-per-sm=<long> - hopper: CTAs resident per SM
// HELP: --epilogue=<string> - hopper: How O is written
// HELP: --kernel=<string>
// HELP: --opt-level=<long>
// HELP: --persistent-ctas=<long> - hopper:
// HELP: --ping-pong - hopper:
// HELP: --pv-schedule=<string> - hopper:
// HELP: --schedule=<string> - hopper:
// HELP: --stages=<long> - hopper:
// HELP-NOT: --print-after-all
// HELP-NOT: --nvptx-

func.func @attention(%q: memref<1x128x2x64xbf16>, %k: memref<1x128x2x64xbf16>,
                     %v: memref<1x128x2x64xbf16>, %o: memref<1x128x2x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<1x128x2x64xbf16>, memref<1x128x2x64xbf16>,
                                   memref<1x128x2x64xbf16>)
      outs(%o : memref<1x128x2x64xbf16>)
  return
}
