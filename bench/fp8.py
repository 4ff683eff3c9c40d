"""FP8 (float8_e4m3fn with descales) against the bf16 kernels on the same values, in one run.

    python3 bench/fp8.py [--points 1024:0,4096:0,4096:1] [--out NAME.json]

Each point (S:causal; the sweep's shape at d=128, bench/protocol.py): q, k, v = N(0, 1)·8
quantized to float8_e4m3fn, descales 1/8, through flashmlir.attention(q_descale=,
k_descale=, v_descale=); the same values in bf16 (exact: an e4m3 value times 2^-3 is a bf16
value) through flashmlir's bf16 kernel and torch SDPA's cuDNN backend. Prints TFLOP/s and the
largest difference of the FP8 output from flashmlir's bf16 output (both bf16; a few bf16 ulps
at most). Today FP8 runs on the SIMT kernel (docs/HopperPlan.md: what the wgmma kernel
needs). Writes bench/results/<date>-<device>-fp8.json unless --out says otherwise.
"""

import argparse
import pathlib
import sys
import warnings

import torch

import flashmlir

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import protocol  # noqa: E402

HEAD_DIM = 128


def run_point(s, causal):
    d = HEAD_DIM
    b, h = protocol.shape(s, d)
    q8, k8, v8 = ((8 * x).to(torch.float8_e4m3fn)
                  for x in protocol.inputs(b, s, h, d, torch.float32, seed=s + causal))
    descales = [torch.full((b, h), 0.125, device="cuda") for _ in range(3)]
    qb, kb, vb = (x.float().mul(0.125).bfloat16() for x in (q8, k8, v8))
    flops = protocol.flops(b, h, s, d, causal)

    def fp8():
        return flashmlir.attention(q8, k8, v8, causal=causal, q_descale=descales[0],
                                   k_descale=descales[1], v_descale=descales[2])

    def bf16():
        return flashmlir.attention(qb, kb, vb, causal=causal)

    cudnn = protocol.peer("cudnn", qb, kb, vb, causal)
    diff = (fp8().float() - bf16().float()).abs().max().item()
    return {"S": s, "causal": causal,
            "fp8_tflops": protocol.tflops(flops, protocol.time_ms(fp8)),
            "bf16_tflops": protocol.tflops(flops, protocol.time_ms(bf16)),
            "cudnn_bf16_tflops": protocol.tflops(flops, protocol.time_ms(cudnn)),
            "max_abs_diff_fp8_vs_bf16": diff}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", default="1024:0,4096:0,4096:1")
    ap.add_argument("--out", help="JSON path (default bench/results/<date>-<device>-fp8.json)")
    args = ap.parse_args()
    warnings.simplefilter("ignore", flashmlir.PerformanceWarning)
    rows = []
    for point in args.points.split(","):
        s, causal = point.split(":")
        row = run_point(int(s), causal == "1")
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in row.items()), flush=True)
        rows.append(row)
    out = protocol.write(args.out or protocol.result_path("fp8"),
                         {"header": protocol.header(), "rows": rows})
    print("wrote", out)


if __name__ == "__main__":
    main()
