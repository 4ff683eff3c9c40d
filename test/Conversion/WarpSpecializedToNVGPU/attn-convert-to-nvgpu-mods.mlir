// score_mod and mask_mod in the Hopper kernel (attn-convert-to-nvgpu, then
// attn-narrow-modifier-arith): each body is cloned once per score a consumer
// thread holds, on positions clamped into the block (so a modifier never
// reads past its tensors) and bounded by the static extents (Hq - 1 = 3,
// Sq - 1 = 199, Sk - 1 = 299). A body's conversion of position arithmetic to
// f32 (ALiBi's f32(kv_idx - q_idx)) is rebuilt on the positions' exact f32
// values: four conversions per block instead of one per score; the bodies'
// float ops may contract; no attn.modifier mark is left.
// RUN: attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-warp-specialize="persistent-ctas=0 stages=2" -attn-convert-to-nvgpu -attn-narrow-modifier-arith -canonicalize -cse | FileCheck %s --implicit-check-not=attn.modifier
// RUN: attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-warp-specialize="persistent-ctas=0 stages=2" -attn-convert-to-nvgpu -attn-narrow-modifier-arith -canonicalize -cse | FileCheck %s --check-prefix=COUNT
// Before the narrowing (attn-convert-to-nvgpu alone) the clones are marked
// and their arithmetic is the body's: index.
// RUN: attn-opt %s -split-input-file -attn-tile="block-m=128 block-n=64" -attn-online-softmax -attn-warp-specialize="persistent-ctas=0 stages=2" -attn-convert-to-nvgpu | FileCheck %s --check-prefix=MARKED

