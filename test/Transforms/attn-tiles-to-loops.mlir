// RUN: attn-opt %s -split-input-file -attn-tiles-to-loops -canonicalize -cse | FileCheck %s
// RUN: attn-opt %s -split-input-file -attn-tile="target=cpu" -attn-online-softmax -attn-tiles-to-loops | FileCheck %s --check-prefix=PIPE

// dest[r, d] = r < rows ? f32(source[batch, row + r, head, d]) : 0
// CHECK-LABEL: func.func @load_bf16
// CHECK-SAME: (%[[SRC:[^:]+]]: memref<2x100x4x8xbf16>, %[[DST:[^:]+]]: memref<16x8xf32>, %[[B:[^:]+]]: index, %[[ROW:[^:]+]]: index, %[[H:[^:]+]]: index, %[[N:[^:]+]]: index)
// CHECK: %[[VALID:.+]] = arith.minsi %[[N]], %c16
// CHECK: scf.for %[[R:.+]] = %c0 to %[[VALID]]
// CHECK:   %[[SR:.+]] = arith.addi %[[ROW]], %[[R]]
// CHECK:   scf.for %[[D:.+]] = %c0 to %c8
// CHECK:     %[[X:.+]] = memref.load %[[SRC]][%[[B]], %[[SR]], %[[H]], %[[D]]]
// CHECK:     %[[XF:.+]] = arith.extf %[[X]] : bf16 to f32
// CHECK:     memref.store %[[XF]], %[[DST]][%[[R]], %[[D]]]
// CHECK: scf.for %[[R2:.+]] = %[[VALID]] to %c16
// CHECK:   scf.for %[[D2:.+]] = %c0 to %c8
// CHECK:     memref.store %cst, %[[DST]][%[[R2]], %[[D2]]]
func.func @load_bf16(%src: memref<2x100x4x8xbf16>, %dst: memref<16x8xf32>, %b: index, %row: index,
                     %h: index, %n: index) {
  attn.tile_load %src[%b, %row, %h] rows(%n) into %dst : memref<2x100x4x8xbf16>, memref<16x8xf32>
  return
}

// -----

// f8E4M3FN, scaled: the bits decoded as f32 (normal: the magnitude shifted
// into place plus the bias difference 120 << 23 = 1006632960; subnormal:
// m · 2^-9; NaN: 0x7fc00000 = 2143289344), sign or'ed in, times the scale.
// CHECK-LABEL: func.func @load_f8_scaled
// CHECK-SAME: %[[SCALE:[^:]+]]: f32)
// CHECK: %[[X:.+]] = memref.load
// CHECK: %[[BITS:.+]] = arith.bitcast %[[X]] : f8E4M3FN to i8
// CHECK: arith.extui %[[BITS]] : i8 to i32
// CHECK: arith.addi %{{.+}}, %c1006632960_i32 : i32
// CHECK: arith.mulf %{{.+}}, %cst{{.*}} : f32
// CHECK: arith.select %{{.+}}, %c2143289344_i32, %{{.+}} : i32
// CHECK: %[[F:.+]] = arith.bitcast %{{.+}} : i32 to f32
// CHECK: %[[S:.+]] = arith.mulf %[[F]], %[[SCALE]] : f32
// CHECK: memref.store %[[S]]
func.func @load_f8_scaled(%src: memref<2x100x4x8xf8E4M3FN>, %dst: memref<16x8xf32>, %b: index,
                          %row: index, %h: index, %n: index, %scale: f32) {
  attn.tile_load %src[%b, %row, %h] rows(%n) scale(%scale) into %dst
      : memref<2x100x4x8xf8E4M3FN>, memref<16x8xf32>
  return
}

// -----

// The whole CPU front end leaves no attn op, and the memory claim holds:
// every buffer is a fixed-size tile (BlockM x D, BlockN x D, BlockM x
// BlockN for the scores) allocated per program; nothing of size Sq x Sk.
// PIPE-LABEL: func.func @no_quadratic_buffer
// PIPE-NOT: {{^ *(%.* = )?attn\.}}
// PIPE-NOT: memref.alloc(
// PIPE-NOT: memref<4096x4096
// PIPE-DAG: memref.alloca() : memref<32x128xf32>
// PIPE-DAG: memref.alloca() : memref<64x128xf32>
// PIPE-DAG: memref.alloca() : memref<32x64xf32>
// PIPE-NOT: {{^ *(%.* = )?attn\.}}
// PIPE-NOT: memref.alloc(
// PIPE: return
func.func @no_quadratic_buffer(%q: memref<1x4096x1x128xbf16>, %o: memref<1x4096x1x128xbf16>) {
  attn.attention ins(%q, %q, %q : memref<1x4096x1x128xbf16>, memref<1x4096x1x128xbf16>, memref<1x4096x1x128xbf16>)
      outs(%o : memref<1x4096x1x128xbf16>) mask<causal, top_left>
  return
}
