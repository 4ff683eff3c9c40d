"""On a GPU machine: load the PTX kernels of a bundle (make_bundle.py; --kernel hopper for
the warp-specialized kernel, which needs flashmlir._cuda built there), run every case on
random N(0, 1) data with NaN-poisoned outputs, and check it against a float64 reference
with the accuracy rule of ANCHORS.md:

    max|out - ref64| <= 2 * max|out_same_dtype - ref64| + floor

where out_same_dtype is the plain PyTorch computation in the input dtype. LSE is checked
the same way (it is f32 in every case). Timing cases (lse=False, large) are checked against
PyTorch SDPA in float32 instead, and timed beside SDPA's cuDNN and flash backends.

    python test/gpu/run_numerics.py .device-bundle [--kernel simt|hopper] [--only NAME] [--out results.json]
"""

import argparse
import json
import math
import pathlib
import sys
import time

import cupy
import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from cases import CASES, HOPPER_CASES  # noqa: E402
from attention_cases import torch_reference  # noqa: E402  (cases.py put test/python on the path)

DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}


def torch_attention(case, q, k, v, extras, dtype):
    """The definition of attn.attention in torch (attention_cases.torch_reference), in `dtype`
    (float64 for the reference, the input dtype for the same-dtype baseline)."""
    return torch_reference(case, q, k, v, dtype, extras.get("slopes"), extras.get("doc_q"),
                           extras.get("doc_k"))


