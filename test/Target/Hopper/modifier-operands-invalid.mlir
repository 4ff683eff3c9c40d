// A modifier's table must reach the kernel as a function argument (the
// launcher passes arguments only): a memref.get_global is diagnosed by name,
// for the Hopper and the SIMT kernel alike.
// RUN: not attn-compile %s -o %t.ptx 2>&1 | FileCheck %s
// RUN: not attn-compile %s --kernel simt -o %t.simt.ptx 2>&1 | FileCheck %s
// CHECK: error: unsupported launch
// CHECK: the kernel reads a 'memref<2xf32>' that is not an argument of the enclosing function (defined by 'memref.get_global'): tensors read by score_mod/mask_mod must be function arguments
memref.global "private" constant @slopes : memref<2xf32> = dense<[0.5, 0.25]>
func.func @global_table(%q: memref<1x200x2x64xbf16>, %o: memref<1x200x2x64xbf16>) {
  %table = memref.get_global @slopes : memref<2xf32>
  attn.attention ins(%q, %q, %q : memref<1x200x2x64xbf16>, memref<1x200x2x64xbf16>, memref<1x200x2x64xbf16>)
      outs(%o : memref<1x200x2x64xbf16>)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %x = memref.load %table[%h] : memref<2xf32>
        %r = arith.addf %s, %x : f32
        attn.yield %r : f32
      }
  return
}
