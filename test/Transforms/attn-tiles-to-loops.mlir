// RUN: attn-opt %s -split-input-file -attn-tiles-to-loops -canonicalize -cse | FileCheck %s
// RUN: attn-opt %s -split-input-file -attn-to-cpu-loops | FileCheck %s --check-prefix=PIPE
// RUN: attn-opt %s -split-input-file -attn-tiles-to-loops="loads=0 programs=0" | FileCheck %s --check-prefix=SIMT

// dest[r, d] = r < rows ? f32(source[batch, row + r, head, d]) : 0
// CHECK-LABEL: func.func @load_bf16
// CHECK-SAME: (%[[SRC:[^:]+]]: memref<2x100x4x8xbf16>, %[[DST:[^:]+]]: memref<16x8xf32>, %[[B:[^:]+]]: index, %[[ROW:[^:]+]]: index, %[[H:[^:]+]]: index, %[[N:[^:]+]]: index)
// CHECK: %[[VALID:.+]] = arith.minsi %[[N]], %c16
// CHECK: scf.for %[[R:.+]] = %c0 to %c16
// CHECK:   %[[IN:.+]] = arith.cmpi slt, %[[R]], %[[VALID]]
// CHECK:   %[[SR:.+]] = arith.addi %[[ROW]], %[[R]]
// CHECK:   scf.for %[[D:.+]] = %c0 to %c8
// CHECK:     %[[V:.+]] = scf.if %[[IN]] -> (f32) {
// CHECK:       %[[X:.+]] = memref.load %[[SRC]][%[[B]], %[[SR]], %[[H]], %[[D]]]
// CHECK:       %[[XF:.+]] = arith.extf %[[X]] : bf16 to f32
// CHECK:       scf.yield %[[XF]]
// CHECK:     } else {
// CHECK:       scf.yield %cst
// CHECK:     memref.store %[[V]], %[[DST]][%[[R]], %[[D]]]
// CHECK: } {attn.row_loop}
// The SIMT mapping copies tiles itself.
// SIMT-LABEL: func.func @load_bf16
// SIMT: attn.tile_load
func.func @load_bf16(%src: memref<2x100x4x8xbf16>, %dst: memref<16x8xf32>, %b: index, %row: index,
                     %h: index, %n: index) {
  attn.tile_load %src[%b, %row, %h] rows(%n) into %dst : memref<2x100x4x8xbf16>, memref<16x8xf32>
  return
}

// -----

// A tile of the source's own type: the elements as they are.
// CHECK-LABEL: func.func @load_native
// CHECK: %[[X:.+]] = memref.load
// CHECK-NOT: arith.extf
// CHECK: scf.yield %[[X]] : bf16
func.func @load_native(%src: memref<2x100x4x8xbf16>, %dst: memref<16x8xbf16>, %i: index) {
  attn.tile_load %src[%i, %i, %i] rows(%i) into %dst : memref<2x100x4x8xbf16>, memref<16x8xbf16>
  return
}

// -----

// A rank-1 tile of per-row values (the backward's LSE and D) from [B, H, S]:
//   dest[r] = r < rows ? source[batch, head, row + r] : 0
// CHECK-LABEL: func.func @load_rows
// CHECK-SAME: (%[[SRC:[^:]+]]: memref<2x4x100xf32>, %[[DST:[^:]+]]: memref<16xf32>, %[[B:[^:]+]]: index, %[[ROW:[^:]+]]: index, %[[H:[^:]+]]: index, %[[N:[^:]+]]: index)
// CHECK: scf.for %[[R:.+]] = %c0 to %c16
// CHECK:   %[[SR:.+]] = arith.addi %[[ROW]], %[[R]]
// CHECK-NOT: scf.for
// CHECK:   %[[V:.+]] = scf.if %{{.+}} -> (f32) {
// CHECK:     memref.load %[[SRC]][%[[B]], %[[H]], %[[SR]]]
// CHECK:   memref.store %[[V]], %[[DST]][%[[R]]]
// CHECK: } {attn.row_loop}
func.func @load_rows(%src: memref<2x4x100xf32>, %dst: memref<16xf32>, %b: index, %row: index,
                     %h: index, %n: index) {
  attn.tile_load %src[%b, %row, %h] rows(%n) into %dst : memref<2x4x100xf32>, memref<16xf32>
  return
}

