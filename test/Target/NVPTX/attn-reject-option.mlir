// RUN: not attn-opt %s -attn-reject-option="message=attn-to-ptx:bad-chip" 2>&1 | FileCheck %s
// RUN: attn-opt %s | FileCheck %s --check-prefix=PLAIN

// attn-reject-option fails with its message: the GPU pipelines put it first
// when an option is invalid (a pipeline builder cannot fail), so nothing is
// generated.
// CHECK: error: attn-to-ptx:bad-chip
// PLAIN: func.func @f
func.func @f() {
  return
}
