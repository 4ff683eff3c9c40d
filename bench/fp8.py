"""FP8 (float8_e4m3fn with descales) against the bf16 kernels on the same values, in one run.

    python3 bench/fp8.py [--points 1024:0,4096:0,4096:1] [--out bench/out/fp8.json]

Each point (S:causal; 16k tokens, 16 heads, d=128): q, k, v = N(0, 1)·8 quantized to
float8_e4m3fn, descales 1/8, through flashmlir.attention(q_descale=, k_descale=, v_descale=);
the same values in bf16 (exact: an e4m3 value times 2^-3 is a bf16 value) through flashmlir's
bf16 kernel and torch SDPA's cuDNN backend. Prints TFLOP/s and the largest difference of the
FP8 output from flashmlir's bf16 output (both bf16; a few bf16 ulps at most). Today FP8 runs on
the SIMT kernel (docs/HopperPlan.md: what the wgmma kernel needs).
"""

import argparse
import json
import os
import warnings

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from triton.testing import do_bench

import flashmlir


def run_point(s, causal):
    b, h, d = 16384 // s, 16, 128
    g = torch.Generator(device="cuda").manual_seed(s + causal)
    q8, k8, v8 = ((8 * torch.randn(b, s, h, d, device="cuda", generator=g)).to(
        torch.float8_e4m3fn) for _ in range(3))
    descales = [torch.full((b, h), 0.125, device="cuda") for _ in range(3)]
    qb, kb, vb = (x.float().mul(0.125).bfloat16() for x in (q8, k8, v8))
    flops = 4 * b * h * s * s * d / (2 if causal else 1)

    def fp8():
        return flashmlir.attention(q8, k8, v8, causal=causal, q_descale=descales[0],
                                   k_descale=descales[1], v_descale=descales[2])

    def bf16():
        return flashmlir.attention(qb, kb, vb, causal=causal)

    def cudnn():
        with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
            return torch.nn.functional.scaled_dot_product_attention(
                qb.transpose(1, 2), kb.transpose(1, 2), vb.transpose(1, 2), is_causal=causal)

    diff = (fp8().float() - bf16().float()).abs().max().item()
    return {"S": s, "causal": causal, "fp8_tflops": flops / do_bench(fp8, rep=200) * 1e-9,
            "bf16_tflops": flops / do_bench(bf16) * 1e-9,
            "cudnn_bf16_tflops": flops / do_bench(cudnn) * 1e-9,
            "max_abs_diff_fp8_vs_bf16": diff}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", default="1024:0,4096:0,4096:1")
    ap.add_argument("--out", default="bench/out/fp8.json")
    args = ap.parse_args()
    warnings.simplefilter("ignore", flashmlir.PerformanceWarning)
    rows = []
    for point in args.points.split(","):
        s, causal = point.split(":")
        row = run_point(int(s), causal == "1")
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in row.items()), flush=True)
        rows.append(row)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"device": torch.cuda.get_device_name(), "rows": rows}, f, indent=1)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
