"""flashmlir.testing: attn.attention from its definition, and the accuracy rule.

    from flashmlir.testing import reference, assert_accurate
    ref, ref_lse = reference(q, k, v, causal=True)                      # float64
    same, _ = reference(q, k, v, causal=True, dtype=q.dtype)            # plain PyTorch
    assert_accurate(out, ref, same, lse=lse, ref_lse=ref_lse)

The one reference attention of the tests and benchmarks (test/python, bench/):
the full score matrix of each sequence, explicit masks, an explicit softmax,
sharing no code with the compiler. Computed in `dtype`: float64 for the
reference, the input dtype for the "plain PyTorch in the same dtype" baseline
of the accuracy rule (as FlashAttention's own tests). Differentiable: the
backward tests take float64 gradients through it. Needs torch.
"""

from __future__ import annotations

import math
from typing import Callable, Optional, Sequence, Tuple

import torch

# The accuracy rule's floor per dtype (about half an ulp at 1 for the 16-bit
# types): max|out - ref| <= 2 * max|same - ref| + FLOOR.
FLOOR = {torch.float32: 1e-5, torch.float16: 2 ** -11, torch.bfloat16: 2 ** -8}
# LSE (float32 in every kernel): |lse - ref| <= LSE_RTOL * (1 + max|ref|).
LSE_RTOL = 1e-4


