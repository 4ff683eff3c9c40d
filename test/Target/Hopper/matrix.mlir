// Every Hopper kernel specialization of the CI matrix: f16/bf16 x D 64/128/256 x
// none/causal/window, with GQA (8 query heads over 2 KV heads), odd lengths and
// Sq != Sk, plus softcap, score_mod (ALiBi, reading a [Hq] tensor) and
// mask_mod (documents, reading [Sq] and [Sk] tensors), plus three benchmark
// shapes (16k tokens: the paired persistent causal kernel at d=128, d=256
// unmasked, ALiBi at d=128). Each kernel has both GEMMs on wgmma, the TMA
// loads, the mbarrier ring and setmaxnreg, O written through shared memory
// (stmatrix) and TMA stores, and ptxas -arch=sm_90a assembles
// all 26 with no spills, honours setmaxnreg (no C7508/C7507 info) and keeps
// every wgmma pipelined (no C7510-C7515 / C7519).
// RUN: attn-compile %s -o %t.ptx --json %t.json
// RUN: FileCheck %s --check-prefix=PTX < %t.ptx
// RUN: FileCheck %s --check-prefix=COUNT < %t.ptx
// RUN: FileCheck %s --check-prefix=JSON < %t.json
// RUN: %if ptxas %{ %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin > %t.ptxas 2>&1 %}
// RUN: %if ptxas %{ FileCheck %s --check-prefix=PTXAS < %t.ptxas %}
// RUN: %if ptxas %{ FileCheck %s --check-prefix=CLEAN < %t.ptxas %}

// COUNT-COUNT-26: .maxntid {{384|512}}, 1, 1
// COUNT-NOT: __nv_
// Each kernel, in order: register caps, TMA, mbarriers, both GEMMs.
// PTX-LABEL: .entry f16_d64_none_kernel(
// PTX-DAG: setmaxnreg.dec.sync.aligned.u32
// PTX-DAG: setmaxnreg.inc.sync.aligned.u32
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-DAG: mbarrier.try_wait.parity
// PTX-DAG: mbarrier.arrive.expect_tx
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {{.*}}, p, 1, 1, 1;
// Tensor maps are grid-constant parameters, their generic address taken for TMA.
// PTX-DAG: .param .align 64 .b8 f16_d64_none_kernel_param_{{[0-9]+}}[128]
// PTX-DAG: cvta.param.u64
// PTX-DAG: stmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-DAG: fence.proxy.async.shared::cta
// PTX-DAG: cp.async.bulk.tensor.4d.global.shared::cta.tile.bulk_group
// PTX-DAG: cp.async.bulk.wait_group.read {{[[:space:]]*}}0;
// PTX-LABEL: .entry bf16_d256_causal_kernel(
// PTX-DAG: setmaxnreg.dec.sync.aligned.u32
// PTX-DAG: cp.async.bulk.tensor.4d
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n80k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// PTX-DAG: stmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-DAG: cp.async.bulk.tensor.4d.global.shared::cta.tile.bulk_group
// PTX-LABEL: .entry bf16_d128_causal_softcap_kernel(
// ALiBi's kv_idx - q_idx in f32 on positions converted once per block (no
// conversion per score, none from 64 bits), documents compared per score.
// PTX-LABEL: .entry bf16_d64_causal_alibi_kernel(
// PTX: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX: sub.f32
// PTX-LABEL: .entry f16_d128_none_document_kernel(
// PTX: setp.eq.{{s32|b32}}
// Softcap's tanh is the hardware's tanh.approx (one op per score), no
// division.
// PTX-LABEL: .entry bf16_d64_none_softcap_kernel(
// PTX: tanh.approx.f32
// PTX-NOT: div.rn.f32
// PTX-LABEL: .entry bf16_d128_none_alibi_4k_kernel(
// COUNT-NOT: cvt.rn.f32.s64

// JSON-COUNT-26: "tensor_maps": [
// JSON-NOT: "by_value": false

