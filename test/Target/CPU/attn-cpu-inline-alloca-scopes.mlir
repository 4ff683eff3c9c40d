// RUN: attn-opt %s -attn-cpu-inline-alloca-scopes | FileCheck %s --implicit-check-not=memref.alloca_scope

// attn-cpu-inline-alloca-scopes alone: each memref.alloca_scope (a program's
// tiles under attn-tiles-to-loops' scf.parallel) is spliced in place between
// llvm.intr.stacksave and llvm.intr.stackrestore, so a sequential lowering
// frees a program's tiles when it ends. In place, inside scf regions: the
// upstream lowering splits blocks and must run after scf-to-cf, which has
// made the scopes invalid by then. Nested scopes are inlined inner first;
// a scope's result replaces its uses.

// CHECK-LABEL: func.func @programs
// CHECK: scf.for {{.*}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (f32) {
// CHECK-NEXT: %[[OUTER:.+]] = llvm.intr.stacksave : !llvm.ptr
// CHECK-NEXT: %[[T:.+]] = memref.alloca() : memref<4xf32>
// CHECK-NEXT: %[[INNER:.+]] = llvm.intr.stacksave : !llvm.ptr
// CHECK-NEXT: %[[U:.+]] = memref.alloca() : memref<2xf32>
// CHECK-NEXT: memref.store %[[ACC]], %[[U]]
// CHECK-NEXT: llvm.intr.stackrestore %[[INNER]] : !llvm.ptr
// CHECK-NEXT: memref.store %[[ACC]], %[[T]]
// CHECK-NEXT: %[[V:.+]] = memref.load %[[T]]
// CHECK-NEXT: llvm.intr.stackrestore %[[OUTER]] : !llvm.ptr
// CHECK-NEXT: scf.yield %[[V]] : f32
func.func @programs(%n: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f32) {
    %x = memref.alloca_scope -> f32 {
      %t = memref.alloca() : memref<4xf32>
      memref.alloca_scope {
        %u = memref.alloca() : memref<2xf32>
        memref.store %acc, %u[%c0] : memref<2xf32>
      }
      memref.store %acc, %t[%c0] : memref<4xf32>
      %v = memref.load %t[%c0] : memref<4xf32>
      memref.alloca_scope.return %v : f32
    }
    scf.yield %x : f32
  }
  return %r : f32
}
