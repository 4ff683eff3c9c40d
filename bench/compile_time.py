"""Cold JIT compile time per specialization, no GPU needed (the build machine too).

    FLASHMLIR_CACHE_DIR= PYTHONPATH=build/python python3 bench/compile_time.py [--repeats 3]

Compiles fresh specs of the sweep's shape (bench/protocol.py; S ≈ 1k, bf16) with
jit.compile — the memory cache misses because each repeat changes S by one, the disk cache
is off with FLASHMLIR_CACHE_DIR empty — and prints the best time per spec.
bench/jit_timing.py measures the same on the GPU machine with the first launch.
"""

import argparse
import pathlib
import sys
import time

from flashmlir import AttentionSpec, jit

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import protocol  # noqa: E402 (no torch, no GPU)

SPECS = [(256, "causal"), (256, "none"), (128, "causal"), (128, "none"), (64, "causal"),
         (64, "none")]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    for d, mask in SPECS:
        times = []
        for rep in range(args.repeats):
            s = 1024 + rep
            b, h = protocol.shape(1024, d)
            spec = AttentionSpec(dtype="bf16", batch=b, seqlen_q=s, seqlen_k=s, heads_q=h,
                                 heads_kv=h, head_dim=d, head_dim_v=d, mask=mask, lse=False)
            t0 = time.perf_counter()
            jit.compile(spec)
            times.append(time.perf_counter() - t0)
        print(f"d={d:<3} {mask:<6} best {min(times):.3f} s  (of {args.repeats})", flush=True)


if __name__ == "__main__":
    main()
