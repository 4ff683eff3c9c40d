// An alloca of a dynamic size could take any amount of stack: refused.
// RUN: not attn-opt %s -attn-cpu-check-stack 2>&1 | FileCheck %s

// CHECK: error: 'memref.alloca' op the CPU path takes stack allocations of a static size only, got 'memref<?xf32>'
func.func @dynamic_alloca(%n: index) {
  %a = memref.alloca(%n) : memref<?xf32>
  return
}
