// attn-opt refuses hostile input with a diagnostic and exit code 1.

// The GPU pipelines check the chip before anything runs.
// RUN: not attn-opt %s --attn-to-ptx=chip=sm_90 2>&1 | FileCheck %s --check-prefix=CHIP
// CHIP: error: attn-to-ptx: chip 'sm_90' is not a target of the Hopper kernel
// RUN: not attn-opt %s --attn-to-ptx-simt=chip=sm_75 2>&1 | FileCheck %s --check-prefix=SIMT-CHIP
// SIMT-CHIP: error: attn-to-ptx-simt: unknown chip 'sm_75'

// Nesting past the limit, in the input or in a pass pipeline (both parsers
// recurse per level and would overflow the stack).
// RUN: %python -c "n = 5000; print('func.func @f() {' + ' scf.execute_region {' * n + ' scf.yield' + ' } scf.yield' * (n - 1) + ' } return }')" > %t.deep.mlir
// RUN: not attn-opt %t.deep.mlir 2>&1 | FileCheck %s --check-prefix=DEEP
// DEEP: error: '{{.*}}deep.mlir' nests 5001 levels deep; at most 256 are accepted
// RUN: %python -c "print('--pass-pipeline=' + 'builtin.module(' * 100000 + ')' * 100000)" > %t.args
// RUN: not attn-opt %s @%t.args 2>&1 | FileCheck %s --check-prefix=DEEP-PIPELINE
// DEEP-PIPELINE: error: command-line argument 2 nests 100000 levels deep

// A dense array of index elements crashes MLIR 22's parser (upstream mlir-opt
// too): refused before parsing.
// RUN: echo 'func.func @f() attributes {a = array<index: 16, 16>} { return }' > %t.array.mlir
// RUN: not attn-opt %t.array.mlir 2>&1 | FileCheck %s --check-prefix=ARRAY
// ARRAY: error: '{{.*}}array.mlir':1: a dense array of 'index' elements (array<index: ...>) is not a valid attribute
// A string that spells it is no dense array.
// RUN: echo 'func.func @f() attributes {a = "array<index: 1>"} { return }' | attn-opt | FileCheck %s --check-prefix=STRING
// STRING: a = "array<index: 1>"

// A failed write is a diagnostic, not "LLVM ERROR: IO failure on output stream".
// RUN: not attn-opt %s -o /dev/full 2>&1 | FileCheck %s --check-prefix=FULL
// FULL: error: cannot write '/dev/full'
// FULL-NOT: LLVM ERROR

func.func @attention(%q: memref<1x128x2x64xbf16>, %k: memref<1x128x2x64xbf16>,
                     %v: memref<1x128x2x64xbf16>, %o: memref<1x128x2x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<1x128x2x64xbf16>, memref<1x128x2x64xbf16>,
                                   memref<1x128x2x64xbf16>)
      outs(%o : memref<1x128x2x64xbf16>)
  return
}
