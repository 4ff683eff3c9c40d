// The Hopper kernels of the head dims between 64, 128 and 256: every multiple
// of 16 (16 ... 240, 192 included), Dv != D mixing two shared-memory layouts,
// each with a mask or modifier: shared tiles in chunks of 64, 32 or 16
// columns swizzled in 128, 64 or 32 bytes (the conversion's SwizzledRows),
// both GEMMs on wgmma (P·V with N = Dv), TMA loads. Among them the shapes
// whose kernels spilled while this was built (ptxas -v): documents at D = 112
// and ALiBi + documents at D = 80 with BlockN 128 (now 96), and the producer
// with 15 chunks per tile (D = 240, Dv = 160, window: 732 bytes before the
// copies' constants became opaque; D = 176, Dv = 128, causal, persistent).
// ptxas -arch=sm_90a assembles all 24 with no spills, honours setmaxnreg and
// serializes no wgmma. (test/Target/Hopper/matrix.mlir: D = 64, 128, 256.)
// RUN: attn-compile %s -o %t.ptx --json %t.json
// RUN: FileCheck %s --check-prefix=PTX < %t.ptx
// RUN: FileCheck %s --check-prefix=COUNT < %t.ptx
// RUN: FileCheck %s --check-prefix=JSON < %t.json
// RUN: FileCheck %s --check-prefix=SWIZZLE < %t.json
// RUN: %if ptxas %{ %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin > %t.ptxas 2>&1 %}
// RUN: %if ptxas %{ FileCheck %s --check-prefix=PTXAS < %t.ptxas %}
// RUN: %if ptxas %{ FileCheck %s --check-prefix=CLEAN < %t.ptxas %}

// COUNT-COUNT-24: .maxntid {{384|512}}, 1, 1
// COUNT-NOT: __nv_
// Three swizzle widths among the tensor maps (Q, K: D's; V, O: Dv's).
// JSON-COUNT-24: "tensor_maps": [
// SWIZZLE-DAG: "swizzle": 32
// SWIZZLE-DAG: "swizzle": 64
// SWIZZLE-DAG: "swizzle": 128
// JSON-NOT: "by_value": false

// PTXAS-COUNT-24: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// CLEAN-NOT: C7508
// CLEAN-NOT: C7507
// CLEAN-NOT: Potential Performance Loss
// CLEAN-NOT: C7519

// Each kernel: Q·Kᵀ with N = BlockN, P·V from registers with N = Dv, TMA.
// PTX-LABEL: .entry f16_d16_none_gqa4_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n16k16.f32.f16.f16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry bf16_d32_causal_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry bf16_d48_window_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n48k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry bf16_d48_none_2k_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n48k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry f16_d80_none_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n80k16.f32.f16.f16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry bf16_d80_causal_alibi_document_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n96k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n80k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry bf16_d96_causal_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n96k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry f16_d96_window_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n96k16.f32.f16.f16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry bf16_d96_none_softcap_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n96k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry bf16_d96_none_4k_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n96k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry bf16_d96_causal_4k_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n96k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry bf16_d112_none_document_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n96k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n112k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry f16_d144_causal_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n80k16.f32.f16.f16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n144k16.f32.f16.f16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry bf16_d160_none_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n80k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n160k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry bf16_d176_window_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n176k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry bf16_d192_causal_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n80k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n192k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry f16_d208_none_alibi_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n208k16.f32.f16.f16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry bf16_d224_causal_softcap_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n80k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n224k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry bf16_d240_window_alibi_document_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n240k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry bf16_d64_dv96_none_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n96k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry f16_d96_dv64_causal_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry bf16_d240_dv160_window_4k_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n160k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry f16_d176_dv128_causal_2k_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n80k16.f32.f16.f16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-LABEL: .entry bf16_d80_varlen_alibi_kernel(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n96k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n80k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes

func.func @f16_d16_none_gqa4(%q: memref<2x129x8x16xf16>, %k: memref<2x200x2x16xf16>, %v: memref<2x200x2x16xf16>, %o: memref<2x129x8x16xf16>, %lse: memref<2x8x129xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x16xf16>, memref<2x200x2x16xf16>, memref<2x200x2x16xf16>)
      outs(%o, %lse : memref<2x129x8x16xf16>, memref<2x8x129xf32>)
  return
}

func.func @bf16_d32_causal(%q: memref<2x129x8x32xbf16>, %k: memref<2x200x2x32xbf16>, %v: memref<2x200x2x32xbf16>, %o: memref<2x129x8x32xbf16>, %lse: memref<2x8x129xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x32xbf16>, memref<2x200x2x32xbf16>, memref<2x200x2x32xbf16>)
      outs(%o, %lse : memref<2x129x8x32xbf16>, memref<2x8x129xf32>) mask<causal, bottom_right>
  return
}

