"""One sweep point under Nsight Compute: flashmlir's kernel and cuDNN's, same tensors.

    ncu --profile-from-start off --clock-control none --section SpeedOfLight \
        --section WarpStateStats python3 bench/ncu_point.py --head-dim 128 --seqlen 1024

The sweep's shapes (bench/protocol.py). Each implementation runs twice outside the
profiled range (JIT, cuDNN plan), then once between cudaProfilerStart/Stop, so ncu sees
exactly one launch per implementation and nothing else. Reports go to bench/results/ncu/
(`ncu ... --log-file bench/results/ncu/<date>-<device>-<what>.txt`).
"""

import argparse
import pathlib
import sys

import torch

import flashmlir

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import protocol  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--head-dim", type=int, default=128)
    ap.add_argument("--seqlen", type=int, default=4096)
    ap.add_argument("--causal", action="store_true")
    ap.add_argument("--dtype", choices=protocol.DTYPES, default="bf16")
    ap.add_argument("--impls", default="flashmlir,cudnn")
    ap.add_argument("--variant", default="",
                    help='AttentionSpec fields for flashmlir, as bench/variants.py '
                         '(e.g. "block_m=64,ctas_per_sm=2"); "" = the default spec')
    args = ap.parse_args()

    d, s = args.head_dim, args.seqlen
    b, h = protocol.shape(s, d)
    q, k, v = protocol.inputs(b, s, h, d, args.dtype, seed=s * 1000 + d + args.causal)
    spec = flashmlir.AttentionSpec(
        dtype=protocol.SPEC_DTYPE[args.dtype], batch=b, seqlen_q=s, seqlen_k=s,
        heads_q=h, heads_kv=h, head_dim=d, head_dim_v=d,
        mask="causal" if args.causal else "none", lse=False,
        **protocol.spec_fields(args.variant))
    run = flashmlir.compile(spec).launcher(0)
    out = torch.empty_like(q)
    impls = {"flashmlir": lambda: run(q, k, v, out),
             "cudnn": protocol.peer("cudnn", q, k, v, args.causal)}
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
