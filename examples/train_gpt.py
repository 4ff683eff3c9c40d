"""Trains a small GPT-style model on a copying task with flashmlir's attention and with
PyTorch SDPA, from the same initial weights on the same batches, and compares the loss
curves and the step times (issue 17's "done when"):

    python3 examples/train_gpt.py [--steps 200] [--seqlen 4096] [--batch 2] [--out FILE]

The task needs attention: each sequence is a random segment of PERIOD tokens repeated to the
sequence's length; the loss is on every token after the first segment, which a model can
predict only by looking back PERIOD tokens (an induction head; unigram statistics give
ln 64 = 4.16 nats). The model: 6 layers, d_model 768, 12 heads (head dim 64), rotary
positions, pre-norm, GELU MLP, bf16 autocast, AdamW. flashmlir's attention is flash_attn_qkvpacked_func (the
flash_attn drop-in) with causal=True; its backward is the compiled Hopper backward
(FLASHMLIR_HOPPER_BACKWARD=1 is set here; a fallback to the recompute is an error). With
--device cpu both run on the CPU (flashmlir's CPU path, forward and backward compiled from the
same dialect; flashmlir.attention, the drop-ins taking CUDA tensors only): CI's smoke run of
this script, at a small size
(test/python/test_examples.py).

Prints both curves every 20 steps, the median step time of each (steps 10 on), and exits 1
if the curves disagree — the mean loss over the last 20 steps must agree within
max(0.05, 3%), as bf16 runs of one model on one data stream do (the two differ only in
rounding order) — or if the task was not learned (that mean above half of ln 64).
"""

import argparse
import json
import math
import os
import statistics
import sys
import time
import warnings

VOCAB = 64          # token ids 0..63 (VOCAB itself is unused: the embedding has one spare)
LAYERS, D_MODEL, HEADS = 6, 768, 12


def rotary(torch, x):
    """Rotary position embedding (GPT-NeoX halves) of x [B, S, H, D]: attending a fixed
    offset back is then one pattern for every position."""
    s, d = x.shape[1], x.shape[-1]
    inv = 1.0 / (10000 ** (torch.arange(0, d, 2, device=x.device, dtype=torch.float32) / d))
    angles = torch.arange(s, device=x.device, dtype=torch.float32)[:, None] * inv[None, :]
    cos, sin = angles.cos()[None, :, None, :], angles.sin()[None, :, None, :]
    x1, x2 = x.float().chunk(2, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1).to(x.dtype)


def build_model(torch, seqlen, layers=LAYERS):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, attend):
            super().__init__()
            self.attend = attend
            self.ln1, self.ln2 = nn.LayerNorm(D_MODEL), nn.LayerNorm(D_MODEL)
            self.qkv = nn.Linear(D_MODEL, 3 * D_MODEL, bias=False)
            self.proj = nn.Linear(D_MODEL, D_MODEL, bias=False)
            self.mlp = nn.Sequential(nn.Linear(D_MODEL, 4 * D_MODEL), nn.GELU(),
                                     nn.Linear(4 * D_MODEL, D_MODEL))

        def forward(self, x):
            b, s, _ = x.shape
            qkv = self.qkv(self.ln1(x)).view(b, s, 3, HEADS, D_MODEL // HEADS)
            q, k, v = qkv.unbind(2)
            qkv = torch.stack([rotary(torch, q), rotary(torch, k), v], dim=2)
            x = x + self.proj(self.attend(qkv).reshape(b, s, D_MODEL))
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB + 1, D_MODEL)
            self.blocks = nn.ModuleList(Block(None) for _ in range(layers))
            self.ln = nn.LayerNorm(D_MODEL)
            self.head = nn.Linear(D_MODEL, VOCAB + 1, bias=False)

        def forward(self, tokens, attend):
            x = self.embed(tokens)
            for block in self.blocks:
                block.attend = attend
                x = block(x)
            return self.head(self.ln(x))

    return GPT()


def attend_flashmlir(qkv):
    if qkv.is_cuda:
        from flashmlir.flash_attn import flash_attn_qkvpacked_func
        return flash_attn_qkvpacked_func(qkv, causal=True)
    import flashmlir  # the drop-ins take CUDA tensors only, as flash_attn's do
    return flashmlir.attention(*qkv.unbind(2), causal=True)