def reference(q, k, v, *, scale: Optional[float] = None, causal: bool = False,
              align: str = "bottom_right", window: Tuple[int, int] = (-1, -1),
              softcap: float = 0.0, score_mod: Optional[Callable] = None,
              mask_mod: Optional[Callable] = None, keep=None, cu_seqlens_q=None,
              cu_seqlens_k=None, descales: Optional[Sequence] = None,
              dtype=torch.float64, max_scores: int = 1 << 26):
    """attn.attention in `dtype`: returns (out, lse).

    q (B, Sq, Hq, D), k (B, Sk, Hkv, D), v (B, Sk, Hkv, Dv), Hq a multiple of
    Hkv; with cu_seqlens_q/k (B + 1 offsets) q, k, v are packed, (total, H, D)
    or (1, total, H, D), and each sequence attends to its own keys. Per
    sequence b and query head h, with i' = i + Sk - Sq (bottom_right) or i
    (top_left):
        s = scale · q_i·k_j (scale defaults to 1/sqrt(D))
        s = softcap · tanh(s / softcap)                  if softcap > 0
        s = score_mod(s, b, h, i, j)                     if given
        key j hidden unless  i' - left <= j <= i' + right  (window, -1 = unbounded;
            causal = (-1, 0)), mask_mod(b, h, i, j) and keep[b, h, i, j] hold
        out_i = softmax(s)·v, lse_i = log Σ_j exp(s_ij); a row that sees no key
        gives out 0 and lse -inf.
    The modifiers run on tensors that broadcast to [heads, Sq, Sk]: b a 0-d
    tensor (the sequence), h [heads, 1, 1], i [1, Sq, 1], j [1, 1, Sk]
    (positions within the sequence), as flashmlir.attention's mods are written.
    keep: bool, broadcastable to [B, Hq, Sq, Sk] (not with cu_seqlens).
    descales (FP8): (dq, dk, dv), each [B or sequences, Hkv], multiply the
    sequence's Q, K, V heads. Returns out (q's layout, last dim Dv) in `dtype`
    and lse ((B, Hq, Sq), or (Hq, total) when packed 3-D) in float64 for
    float64 and float32 otherwise. Heads are processed in chunks of at most
    `max_scores` scores (memory), sequences one by one.
    """
    packed3 = cu_seqlens_q is not None and q.dim() == 3
    if packed3:
        q, k, v = q[None], k[None], v[None]
    if causal:
        window = (-1, 0)
    left, right = window
    b, _, hq, d = q.shape
    hkv, dv = k.shape[2], v.shape[-1]
    group = hq // hkv
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    lse_dtype = torch.float64 if dtype == torch.float64 else torch.float32
    dev = q.device
    q, k, v = (x.to(dtype) for x in (q, k, v))

    if cu_seqlens_q is not None:
        cq = [int(x) for x in cu_seqlens_q.tolist()]
        ck = [int(x) for x in cu_seqlens_k.tolist()]
        segments = [(0, cq[n], cq[n + 1] - cq[n], ck[n], ck[n + 1] - ck[n], n)
                    for n in range(len(cq) - 1)]
    else:
        segments = [(n, 0, q.shape[1], 0, k.shape[1], n) for n in range(b)]

    outs, lses = [], []
    for batch, q0, lq, k0, lk, seq in segments:
        qs, ks, vs = q[batch, q0:q0 + lq], k[batch, k0:k0 + lk], v[batch, k0:k0 + lk]
        if descales is not None:
            dq, dk, dvs = (dsc[seq].to(dev, dtype) for dsc in descales)
            qs = qs * dq.repeat_interleave(group)[:, None]
            ks, vs = ks * dk[:, None], vs * dvs[:, None]
        if lq == 0 or lk == 0:
            outs.append(torch.zeros(lq, hq, dv, dtype=dtype, device=dev))
            lses.append(torch.full((hq, lq), -math.inf, dtype=lse_dtype, device=dev))
            continue
        i = torch.arange(lq, device=dev)[None, :, None]
        j = torch.arange(lk, device=dev)[None, None, :]
        diag = lk - lq if align == "bottom_right" else 0
        visible = torch.ones(1, lq, lk, dtype=torch.bool, device=dev)
        if left >= 0:
            visible = visible & (j >= i + diag - left)
        if right >= 0:
            visible = visible & (j <= i + diag + right)
        chunk = max(1, max_scores // (lq * lk))
        seg_out, seg_lse = [], []
        for h0 in range(0, hq, chunk):
            heads = torch.arange(h0, min(hq, h0 + chunk), device=dev)
            qh = qs[:, heads].transpose(0, 1)                            # [h, lq, D]
            kh = ks[:, heads // group].transpose(0, 1)
            vh = vs[:, heads // group].transpose(0, 1)
            s = (qh @ kh.transpose(1, 2)) * scale
            if softcap:
                s = softcap * torch.tanh(s / softcap)
            h = heads[:, None, None]
            bt = torch.tensor(seq, device=dev)
            if score_mod is not None:
                s = score_mod(s, bt, h, i, j)
            vis = visible
            if mask_mod is not None:
                vis = vis & mask_mod(bt, h, i, j)
            if keep is not None:
                kb = keep[batch if keep.shape[0] > 1 else 0]
                vis = vis & (kb[heads] if kb.shape[0] > 1 else kb).to(dev)
            s = s.masked_fill(~vis, -math.inf)
            m = s.amax(dim=-1, keepdim=True)
            seen = torch.isfinite(m)
            p = torch.exp(s - torch.where(seen, m, torch.zeros_like(m)))
            denom = torch.where(seen, p.sum(-1, keepdim=True), torch.ones_like(m))
            o = torch.where(seen, (p.to(dtype) @ vh) / denom.to(dtype),
                            torch.zeros((), dtype=dtype, device=dev))
            seg_out.append(o.transpose(0, 1))
            seg_lse.append(torch.where(seen, m + torch.log(denom),
                                       torch.full_like(m, -math.inf))[..., 0].to(lse_dtype))
        outs.append(torch.cat(seg_out, dim=1))
        lses.append(torch.cat(seg_lse, dim=0))

    if cu_seqlens_q is not None:
        out, lse = torch.cat(outs, 0)[None], torch.cat(lses, 1)[None]
    else:
        out, lse = torch.stack(outs), torch.stack(lses)
    return (out[0], lse[0]) if packed3 else (out, lse)


def accuracy_bound(ref, same, dtype) -> float:
    """The accuracy rule's bound: 2 · max|same - ref| + FLOOR[dtype]."""
    return 2 * (same.double() - ref.double()).abs().max().item() + FLOOR[dtype]


def assert_accurate(out, ref, same, *, dtype=None, lse=None, ref_lse=None):
    """The accuracy rule (as FlashAttention's own tests), raising AssertionError:
        max|out - ref| <= 2 · max|same - ref| + FLOOR[dtype]
    with ref the float64 definition and `same` the plain PyTorch computation in
    the input dtype (`dtype`, default out's); NaN never passes (poison outputs
    first: every element is checked as written). With lse: -inf exactly where
    ref_lse is -inf (a row that sees no key), elsewhere within LSE_RTOL."""
    got = out.double()
    ref = ref.double().to(got.device)
    assert not torch.isnan(got).any(), \
        f"{int(torch.isnan(got).sum())} output elements unwritten (NaN)"
    err = (got - ref).abs().max().item() if got.numel() else 0.0
    bound = accuracy_bound(ref, same.to(got.device), dtype or out.dtype) if got.numel() else 0.0
    assert err <= bound, f"max|out - ref64| = {err:.3g} > {bound:.3g}"
    if lse is not None:
        got_lse = lse.double()
        ref_lse = ref_lse.double().to(got_lse.device)
        assert not torch.isnan(got_lse).any(), "LSE elements unwritten (NaN)"
        hidden = torch.isneginf(ref_lse)
        assert bool((torch.isneginf(got_lse) == hidden).all()), \
            "LSE must be -inf exactly where a row sees no key"
        if (~hidden).any():
            lerr = (got_lse[~hidden] - ref_lse[~hidden]).abs().max().item()
            lbound = LSE_RTOL * (1 + ref_lse[~hidden].abs().max().item())
            assert lerr <= lbound, f"max|lse - ref| = {lerr:.3g} > {lbound:.3g}"
    return err