// -----

// An f32 source with a scale (the backward's postprocess, dQ = scale·dQ_acc):
// the scale applies though no conversion does.
// CHECK-LABEL: func.func @load_f32_scaled
// CHECK-SAME: %[[SCALE:[^:]+]]: f32)
// CHECK: %[[X:.+]] = memref.load
// CHECK: %[[S:.+]] = arith.mulf %[[X]], %[[SCALE]] : f32
// CHECK: scf.yield %[[S]]
func.func @load_f32_scaled(%src: memref<2x100x4x8xf32>, %dst: memref<16x8xf32>, %i: index,
                           %scale: f32) {
  attn.tile_load %src[%i, %i, %i] rows(%i) scale(%scale) into %dst
      : memref<2x100x4x8xf32>, memref<16x8xf32>
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
func.func @load_f8_scaled(%src: memref<2x100x4x8xf8E4M3FN>, %dst: memref<16x8xf32>, %b: index,
                          %row: index, %h: index, %n: index, %scale: f32) {
  attn.tile_load %src[%b, %row, %h] rows(%n) scale(%scale) into %dst
      : memref<2x100x4x8xf8E4M3FN>, memref<16x8xf32>
  return
}

// -----

// dest[i, j] += Σ_k f32(lhs[i, k]) · f32(rhs[j, k])       (transpose_rhs)
// CHECK-LABEL: func.func @matmul_transpose_rhs
// CHECK-SAME: (%[[A:[^:]+]]: memref<16x8xbf16>, %[[B:[^:]+]]: memref<32x8xbf16>, %[[C:[^:]+]]: memref<16x32xf32>)
// CHECK: scf.for %[[I:.+]] = %c0 to %c16
// CHECK:   scf.for %[[J:.+]] = %c0 to %c32
// CHECK:     %[[C0:.+]] = memref.load %[[C]][%[[I]], %[[J]]]
// CHECK:     %[[SUM:.+]] = scf.for %[[K:.+]] = %c0 to %c8 step %c1 iter_args(%[[ACC:.+]] = %[[C0]])
// CHECK:       %[[X:.+]] = memref.load %[[A]][%[[I]], %[[K]]]
// CHECK:       %[[Y:.+]] = memref.load %[[B]][%[[J]], %[[K]]]
// CHECK:       %[[XF:.+]] = arith.extf %[[X]] : bf16 to f32
// CHECK:       %[[YF:.+]] = arith.extf %[[Y]] : bf16 to f32
// CHECK:       %[[P:.+]] = arith.mulf %[[XF]], %[[YF]]
// CHECK:       arith.addf %[[ACC]], %[[P]]
// CHECK:     memref.store %[[SUM]], %[[C]][%[[I]], %[[J]]]
// CHECK: } {attn.row_loop}
func.func @matmul_transpose_rhs(%a: memref<16x8xbf16>, %b: memref<32x8xbf16>, %c: memref<16x32xf32>) {
  attn.tile_matmul %a, %b transpose_rhs into %c : memref<16x8xbf16>, memref<32x8xbf16>, memref<16x32xf32>
  return
}

// -----

// dest[i, j] += Σ_k lhs[k, i] · rhs[k, j]                    (transpose_lhs)
// CHECK-LABEL: func.func @matmul_transpose_lhs
// CHECK-SAME: (%[[A:[^:]+]]: memref<32x16xf32>, %[[B:[^:]+]]: memref<32x8xf32>, %[[C:[^:]+]]: memref<16x8xf32>)
// CHECK: scf.for %[[I:.+]] = %c0 to %c16
// CHECK:   scf.for %[[J:.+]] = %c0 to %c8
// CHECK:     scf.for %[[K:.+]] = %c0 to %c32
// CHECK:       memref.load %[[A]][%[[K]], %[[I]]]
// CHECK:       memref.load %[[B]][%[[K]], %[[J]]]
func.func @matmul_transpose_lhs(%a: memref<32x16xf32>, %b: memref<32x8xf32>, %c: memref<16x8xf32>) {
  attn.tile_matmul %a, %b transpose_lhs into %c : memref<32x16xf32>, memref<32x8xf32>, memref<16x8xf32>
  return
}

// -----

// dest[i] = max(dest[i], tile[i, :]), NaN-propagating
// CHECK-LABEL: func.func @reduce_max
// CHECK: scf.for %[[I:.+]] = %c0 to %c16
// CHECK:   %[[M0:.+]] = memref.load %{{.+}}[%[[I]]]
// CHECK:   %[[M:.+]] = scf.for %{{.+}} = %c0 to %c32 step %c1 iter_args(%[[R:.+]] = %[[M0]])
// CHECK:     arith.maximumf %[[R]], %{{.+}} : f32
// CHECK:   memref.store %[[M]]
// CHECK: } {attn.row_loop}
func.func @reduce_max(%s: memref<16x32xf32>, %m: memref<16xf32>) {
  attn.tile_reduce max %s into %m : memref<16x32xf32>, memref<16xf32>
  return
}

// -----

// dest[i, j] = body(s[i, j], r[i]): the per-row input broadcast along the row.
// CHECK-LABEL: func.func @map_broadcast
// CHECK-SAME: (%[[S:[^:]+]]: memref<16x32xf32>, %[[R:[^:]+]]: memref<16xf32>, %[[D:[^:]+]]: memref<16x32xf32>)
// CHECK: scf.for %[[I:.+]] = %c0 to %c16
// CHECK:   scf.for %[[J:.+]] = %c0 to %c32
// CHECK:     %[[X:.+]] = memref.load %[[S]][%[[I]], %[[J]]]
// CHECK:     %[[Y:.+]] = memref.load %[[R]][%[[I]]]
// CHECK:     %[[Z:.+]] = arith.subf %[[X]], %[[Y]]
// CHECK:     memref.store %[[Z]], %[[D]][%[[I]], %[[J]]]
// CHECK: } {attn.row_loop}
func.func @map_broadcast(%s: memref<16x32xf32>, %r: memref<16xf32>, %d: memref<16x32xf32>) {
  attn.tile_map ins(%s, %r : memref<16x32xf32>, memref<16xf32>) into %d : memref<16x32xf32> {
  ^bb0(%x: f32, %y: f32):
    %z = arith.subf %x, %y : f32
    attn.yield %z : f32
  }
  return
}

// -----

// visible(i, j) = j < cols and kv_pos + j <= q_pos + i + diag (causal) and
// mask_mod; hidden scores become -inf. mask_mod sees positions clamped into
// the block's valid rows and columns (a modifier may read a tensor at them).
// CHECK-LABEL: func.func @mask
// CHECK-SAME: %[[QP:[^:]+]]: index, %[[KP:[^:]+]]: index, %[[DIAG:[^:]+]]: index, %[[ROWS:[^:]+]]: index, %[[COLS:[^:]+]]: index
// CHECK: scf.for %[[I:.+]] = %c0 to %c16
// CHECK:   scf.for %[[J:.+]] = %c0 to %c32
// CHECK:     %[[QI:.+]] = arith.addi %[[QP]], %[[I]]
// CHECK:     %[[KJ:.+]] = arith.addi %[[KP]], %[[J]]
// CHECK:     %[[INB:.+]] = arith.cmpi slt, %[[J]], %[[COLS]]
// CHECK:     %[[CENTER:.+]] = arith.addi %[[QI]], %[[DIAG]]
// CHECK:     %[[CAUSAL:.+]] = arith.cmpi sle, %[[KJ]], %[[CENTER]]
// CHECK:     %[[KEEP:.+]] = arith.andi %[[INB]], %[[CAUSAL]]
// CHECK:     %[[LASTROW:.+]] = arith.subi %[[ROWS]], %c1
// CHECK:     %[[LR:.+]] = arith.maxsi %[[LASTROW]], %c0
// CHECK:     %[[QMAX:.+]] = arith.addi %[[QP]], %[[LR]]
// CHECK:     %[[QC:.+]] = arith.minsi %[[QI]], %[[QMAX]]
// CHECK:     %[[LASTCOL:.+]] = arith.subi %[[COLS]], %c1
// CHECK:     %[[LC:.+]] = arith.maxsi %[[LASTCOL]], %c0
// CHECK:     %[[KMAX:.+]] = arith.addi %[[KP]], %[[LC]]
// CHECK:     %[[KC:.+]] = arith.minsi %[[KJ]], %[[KMAX]]
// CHECK:     %[[MOD:.+]] = arith.cmpi ne, %[[QC]], %[[KC]]
// CHECK:     %[[ALL:.+]] = arith.andi %[[KEEP]], %[[MOD]]
// CHECK:     arith.select %[[ALL]], %{{.+}}, %cst
func.func @mask(%s: memref<16x32xf32>, %qp: index, %kp: index, %diag: index, %rows: index, %cols: index, %b: index) {
  attn.tile_mask %s into %s q_pos(%qp) kv_pos(%kp) diag(%diag) rows(%rows) cols(%cols) seq(%b) head(%b)
      attributes {mask = #attn.mask<causal, bottom_right>} mask_mod {
      ^bb0(%bb: index, %h: index, %i: index, %j: index):
        %t = arith.cmpi ne, %i, %j : index
        attn.yield %t : i1
      } : memref<16x32xf32>
  return
}

// -----

// hide_rows (the backward's masks): rows from `rows` on are hidden too.
// CHECK-LABEL: func.func @mask_hide_rows
// CHECK-SAME: (%{{[^:]+}}: memref<16x32xf32>, %{{[^:]+}}: index, %[[ROWS:[^:]+]]: index, %[[COLS:[^:]+]]: index)
// CHECK: scf.for %[[I:.+]] = %c0 to %c16
// CHECK:   scf.for %[[J:.+]] = %c0 to %c32
// CHECK:     %[[INB:.+]] = arith.cmpi slt, %[[J]], %[[COLS]]
// CHECK:     %[[ROWIN:.+]] = arith.cmpi slt, %[[I]], %[[ROWS]]
// CHECK:     %[[KEEP:.+]] = arith.andi %[[INB]], %[[ROWIN]]
// CHECK:     arith.select %[[KEEP]], %{{.+}}, %cst
func.func @mask_hide_rows(%s: memref<16x32xf32>, %p: index, %rows: index, %cols: index) {
  attn.tile_mask %s into %s q_pos(%p) kv_pos(%p) diag(%p) rows(%rows) cols(%cols) seq(%p) head(%p)
      attributes {hide_rows, mask = #attn.mask<none>} : memref<16x32xf32>
  return
}

// -----

// score_mod on the valid part of the block only: i < rows, j < cols.
// CHECK-LABEL: func.func @score_mod
// CHECK-SAME: (%{{[^:]+}}: memref<16x32xf32>, %{{[^:]+}}: index, %[[ROWS:[^:]+]]: index, %[[COLS:[^:]+]]: index)
// CHECK: scf.for %[[I:.+]] = %c0 to %[[ROWS]]
// CHECK:   scf.for %[[J:.+]] = %c0 to %[[COLS]]
// CHECK:     arith.addf
// CHECK: } {attn.row_loop}
func.func @score_mod(%s: memref<16x32xf32>, %b: index, %rows: index, %cols: index) {
  attn.tile_score_mod %s into %s seq(%b) head(%b) q_pos(%b) kv_pos(%b) rows(%rows) cols(%cols)
      : memref<16x32xf32> {
  ^bb0(%x: f32, %bb: index, %h: index, %i: index, %j: index):
    %y = arith.addf %x, %x : f32
    attn.yield %y : f32
  }
  return
}

// -----

// out[b, row + i, h, d] = bf16(o[i, d]) for i < rows; lse[b, h, row + i] += l[i].
// CHECK-LABEL: func.func @store
// CHECK-SAME: (%[[T:[^:]+]]: memref<16x8xf32>, %[[O:[^:]+]]: memref<1x40x2x8xbf16>, %[[L:[^:]+]]: memref<16xf32>, %[[LSE:[^:]+]]: memref<1x2x40xf32>, %[[B:[^:]+]]: index, %[[ROW:[^:]+]]: index, %[[H:[^:]+]]: index, %[[N:[^:]+]]: index)
// CHECK: %[[VALID:.+]] = arith.minsi %[[N]], %c16
// CHECK: scf.for %[[I:.+]] = %c0 to %[[VALID]]
// CHECK:   scf.for %[[D:.+]] = %c0 to %c8
// CHECK:     %[[X:.+]] = memref.load %[[T]][%[[I]], %[[D]]]
// CHECK:     %[[XB:.+]] = arith.truncf %[[X]] : f32 to bf16
// CHECK:     %[[R:.+]] = arith.addi %[[ROW]], %[[I]]
// CHECK:     memref.store %[[XB]], %[[O]][%[[B]], %[[R]], %[[H]], %[[D]]]
// CHECK: scf.for %[[I2:.+]] = %c0 to %[[VALID]]
// CHECK:   %[[Y:.+]] = memref.load %[[L]][%[[I2]]]
// CHECK:   %[[R2:.+]] = arith.addi %[[ROW]], %[[I2]]
// CHECK:   %[[OLD:.+]] = memref.load %[[LSE]][%[[B]], %[[H]], %[[R2]]]
// CHECK:   %[[NEW:.+]] = arith.addf %[[OLD]], %[[Y]]
// CHECK:   memref.store %[[NEW]], %[[LSE]][%[[B]], %[[H]], %[[R2]]]
func.func @store(%t: memref<16x8xf32>, %o: memref<1x40x2x8xbf16>, %l: memref<16xf32>,
                 %lse: memref<1x2x40xf32>, %b: index, %row: index, %h: index, %n: index) {
  attn.tile_store %t into %o[%b, %row, %h] rows(%n) : memref<16x8xf32>, memref<1x40x2x8xbf16>
  attn.tile_store %l into %lse[%b, %row, %h] rows(%n) accumulate : memref<16xf32>, memref<1x2x40xf32>
  return
}

// -----

// The grid: an scf.parallel, each program's buffers freed with its alloca
// scope.
// PIPE-LABEL: func.func @grid
// PIPE: scf.parallel (%[[S:.+]], %[[H:.+]], %[[QB:.+]]) = (%{{.+}}, %{{.+}}, %{{.+}}) to (%{{.+}}, %{{.+}}, %{{.+}}) step (%{{.+}}, %{{.+}}, %{{.+}})
// PIPE:   memref.alloca_scope {
// PIPE:     %[[T:.+]] = memref.alloca() : memref<16xf32>
// PIPE:     memref.store %{{.+}}, %{{.+}}[%[[S]], %[[H]], %[[QB]]]
// SIMT-LABEL: func.func @grid
// SIMT: attn.program_grid
func.func @grid(%n: index, %out: memref<4x4x4xf32>) {
  attn.program_grid (%s, %h, %qb) in (%n, %n, %n) block_m(16) {
    %t = memref.alloca() : memref<16xf32>
    %x = memref.load %t[%s] : memref<16xf32>
    memref.store %x, %out[%s, %h, %qb] : memref<4x4x4xf32>
  }
  return
}

// -----

// The whole CPU front end leaves no attn op, and the memory claim holds:
// every buffer is a fixed-size tile (BlockM x D, BlockN x D, BlockM x
// BlockN for the scores) allocated once per program, at its top; nothing of
// size Sq x Sk, no allocation inside a loop.
// PIPE-LABEL: func.func @no_quadratic_buffer
// PIPE: memref.alloca_scope
// PIPE-NOT: {{^ *(%.* = )?attn\.}}
// PIPE-NOT: memref.alloc(
// PIPE-NOT: memref<4096x4096
// PIPE-DAG: memref.alloca() : memref<32x128xf32>
// PIPE-DAG: memref.alloca() : memref<64x128xf32>
// PIPE-DAG: memref.alloca() : memref<32x64xf32>
// PIPE: scf.for
// PIPE-NOT: memref.alloca
// PIPE-NOT: {{^ *(%.* = )?attn\.}}
// PIPE-NOT: memref.alloc(
// PIPE: return
func.func @no_quadratic_buffer(%q: memref<1x4096x1x128xbf16>, %o: memref<1x4096x1x128xbf16>) {
  attn.attention ins(%q, %q, %q : memref<1x4096x1x128xbf16>, memref<1x4096x1x128xbf16>, memref<1x4096x1x128xbf16>)
      outs(%o : memref<1x4096x1x128xbf16>) mask<causal, top_left>
  return
}
