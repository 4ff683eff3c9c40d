"""Extra peak memory of one training step (forward + backward) of attention: flashmlir's
compiled Hopper backward (FLASHMLIR_HOPPER_BACKWARD=1) against cuDNN and FA2 (SDPA backends),
same process, measured the same way for every implementation:

    python3 bench/training_memory.py [--seqlens 16384,65536,131072] [--causal 0,1] [--out FILE]

B = 1, 16 heads, d = 128, bf16 (issue 17). Extra = peak allocated during the step minus
what is live at its start (q, k, v, dO) and minus what the step must return (out and
dq, dk, dv): the workspace of the forward (LSE included) and of the backward. An
implementation that runs out of memory or refuses the shape is recorded as such.
"""

import argparse
import os
import warnings

import protocol


def step_extra_bytes(torch, fn, q, k, v, dout):
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    start = torch.cuda.memory_allocated()
    leaves = [t.detach().requires_grad_() for t in (q, k, v)]
    out = fn(*leaves)
    grads = torch.autograd.grad(out, leaves, dout)
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated()
    returned = sum(t.numel() * t.element_size() for t in (out, *grads))
    del out, grads, leaves
    return peak - start - returned


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seqlens", default="16384,65536,131072")
    parser.add_argument("--causal", default="0,1")
    parser.add_argument("--heads", type=int, default=16)
    parser.add_argument("--head-dim", type=int, default=128)
    parser.add_argument("--out")
    args = parser.parse_args()
    os.environ["FLASHMLIR_HOPPER_BACKWARD"] = "1"
    import torch
    import flashmlir
    warnings.simplefilter("error", flashmlir.PerformanceWarning)  # no silent recompute

    results = {"header": protocol.header(), "points": []}
    for causal in (c == "1" for c in args.causal.split(",")):
        for s in map(int, args.seqlens.split(",")):
            q, k, v, dout = protocol.inputs(1, s, args.heads, args.head_dim, "bf16",
                                            seed=s, n=4)
            impls = {
                "flashmlir": lambda q, k, v: flashmlir.attention(q, k, v, causal=causal),
                "cudnn": lambda q, k, v: protocol.peer("cudnn", q, k, v, causal)(),
                "fa2": lambda q, k, v: protocol.peer("flash", q, k, v, causal)(),
            }
            point = {"seqlen": s, "causal": causal, "heads": args.heads, "d": args.head_dim}
            for name, fn in impls.items():
                try:
                    point[name] = {"extra_gib": step_extra_bytes(torch, fn, q, k, v, dout)
                                   / 2**30}
                except torch.cuda.OutOfMemoryError:
                    point[name] = {"error": "out of memory"}
                except Exception as e:  # a backend's refusal, or the gate's fallback
                    point[name] = {"error": str(e).splitlines()[0][:200]}
                torch.cuda.empty_cache()
            if "extra_gib" in point["flashmlir"] and "extra_gib" in point["cudnn"]:
                point["ratio_to_cudnn"] = (point["flashmlir"]["extra_gib"]
                                           / max(point["cudnn"]["extra_gib"], 1e-9))
            results["points"].append(point)
            print(f"S={s} causal={int(causal)}: " + "  ".join(
                f"{n} {point[n].get('extra_gib', float('nan')):.3f} GiB"
                + (f" ({point[n]['error']})" if "error" in point[n] else "")
                for n in impls), flush=True)
            del q, k, v, dout
    path = protocol.write(args.out or protocol.result_path("training-memory"), results)
    print("wrote", path)


if __name__ == "__main__":
    main()
