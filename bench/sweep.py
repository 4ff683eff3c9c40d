"""The FlashAttention-3 sweep: flashmlir beside torch SDPA (cuDNN, flash) and FlexAttention.

    PYTHONPATH=python python3 bench/sweep.py [--dtypes bf16,fp16] [--heads-dims 64,128,256]
        [--seqlens 512,1024,2048,4096,8192,16384] [--out-dir bench/out] [--no-flex]

Protocol (../shared/ANCHORS.md): B·S = 16384 tokens, hidden 2048 (H = 2048 / d), causal and not;
random N(0, 1) inputs; every implementation runs in this process on the same tensors; each
output is checked against SDPA in float32 with the accuracy rule

    max|out - ref32| <= 2 * max|sdpa_same_dtype - ref32| + floor

before it is timed (triton.testing.do_bench, median of device-event times). flashmlir is timed
through flashmlir.attention, what users call. Also recorded per specialization: flashmlir's cold
JIT (first call: compile + driver load + run, empty caches), its disk-cache hit, and
FlexAttention's torch.compile time. Writes sweep-<date>.json and, when matplotlib is present,
sweep-<date>.png (TFLOP/s vs S per d, one line per implementation); prints a table with ratios.
"""

import argparse
import datetime
import json
import os
import pathlib
import tempfile
import time

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from triton.testing import do_bench

import flashmlir

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
FLOOR = {"bf16": 2 ** -8, "fp16": 2 ** -11}
TOKENS, HIDDEN = 16384, 2048


def tflops(b, h, s, d, causal, ms):
    flops = 4 * b * h * s * s * d / (2 if causal else 1)
    return flops / (ms * 1e-3) / 1e12


def flex_runner(q, k, v, causal):
    """FlexAttention compiled for this shape (its own cold compile is timed by the caller)."""
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    # A fresh Dynamo state per specialization: its compile time is a cold one, and the
    # recompile limit (8 per code object) never sends later points to the eager fallback.
    torch._dynamo.reset()
    compiled = torch.compile(flex_attention, dynamic=False)
    qt, kt, vt = (x.transpose(1, 2) for x in (q, k, v))
    block_mask = None
    if causal:
        s = q.shape[1]
        block_mask = create_block_mask(lambda b, h, qi, kj: qi >= kj, None, None, s, s,
                                       device=q.device)
    return lambda: compiled(qt, kt, vt, block_mask=block_mask).transpose(1, 2)


def run_point(dtype_name, d, s, causal, use_flex, cache_dir):
    dtype = DTYPES[dtype_name]
    b, h = TOKENS // s, HIDDEN // d
    g = torch.Generator(device="cuda").manual_seed(s * 1000 + d + causal)
    q, k, v = (torch.randn(b, s, h, d, generator=g, device="cuda").to(dtype) for _ in range(3))
    qt, kt, vt = (x.transpose(1, 2) for x in (q, k, v))
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

    impls = {"flashmlir": lambda: flashmlir.attention(q, k, v, causal=causal)}

    def sdpa(backend):
        def call():
            with sdpa_kernel(backend):
                return torch.nn.functional.scaled_dot_product_attention(
                    qt, kt, vt, is_causal=causal).transpose(1, 2)
        return call

    impls["cudnn"] = sdpa(SDPBackend.CUDNN_ATTENTION)
    impls["flash"] = sdpa(SDPBackend.FLASH_ATTENTION)
    if use_flex:
        t0 = time.perf_counter()
        try:
            flex = flex_runner(q, k, v, causal)
            flex()
            torch.cuda.synchronize()
            impls["flex"] = flex
            point["flex_compile_s"] = time.perf_counter() - t0
        except Exception as e:  # noqa: BLE001 — record and go on
            point["flex_error"] = str(e)[:300]

    try:
        with sdpa_kernel(SDPBackend.EFFICIENT_ATTENTION):
            ref = torch.nn.functional.scaled_dot_product_attention(
                qt.float(), kt.float(), vt.float(), is_causal=causal).transpose(1, 2)
    except RuntimeError:  # no fused fp32 kernel for this shape: the math backend
        with sdpa_kernel(SDPBackend.MATH):
            ref = torch.nn.functional.scaled_dot_product_attention(
                qt.float(), kt.float(), vt.float(), is_causal=causal).transpose(1, 2)
    same = impls["cudnn"]()
    bound = 2 * (same.float() - ref).abs().max().item() + FLOOR[dtype_name]
    point["bound"] = bound
    point["err"], point["ok"], point["ms"], point["tflops"] = {}, {}, {}, {}
    for name, fn in impls.items():
        try:
            out = fn()
            torch.cuda.synchronize()
        except RuntimeError as e:
            point["ok"][name] = False
            point.setdefault("errors", {})[name] = str(e)[:300]
            continue
        err = (out.float() - ref).abs().max().item()
        ok = bool(not torch.isnan(out).any() and err <= bound)
        point["err"][name], point["ok"][name] = err, ok
        del out
        if not ok:
            continue  # a wrong answer is not timed
        ms = do_bench(fn, warmup=25, rep=200, return_mode="median")
        point["ms"][name] = ms
        point["tflops"][name] = tflops(b, h, s, d, causal, ms)
    ours = point["tflops"].get("flashmlir")
    point["ratio"] = {peer: ours / t for peer, t in point["tflops"].items()
                      if ours and peer != "flashmlir" and t}
    del q, k, v, qt, kt, vt, ref, same
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
            for impl in ("flashmlir", "cudnn", "flash", "flex"):
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
    ap.add_argument("--dtypes", default="bf16,fp16")
    ap.add_argument("--head-dims", default="64,128,256")
    ap.add_argument("--seqlens", default="512,1024,2048,4096,8192,16384")
    ap.add_argument("--causal", default="0,1")
    ap.add_argument("--no-flex", action="store_true")
    ap.add_argument("--out-dir", default="bench/out")
    a = ap.parse_args()
    out_dir = pathlib.Path(a.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d-%H%M")
    header = {"date": stamp, "device": torch.cuda.get_device_name(),
              "torch": torch.__version__, "flashmlir": flashmlir.build_id(),
              "command": "bench/sweep.py " + " ".join(
                  f"--{k.replace('_', '-')} {v}" for k, v in vars(a).items() if v is not False)}
    try:
        import subprocess
        header["driver"] = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    print(json.dumps(header))
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
    result = {"header": header, "points": points}
    json_path = out_dir / f"sweep-{stamp}.json"
    json_path.write_text(json.dumps(result, indent=1))
    png = plot(points, out_dir / f"sweep-{stamp}.png")
    print(f"wrote {json_path}" + (f" and {json_path.with_suffix('.png')}" if png else ""))
    bad = [p for p in points if not p["ok"].get("flashmlir")]
    if bad:
        print(f"flashmlir failed the accuracy rule at {len(bad)} points")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
