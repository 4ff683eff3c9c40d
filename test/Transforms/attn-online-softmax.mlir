// RUN: attn-opt %s -split-input-file -attn-online-softmax -canonicalize -cse | FileCheck %s

// An unmasked block without modifiers: one multiply takes the dot product
// into the base-2 domain, and no mask arithmetic appears.
//   s_ij  = (q_i · k_j) · scale·log2(e)       scale = 0.125: 0.18033688
//   m_new = max(m_i, max_j s_ij)
//   m_safe = m_new == -inf ? 0 : m_new
//   alpha = exp2(m_i - m_safe)
//   p_ij  = exp2(s_ij - m_safe)
//   l_i   = l_i · alpha + Σ_j p_ij
//   acc_i = acc_i · alpha + Σ_j p_ij · v_j
// CHECK-LABEL: func.func @interior_block
// CHECK-SAME: %[[Q:[^:]+]]: memref<16x8xf32>, %[[K:[^:]+]]: memref<32x8xf32>, %[[V:[^:]+]]: memref<32x8xf32>, %[[ACC:[^:]+]]: memref<16x8xf32>, %[[M:[^:]+]]: memref<16xf32>, %[[L:[^:]+]]: memref<16xf32>, %[[ROWS:[^:]+]]: index, %[[COLS:[^:]+]]: index
// CHECK-DAG: %[[C:.+]] = arith.constant 0.180336878 : f32
// CHECK-DAG: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[S:.+]] = memref.alloca() : memref<16x32xf32>
// CHECK: scf.for %[[I:.+]] = %c0 to %[[ROWS]]
// CHECK:   %[[MOLD:.+]] = memref.load %[[M]][%[[I]]]
// CHECK:   %[[MNEW:.+]] = scf.for %[[J:.+]] = %c0 to %[[COLS]] step %c1 iter_args(%[[MX:.+]] = %[[MOLD]])
// CHECK:     %[[DOT:.+]] = scf.for {{.*}} iter_args
// CHECK:       arith.mulf
// CHECK:       arith.addf
// CHECK:     %[[SIJ:.+]] = arith.mulf %[[DOT]], %[[C]]
// CHECK-NOT:  arith.select
// CHECK:     memref.store %[[SIJ]], %[[S]][%[[I]], %[[J]]]
// CHECK:     %[[MAX:.+]] = arith.maximumf %[[MX]], %[[SIJ]]
// CHECK:     scf.yield %[[MAX]]
// CHECK:   %[[HIDDEN:.+]] = arith.cmpf oeq, %[[MNEW]], %[[NEGINF]]
// CHECK:   %[[MSAFE:.+]] = arith.select %[[HIDDEN]], %[[ZERO]], %[[MNEW]]
// CHECK:   %[[DM:.+]] = arith.subf %[[MOLD]], %[[MSAFE]]
// CHECK:   %[[ALPHA:.+]] = math.exp2 %[[DM]]
// CHECK:   %[[SUM:.+]] = scf.for %[[J2:.+]] = %c0 to %[[COLS]] step %c1 iter_args(%[[SACC:.+]] = %[[ZERO]])
// CHECK:     %[[SV:.+]] = memref.load %[[S]][%[[I]], %[[J2]]]
// CHECK:     %[[D:.+]] = arith.subf %[[SV]], %[[MSAFE]]
// CHECK:     %[[P:.+]] = math.exp2 %[[D]]
// CHECK:     memref.store %[[P]], %[[S]][%[[I]], %[[J2]]]
// CHECK:   %[[LOLD:.+]] = memref.load %[[L]][%[[I]]]
// CHECK:   %[[LA:.+]] = arith.mulf %[[LOLD]], %[[ALPHA]]
// CHECK:   %[[LNEW:.+]] = arith.addf %[[LA]], %[[SUM]]
// CHECK:   memref.store %[[LNEW]], %[[L]][%[[I]]]
// CHECK:   memref.store %[[MNEW]], %[[M]][%[[I]]]
// CHECK:   scf.for %[[D2:.+]] = %c0 to %c8
// CHECK:     %[[A0:.+]] = memref.load %[[ACC]][%[[I]], %[[D2]]]
// CHECK:     %[[AS:.+]] = arith.mulf %[[A0]], %[[ALPHA]]
// CHECK:     scf.for {{.*}} iter_args(%{{.+}} = %[[AS]])
// CHECK:       memref.load %[[V]]
func.func @interior_block(%q: memref<16x8xf32>, %k: memref<32x8xf32>, %v: memref<32x8xf32>,
                          %acc: memref<16x8xf32>, %m: memref<16xf32>, %l: memref<16xf32>,
                          %rows: index, %cols: index, %b: index, %h: index, %qp: index, %kp: index) {
  %c0 = arith.constant 0 : index
  attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %l) rows(%rows) cols(%cols)
      seq(%b) head(%h) q_pos(%qp) kv_pos(%kp) diag(%c0)
      attributes {mask = #attn.mask<causal, top_left>, scale = 0.125 : f32}
      : memref<16x8xf32>, memref<32x8xf32>, memref<32x8xf32>, memref<16x8xf32>, memref<16xf32>, memref<16xf32>
  return
}

