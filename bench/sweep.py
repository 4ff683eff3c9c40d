"""The FlashAttention-3 sweep: flashmlir beside torch SDPA (cuDNN, flash) and FlexAttention.

    PYTHONPATH=python python3 bench/sweep.py [--dtypes bf16,fp16] [--head-dims 64,128,256]
        [--seqlens 512,1024,2048,4096,8192,16384] [--causal 0,1] [--no-flex] [--out NAME.json]

The protocol of bench/protocol.py: B·S = 16384 tokens, hidden 2048 (H = 2048 / d), causal and
not; random N(0, 1) inputs; every implementation runs in this process on the same tensors;
each output is checked against the float64 definition with the accuracy rule before it is
timed (do_bench, median). flashmlir is timed through flashmlir.attention, what users call.
Also recorded per specialization: flashmlir's cold JIT (first call: compile + driver load +
run, empty caches), its disk-cache hit, and FlexAttention's torch.compile time. Writes
bench/results/<date>-<device>-sweep-<dtypes>.json and, when matplotlib is present, the .png
beside it (TFLOP/s vs S per d, one line per implementation); prints a table with ratios.
"""

import argparse
import os
import pathlib
import sys
import tempfile
import time

import torch

import flashmlir

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import protocol  # noqa: E402

IMPLS = ("flashmlir", "cudnn", "flash", "flex")


def run_point(dtype_name, d, s, causal, use_flex, cache_dir):
    b, h = protocol.shape(s, d)
    q, k, v = protocol.inputs(b, s, h, d, dtype_name, seed=s * 1000 + d + causal)
    point = {"dtype": dtype_name, "d": d, "S": s, "B": b, "H": h, "causal": causal}

    # flashmlir's cold JIT: empty memory cache, fresh disk cache directory.
    flashmlir.cache.clear_memory()
    flashmlir.ops._fast_calls.clear()
    os.environ["FLASHMLIR_CACHE_DIR"] = cache_dir
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    flashmlir.attention(q, k, v, causal=causal)
    torch.cuda.synchronize()
    point["flashmlir_cold_first_call_s"] = time.perf_counter() - t0
    spec_kernel = next(iter(flashmlir.cache._memory.values()))
    point["flashmlir_compile_s"] = spec_kernel.metadata["compile_seconds"]
    point["flashmlir_tiles"] = {key: spec_kernel.metadata.get(key) for key in
                                ("block_m", "block_n", "stages", "registers")}
    flashmlir.cache.clear_memory()
    t0 = time.perf_counter()
    flashmlir.compile(spec_kernel.spec)
    point["flashmlir_disk_hit_s"] = time.perf_counter() - t0

    impls = {"flashmlir": lambda: flashmlir.attention(q, k, v, causal=causal),
             "cudnn": protocol.peer("cudnn", q, k, v, causal),
             "flash": protocol.peer("flash", q, k, v, causal)}
    if use_flex:
        t0 = time.perf_counter()
        try:
            flex = protocol.peer("flex", q, k, v, causal)
            flex()
            torch.cuda.synchronize()
            impls["flex"] = flex
            point["flex_compile_s"] = time.perf_counter() - t0
        except Exception as e:  # noqa: BLE001 — record and go on
            point["flex_error"] = str(e)[:300]

    accuracy = protocol.Accuracy(q, k, v, causal=causal)
    point["bound"] = accuracy.bound
    point["err"], point["ok"], point["ms"], point["tflops"] = {}, {}, {}, {}
    for name, fn in impls.items():
        try:
            out = fn()
            torch.cuda.synchronize()
        except RuntimeError as e:
            point["ok"][name] = False
            point.setdefault("errors", {})[name] = str(e)[:300]
            continue
        point["err"][name], point["ok"][name] = accuracy(out)
        del out
        if not point["ok"][name]:
            continue  # a wrong answer is not timed
        ms = protocol.time_ms(fn)
        point["ms"][name] = ms
        point["tflops"][name] = protocol.tflops(protocol.flops(b, h, s, d, causal), ms)
    ours = point["tflops"].get("flashmlir")
    point["ratio"] = {peer: ours / t for peer, t in point["tflops"].items()
                      if ours and peer != "flashmlir" and t}
    del q, k, v, accuracy
    torch.cuda.empty_cache()
    return point


