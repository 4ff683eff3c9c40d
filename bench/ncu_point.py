"""One sweep point under Nsight Compute: flashmlir's kernel and cuDNN's, same tensors.

    ncu --profile-from-start off --clock-control none --section SpeedOfLight \
        --section WarpStateStats python3 bench/ncu_point.py --head-dim 128 --seqlen 1024

B·S = 16k tokens and hidden 2048 as in bench/sweep.py. Each implementation runs twice
outside the profiled range (JIT, cuDNN plan), then once between cudaProfilerStart/Stop,
so ncu sees exactly one launch per implementation and nothing else.
"""

import argparse

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

import flashmlir
from variants import parse_variant


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--head-dim", type=int, default=128)
    ap.add_argument("--seqlen", type=int, default=4096)
    ap.add_argument("--causal", action="store_true")
    ap.add_argument("--dtype", choices=("bf16", "fp16"), default="bf16")
    ap.add_argument("--impls", default="flashmlir,cudnn")
    ap.add_argument("--variant", default="",
                    help='AttentionSpec fields for flashmlir, as bench/variants.py '
                         '(e.g. "block_m=64,ctas_per_sm=2"); "" = the default spec')
    args = ap.parse_args()

    d, s = args.head_dim, args.seqlen
    b, h = 16384 // s, 2048 // d
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float16
    q, k, v = (torch.randn(b, s, h, d, device="cuda", dtype=dtype) for _ in range(3))
    qt, kt, vt = (x.transpose(1, 2) for x in (q, k, v))

    def cudnn():
        with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
            return F.scaled_dot_product_attention(qt, kt, vt, is_causal=args.causal)

    spec = flashmlir.AttentionSpec(
        dtype="bf16" if args.dtype == "bf16" else "f16", batch=b, seqlen_q=s, seqlen_k=s,
        heads_q=h, heads_kv=h, head_dim=d, head_dim_v=d,
        mask="causal" if args.causal else "none", lse=False, **parse_variant(args.variant))
    run = flashmlir.compile(spec).launcher(0)
    out = torch.empty_like(q)
    impls = {"flashmlir": lambda: run(q, k, v, out),
             "cudnn": cudnn}
    for name in args.impls.split(","):
        fn = impls[name]
        fn(), fn()
        torch.cuda.synchronize()
        torch.cuda.cudart().cudaProfilerStart()
        fn()
        torch.cuda.synchronize()
        torch.cuda.cudart().cudaProfilerStop()
        print(f"profiled {name}: B={b} S={s} H={h} D={d} causal={args.causal}")


if __name__ == "__main__":
    main()