// PTXAS-COUNT-26: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// Anywhere in the report: setmaxnreg honoured (C7508/C7507), and no wgmma
// serialized (C7510-C7515: "Potential Performance Loss") or fenced apart
// (C7519: "warpgroup.arrive is injected") — each was hit once while building
// the overlapped P·V and cost 15-25%.
// CLEAN-NOT: C7508
// CLEAN-NOT: C7507
// CLEAN-NOT: Potential Performance Loss
// CLEAN-NOT: C7519
func.func @f16_d64_none(%q: memref<2x129x8x64xf16>, %k: memref<2x200x2x64xf16>, %v: memref<2x200x2x64xf16>, %o: memref<2x129x8x64xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x64xf16>, memref<2x200x2x64xf16>, memref<2x200x2x64xf16>)
      outs(%o : memref<2x129x8x64xf16>)
  return
}

func.func @f16_d64_causal(%q: memref<2x129x8x64xf16>, %k: memref<2x200x2x64xf16>, %v: memref<2x200x2x64xf16>, %o: memref<2x129x8x64xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x64xf16>, memref<2x200x2x64xf16>, memref<2x200x2x64xf16>)
      outs(%o : memref<2x129x8x64xf16>) mask<causal, bottom_right>
  return
}

func.func @f16_d64_window(%q: memref<2x129x8x64xf16>, %k: memref<2x200x2x64xf16>, %v: memref<2x200x2x64xf16>, %o: memref<2x129x8x64xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x64xf16>, memref<2x200x2x64xf16>, memref<2x200x2x64xf16>)
      outs(%o : memref<2x129x8x64xf16>) mask<window [64, 0], top_left>
  return
}

func.func @f16_d128_none(%q: memref<2x129x8x128xf16>, %k: memref<2x200x2x128xf16>, %v: memref<2x200x2x128xf16>, %o: memref<2x129x8x128xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x128xf16>, memref<2x200x2x128xf16>, memref<2x200x2x128xf16>)
      outs(%o : memref<2x129x8x128xf16>)
  return
}

func.func @f16_d128_causal(%q: memref<2x129x8x128xf16>, %k: memref<2x200x2x128xf16>, %v: memref<2x200x2x128xf16>, %o: memref<2x129x8x128xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x128xf16>, memref<2x200x2x128xf16>, memref<2x200x2x128xf16>)
      outs(%o : memref<2x129x8x128xf16>) mask<causal, bottom_right>
  return
}

func.func @f16_d128_window(%q: memref<2x129x8x128xf16>, %k: memref<2x200x2x128xf16>, %v: memref<2x200x2x128xf16>, %o: memref<2x129x8x128xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x128xf16>, memref<2x200x2x128xf16>, memref<2x200x2x128xf16>)
      outs(%o : memref<2x129x8x128xf16>) mask<window [64, 0], top_left>
  return
}

func.func @f16_d256_none(%q: memref<2x129x8x256xf16>, %k: memref<2x200x2x256xf16>, %v: memref<2x200x2x256xf16>, %o: memref<2x129x8x256xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x256xf16>, memref<2x200x2x256xf16>, memref<2x200x2x256xf16>)
      outs(%o : memref<2x129x8x256xf16>)
  return
}

func.func @f16_d256_causal(%q: memref<2x129x8x256xf16>, %k: memref<2x200x2x256xf16>, %v: memref<2x200x2x256xf16>, %o: memref<2x129x8x256xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x256xf16>, memref<2x200x2x256xf16>, memref<2x200x2x256xf16>)
      outs(%o : memref<2x129x8x256xf16>) mask<causal, bottom_right>
  return
}

func.func @f16_d256_window(%q: memref<2x129x8x256xf16>, %k: memref<2x200x2x256xf16>, %v: memref<2x200x2x256xf16>, %o: memref<2x129x8x256xf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x256xf16>, memref<2x200x2x256xf16>, memref<2x200x2x256xf16>)
      outs(%o : memref<2x129x8x256xf16>) mask<window [64, 0], top_left>
  return
}

func.func @bf16_d64_none(%q: memref<2x129x8x64xbf16>, %k: memref<2x200x2x64xbf16>, %v: memref<2x200x2x64xbf16>, %o: memref<2x129x8x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x64xbf16>, memref<2x200x2x64xbf16>, memref<2x200x2x64xbf16>)
      outs(%o : memref<2x129x8x64xbf16>)
  return
}