func.func @bf16_d48_window(%q: memref<2x129x8x48xbf16>, %k: memref<2x200x2x48xbf16>, %v: memref<2x200x2x48xbf16>, %o: memref<2x129x8x48xbf16>, %lse: memref<2x8x129xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x48xbf16>, memref<2x200x2x48xbf16>, memref<2x200x2x48xbf16>)
      outs(%o, %lse : memref<2x129x8x48xbf16>, memref<2x8x129xf32>) mask<window [64, 0], bottom_right>
  return
}

func.func @bf16_d48_none_2k(%q: memref<1x2048x4x48xbf16>, %k: memref<1x2048x4x48xbf16>, %v: memref<1x2048x4x48xbf16>, %o: memref<1x2048x4x48xbf16>) {
  attn.attention ins(%q, %k, %v : memref<1x2048x4x48xbf16>, memref<1x2048x4x48xbf16>, memref<1x2048x4x48xbf16>)
      outs(%o : memref<1x2048x4x48xbf16>)
  return
}

func.func @f16_d80_none(%q: memref<2x129x8x80xf16>, %k: memref<2x200x2x80xf16>, %v: memref<2x200x2x80xf16>, %o: memref<2x129x8x80xf16>, %lse: memref<2x8x129xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x80xf16>, memref<2x200x2x80xf16>, memref<2x200x2x80xf16>)
      outs(%o, %lse : memref<2x129x8x80xf16>, memref<2x8x129xf32>)
  return
}

func.func @bf16_d80_causal_alibi_document(%q: memref<2x300x4x80xbf16>, %k: memref<2x517x2x80xbf16>, %v: memref<2x517x2x80xbf16>, %o: memref<2x300x4x80xbf16>, %lse: memref<2x4x300xf32>, %slopes: memref<4xf32>, %doc_q: memref<300xi32>, %doc_k: memref<517xi32>) {
  attn.attention ins(%q, %k, %v : memref<2x300x4x80xbf16>, memref<2x517x2x80xbf16>, memref<2x517x2x80xbf16>)
      outs(%o, %lse : memref<2x300x4x80xbf16>, memref<2x4x300xf32>) mask<causal, bottom_right> score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %slope = memref.load %slopes[%h] : memref<4xf32>
        %d = arith.subi %kj, %qi : index
        %di = arith.index_cast %d : index to i64
        %df = arith.sitofp %di : i64 to f32
        %bias = arith.mulf %slope, %df : f32
        %r = arith.addf %s, %bias : f32
        attn.yield %r : f32
      } mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %dq = memref.load %doc_q[%qi] : memref<300xi32>
        %dk = memref.load %doc_k[%kj] : memref<517xi32>
        %same = arith.cmpi eq, %dq, %dk : i32
        attn.yield %same : i1
      }
  return
}

func.func @bf16_d96_causal(%q: memref<2x129x8x96xbf16>, %k: memref<2x200x2x96xbf16>, %v: memref<2x200x2x96xbf16>, %o: memref<2x129x8x96xbf16>, %lse: memref<2x8x129xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x96xbf16>, memref<2x200x2x96xbf16>, memref<2x200x2x96xbf16>)
      outs(%o, %lse : memref<2x129x8x96xbf16>, memref<2x8x129xf32>) mask<causal, bottom_right>
  return
}

func.func @f16_d96_window(%q: memref<2x129x8x96xf16>, %k: memref<2x200x2x96xf16>, %v: memref<2x200x2x96xf16>, %o: memref<2x129x8x96xf16>, %lse: memref<2x8x129xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x96xf16>, memref<2x200x2x96xf16>, memref<2x200x2x96xf16>)
      outs(%o, %lse : memref<2x129x8x96xf16>, memref<2x8x129xf32>) mask<window [32, 32], bottom_right>
  return
}

func.func @bf16_d96_none_softcap(%q: memref<2x129x8x96xbf16>, %k: memref<2x200x2x96xbf16>, %v: memref<2x200x2x96xbf16>, %o: memref<2x129x8x96xbf16>, %lse: memref<2x8x129xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x96xbf16>, memref<2x200x2x96xbf16>, memref<2x200x2x96xbf16>)
      outs(%o, %lse : memref<2x129x8x96xbf16>, memref<2x8x129xf32>) softcap(20.0)
  return
}

func.func @bf16_d96_none_4k(%q: memref<4x4096x21x96xbf16>, %k: memref<4x4096x21x96xbf16>, %v: memref<4x4096x21x96xbf16>, %o: memref<4x4096x21x96xbf16>) {
  attn.attention ins(%q, %k, %v : memref<4x4096x21x96xbf16>, memref<4x4096x21x96xbf16>, memref<4x4096x21x96xbf16>)
      outs(%o : memref<4x4096x21x96xbf16>)
  return
}

