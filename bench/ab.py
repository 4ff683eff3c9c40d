"""A/B of two flashmlir builds on the sweep's shapes, interleaved, each beside cuDNN.

    python3 bench/ab.py --build new=python --build base=.ab/base/python [--repeats 5]
        [--dtypes bf16] [--head-dims 64,128,256] [--seqlens 512,...,16384] [--causal 0,1]
        [--out NAME.json]

A build is a python/ folder whose flashmlir package holds its own compiler library
(tools/build-python-extensions.sh LIB). Two compiler libraries cannot share a process, so
every (repeat, build) is one worker process, the builds' order alternating between repeats
(A B, B A, ...) so that a drift of the machine does not favour one. A worker times every
point with flashmlir.attention and cuDNN (SDPA) on the same tensors (bench/protocol.py:
shapes, do_bench medians); the first repeat also checks each output against the float64
definition with the accuracy rule (a wrong answer is reported, not timed).

Per point and build: the median over repeats of the TFLOP/s and of the ratio to the cuDNN
of the same worker; then A/B = median(A) / median(B) of the TFLOP/s. Prints one table,
writes bench/results/<date>-<device>-ab.json unless --out says otherwise.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import protocol  # noqa: E402


def worker(points, check):
    """Runs in the build's process: one JSON line per point on stdout."""
    import importlib.util
    import torch
    import flashmlir
    # The accuracy rule of this checkout (an older build's package may lack
    # flashmlir.testing): torch alone, no compiler.
    spec = importlib.util.spec_from_file_location(
        "flashmlir_testing", HERE.parent / "python" / "flashmlir" / "testing.py")
    testing = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(testing)
    sys.modules["flashmlir.testing"] = testing
    for dtype_name, d, s, causal in points:
        causal = bool(causal)
        b, h = protocol.shape(s, d)
        q, k, v = protocol.inputs(b, s, h, d, dtype_name, seed=s * 1000 + d + causal)
        row = {"point": [dtype_name, d, s, causal]}
        run = lambda: flashmlir.attention(q, k, v, causal=causal)  # noqa: E731
        if check:
            acc = protocol.Accuracy(q, k, v, causal=causal)
            row["err"], row["ok"] = acc(run())
            row["bound"] = acc.bound
            del acc
            torch.cuda.empty_cache()
        flops = protocol.flops(b, h, s, d, causal)
        row["tflops"] = protocol.tflops(flops, protocol.time_ms(run))
        row["cudnn"] = protocol.tflops(flops, protocol.time_ms(
            protocol.peer("cudnn", q, k, v, causal)))
        print(json.dumps(row), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", action="append", default=[],
                    help="NAME=PYTHON_DIR (twice: A then B)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--dtypes", default="bf16")
    ap.add_argument("--head-dims", default="64,128,256")
    ap.add_argument("--seqlens", default=",".join(map(str, protocol.SEQLENS)))
    ap.add_argument("--causal", default="0,1")
    ap.add_argument("--out")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    points = [(t, d, s, c) for t in args.dtypes.split(",")
              for d in map(int, args.head_dims.split(","))
              for s in map(int, args.seqlens.split(","))
              for c in map(int, args.causal.split(","))]
    if args.worker:
        return worker(points, args.check)

    builds = [b.split("=", 1) for b in args.build]
    if len(builds) != 2 or any(len(b) != 2 for b in builds):
        raise SystemExit("--build NAME=PYTHON_DIR, twice")
    rows = {name: {} for name, _ in builds}
    failures = []
    for r in range(args.repeats):
        for name, path in (builds if r % 2 == 0 else builds[::-1]):
            env = dict(os.environ, PYTHONPATH=str(pathlib.Path(path).resolve()),
                       FLASHMLIR_CACHE_DIR=str(pathlib.Path(f"/tmp/flashmlir-ab-{name}")))
            cmd = [sys.executable, __file__, "--worker", "--dtypes", args.dtypes,
                   "--head-dims", args.head_dims, "--seqlens", args.seqlens,
                   "--causal", args.causal] + (["--check"] if r == 0 else [])
            out = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if out.returncode:
                raise SystemExit(f"worker {name} failed:\n{out.stderr[-4000:]}")
            for line in out.stdout.splitlines():
                row = json.loads(line)
                key = tuple(row["point"])
                if "ok" in row and not row["ok"]:
                    failures.append((name, key, row["err"], row["bound"]))
                rows[name].setdefault(key, []).append(row)
            print(f"repeat {r + 1}/{args.repeats}: {name} done", file=sys.stderr, flush=True)

    (a, _), (b, _) = builds
    table = []
    print(f"{'dtype':5} {'d':>4} {'S':>6} {'causal':>6} | {a:>8} {b:>8} (TFLOP/s) | "
          f"{a}/cuDNN {b}/cuDNN | {a}/{b}")
    for key in points:
        med = {}
        for name in (a, b):
            runs = rows[name][key]
            med[name] = (statistics.median(x["tflops"] for x in runs),
                         statistics.median(x["tflops"] / x["cudnn"] for x in runs))
        ab = med[a][0] / med[b][0]
        runs = {name: [x["tflops"] for x in rows[name][key]] for name in (a, b)}
        table.append({"point": key, a: med[a][0], b: med[b][0], f"{a}_vs_cudnn": med[a][1],
                      f"{b}_vs_cudnn": med[b][1], "ab": ab, "runs": runs})
        spread = " ".join(f"{name} {min(r):.0f}-{max(r):.0f}" for name, r in runs.items())
        print(f"{key[0]:5} {key[1]:>4} {key[2]:>6} {key[3]:>6} | {med[a][0]:8.1f} "
              f"{med[b][0]:8.1f}           | {med[a][1]:8.3f} {med[b][1]:8.3f}  | {ab:.3f}"
              f"   ({spread})")
    geo = statistics.geometric_mean(t["ab"] for t in table)
    print(f"geometric mean {a}/{b}: {geo:.3f}; accuracy failures: {failures or 'none'}")
    path = pathlib.Path(args.out) if args.out else protocol.result_path("ab")
    protocol.write(path, {"header": protocol.header(), "builds": dict(builds),
                          "repeats": args.repeats, "geomean_ab": geo,
                          "failures": failures, "points": table})
    print(f"wrote {path}")
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
