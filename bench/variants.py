"""A/B of flashmlir kernel variants against cuDNN, per sweep point, in one process.

    python3 bench/variants.py --variant pv_schedule=deferred --variant pv_schedule=overlap \
        --head-dims 128 --seqlens 1024,4096 --causal 0,1 --out bench/out/variants.json

Each --variant is a comma-separated list of scalar AttentionSpec fields (e.g.
"block_n=112,stages=2", "pv_schedule=deferred"); the empty variant "" is the default spec. For every point
(B·S = 16k tokens, hidden 2048, as in bench/sweep.py) every variant is compiled,
checked against an fp32 reference with the accuracy rule of ../shared/ANCHORS.md
(2x cuDNN's error + a floor) and timed with triton's do_bench beside cuDNN on the
same tensors; the table gives TFLOP/s and the ratio to cuDNN.
"""

import argparse
import dataclasses
import json

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from triton.testing import do_bench

import flashmlir
from flashmlir import AttentionSpec

TOKENS, HIDDEN = 16384, 2048
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
FLOOR = {"bf16": 1e-2, "fp16": 2e-3}


def parse_variant(text):
    """"block_n=112,ping_pong=0" -> {"block_n": 112, "ping_pong": False}."""
    types = {f.name: str(f.type) for f in dataclasses.fields(AttentionSpec)}
    out = {}
    for item in filter(None, text.split(",")):
        key, _, value = item.partition("=")
        kind = types.get(key)
        if kind not in ("int", "bool", "str", "float"):
            raise SystemExit(f"--variant: {key!r} is not a scalar AttentionSpec field")
        out[key] = {"int": int, "float": float, "str": str,
                    "bool": lambda x: x in ("1", "true", "True")}[kind](value)
    return out


def run_point(dtype_name, d, s, causal, variants):
    dtype = DTYPES[dtype_name]
    b, h = TOKENS // s, HIDDEN // d
    g = torch.Generator(device="cuda").manual_seed(s * 1000 + d + causal)
    q, k, v = (torch.randn(b, s, h, d, generator=g, device="cuda").to(dtype) for _ in range(3))
    qt, kt, vt = (x.transpose(1, 2) for x in (q, k, v))
    flops = 4 * b * h * s * s * d / (2 if causal else 1)

    def cudnn():
        with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
            return torch.nn.functional.scaled_dot_product_attention(
                qt, kt, vt, is_causal=causal).transpose(1, 2)

    with sdpa_kernel(SDPBackend.EFFICIENT_ATTENTION):
        ref = torch.nn.functional.scaled_dot_product_attention(
            qt.float(), kt.float(), vt.float(), is_causal=causal).transpose(1, 2)
    bound = 2 * (cudnn().float() - ref).abs().max().item() + FLOOR[dtype_name]
    row = {"dtype": dtype_name, "d": d, "S": s, "causal": causal, "bound": bound,
           "cudnn_tflops": flops / do_bench(cudnn) * 1e-9, "variants": {}}
    for text, fields in variants:
        spec = AttentionSpec(dtype=dtype_name if dtype_name == "bf16" else "f16", batch=b,
                             seqlen_q=s, seqlen_k=s, heads_q=h, heads_kv=h, head_dim=d,
                             head_dim_v=d, mask="causal" if causal else "none",
                             lse=False, **fields)
        try:
            kern = flashmlir.compile(spec)
        except flashmlir.CompileError as e:  # a variant that does not fit this point
            row["variants"][text] = {"ok": False, "error": str(e).splitlines()[-1][:200]}
            continue
        out = torch.full_like(q, float("nan"))
        run = kern.launcher(0)
        run(q, k, v, out)
        torch.cuda.synchronize()
        err = (out.float() - ref).abs().max().item()
        ms = do_bench(lambda: run(q, k, v, out))
        row["variants"][text] = {"ok": err <= bound, "err": err,
                                 "tflops": flops / ms * 1e-9,
                                 "registers": kern.metadata.get("registers"),
                                 "tiles": [kern.metadata.get(k) for k in
                                           ("block_m", "block_n", "stages")]}
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", action="append", default=None,
                    help="comma-separated AttentionSpec fields; repeat per variant")
    ap.add_argument("--dtypes", default="bf16")
    ap.add_argument("--head-dims", default="64,128,256")
    ap.add_argument("--seqlens", default="512,1024,2048,4096,8192,16384")
    ap.add_argument("--causal", default="0,1")
    ap.add_argument("--out", default="bench/out/variants.json")
    args = ap.parse_args()
    variants = [(t, parse_variant(t)) for t in (args.variant or [""])]

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
                        f"{r['tflops']:>9.0f} {r['tflops'] / row['cudnn_tflops']:5.2f}x"
                        f"{'' if r['ok'] else ' BAD':>4}{'':>5}"
                        for r in row["variants"].values())
                    print(f"{dt} d{d} S{s}{' causal' if causal else '':<8}"
                          f"{row['cudnn_tflops']:>8.0f}{cells}", flush=True)
    with open(args.out, "w") as f:
        json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__,
                   "compiler": flashmlir.build_id(),
                   "variants": names, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
