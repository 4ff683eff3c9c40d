// RUN: attn-opt %s -split-input-file -attn-lower-to-cpu | FileCheck %s \
// RUN:   --implicit-check-not=scf. --implicit-check-not=memref. \
// RUN:   --implicit-check-not=arith. --implicit-check-not=math. \
// RUN:   --implicit-check-not=cf. --implicit-check-not=index. \
// RUN:   --implicit-check-not=func.func \
// RUN:   --implicit-check-not=unrealized_conversion_cast

// The CPU lowering leaves only LLVM dialect ops (the implicit-check-nots
// above): structured loops, alloca scopes, views, f16/bf16 conversions, index
// arithmetic and math all become llvm.* ops, and each public function gets a
// C interface wrapper taking memref descriptors by pointer.

// Rows in parallel; a per-row scratch alloca in an alloca scope, which is
// inlined between stacksave/stackrestore before scf-to-cf;
// y[i, j] = tanh(exp2(x[i, j] - m)) + extf(b[i, j]), m = max_j x[i, j].
// CHECK-LABEL: llvm.func @row_kernel(
// CHECK:         llvm.intr.stacksave
// CHECK:         llvm.alloca
// CHECK:         llvm.fcmp
// CHECK:         llvm.intr.exp2
// CHECK:         llvm.intr.tanh
// CHECK:         llvm.intr.stackrestore
// CHECK:         llvm.return
// CHECK-LABEL: llvm.func @_mlir_ciface_row_kernel(
// CHECK-SAME:      %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK:         llvm.call @row_kernel(
func.func @row_kernel(%x: memref<?x?xf32>, %b: memref<?x?xbf16>,
                      %y: memref<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %ninf = arith.constant 0xFF800000 : f32
  %rows = memref.dim %x, %c0 : memref<?x?xf32>
  %cols = memref.dim %x, %c1 : memref<?x?xf32>
  scf.parallel (%i) = (%c0) to (%rows) step (%c1) {
    memref.alloca_scope {
      %m = memref.alloca() : memref<f32>
      memref.store %ninf, %m[] : memref<f32>
      scf.for %j = %c0 to %cols step %c1 {
        %v = memref.load %x[%i, %j] : memref<?x?xf32>
        %old = memref.load %m[] : memref<f32>
        %new = arith.maxnumf %old, %v : f32
        memref.store %new, %m[] : memref<f32>
      }
      %max = memref.load %m[] : memref<f32>
      scf.for %j = %c0 to %cols step %c1 {
        %v = memref.load %x[%i, %j] : memref<?x?xf32>
        %d = arith.subf %v, %max : f32
        %e = math.exp2 %d : f32
        %t = math.tanh %e : f32
        %bv = memref.load %b[%i, %j] : memref<?x?xbf16>
        %bf = arith.extf %bv : bf16 to f32
        %s = arith.addf %t, %bf : f32
        memref.store %s, %y[%i, %j] : memref<?x?xf32>
      }
    }
    scf.reduce
  }
  return
}

// -----

// f16 math runs in f32; bf16 -> f32 is integer code (arith-expand), not a
// libcall; index floor division and subviews become plain integer arithmetic.
// CHECK-LABEL: llvm.func @halves(
// CHECK:         llvm.fpext %{{.*}} : f16 to f32
// CHECK:         llvm.intr.log2(%{{.*}}) : (f32) -> f32
// CHECK:         llvm.fptrunc %{{.*}} : f32 to f16
// CHECK:         llvm.bitcast %{{.*}} : bf16 to i16
// CHECK:         llvm.shl
// CHECK:         llvm.bitcast %{{.*}} : i32 to f32
// CHECK-LABEL: llvm.func @_mlir_ciface_halves(
func.func @halves(%h: memref<?xf16>, %b: memref<?xbf16>, %out: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %n = memref.dim %h, %c0 : memref<?xf16>
  %half = arith.floordivsi %n, %c2 : index
  %hs = memref.subview %h[%half] [%half] [1]
      : memref<?xf16> to memref<?xf16, strided<[1], offset: ?>>
  scf.for %i = %c0 to %half step %c1 {
    %hv = memref.load %hs[%i] : memref<?xf16, strided<[1], offset: ?>>
    %l = math.log2 %hv : f16
    %lf = arith.extf %l : f16 to f32
    %bv = memref.load %b[%i] : memref<?xbf16>
    %bf = arith.extf %bv : bf16 to f32
    %s = arith.addf %lf, %bf : f32
    memref.store %s, %out[%i] : memref<?xf32>
  }
  return
}

// -----

// Private helpers and declarations get no C interface.
// CHECK-LABEL: llvm.func @helper(
// CHECK-NOT:   _mlir_ciface_helper
// CHECK-LABEL: llvm.func @entry(
// CHECK:         llvm.call @helper(
// CHECK-LABEL: llvm.func @_mlir_ciface_entry(
// CHECK-NOT:   _mlir_ciface_helper
func.func private @helper(%x: f32) -> f32 {
  %y = arith.mulf %x, %x : f32
  return %y : f32
}
func.func @entry(%m: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %v = memref.load %m[%c0] : memref<4xf32>
  %r = func.call @helper(%v) : (f32) -> f32
  memref.store %r, %m[%c0] : memref<4xf32>
  return
}
