// Every Hopper kernel specialization of the CI matrix: f16/bf16 x D 64/128/256 x
// none/causal/window, with GQA (8 query heads over 2 KV heads), odd lengths and
// Sq != Sk, plus softcap, plus two benchmark shapes (16k tokens: the paired
// persistent causal kernel at d=128, d=256 unmasked). Each kernel has both GEMMs on wgmma, the TMA loads, the
// mbarrier ring and setmaxnreg, and ptxas -arch=sm_90a assembles all 21 with no
// spills, honours setmaxnreg (no C7508/C7507 info) and keeps every wgmma
// pipelined (no C7510-C7515 / C7519).
// RUN: attn-compile %s -o %t.ptx --json %t.json
// RUN: FileCheck %s --check-prefix=PTX < %t.ptx
// RUN: FileCheck %s --check-prefix=COUNT < %t.ptx
// RUN: FileCheck %s --check-prefix=JSON < %t.json
// RUN: %if ptxas %{ %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin > %t.ptxas 2>&1 %}
// RUN: %if ptxas %{ FileCheck %s --check-prefix=PTXAS < %t.ptxas %}
// RUN: %if ptxas %{ FileCheck %s --check-prefix=CLEAN < %t.ptxas %}

// COUNT-COUNT-21: .maxntid {{384|512}}, 1, 1
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
// PTX-LABEL: .entry bf16_d256_causal_kernel(
// PTX-DAG: setmaxnreg.dec.sync.aligned.u32
// PTX-DAG: cp.async.bulk.tensor.4d
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n80k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// PTX-LABEL: .entry bf16_d128_causal_softcap_kernel(

// JSON-COUNT-21: "tensor_maps": [

// PTXAS-COUNT-21: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
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
