"""The backward on the FlashAttention-3 sweep: flashmlir's compiled Hopper backward (its three
kernels, through flashmlir.attention's autograd with FLASHMLIR_HOPPER_BACKWARD=1) against
cuDNN and FlashAttention-2 (torch SDPA's backends) in the same process on the same tensors.

    python3 bench/backward.py [--head-dims 64,128] [--seqlens 512,...] [--causal 0,1]
                              [--dtypes bf16] [--out FILE]

Per point (bench/protocol.py: B·S = 16k tokens, hidden 2048; backward FLOPs 2.5x the
forward's): each implementation's forward runs once outside the timing, then its backward
alone is timed (torch.autograd.grad of the same upstream dO, retain_graph), and the
forward + backward step. Before anything is timed every implementation's dq, dk, dv are
checked against float64 autograd of flashmlir.testing.reference on the first two heads
(heads are independent without GQA), with the accuracy rule of check_grads
(test/python/attention_cases.py): max|g - ref| <= 2·max|g_same - ref| + FLOOR. A wrong
gradient is reported and not timed. The JSON (bench/results/<date>-<device>-backward.json)
has the header, the points and the ratios to cuDNN (FA2 where cuDNN refuses, marked).
"""

import argparse
import os
import warnings

import protocol

HEADS_CHECKED = 2


def gradients(fn, q, k, v, dout):
    q, k, v = (t.detach().requires_grad_() for t in (q, k, v))
    out = fn(q, k, v)
    import torch
    return torch.autograd.grad(out, (q, k, v), dout)


def reference_grads(q, k, v, dout, causal, dtype):
    """float64 (dtype=None) or same-dtype gradients of the definition on the first heads."""
    import torch
    from flashmlir.testing import reference
    sl = (slice(None), slice(None), slice(0, HEADS_CHECKED))
    q, k, v, dout = (t[sl].contiguous() for t in (q, k, v, dout))
    cast = (lambda t: t.double()) if dtype is None else (lambda t: t)
    leaves = [cast(t).detach().requires_grad_() for t in (q, k, v)]
    out, _ = reference(*leaves, causal=causal,
                       dtype=torch.float64 if dtype is None else dtype)
    return torch.autograd.grad(out, leaves, cast(dout))


def check(grads, ref, same):
    import torch
    from flashmlir.testing import FLOOR
    sl = (slice(None), slice(None), slice(0, HEADS_CHECKED))
    worst = 0.0
    for got, want, base in zip(grads, ref, same):
        got = got[sl].double()
        if torch.isnan(got).any():
            return False, float("nan")
        err = (got - want).abs().max().item()
        bound = 2 * (base.double() - want).abs().max().item() + FLOOR[base.dtype]
        worst = max(worst, err / bound)
        if err > bound:
            return False, worst
    return True, worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--head-dims", default="64,128")
    parser.add_argument("--seqlens", default=",".join(map(str, protocol.SEQLENS)))
    parser.add_argument("--causal", default="0,1")
    parser.add_argument("--dtypes", default="bf16")
    parser.add_argument("--out")
    args = parser.parse_args()
    os.environ["FLASHMLIR_HOPPER_BACKWARD"] = "1"
    import torch
    import flashmlir
    # A spec the Hopper backward refuses falls back to the recompute with a warning: an
    # error here, so that the recompute is never timed as the kernel.
    warnings.simplefilter("error", flashmlir.PerformanceWarning)

    results = {"header": protocol.header(), "points": []}
    for dtype in args.dtypes.split(","):
        for d in map(int, args.head_dims.split(",")):
            for causal in (c == "1" for c in args.causal.split(",")):
                for s in map(int, args.seqlens.split(",")):
                    b, h = protocol.shape(s, d)
                    q, k, v, dout = protocol.inputs(b, s, h, d, dtype, seed=s + d, n=4)
                    impls = {
                        "flashmlir": lambda q, k, v: flashmlir.attention(q, k, v,
                                                                         causal=causal),
                        "cudnn": lambda q, k, v: protocol.peer("cudnn", q, k, v, causal)(),
                        "fa2": lambda q, k, v: protocol.peer("flash", q, k, v, causal)(),
                    }
                    ref = reference_grads(q, k, v, dout, causal, None)
                    same = reference_grads(q, k, v, dout, causal, q.dtype)
                    point = {"dtype": dtype, "d": d, "causal": causal, "seqlen": s,
                             "batch": b, "heads": h}
                    fl = protocol.flops(b, h, s, d, causal, backward=True)
                    fl_step = fl + protocol.flops(b, h, s, d, causal)
                    for name, fn in impls.items():
                        try:
                            ok, ratio = check(gradients(fn, q, k, v, dout), ref, same)
                        except Exception as e:  # refused: a backend, or the kernel's gate
                            point[name] = {"error": str(e).splitlines()[0]}
                            continue
                        if not ok:
                            point[name] = {"accuracy": "FAILED", "err_over_bound": ratio}
                            continue
                        leaves = [t.detach().requires_grad_() for t in (q, k, v)]
                        out = fn(*leaves)
                        bwd = protocol.time_ms(lambda: torch.autograd.grad(
                            out, leaves, dout, retain_graph=True))
                        step = protocol.time_ms(lambda: torch.autograd.grad(
                            fn(*leaves), leaves, dout))
                        point[name] = {"backward_ms": bwd,
                                       "backward_tflops": protocol.tflops(fl, bwd),
                                       "step_ms": step,
                                       "step_tflops": protocol.tflops(fl_step, step),
                                       "err_over_bound": ratio}
                        del out
                    peer = "cudnn" if "backward_ms" in point.get("cudnn", {}) else "fa2"
                    if "backward_ms" in point.get("flashmlir", {}) and \
                            "backward_ms" in point.get(peer, {}):
                        point["peer"] = peer
                        point["ratio_backward"] = (point[peer]["backward_ms"]
                                                   / point["flashmlir"]["backward_ms"])
                        point["ratio_step"] = (point[peer]["step_ms"]
                                               / point["flashmlir"]["step_ms"])
                    results["points"].append(point)
                    row = " ".join(
                        f"{n} {point[n].get('backward_tflops', float('nan')):6.1f}"
                        if n in point else f"{n} -" for n in impls)
                    print(f"{dtype} d={d} causal={int(causal)} S={s}: {row} TFLOP/s"
                          f" (vs {point.get('peer', '-')}: "
                          f"{point.get('ratio_backward', float('nan')):.2f}x)", flush=True)
    path = protocol.write(args.out or protocol.result_path("backward"), results)
    print("wrote", path)


if __name__ == "__main__":
    main()