def make_args(case, gen):
    dev = "cuda"
    dt = DTYPES[case.dtype]
    b, sq, sk = case.nbatch, case.total_q, case.total_k
    q = torch.randn(b, sq, case.heads_q, case.head_dim, generator=gen, device=dev).to(dt)
    k = torch.randn(b, sk, case.heads_kv, case.head_dim, generator=gen, device=dev).to(dt)
    v = torch.randn(b, sk, case.heads_kv, case.dv, generator=gen, device=dev).to(dt)
    out = torch.full((b, sq, case.heads_q, case.dv), float("nan"), dtype=dt, device=dev)
    lse = torch.full((b, case.heads_q, sq), float("nan"), dtype=torch.float32, device=dev)
    args = [q, k, v]
    extras = {}
    if case.varlen_q is not None:
        args += [torch.tensor(np.concatenate([[0], np.cumsum(x)]), dtype=torch.int32, device=dev)
                 for x in (case.varlen_q, case.varlen_k)]
    args.append(out)
    if case.lse:
        args.append(lse)
    if case.alibi:
        extras["slopes"] = torch.tensor([2.0 ** (-8.0 * (h + 1) / case.heads_q)
                                         for h in range(case.heads_q)], device=dev)
        args.append(extras["slopes"])
    if case.document_mask:
        # One sorted document id per position, shared by queries and keys (the
        # longer of the two lengths; the query ids are its prefix).
        n = max(sq, sk)
        docs = torch.sort(torch.randint(0, max(1, n // 40) + 1, (n,), generator=gen,
                                        device=dev)).values.to(torch.int32)
        extras["doc_q"], extras["doc_k"] = docs[:sq], docs[:sk]
        args += [docs[:sq].contiguous(), docs[:sk].contiguous()]
    return args, (q, k, v), out, lse, extras


def launcher(bundle, case, variant=""):
    meta = json.loads((bundle / f"{case.name}{variant}.json").read_text())
    kernel = meta["kernels"][0]
    if kernel.get("tensor_maps"):
        # The Hopper kernel: tensor maps encoded by flashmlir's runtime.
        from flashmlir.gpu import HopperKernel
        hk = HopperKernel((bundle / f"{case.name}{variant}.ptx").read_text(), meta)
        meta["attributes"] = hk.attributes()
        return (lambda args: hk(*args)), meta
    module = cupy.RawModule(path=str(bundle / f"{case.name}{variant}.ptx"))
    fn = module.get_function(kernel["name"])
    fn.max_dynamic_shared_size_bytes = kernel["dynamic_shared_memory"]

    def launch(args):
        params = tuple(np.uint64(args[i].data_ptr()) for i in kernel["arguments"])
        fn(tuple(kernel["grid"]), tuple(kernel["block"]), params,
           shared_mem=kernel["dynamic_shared_memory"])
    return launch, meta


def check_small(case, launch, gen):
    args, (q, k, v), out, lse, extras = make_args(case, gen)
    launch(args)
    torch.cuda.synchronize()
    ref, ref_lse = torch_attention(case, q, k, v, extras, torch.float64)
    pt, pt_lse = torch_attention(case, q, k, v, extras, DTYPES[case.dtype])
    got = out.double()
    nan = int(torch.isnan(got).sum())
    err = (got - ref).abs().max().item()
    pt_err = (pt.double() - ref).abs().max().item()
    floor = {"f32": 1e-5, "f16": 2 ** -11, "bf16": 2 ** -8}[case.dtype]
    ok = nan == 0 and err <= 2 * pt_err + floor
    res = {"name": case.name, "max_err": err, "torch_same_dtype_err": pt_err, "nan": nan}
    if case.lse:
        hidden = torch.isinf(ref_lse)
        l = lse.double()
        lnan = int(torch.isnan(l).sum())
        lerr = (l[~hidden] - ref_lse[~hidden]).abs().max().item() if (~hidden).any() else 0.0
        inf_ok = bool((torch.isneginf(l) == hidden).all())
        ok = ok and lnan == 0 and inf_ok and lerr <= 1e-4 * (1 + ref_lse[~hidden].abs().max().item())
        res.update({"lse_err": lerr, "lse_nan": lnan, "lse_inf_where_hidden": inf_ok})
    res["ok"] = bool(ok)
    return res


def check_and_time(case, launch, gen):
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from triton.testing import do_bench
    args, (q, k, v), out, lse, extras = make_args(case, gen)
    launch(args)
    torch.cuda.synchronize()
    causal = case.mask == "causal"
    qt, kt, vt = (x.transpose(1, 2) for x in (q, k, v))
    ref = torch.nn.functional.scaled_dot_product_attention(
        qt.float(), kt.float(), vt.float(), is_causal=causal).transpose(1, 2)
    same = torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, is_causal=causal).transpose(1, 2)
    err = (out.float() - ref).abs().max().item()
    sdpa_err = (same.float() - ref).abs().max().item()
    nan = int(torch.isnan(out).sum())
    flops = 4 * case.batch * case.heads_q * case.seqlen_q * case.seqlen_k * case.head_dim
    flops /= 2 if causal else 1
    res = {"name": case.name, "max_err_vs_sdpa_f32": err, "sdpa_same_dtype_err": sdpa_err,
           "nan": nan, "ok": bool(nan == 0 and err <= 2 * sdpa_err + 2 ** -8)}
    timings = {"flashmlir": do_bench(lambda: launch(args), warmup=25, rep=200,
                                     return_mode="median")}
    for name, backend in [("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash", SDPBackend.FLASH_ATTENTION)]:
        try:
            with sdpa_kernel(backend):
                timings[name] = do_bench(lambda: torch.nn.functional.scaled_dot_product_attention(
                    qt, kt, vt, is_causal=causal), warmup=25, rep=200, return_mode="median")
        except RuntimeError as e:
            timings[name] = None
            res[f"{name}_error"] = str(e)[:200]
    res["ms"] = timings
    res["tflops"] = {n: (flops / (t * 1e-3) / 1e12 if t else None) for n, t in timings.items()}
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bundle")
    ap.add_argument("--only", help="comma-separated case names")
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--variant", default="", help="load <name><variant>.ptx/.json")
    ap.add_argument("--kernel", default="simt", choices=["simt", "hopper"])
    a = ap.parse_args()
    bundle = pathlib.Path(a.bundle)
    print(f"device: {torch.cuda.get_device_name()}  torch {torch.__version__}  cupy {cupy.__version__}")
    results = []
    for case in (HOPPER_CASES if a.kernel == "hopper" else CASES):
        if a.only and case.name not in a.only.split(","):
            continue
        timing = not case.lse
        if timing and a.no_timing:
            continue
        gen = torch.Generator(device="cuda").manual_seed(1234)
        launch, meta = launcher(bundle, case, a.variant)
        t0 = time.time()
        res = check_and_time(case, launch, gen) if timing else check_small(case, launch, gen)
        res["ptxas"] = meta.get("ptxas")
        res["attributes"] = meta.get("attributes")
        res["seconds"] = round(time.time() - t0, 2)
        results.append(res)
        line = f"{'PASS' if res['ok'] else 'FAIL'} {case.name}: " + ", ".join(
            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in res.items()
            if k in ("max_err", "torch_same_dtype_err", "lse_err", "max_err_vs_sdpa_f32",
                     "sdpa_same_dtype_err", "nan"))
        if timing:
            line += "  TFLOP/s " + ", ".join(f"{n}={t:.1f}" if t else f"{n}=n/a"
                                              for n, t in res["tflops"].items())
        print(line, flush=True)
    if a.out:
        pathlib.Path(a.out).write_text(json.dumps(results, indent=2))
    failed = [r["name"] for r in results if not r["ok"]]
    print(f"{len(results) - len(failed)}/{len(results)} passed" + (f"; FAILED: {failed}" if failed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
