// RUN: attn-opt %s -split-input-file -attn-tile="block-m=64 block-n=32" -attn-online-softmax -attn-bufferize-tiles -attn-tiles-to-loops="loads=0 stores=0 programs=0" -attn-map-to-gpu | FileCheck %s
// RUN: not attn-opt %s -split-input-file -attn-tile="block-m=64 block-n=256" -attn-online-softmax -attn-bufferize-tiles -attn-tiles-to-loops="loads=0 stores=0 programs=0" -attn-map-to-gpu="max-shared-memory=65536" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BUDGET

// The program grid becomes a launch over (q-block, q-head, batch) with one
// thread per query row; tiles live in dynamic shared memory; row loops
// become `tid < rows` guards; tile loads are cooperative, between barriers.
// CHECK-LABEL: func.func @causal
// CHECK: gpu.launch blocks(%[[QB:.+]], %[[H:.+]], %[[B:.+]]) in (%{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}) threads(%[[TID:[^,]+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %c64{{.*}}, %{{.+}} = %c1{{.*}}, %{{.+}} = %c1{{.*}}) dynamic_shared_memory_size %c{{[0-9]+}}_i32
// CHECK: %[[SMEM:.+]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// Rank-2 tiles get rows 16 bytes longer than theirs (a thread per row reads
// down a column: rows of 128 bytes put all lanes in 4 banks), viewed back at
// their own width.
// CHECK: %[[SV:.+]] = memref.view %[[SMEM]][%{{.+}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64x36xf32, #gpu.address_space<workgroup>>
// CHECK: memref.subview %[[SV]][0, 0] [64, 32] [1, 1] : memref<64x36xf32, #gpu.address_space<workgroup>> to memref<64x32xf32, strided<[36, 1]>, #gpu.address_space<workgroup>>
// CHECK-NOT: memref.alloca
// CHECK: gpu.barrier
// CHECK: arith.minsi
// CHECK: scf.for %{{.+}} = %[[TID]] to %{{.+}} step %{{.+}} {
// CHECK: gpu.barrier
// CHECK: arith.cmpi ult, %[[TID]]
// CHECK: scf.if
// CHECK: memref.store %{{.+}}, %{{.+}}[%[[TID]]] : memref<64xf32, #gpu.address_space<workgroup>>
// CHECK: scf.for
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK: nvvm.inline_ptx "ex2.approx.ftz.f32 $0, $1;"
// CHECK: gpu.terminator
// CHECK-NEXT: attn.tiles = {block_m = 64 : i64}
// No attn op is left.
// CHECK-NOT: {{^ *(%[^ ]+ = )?attn\.[a-z_]+ }}
func.func @causal(%q: memref<1x200x2x64xbf16>, %o: memref<1x200x2x64xbf16>) {
  attn.attention ins(%q, %q, %q : memref<1x200x2x64xbf16>, memref<1x200x2x64xbf16>, memref<1x200x2x64xbf16>)
      outs(%o : memref<1x200x2x64xbf16>) mask<causal, top_left>
  return
}

// -----

// Tiles that do not fit the shared memory budget are diagnosed.
// BUDGET: error: 'attn.program_grid' op attn-map-to-gpu: the program's tiles need 292352 bytes of shared memory, more than the 65536 available; choose smaller block-m/block-n
func.func @too_big(%q: memref<1x200x2x128xbf16>, %o: memref<1x200x2x128xbf16>) {
  attn.attention ins(%q, %q, %q : memref<1x200x2x128xbf16>, memref<1x200x2x128xbf16>, memref<1x200x2x128xbf16>)
      outs(%o : memref<1x200x2x128xbf16>)
  return
}
