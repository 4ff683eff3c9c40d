"""A/B of flashmlir kernel variants against cuDNN, per sweep point, in one process.

    python3 bench/variants.py --variant pv_schedule=deferred --variant pv_schedule=overlap \
        --head-dims 128 --seqlens 1024,4096 --causal 0,1 [--out NAME.json]

Each --variant is a comma-separated list of scalar AttentionSpec fields (e.g.
"block_n=112,stages=2", "pv_schedule=deferred"); the empty variant "" is the default spec.
For every point (the sweep's shapes, bench/protocol.py) every variant is compiled, checked
against the float64 definition with the accuracy rule and timed (do_bench, median) beside
cuDNN on the same tensors; the table gives TFLOP/s and the ratio to cuDNN. Writes
bench/results/<date>-<device>-variants.json unless --out says otherwise.
"""

import argparse
import pathlib
import sys

import torch

import flashmlir
from flashmlir import AttentionSpec

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import protocol  # noqa: E402


def run_point(dtype_name, d, s, causal, variants):
    b, h = protocol.shape(s, d)
    q, k, v = protocol.inputs(b, s, h, d, dtype_name, seed=s * 1000 + d + causal)
    flops = protocol.flops(b, h, s, d, causal)
    accuracy = protocol.Accuracy(q, k, v, causal=causal)
    cudnn = protocol.peer("cudnn", q, k, v, causal)
    row = {"dtype": dtype_name, "d": d, "S": s, "causal": causal, "bound": accuracy.bound,
           "cudnn_tflops": protocol.tflops(flops, protocol.time_ms(cudnn)), "variants": {}}
    for text, fields in variants:
        spec = AttentionSpec(dtype=protocol.SPEC_DTYPE[dtype_name], batch=b, seqlen_q=s,
                             seqlen_k=s, heads_q=h, heads_kv=h, head_dim=d, head_dim_v=d,
                             mask="causal" if causal else "none", lse=False, **fields)
        try:
            kern = flashmlir.compile(spec)
        except flashmlir.CompileError as e:  # a variant that does not fit this point
            row["variants"][text] = {"ok": False, "error": str(e).splitlines()[-1][:200]}
            continue
        out = torch.full_like(q, float("nan"))
        run = kern.launcher(0)
        run(q, k, v, out)
        torch.cuda.synchronize()
        err, ok = accuracy(out)
        result = {"ok": ok, "err": err, "registers": kern.metadata.get("registers"),
                  "tiles": [kern.metadata.get(k) for k in ("block_m", "block_n", "stages")]}
        if ok:  # a wrong answer is not timed
            result["tflops"] = protocol.tflops(flops, protocol.time_ms(lambda: run(q, k, v, out)))
        row["variants"][text] = result
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", action="append", default=None,
                    help="comma-separated AttentionSpec fields; repeat per variant")
    ap.add_argument("--dtypes", default="bf16")
    ap.add_argument("--head-dims", default=",".join(map(str, protocol.HEAD_DIMS)))
    ap.add_argument("--seqlens", default=",".join(map(str, protocol.SEQLENS)))
    ap.add_argument("--causal", default="0,1")
    ap.add_argument("--out", help="JSON path (default bench/results/<date>-<device>-variants.json)")
    args = ap.parse_args()
    variants = [(t, protocol.spec_fields(t)) for t in (args.variant or [""])]
    out_path = args.out or protocol.result_path("variants")

    rows = []
    names = [t or "default" for t, _ in variants]
    print(f"{'point':<24}{'cudnn':>8}" + "".join(f"{n[:22]:>24}" for n in names))
    for dt in args.dtypes.split(","):
        for d in map(int, args.head_dims.split(",")):
            for causal in map(int, args.causal.split(",")):
                for s in map(int, args.seqlens.split(",")):
                    row = run_point(dt, d, s, bool(causal), variants)
                    rows.append(row)
                    cells = "".join(
                        f"{'no compile':>24}" if "error" in r else
                        f"{'WRONG':>24}" if not r["ok"] else
                        f"{r['tflops']:>9.0f} {r['tflops'] / row['cudnn_tflops']:5.2f}x{'':>9}"
                        for r in row["variants"].values())
                    print(f"{dt} d{d} S{s}{' causal' if causal else '':<8}"
                          f"{row['cudnn_tflops']:>8.0f}{cells}", flush=True)
    protocol.write(out_path, {"header": protocol.header(), "variants": names, "rows": rows})
    print("wrote", out_path)


if __name__ == "__main__":
    main()
