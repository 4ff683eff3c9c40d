"""PTX variants of one kernel, timed interleaved in one process (GPU machine).

    PYTHONPATH=python python3 bench/ptx_variants.py DIR B S H D CAUSAL NAME...

DIR holds NAME.ptx for each variant (e.g. attn-compile's PTX of two builds, or one
edited by hand) and kernel.json (attn-compile --json of one of them: the launch
metadata all variants share). Each variant is checked against SDPA before it is
timed (bf16, 7 interleaved repeats, do_bench medians). What isolated the V-wait
placement and the d=128 gap in bench/RESULTS.md (2026-12-07)."""
import json, sys, pathlib, torch
sys.path.insert(0, "python"); sys.path.insert(0, "bench")
import protocol
from flashmlir.gpu import HopperKernel
from triton.testing import do_bench
d = pathlib.Path(sys.argv[1]); b, s, h, D, causal = map(int, sys.argv[2:7]); names = sys.argv[7:]
meta = json.loads((d / "kernel.json").read_text())
kern = {n: HopperKernel((d / f"{n}.ptx").read_text(), meta) for n in names}
q, k, v = protocol.inputs(b, s, h, D, "bf16", seed=1)
ref = torch.nn.functional.scaled_dot_product_attention(*(x.transpose(1, 2) for x in (q, k, v)), is_causal=bool(causal)).transpose(1, 2)
fl = protocol.flops(b, h, s, D, bool(causal))
res = {n: [] for n in names}
for r in range(7):
    for n in (names if r % 2 == 0 else names[::-1]):
        o = torch.full_like(q, float("nan"))
        kern[n](q, k, v, o); torch.cuda.synchronize()
        err = (o.float() - ref.float()).abs().max().item()
        assert err < 0.05, (n, err)
        res[n].append(protocol.tflops(fl, do_bench(lambda: kern[n](q, k, v, o), warmup=25, rep=150, return_mode="median")))
print(d.name)
for n in names:
    x = sorted(res[n]); print(f"  {n:8} median {x[len(x)//2]:.1f} TFLOP/s  range {x[0]:.1f}-{x[-1]:.1f}")