def attend_sdpa(qkv):
    import torch
    q, k, v = (t.transpose(1, 2) for t in qkv.unbind(2))
    return torch.nn.functional.scaled_dot_product_attention(
        q, k, v, is_causal=True).transpose(1, 2)


def batches(torch, steps, batch, seqlen, period, device):
    """The copy task: a random segment of `period` tokens repeated to seqlen + 1 tokens;
    inputs are the first seqlen, targets the next tokens, -100 (ignored) where the target
    is in the first segment (predicting it is hopeless)."""
    g = torch.Generator().manual_seed(1234)
    for _ in range(steps):
        segment = torch.randint(0, VOCAB, (batch, period), generator=g)
        seq = segment.repeat(1, seqlen // period + 1)[:, : seqlen + 1]
        targets = seq[:, 1:].clone()
        targets[:, : period - 1] = -100
        yield seq[:, :-1].to(device), targets.to(device)


def train(torch, attend, args, init_state):
    device = args.device
    model = build_model(torch, args.seqlen, args.layers).to(device)
    model.load_state_dict(init_state)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95),
                            weight_decay=0.0)
    warmup = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(1.0, (step + 1) / 20))
    losses, times = [], []
    data = batches(torch, args.steps, args.batch, args.seqlen, args.period, device)
    for step, (x, y) in enumerate(data):
        start = time.perf_counter()
        with torch.autocast(device, dtype=torch.bfloat16):
            logits = model(x, attend)
        loss = torch.nn.functional.cross_entropy(logits.float().view(-1, VOCAB + 1),
                                                 y.view(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        warmup.step()
        losses.append(loss.item())
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(1e3 * (time.perf_counter() - start))
        if not math.isfinite(losses[-1]):
            raise RuntimeError(f"loss {losses[-1]} at step {step}")
    return losses, times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seqlen", type=int, default=4096)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--period", type=int, default=256)
    parser.add_argument("--layers", type=int, default=LAYERS)
    parser.add_argument("--device", default="cuda",
                        help="cuda (the Hopper kernels), or cpu (flashmlir's CPU path; CI's "
                             "smoke run)")
    parser.add_argument("--out")
    args = parser.parse_args()
    os.environ["FLASHMLIR_HOPPER_BACKWARD"] = "1"
    import torch
    import flashmlir
    warnings.simplefilter("error", flashmlir.PerformanceWarning)  # no silent recompute

    torch.manual_seed(0)
    init_state = {k: v.clone() for k, v in build_model(torch, args.seqlen, args.layers).state_dict().items()}
    runs = {}
    for name, attend in (("flashmlir", attend_flashmlir), ("sdpa", attend_sdpa)):
        losses, times = train(torch, attend, args, init_state)
        runs[name] = {"losses": losses, "step_ms_median": statistics.median(times[10:])}
        if args.device == "cuda":
            runs[name]["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
            torch.cuda.reset_peak_memory_stats()
    for step in range(0, args.steps, 20):
        print(f"step {step:4d}: flashmlir {runs['flashmlir']['losses'][step]:.4f}"
              f"  sdpa {runs['sdpa']['losses'][step]:.4f}")
    tail = {n: statistics.fmean(r["losses"][-20:]) for n, r in runs.items()}
    agree = abs(tail["flashmlir"] - tail["sdpa"]) <= max(0.05, 0.03 * tail["sdpa"])
    # Learned: well below the unigram entropy ln 64 (the copy needs attention).
    learned = all(t < 0.5 * math.log(VOCAB) for t in tail.values())
    for n, r in runs.items():
        print(f"{n}: last-20 mean loss {tail[n]:.4f}, median step {r['step_ms_median']:.1f} ms"
              + (f", peak {r['peak_gib']:.2f} GiB" if "peak_gib" in r else ""))
    print(f"step time sdpa/flashmlir {runs['sdpa']['step_ms_median'] / runs['flashmlir']['step_ms_median']:.2f}x;"
          f" curves {'agree' if agree else 'DISAGREE'};"
          f" task {'learned' if learned else 'NOT learned'}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"args": vars(args), "device": (torch.cuda.get_device_name() if args.device == "cuda"
                                  else "cpu"),
                       "runs": runs, "tail_mean": tail, "agree": agree, "learned": learned},
                      f, indent=1)
    sys.exit(0 if agree and learned else 1)


if __name__ == "__main__":
    main()