// -----

// A masked block with softcap, score_mod and mask_mod: the score is scaled,
// capped and modified in the natural-log domain, then taken to base 2, then
// hidden keys become -inf.
//   s = dot · scale;  s = softcap · tanh(s / softcap);  s = score_mod(s, ...)
//   s = s · log2(e);  s = visible ? s : -inf
//   visible = kj >= qi + diag - 4  and  kj <= qi + diag + 0  and  mask_mod
// CHECK-LABEL: func.func @boundary_block
// CHECK-DAG: %[[LOG2E:.+]] = arith.constant 1.44269502 : f32
// CHECK-DAG: %[[INVCAP:.+]] = arith.constant 2.000000e-02 : f32
// CHECK-DAG: %[[CAP:.+]] = arith.constant 5.000000e+01 : f32
// CHECK-DAG: %[[SCALE:.+]] = arith.constant 5.000000e-01 : f32
// CHECK: %[[DOT:.+]] = scf.for {{.*}} to %c8
// CHECK: %[[S0:.+]] = arith.mulf %[[DOT]], %[[SCALE]]
// CHECK: %[[S1:.+]] = arith.mulf %[[S0]], %[[INVCAP]]
// CHECK: %[[T:.+]] = math.tanh %[[S1]]
// CHECK: %[[S2:.+]] = arith.mulf %[[T]], %[[CAP]]
// CHECK: %[[BIAS:.+]] = memref.load %{{.+}}[%{{.+}}] : memref<4xf32>
// CHECK: %[[S3:.+]] = arith.addf %[[S2]], %[[BIAS]]
// CHECK: %[[S4:.+]] = arith.mulf %[[S3]], %[[LOG2E]]
// CHECK: %[[KJ:.+]] = arith.addi %{{.+}}, %{{.+}} : index
// CHECK: %[[CENTER:.+]] = arith.addi %{{.+}}, %{{.+}} : index
// CHECK: %[[LO:.+]] = arith.subi %[[CENTER]], %c4
// CHECK: arith.cmpi sge, %[[KJ]], %[[LO]]
// CHECK: arith.cmpi sle, %[[KJ]], %[[CENTER]]
// CHECK: arith.cmpi ne
// CHECK: %[[KEEP:.+]] = arith.andi
// CHECK: %[[SM:.+]] = arith.select %[[KEEP]], %[[S4]], %{{.+}} : f32
// CHECK: memref.store %[[SM]]
func.func @boundary_block(%q: memref<16x8xf32>, %k: memref<32x8xf32>, %v: memref<32x8xf32>,
                          %acc: memref<16x8xf32>, %m: memref<16xf32>, %l: memref<16xf32>,
                          %rows: index, %cols: index, %b: index, %h: index, %qp: index, %kp: index,
                          %diag: index, %bias: memref<4xf32>) {
  attn.block_update q(%q) k(%k) v(%v) state(%acc, %m, %l) rows(%rows) cols(%cols)
      seq(%b) head(%h) q_pos(%qp) kv_pos(%kp) diag(%diag) masked
      attributes {mask = #attn.mask<window [4, 0], bottom_right>, scale = 0.5 : f32, softcap = 50.0 : f32}
      score_mod {
      ^bb0(%s: f32, %sb: index, %sh: index, %i: index, %j: index):
        %x = memref.load %bias[%sh] : memref<4xf32>
        %r = arith.addf %s, %x : f32
        attn.yield %r : f32
      } mask_mod {
      ^bb0(%mb: index, %mh: index, %i: index, %j: index):
        %c = arith.cmpi ne, %i, %j : index
        attn.yield %c : i1
      }
      : memref<16x8xf32>, memref<32x8xf32>, memref<32x8xf32>, memref<16x8xf32>, memref<16xf32>, memref<16xf32>
  return
}

// -----

// Start of the state: m = -inf, l = 0, acc = 0.
// CHECK-LABEL: func.func @init
// CHECK-DAG: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: scf.for %[[I:.+]] = %c0 to %c16
// CHECK:   memref.store %[[NEGINF]], %{{.+}}[%[[I]]]
// CHECK:   memref.store %[[ZERO]], %{{.+}}[%[[I]]]
// CHECK:   scf.for %[[D:.+]] = %c0 to %c8
// CHECK:     memref.store %[[ZERO]], %{{.+}}[%[[I]], %[[D]]]
func.func @init(%acc: memref<16x8xf32>, %m: memref<16xf32>, %l: memref<16xf32>) {
  attn.block_init %acc, %m, %l : memref<16x8xf32>, memref<16xf32>, memref<16xf32>
  return
}

// -----

// Epilogue: O = acc / l and LSE = (m + log2 l) · ln 2; a row that saw no key
// (l = 0) gets O = 0 and LSE = -inf.
// CHECK-LABEL: func.func @finalize
// CHECK-DAG: %[[LN2:.+]] = arith.constant 0.693147182 : f32
// CHECK-DAG: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: scf.for %[[I:.+]] = %c0 to %{{.+}}
// CHECK:   %[[LI:.+]] = memref.load %{{.+}}[%[[I]]] : memref<16xf32>
// CHECK:   %[[ROW:.+]] = arith.addi
// CHECK:   %[[SAW:.+]] = arith.cmpf ogt, %[[LI]]
// CHECK:   %[[RCP:.+]] = arith.divf %{{.+}}, %[[LI]]
// CHECK:   %[[INV:.+]] = arith.select %[[SAW]], %[[RCP]]
// CHECK:   scf.for
// CHECK:     %[[O:.+]] = arith.mulf %{{.+}}, %[[INV]]
// CHECK:     %[[OT:.+]] = arith.truncf %[[O]] : f32 to bf16
// CHECK:     memref.store %[[OT]], %{{.+}}[%{{.+}}, %[[ROW]], %{{.+}}, %{{.+}}] : memref<2x100x4x8xbf16>
// CHECK:   %[[LOG2L:.+]] = math.log2 %[[LI]]
// CHECK:   %[[SUM:.+]] = arith.addf %{{.+}}, %[[LOG2L]]
// CHECK:   %[[LSE:.+]] = arith.mulf %[[SUM]], %[[LN2]]
// CHECK:   %[[LSEV:.+]] = arith.select %[[SAW]], %[[LSE]], %[[NEGINF]]
// CHECK:   memref.store %[[LSEV]], %{{.+}}[%{{.+}}, %{{.+}}, %[[ROW]]] : memref<2x4x100xf32>
func.func @finalize(%acc: memref<16x8xf32>, %m: memref<16xf32>, %l: memref<16xf32>, %rows: index,
                    %o: memref<2x100x4x8xbf16>, %lse: memref<2x4x100xf32>, %b: index, %r: index, %h: index) {
  attn.block_finalize state(%acc, %m, %l) rows(%rows) into %o[%b, %r, %h] lse(%lse)
      : memref<16x8xf32>, memref<16xf32>, memref<16xf32>, memref<2x100x4x8xbf16>, memref<2x4x100xf32>
  return
}
