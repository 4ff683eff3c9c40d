// The CPU path keeps a program's tiles on the stack of the thread that runs
// it: tiles past 2 MiB are refused (block-m=32768 compiled, and the run died
// of a stack overflow), the default ones pass.
// RUN: not attn-opt %s --attn-to-cpu="block-m=32768" 2>&1 | FileCheck %s --check-prefix=HUGE
// RUN: attn-opt %s --attn-to-cpu | FileCheck %s --check-prefix=DEFAULT
// RUN: attn-opt %s --attn-to-cpu="block-m=256 block-n=256" | FileCheck %s --check-prefix=DEFAULT

// HUGE: error: 'func.func' op its tiles take more than 2097152 bytes of stack
// DEFAULT: llvm.func @attention(
func.func @attention(%q: memref<1x300x2x256xf32>, %o: memref<1x300x2x256xf32>) {
  attn.attention ins(%q, %q, %q : memref<1x300x2x256xf32>, memref<1x300x2x256xf32>,
                                  memref<1x300x2x256xf32>)
      outs(%o : memref<1x300x2x256xf32>)
  return
}
