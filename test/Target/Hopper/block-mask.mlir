// A document mask with a block mask (partial and full lists) on the Hopper
// kernel: the producer and the consumers read the lists (ld.global) for each
// block, TMA loads take the listed block's rows; ptxas assembles it with no
// spills and honours setmaxnreg.
// RUN: attn-compile %s -o %t.ptx --json %t.json
// RUN: FileCheck %s --check-prefix=PTX < %t.ptx
// RUN: %if ptxas %{ %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin > %t.ptxas 2>&1 %}
// RUN: %if ptxas %{ FileCheck %s --check-prefix=PTXAS < %t.ptxas %}
// PTX: .entry attention_kernel
// PTX: setmaxnreg.dec.sync.aligned.u32
// PTX: ld.global.b32
// PTX: cp.async.bulk.tensor
// PTX: wgmma.mma_async
// PTXAS-NOT: C7508
// PTXAS-NOT: C7507
// PTXAS: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
func.func @attention(%q: memref<4x4096x16x128xbf16>, %k: memref<4x4096x16x128xbf16>,
                     %v: memref<4x4096x16x128xbf16>, %o: memref<4x4096x16x128xbf16>,
                     %doc: memref<4096xi32>,
                     %n: memref<1x1x32xi32>, %i: memref<1x1x32x32xi32>,
                     %fn: memref<1x1x32xi32>, %fi: memref<1x1x32x32xi32>) {
  attn.attention ins(%q, %k, %v : memref<4x4096x16x128xbf16>, memref<4x4096x16x128xbf16>,
                                  memref<4x4096x16x128xbf16>)
      block_mask(%n, %i, %fn, %fi : memref<1x1x32xi32>, memref<1x1x32x32xi32>,
                                    memref<1x1x32xi32>, memref<1x1x32x32xi32>)
      block_size [128, 128]
      outs(%o : memref<4x4096x16x128xbf16>)
      mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %dq = memref.load %doc[%qi] : memref<4096xi32>
        %dk = memref.load %doc[%kj] : memref<4096xi32>
        %same = arith.cmpi eq, %dq, %dk : i32
        attn.yield %same : i1
      }
  return
}
