// --attn-narrow-modifier-arith alone: only ops marked attn.modifier are
// narrowed, where integer range analysis bounds them to i32 (here by the
// clamps to [0, 299] that attn-convert-to-nvgpu puts on the positions); the
// mark is removed everywhere.
// RUN: attn-opt %s -split-input-file -attn-narrow-modifier-arith | FileCheck %s
// RUN: attn-opt %s -split-input-file -attn-narrow-modifier-arith | FileCheck %s --check-prefix=MARK
// MARK-NOT: attn.modifier

// ALiBi's f32(kv_idx - q_idx): an i32 subtraction and an i32 conversion.
// CHECK-LABEL: func.func @narrowed
// CHECK: %[[Q:.*]] = arith.minui %arg0, %c299 : index
// CHECK: %[[K:.*]] = arith.minui %arg1, %c299 : index
// CHECK-DAG: %[[K32:.*]] = arith.index_castui %[[K]] : index to i32
// CHECK-DAG: %[[Q32:.*]] = arith.index_castui %[[Q]] : index to i32
// CHECK: %[[D:.*]] = arith.subi %[[K32]], %[[Q32]] : i32
// CHECK-NEXT: %[[F:.*]] = arith.sitofp %[[D]] : i32 to f32
// CHECK-NEXT: memref.store %[[F]], %arg2[] : memref<f32>
func.func @narrowed(%x: index, %y: index, %out: memref<f32>) {
  %c299 = arith.constant 299 : index
  %q = arith.minui %x, %c299 : index
  %k = arith.minui %y, %c299 : index
  %d = arith.subi %k, %q {attn.modifier} : index
  %i = arith.index_cast %d {attn.modifier} : index to i64
  %f = arith.sitofp %i {attn.modifier} : i64 to f32
  memref.store %f, %out[] : memref<f32>
  return
}

// -----

// An i64 the body keeps: the i32 difference sign-extended once
// (index_cast(index_cast(x : i32) : i64) -> extsi).
// CHECK-LABEL: func.func @widened
// CHECK: %[[D:.*]] = arith.subi %{{.*}}, %{{.*}} : i32
// CHECK-NEXT: %[[W:.*]] = arith.extsi %[[D]] : i32 to i64
// CHECK-NEXT: memref.store %[[W]], %arg2[] : memref<i64>
func.func @widened(%x: index, %y: index, %out: memref<i64>) {
  %c299 = arith.constant 299 : index
  %q = arith.minui %x, %c299 : index
  %k = arith.minui %y, %c299 : index
  %d = arith.subi %k, %q {attn.modifier} : index
  %i = arith.index_cast %d {attn.modifier} : index to i64
  memref.store %i, %out[] : memref<i64>
  return
}

// -----

// The same arithmetic without the mark is left as it is.
// CHECK-LABEL: func.func @unmarked
// CHECK: %[[D:.*]] = arith.subi %{{.*}}, %{{.*}} : index
// CHECK-NEXT: %[[I:.*]] = arith.index_cast %[[D]] : index to i64
// CHECK-NEXT: arith.sitofp %[[I]] : i64 to f32
func.func @unmarked(%x: index, %y: index, %out: memref<f32>) {
  %c299 = arith.constant 299 : index
  %q = arith.minui %x, %c299 : index
  %k = arith.minui %y, %c299 : index
  %d = arith.subi %k, %q : index
  %i = arith.index_cast %d : index to i64
  %f = arith.sitofp %i : i64 to f32
  memref.store %f, %out[] : memref<f32>
  return
}

// -----

// Marked but unbounded positions: nothing proves i32, the ops stay (unmarked).
// CHECK-LABEL: func.func @unbounded
// CHECK: %[[D:.*]] = arith.subi %arg1, %arg0 : index
// CHECK-NEXT: %[[I:.*]] = arith.index_cast %[[D]] : index to i64
// CHECK-NEXT: arith.sitofp %[[I]] : i64 to f32
func.func @unbounded(%x: index, %y: index, %out: memref<f32>) {
  %d = arith.subi %y, %x {attn.modifier} : index
  %i = arith.index_cast %d {attn.modifier} : index to i64
  %f = arith.sitofp %i {attn.modifier} : i64 to f32
  memref.store %f, %out[] : memref<f32>
  return
}
