"""Pieces shared by the wgmma reference-kernel generators (gen_wgmma_qk.py,
gen_wgmma_attn_loop.py): the register-A wgmma as inline PTX and the accumulator fragment map."""

REGS = 32  # f32 accumulator registers per thread of a 64x64 tile (m64n64)

# Register-A wgmma m64n64k16 (NVVM has only the shared-memory-A form): operands $0..$31 the
# accumulators (tied in/out), $32..$35 the bf16x2 A registers, $36 the B descriptor, $37 the
# scale-d flag (0: D = A·B, 1: D += A·B); B is MN-major (tnspB = 1).
RS_WGMMA_PTX = (
    "{\\0A.reg .pred p;\\0Asetp.ne.b32 p, $" + str(REGS * 2 + 5) + ", 0;\\0A"
    "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {"
    + ", ".join(f"${i}" for i in range(REGS)) + "}, {$"
    + str(REGS * 2) + ", $" + str(REGS * 2 + 1) + ", $" + str(REGS * 2 + 2) + ", $"
    + str(REGS * 2 + 3) + "}, $" + str(REGS * 2 + 4) + ", p, 1, 1, 1;\\0A}")
RS_WGMMA_CONSTRAINTS = ",".join(
    ["=f"] * REGS + [str(i) for i in range(REGS)] + ["r"] * 4 + ["l", "n"])


def fragment_map_prologue(w):
    """Defines %row0, %row8 and %colBase: register r of the accumulator holds row
    (r/2) % 2 ? %row8 : %row0 and column %colBase + 8·(r/4) + r % 2."""
    w("      %warp = arith.divui %tid, %c32 : index")
    w("      %lane = arith.remui %tid, %c32 : index")
    w("      %warpRow = arith.muli %warp, %c16 : index")
    w("      %laneRow = arith.divui %lane, %c4 : index")
    w("      %row0 = arith.addi %warpRow, %laneRow : index")
    w("      %row8 = arith.addi %row0, %c8 : index")
    w("      %quad = arith.remui %lane, %c4 : index")
    w("      %colBase = arith.addi %quad, %quad : index")
