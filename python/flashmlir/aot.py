"""Ahead-of-time compilation into a JIT cache directory.

    python -m flashmlir.aot specs.json --cache-dir /path/to/cache [--jobs 4]

specs.json is a list of AttentionSpec fields, e.g.
    [{"dtype": "bf16", "batch": 4, "seqlen_q": 4096, "seqlen_k": 4096,
      "heads_q": 16, "heads_kv": 16, "head_dim": 128, "mask": "causal"}]
(head_dim_v defaults to head_dim). Each spec is compiled once into the
cache (FLASHMLIR_CACHE_DIR for later runs), with its cubin where ptxas is
found; the machine that runs the kernels then needs no compiler for them,
only flashmlir._cuda. Prints one line per spec with its compile time; exits
non-zero if any spec fails.

The cache directory is executable code: whoever can write it chooses what
the GPU runs. It must be owned by the user (or root) and not writable by
group or others, else this exits with an error (and flashmlir.attention will
not use it either).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flashmlir.aot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("specs", help="JSON file: a list of AttentionSpec field dicts")
    parser.add_argument("--cache-dir", required=True, help="the cache directory to fill")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="compiles in parallel (threads; default: CPU count)")
    args = parser.parse_args(argv)
    os.environ["FLASHMLIR_CACHE_DIR"] = args.cache_dir

    from . import jit
    from .spec import AttentionSpec

    problem = jit.cache_directory_problem(args.cache_dir)
    if problem:
        print(f"error: --cache-dir {args.cache_dir}: {problem} (a cache entry is code the "
              f"GPU runs)", file=sys.stderr)
        return 2

    try:
        with open(args.specs) as f:
            raw = json.load(f)
        if not isinstance(raw, list):
            raise ValueError("the file must hold a JSON list")
        specs = [AttentionSpec.from_dict(d) for d in raw]
    except (OSError, ValueError, TypeError) as e:
        print(f"error: {args.specs}: {e}", file=sys.stderr)
        return 2

    def build(spec):
        start = time.perf_counter()
        try:
            kernel = jit.compile(spec)
            return spec, time.perf_counter() - start, kernel, None
        except Exception as e:  # noqa: BLE001 — report every failure, keep going
            return spec, time.perf_counter() - start, None, e

    failures = 0
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for i, (spec, seconds, kernel, error) in enumerate(pool.map(build, specs), 1):
            label = (f"{spec.dtype} B{spec.batch} Sq{spec.seqlen_q} Sk{spec.seqlen_k} "
                     f"H{spec.heads_q}/{spec.heads_kv} D{spec.head_dim} {spec.mask}")
            if error is None:
                print(f"[{i}/{len(specs)}] {label}: {kernel.metadata['kernel']} "
                      f"{seconds * 1e3:.0f} ms")
            else:
                failures += 1
                print(f"[{i}/{len(specs)}] {label}: FAILED: {error}", file=sys.stderr)
    print(f"{len(specs) - failures}/{len(specs)} specializations in {args.cache_dir} "
          f"(compiles {jit.cache.stats['compiles']}, already cached "
          f"{jit.cache.stats['disk_hits']})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
