// RUN: attn-opt %s -split-input-file --mlir-very-unsafe-disable-verifier-on-parsing -verify-each=false -attn-verify-ir -verify-diagnostics | FileCheck %s
// RUN: attn-opt %s -split-input-file --mlir-very-unsafe-disable-verifier-on-parsing -verify-each=false 2>&1 | FileCheck %s --check-prefix=UNCHECKED

// attn-verify-ir runs the verifier once (the GPU pipelines do, before the
// NVPTX translation): valid IR passes through unchanged, invalid IR fails
// with the verifier's diagnostic. Without it (the second command: parsed unverified,
// no verification after passes) the invalid function goes through, printed
// in the generic form.
// CHECK-LABEL: func.func @valid
// UNCHECKED-LABEL: func.func @valid
func.func @valid() {
  return
}

// -----

// UNCHECKED: sym_name = "invalid"
func.func @invalid() -> i32 {
  // expected-error @below {{'func.return' op has 0 operands, but enclosing function (@invalid) returns 1}}
  return
}