// CHECK-LABEL: func.func @alibi(
// CHECK: gpu.launch
// Per block: head, last row and last key clamped once; the f32 rows, the
// lane's first key (through an opaque copy: LLVM would fold f32(i) + c back
// into f32(i + c)) and the last key converted once.
// CHECK: %[[HEAD:.*]] = arith.minui %{{.*}}, %c3 : index
// CHECK: %[[QLAST:.*]] = arith.minui %{{.*}}, %c199 : index
// CHECK: %[[Q0:.*]] = arith.minui %{{.*}}, %[[QLAST]] : index
// CHECK: %[[KVLAST:.*]] = arith.minui %{{.*}}, %c299 : index
// CHECK: %[[Q0I:.*]] = arith.index_cast %[[Q0]] : index to i32
// CHECK: %[[Q0F:.*]] = arith.sitofp %[[Q0I]] : i32 to f32
// CHECK: %[[BASEF:.*]] = llvm.inline_asm {{.*}}"mov.b32 $0, $1;"
// CHECK: %[[LASTF:.*]] = arith.sitofp %{{.*}} : i32 to f32
// The first score: f32 kv_idx = min(base + 0, last), the slope read once,
// s + slope * (kv_idx - q_idx) contractible.
// CHECK: %[[COL:.*]] = arith.addf %[[BASEF]], %{{.*}} : f32
// CHECK: %[[KVF:.*]] = arith.minnumf %[[COL]], %[[LASTF]] : f32
// CHECK: %[[SLOPE:.*]] = memref.load %arg4[%[[HEAD]]] : memref<4xf32>
// CHECK: %[[D:.*]] = arith.subf %[[KVF]], %[[Q0F]] fastmath<contract> : f32
// CHECK: %[[BIAS:.*]] = arith.mulf %[[SLOPE]], %[[D]] fastmath<contract> : f32
// CHECK: arith.addf %{{.*}}, %[[BIAS]] fastmath<contract> : f32
// 32 scores per thread (BlockN 64) in the prologue and in each of the two KV
// loops (interior, diagonal): one subtraction each, four conversions per block.
// COUNT-LABEL: func.func @alibi(
// COUNT-COUNT-12: arith.sitofp
// COUNT-NOT: arith.sitofp
// COUNT-LABEL: func.func @documents(
func.func @alibi(%q: memref<1x200x4x64xbf16>, %k: memref<1x300x2x64xbf16>,
                 %v: memref<1x300x2x64xbf16>, %o: memref<1x200x4x64xbf16>,
                 %slopes: memref<4xf32>) {
  attn.attention ins(%q, %k, %v : memref<1x200x4x64xbf16>, memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>)
      outs(%o : memref<1x200x4x64xbf16>) mask<causal, bottom_right>
      score_mod {
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

// -----

// mask_mod: every block is masked; the document test joins the column bound.
// CHECK-LABEL: func.func @documents(
// CHECK: gpu.launch
// CHECK: %[[DQ:.*]] = memref.load %arg4[%{{.*}}] : memref<200xi32>
// CHECK: %[[DK:.*]] = memref.load %arg5[%{{.*}}] : memref<300xi32>
// CHECK: %[[SAME:.*]] = arith.cmpi eq, %[[DQ]], %[[DK]] : i32
// CHECK: %[[KEEP:.*]] = arith.andi %{{.*}}, %[[SAME]] : i1
// CHECK: arith.select %[[KEEP]], %{{.*}}, %cst{{.*}} : f32
// Every loop block masks (no ragged-block branch): 32 scores x 2 (prologue,
// the one KV loop).
// COUNT-COUNT-64: arith.cmpi eq, %{{[0-9]+}}, %{{[0-9]+}} : i32
// COUNT-NOT: arith.cmpi eq, %{{[0-9]+}}, %{{[0-9]+}} : i32
func.func @documents(%q: memref<1x200x2x64xf16>, %k: memref<1x300x2x64xf16>,
                     %v: memref<1x300x2x64xf16>, %o: memref<1x200x2x64xf16>,
                     %dq: memref<200xi32>, %dk: memref<300xi32>) {
  attn.attention ins(%q, %k, %v : memref<1x200x2x64xf16>, memref<1x300x2x64xf16>, memref<1x300x2x64xf16>)
      outs(%o : memref<1x200x2x64xf16>)
      mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %a = memref.load %dq[%qi] : memref<200xi32>
        %c = memref.load %dk[%kj] : memref<300xi32>
        %same = arith.cmpi eq, %a, %c : i32
        attn.yield %same : i1
      }
  return
}

// -----

// Integer position arithmetic that is not converted to f32 (a relative-bias
// table read at kv_idx - q_idx + 199) is narrowed to i32 by the integer range
// analysis: the positions' clamps bound it to [-199, 498].
// MARKED-LABEL: func.func @relative_bias(
// MARKED: arith.subi %{{.*}}, %{{.*}} {attn.modifier} : index
// CHECK-LABEL: func.func @relative_bias(
// CHECK: gpu.launch
// CHECK: %[[REL:.*]] = arith.subi %{{.*}}, %{{.*}} : i32
// CHECK: %[[SHIFTED:.*]] = arith.addi %[[REL]], %{{.*}} : i32
// CHECK: %[[AT:.*]] = arith.index_cast %[[SHIFTED]] : i32 to index
// CHECK: memref.load %arg4[%{{.*}}, %[[AT]]] : memref<2x499xf32>
func.func @relative_bias(%q: memref<1x200x2x64xbf16>, %k: memref<1x300x2x64xbf16>,
                         %v: memref<1x300x2x64xbf16>, %o: memref<1x200x2x64xbf16>,
                         %bias: memref<2x499xf32>) {
  attn.attention ins(%q, %k, %v : memref<1x200x2x64xbf16>, memref<1x300x2x64xbf16>, memref<1x300x2x64xbf16>)
      outs(%o : memref<1x200x2x64xbf16>)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %c199 = arith.constant 199 : index
        %d = arith.subi %kj, %qi : index
        %at = arith.addi %d, %c199 : index
        %x = memref.load %bias[%h, %at] : memref<2x499xf32>
        %r = arith.addf %s, %x : f32
        attn.yield %r : f32
      }
  return
}

// -----

// Past 2^24 keys f32 no longer holds every position exactly: the conversion
// stays integer (narrowed to i32, one per score) instead of f32 positions.
// CHECK-LABEL: func.func @alibi_past_2_24(
// CHECK: gpu.launch
// CHECK-NOT: llvm.inline_asm {{.*}}"mov.b32 $0, $1;"
// CHECK: %[[D:.*]] = arith.subi %{{.*}}, %{{.*}} : i32
// CHECK: arith.sitofp %[[D]] : i32 to f32
func.func @alibi_past_2_24(%q: memref<1x64x1x64xbf16>, %k: memref<1x16777216x1x64xbf16>,
                           %v: memref<1x16777216x1x64xbf16>, %o: memref<1x64x1x64xbf16>,
                           %slopes: memref<1xf32>) {
  attn.attention ins(%q, %k, %v : memref<1x64x1x64xbf16>, memref<1x16777216x1x64xbf16>, memref<1x16777216x1x64xbf16>)
      outs(%o : memref<1x64x1x64xbf16>)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %slope = memref.load %slopes[%h] : memref<1xf32>
        %d = arith.subi %kj, %qi : index
        %di = arith.index_cast %d : index to i64
        %df = arith.sitofp %di : i64 to f32
        %bias = arith.mulf %slope, %df : f32
        %r = arith.addf %s, %bias : f32
        attn.yield %r : f32
      }
  return
}
