// RUN: attn-opt %s -attn-cpu-emit-c-interface | FileCheck %s

// attn-cpu-emit-c-interface alone: public definitions (the entry points the
// CPU JIT calls through _mlir_ciface_ wrappers) get llvm.emit_c_interface;
// private functions, definitions or declarations, do not: upstream's
// llvm-request-c-wrappers marks declarations too, and the JIT would then look
// for _mlir_ciface_ symbols of external functions.

// CHECK-LABEL: func.func @entry(
// CHECK-SAME: attributes {llvm.emit_c_interface}
func.func @entry(%x: f32) -> f32 {
  %y = func.call @helper(%x) : (f32) -> f32
  return %y : f32
}

// CHECK: func.func private @helper(%{{.+}}: f32) -> f32 {
func.func private @helper(%x: f32) -> f32 {
  return %x : f32
}

// CHECK: func.func private @external(f32) -> f32{{$}}
func.func private @external(f32) -> f32