def plot(points, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no PNG")
        return False
    dims = sorted({p["d"] for p in points})
    keys = sorted({(p["dtype"], p["causal"]) for p in points})
    fig, axes = plt.subplots(len(keys), len(dims), figsize=(5 * len(dims), 3.6 * len(keys)),
                             squeeze=False)
    for r, (dt, causal) in enumerate(keys):
        for c, d in enumerate(dims):
            ax = axes[r][c]
            pts = sorted((p for p in points if p["d"] == d and p["dtype"] == dt
                          and p["causal"] == causal), key=lambda p: p["S"])
            for impl in IMPLS:
                xs = [p["S"] for p in pts if impl in p["tflops"]]
                ys = [p["tflops"][impl] for p in pts if impl in p["tflops"]]
                if xs:
                    ax.plot(xs, ys, marker="o", label=impl, linewidth=2.5 if impl == "flashmlir"
                            else 1.2)
            ax.set_xscale("log", base=2)
            ax.set_title(f"{dt} d={d} {'causal' if causal else 'non-causal'}")
            ax.set_xlabel("sequence length")
            ax.set_ylabel("TFLOP/s")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dtypes", default=",".join(protocol.DTYPES))
    ap.add_argument("--head-dims", default=",".join(map(str, protocol.HEAD_DIMS)))
    ap.add_argument("--seqlens", default=",".join(map(str, protocol.SEQLENS)))
    ap.add_argument("--causal", default="0,1")
    ap.add_argument("--no-flex", action="store_true")
    ap.add_argument("--out", help="JSON path (default bench/results/<date>-<device>-"
                    "sweep-<dtypes>.json); the PNG goes beside it")
    a = ap.parse_args()
    json_path = pathlib.Path(a.out) if a.out else protocol.result_path(
        "sweep-" + a.dtypes.replace(",", "-"))
    header = protocol.header()
    print(header)
    points = []
    print(f"{'dtype':>5} {'d':>4} {'S':>6} {'causal':>6} | {'flashmlir':>9} {'cudnn':>7} "
          f"{'flash':>7} {'flex':>7} | {'x cudnn':>7} {'x flash':>7} {'x flex':>7} | "
          f"{'JIT cold':>8} {'flex jit':>8}  ok")
    with tempfile.TemporaryDirectory() as cache_dir:
        for dt in a.dtypes.split(","):
            for d in (int(x) for x in a.head_dims.split(",")):
                for s in (int(x) for x in a.seqlens.split(",")):
                    for causal in (bool(int(x)) for x in a.causal.split(",")):
                        p = run_point(dt, d, s, causal, not a.no_flex, cache_dir)
                        points.append(p)
                        t, r = p["tflops"], p["ratio"]
                        f = lambda x: f"{x:7.1f}" if x else "    n/a"  # noqa: E731
                        g = lambda x: f"{x:7.2f}" if x else "    n/a"  # noqa: E731
                        print(f"{dt:>5} {d:>4} {s:>6} {str(causal):>6} | {f(t.get('flashmlir')):>9}"
                              f" {f(t.get('cudnn'))} {f(t.get('flash'))} {f(t.get('flex'))} | "
                              f"{g(r.get('cudnn'))} {g(r.get('flash'))} {g(r.get('flex'))} | "
                              f"{p['flashmlir_cold_first_call_s']:7.2f}s "
                              f"{p.get('flex_compile_s', 0):7.2f}s  "
                              f"{'all' if all(p['ok'].values()) else p['ok']}", flush=True)
    protocol.write(json_path, {"header": header, "points": points})
    png = plot(points, json_path.with_suffix(".png"))
    print(f"wrote {json_path}" + (f" and {json_path.with_suffix('.png')}" if png else ""))
    bad = [p for p in points if not p["ok"].get("flashmlir")]
    if bad:
        print(f"flashmlir failed the accuracy rule at {len(bad)} points")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