func.func @bf16_d96_causal_4k(%q: memref<4x4096x21x96xbf16>, %k: memref<4x4096x21x96xbf16>, %v: memref<4x4096x21x96xbf16>, %o: memref<4x4096x21x96xbf16>) {
  attn.attention ins(%q, %k, %v : memref<4x4096x21x96xbf16>, memref<4x4096x21x96xbf16>, memref<4x4096x21x96xbf16>)
      outs(%o : memref<4x4096x21x96xbf16>) mask<causal, bottom_right>
  return
}

func.func @bf16_d112_none_document(%q: memref<2x300x4x112xbf16>, %k: memref<2x517x2x112xbf16>, %v: memref<2x517x2x112xbf16>, %o: memref<2x300x4x112xbf16>, %lse: memref<2x4x300xf32>, %doc_q: memref<300xi32>, %doc_k: memref<517xi32>) {
  attn.attention ins(%q, %k, %v : memref<2x300x4x112xbf16>, memref<2x517x2x112xbf16>, memref<2x517x2x112xbf16>)
      outs(%o, %lse : memref<2x300x4x112xbf16>, memref<2x4x300xf32>) mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %dq = memref.load %doc_q[%qi] : memref<300xi32>
        %dk = memref.load %doc_k[%kj] : memref<517xi32>
        %same = arith.cmpi eq, %dq, %dk : i32
        attn.yield %same : i1
      }
  return
}

func.func @f16_d144_causal(%q: memref<2x129x8x144xf16>, %k: memref<2x200x2x144xf16>, %v: memref<2x200x2x144xf16>, %o: memref<2x129x8x144xf16>, %lse: memref<2x8x129xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x144xf16>, memref<2x200x2x144xf16>, memref<2x200x2x144xf16>)
      outs(%o, %lse : memref<2x129x8x144xf16>, memref<2x8x129xf32>) mask<causal, bottom_right>
  return
}

func.func @bf16_d160_none(%q: memref<2x129x8x160xbf16>, %k: memref<2x200x2x160xbf16>, %v: memref<2x200x2x160xbf16>, %o: memref<2x129x8x160xbf16>, %lse: memref<2x8x129xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x160xbf16>, memref<2x200x2x160xbf16>, memref<2x200x2x160xbf16>)
      outs(%o, %lse : memref<2x129x8x160xbf16>, memref<2x8x129xf32>)
  return
}

func.func @bf16_d176_window(%q: memref<2x129x8x176xbf16>, %k: memref<2x200x2x176xbf16>, %v: memref<2x200x2x176xbf16>, %o: memref<2x129x8x176xbf16>, %lse: memref<2x8x129xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x176xbf16>, memref<2x200x2x176xbf16>, memref<2x200x2x176xbf16>)
      outs(%o, %lse : memref<2x129x8x176xbf16>, memref<2x8x129xf32>) mask<window [64, 0], bottom_right>
  return
}

func.func @bf16_d192_causal(%q: memref<2x129x8x192xbf16>, %k: memref<2x200x2x192xbf16>, %v: memref<2x200x2x192xbf16>, %o: memref<2x129x8x192xbf16>, %lse: memref<2x8x129xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x192xbf16>, memref<2x200x2x192xbf16>, memref<2x200x2x192xbf16>)
      outs(%o, %lse : memref<2x129x8x192xbf16>, memref<2x8x129xf32>) mask<causal, bottom_right>
  return
}

func.func @f16_d208_none_alibi(%q: memref<2x129x8x208xf16>, %k: memref<2x200x2x208xf16>, %v: memref<2x200x2x208xf16>, %o: memref<2x129x8x208xf16>, %lse: memref<2x8x129xf32>, %slopes: memref<8xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x208xf16>, memref<2x200x2x208xf16>, memref<2x200x2x208xf16>)
      outs(%o, %lse : memref<2x129x8x208xf16>, memref<2x8x129xf32>) score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %slope = memref.load %slopes[%h] : memref<8xf32>
        %d = arith.subi %kj, %qi : index
        %di = arith.index_cast %d : index to i64
        %df = arith.sitofp %di : i64 to f32
        %bias = arith.mulf %slope, %df : f32
        %r = arith.addf %s, %bias : f32
        attn.yield %r : f32
      }
  return
}

func.func @bf16_d224_causal_softcap(%q: memref<2x129x8x224xbf16>, %k: memref<2x200x2x224xbf16>, %v: memref<2x200x2x224xbf16>, %o: memref<2x129x8x224xbf16>, %lse: memref<2x8x129xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x224xbf16>, memref<2x200x2x224xbf16>, memref<2x200x2x224xbf16>)
      outs(%o, %lse : memref<2x129x8x224xbf16>, memref<2x8x129xf32>) mask<causal, bottom_right> softcap(20.0)
  return
}