func.func @bf16_d64_causal(%q: memref<2x129x8x64xbf16>, %k: memref<2x200x2x64xbf16>, %v: memref<2x200x2x64xbf16>, %o: memref<2x129x8x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x64xbf16>, memref<2x200x2x64xbf16>, memref<2x200x2x64xbf16>)
      outs(%o : memref<2x129x8x64xbf16>) mask<causal, bottom_right>
  return
}

func.func @bf16_d64_window(%q: memref<2x129x8x64xbf16>, %k: memref<2x200x2x64xbf16>, %v: memref<2x200x2x64xbf16>, %o: memref<2x129x8x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x64xbf16>, memref<2x200x2x64xbf16>, memref<2x200x2x64xbf16>)
      outs(%o : memref<2x129x8x64xbf16>) mask<window [64, 0], top_left>
  return
}

func.func @bf16_d128_none(%q: memref<2x129x8x128xbf16>, %k: memref<2x200x2x128xbf16>, %v: memref<2x200x2x128xbf16>, %o: memref<2x129x8x128xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x128xbf16>, memref<2x200x2x128xbf16>, memref<2x200x2x128xbf16>)
      outs(%o : memref<2x129x8x128xbf16>)
  return
}

func.func @bf16_d128_causal(%q: memref<2x129x8x128xbf16>, %k: memref<2x200x2x128xbf16>, %v: memref<2x200x2x128xbf16>, %o: memref<2x129x8x128xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x128xbf16>, memref<2x200x2x128xbf16>, memref<2x200x2x128xbf16>)
      outs(%o : memref<2x129x8x128xbf16>) mask<causal, bottom_right>
  return
}

func.func @bf16_d128_window(%q: memref<2x129x8x128xbf16>, %k: memref<2x200x2x128xbf16>, %v: memref<2x200x2x128xbf16>, %o: memref<2x129x8x128xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x128xbf16>, memref<2x200x2x128xbf16>, memref<2x200x2x128xbf16>)
      outs(%o : memref<2x129x8x128xbf16>) mask<window [64, 0], top_left>
  return
}

func.func @bf16_d256_none(%q: memref<2x129x8x256xbf16>, %k: memref<2x200x2x256xbf16>, %v: memref<2x200x2x256xbf16>, %o: memref<2x129x8x256xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x256xbf16>, memref<2x200x2x256xbf16>, memref<2x200x2x256xbf16>)
      outs(%o : memref<2x129x8x256xbf16>)
  return
}

func.func @bf16_d256_causal(%q: memref<2x129x8x256xbf16>, %k: memref<2x200x2x256xbf16>, %v: memref<2x200x2x256xbf16>, %o: memref<2x129x8x256xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x256xbf16>, memref<2x200x2x256xbf16>, memref<2x200x2x256xbf16>)
      outs(%o : memref<2x129x8x256xbf16>) mask<causal, bottom_right>
  return
}

func.func @bf16_d256_window(%q: memref<2x129x8x256xbf16>, %k: memref<2x200x2x256xbf16>, %v: memref<2x200x2x256xbf16>, %o: memref<2x129x8x256xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x256xbf16>, memref<2x200x2x256xbf16>, memref<2x200x2x256xbf16>)
      outs(%o : memref<2x129x8x256xbf16>) mask<window [64, 0], top_left>
  return
}
func.func @bf16_d128_causal_softcap(%q: memref<1x77x4x128xbf16>, %o: memref<1x77x4x128xbf16>) {
  attn.attention ins(%q, %q, %q : memref<1x77x4x128xbf16>, memref<1x77x4x128xbf16>, memref<1x77x4x128xbf16>)
      outs(%o : memref<1x77x4x128xbf16>) mask<causal, top_left> softcap(30.0)
  return
}

// Benchmark shapes of bench/sweep.py (B·S = 16k, hidden 2048).
func.func @bf16_d128_causal_4k(%q: memref<4x4096x16x128xbf16>, %o: memref<4x4096x16x128xbf16>) {
  attn.attention ins(%q, %q, %q : memref<4x4096x16x128xbf16>, memref<4x4096x16x128xbf16>, memref<4x4096x16x128xbf16>)
      outs(%o : memref<4x4096x16x128xbf16>) mask<causal, bottom_right>
  return
}
func.func @bf16_d256_none_4k(%q: memref<4x4096x8x256xbf16>, %o: memref<4x4096x8x256xbf16>) {
  attn.attention ins(%q, %q, %q : memref<4x4096x8x256xbf16>, memref<4x4096x8x256xbf16>, memref<4x4096x8x256xbf16>)
      outs(%o : memref<4x4096x8x256xbf16>)
  return
}