func.func @bf16_d240_window_alibi_document(%q: memref<2x129x8x240xbf16>, %k: memref<2x200x2x240xbf16>, %v: memref<2x200x2x240xbf16>, %o: memref<2x129x8x240xbf16>, %lse: memref<2x8x129xf32>, %slopes: memref<8xf32>, %doc_q: memref<129xi32>, %doc_k: memref<200xi32>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x240xbf16>, memref<2x200x2x240xbf16>, memref<2x200x2x240xbf16>)
      outs(%o, %lse : memref<2x129x8x240xbf16>, memref<2x8x129xf32>) mask<window [100, 20], bottom_right> score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %slope = memref.load %slopes[%h] : memref<8xf32>
        %d = arith.subi %kj, %qi : index
        %di = arith.index_cast %d : index to i64
        %df = arith.sitofp %di : i64 to f32
        %bias = arith.mulf %slope, %df : f32
        %r = arith.addf %s, %bias : f32
        attn.yield %r : f32
      } mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %dq = memref.load %doc_q[%qi] : memref<129xi32>
        %dk = memref.load %doc_k[%kj] : memref<200xi32>
        %same = arith.cmpi eq, %dq, %dk : i32
        attn.yield %same : i1
      }
  return
}

func.func @bf16_d64_dv96_none(%q: memref<2x129x8x64xbf16>, %k: memref<2x200x2x64xbf16>, %v: memref<2x200x2x96xbf16>, %o: memref<2x129x8x96xbf16>, %lse: memref<2x8x129xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x64xbf16>, memref<2x200x2x64xbf16>, memref<2x200x2x96xbf16>)
      outs(%o, %lse : memref<2x129x8x96xbf16>, memref<2x8x129xf32>)
  return
}

func.func @f16_d96_dv64_causal(%q: memref<2x129x8x96xf16>, %k: memref<2x200x2x96xf16>, %v: memref<2x200x2x64xf16>, %o: memref<2x129x8x64xf16>, %lse: memref<2x8x129xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x96xf16>, memref<2x200x2x96xf16>, memref<2x200x2x64xf16>)
      outs(%o, %lse : memref<2x129x8x64xf16>, memref<2x8x129xf32>) mask<causal, bottom_right>
  return
}

func.func @bf16_d240_dv160_window_4k(%q: memref<4x4096x16x240xbf16>, %k: memref<4x4096x16x240xbf16>, %v: memref<4x4096x16x160xbf16>, %o: memref<4x4096x16x160xbf16>) {
  attn.attention ins(%q, %k, %v : memref<4x4096x16x240xbf16>, memref<4x4096x16x240xbf16>, memref<4x4096x16x160xbf16>)
      outs(%o : memref<4x4096x16x160xbf16>) mask<window [100, 20], bottom_right>
  return
}

func.func @f16_d176_dv128_causal_2k(%q: memref<2x2048x16x176xf16>, %k: memref<2x2048x4x176xf16>, %v: memref<2x2048x4x128xf16>, %o: memref<2x2048x16x128xf16>, %lse: memref<2x16x2048xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x2048x16x176xf16>, memref<2x2048x4x176xf16>, memref<2x2048x4x128xf16>)
      outs(%o, %lse : memref<2x2048x16x128xf16>, memref<2x16x2048xf32>) mask<causal, top_left>
  return
}

func.func @bf16_d80_varlen_alibi(%q: memref<1x211x4x80xbf16>, %k: memref<1x223x2x80xbf16>, %v: memref<1x223x2x80xbf16>, %cu_q: memref<6xi32>, %cu_k: memref<6xi32>, %o: memref<1x211x4x80xbf16>, %lse: memref<1x4x211xf32>, %slopes: memref<4xf32>) {
  attn.attention ins(%q, %k, %v : memref<1x211x4x80xbf16>, memref<1x223x2x80xbf16>, memref<1x223x2x80xbf16>) cu_seqlens(%cu_q, %cu_k : memref<6xi32>, memref<6xi32>)
      outs(%o, %lse : memref<1x211x4x80xbf16>, memref<1x4x211xf32>) mask<causal, bottom_right> score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %slope = memref.load %slopes[%h] : memref<4xf32>
        %d = arith.subi %kj, %qi : index
        %di = arith.index_cast %d : index to i64
        %df = arith.sitofp %di : i64 to f32
        %bias = arith.mulf %slope, %df : f32
        %r = arith.addf %s, %bias : f32
        attn.yield %r : f32
      }
  return
}