// Softcap and modifiers (every score: more live registers; TileHeuristics and
// the plan pick two consumers, BlockN 128, deferred P·V at d=256).
func.func @bf16_d64_causal_alibi(%q: memref<2x129x8x64xbf16>, %k: memref<2x200x2x64xbf16>, %v: memref<2x200x2x64xbf16>, %o: memref<2x129x8x64xbf16>, %slopes: memref<8xf32>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x64xbf16>, memref<2x200x2x64xbf16>, memref<2x200x2x64xbf16>)
      outs(%o : memref<2x129x8x64xbf16>) mask<causal, bottom_right>
      score_mod {
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

func.func @f16_d128_none_document(%q: memref<2x129x8x128xf16>, %k: memref<2x200x2x128xf16>, %v: memref<2x200x2x128xf16>, %o: memref<2x129x8x128xf16>, %dq: memref<129xi32>, %dk: memref<200xi32>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x128xf16>, memref<2x200x2x128xf16>, memref<2x200x2x128xf16>)
      outs(%o : memref<2x129x8x128xf16>)
      mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %a = memref.load %dq[%qi] : memref<129xi32>
        %c = memref.load %dk[%kj] : memref<200xi32>
        %same = arith.cmpi eq, %a, %c : i32
        attn.yield %same : i1
      }
  return
}

func.func @bf16_d256_window_alibi_document(%q: memref<2x129x8x256xbf16>, %k: memref<2x200x2x256xbf16>, %v: memref<2x200x2x256xbf16>, %o: memref<2x129x8x256xbf16>, %slopes: memref<8xf32>, %dq: memref<129xi32>, %dk: memref<200xi32>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x256xbf16>, memref<2x200x2x256xbf16>, memref<2x200x2x256xbf16>)
      outs(%o : memref<2x129x8x256xbf16>) mask<window [64, 0], top_left>
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %slope = memref.load %slopes[%h] : memref<8xf32>
        %d = arith.subi %kj, %qi : index
        %di = arith.index_cast %d : index to i64
        %df = arith.sitofp %di : i64 to f32
        %bias = arith.mulf %slope, %df : f32
        %r = arith.addf %s, %bias : f32
        attn.yield %r : f32
      }
      mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %a = memref.load %dq[%qi] : memref<129xi32>
        %c = memref.load %dk[%kj] : memref<200xi32>
        %same = arith.cmpi eq, %a, %c : i32
        attn.yield %same : i1
      }
  return
}

func.func @bf16_d64_none_softcap(%q: memref<2x129x8x64xbf16>, %k: memref<2x200x2x64xbf16>, %v: memref<2x200x2x64xbf16>, %o: memref<2x129x8x64xbf16>) {
  attn.attention ins(%q, %k, %v : memref<2x129x8x64xbf16>, memref<2x200x2x64xbf16>, memref<2x200x2x64xbf16>)
      outs(%o : memref<2x129x8x64xbf16>) softcap(30.0)
  return
}

func.func @bf16_d128_none_alibi_4k(%q: memref<4x4096x16x128xbf16>, %o: memref<4x4096x16x128xbf16>, %slopes: memref<16xf32>) {
  attn.attention ins(%q, %q, %q : memref<4x4096x16x128xbf16>, memref<4x4096x16x128xbf16>, memref<4x4096x16x128xbf16>)
      outs(%o : memref<4x4096x16x128xbf16>)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %slope = memref.load %slopes[%h] : memref<16xf32>
        %d = arith.subi %kj, %qi : index
        %di = arith.index_cast %d : index to i64
        %df = arith.sitofp %di : i64 to f32
        %bias = arith.mulf %slope, %df : f32
        %r = arith.addf %s, %bias : f32
        attn.yield %r : f32
      }
  return
}
