"""The backward of flashmlir.attention on CUDA tensors: a recompute in float32
PyTorch math.

CPU tensors train through the compiled backward (attn.attention_grad on the
CPU path, flashmlir.ops._run_cpu_grad). CUDA tensors take the compiled Hopper
backward where it takes the spec (flashmlir.ops._run_hopper_grad; today D = 64
and 128, no block mask), unless FLASHMLIR_HOPPER_BACKWARD=0. Otherwise on CUDA
tensors — and wherever gradients must reach tensors a
score_mod/mask_mod captures — the custom op's backward recomputes
softmax(scale·Q·Kᵀ + masks)·V per sequence from the saved inputs and
differentiates that with torch.autograd:

    S = scale·Q·Kᵀ (softcap: c·tanh(S/c)), hidden keys -> -inf
    P = exp(S - m) / l per row (m = row max, l = Σ exp(S - m)); O = P·V;
    LSE = m + log l;  rows that see no key: O = 0, LSE = -inf, no gradient.

It is exact to float32 but not memory-lean: one sequence's S and P for all
heads (Hq·Sq·Sk floats, twice) live at once. Calls with score_mod/mask_mod
run the same Python functions on tensors (b a scalar, h [Hq, 1, 1], q_idx
[1, Sq, 1], kv_idx [1, 1, Sk]), as FlexAttention's modifiers are written, so
gradients reach tensors they capture too (e.g. learnable biases); a block
mask hides the keys of the blocks it does not list.
"""

import contextlib
import math
from typing import Optional, Tuple


@contextlib.contextmanager
def _recording_autograd():
    """Records an autograd graph even inside a torch.library custom op's
    implementation: the dispatcher runs it below autograd (the Autograd*
    dispatch keys excluded in its thread-local state), where enable_grad alone
    records nothing and torch.autograd.grad finds no graph."""
    import torch

    keys = torch._C.DispatchKey
    excluded = torch._C._dispatch_tls_local_exclude_set()
    for name in dir(keys):
        if name.startswith("Autograd") or name == "ADInplaceOrView":
            excluded = excluded.remove(getattr(keys, name))
    with torch._C._ForceDispatchKeyGuard(torch._C._dispatch_tls_local_include_set(),
                                         excluded), torch.enable_grad():
        yield


def _sequence_forward(q, k, v, *, left: int, right: int, align: str, softcap: float,
                      scale: float, seq: int = 0, score_mod=None, mask_mod=None,
                      blocks=None):
    """One sequence (number `seq`): q [Sq, Hq, D], k/v [Sk, Hkv, D]; returns out
    [Sq, Hq, Dv], lse [Hq, Sq], differentiable (float32 inputs). `blocks`: the
    keys a block mask lists, bool [Hq or 1, Sq, Sk]."""
    import torch

    lq, lk = q.shape[0], k.shape[0]
    group = q.shape[1] // k.shape[1]
    qs = q.transpose(0, 1)                                      # [Hq, Sq, D]
    ks = k.repeat_interleave(group, dim=1).transpose(0, 1)      # [Hq, Sk, D]
    vs = v.repeat_interleave(group, dim=1).transpose(0, 1)
    s = (qs @ ks.transpose(1, 2)) * scale
    if softcap > 0:
        s = softcap * torch.tanh(s / softcap)
    if score_mod is not None or mask_mod is not None:
        dev = q.device
        pos = (torch.tensor(seq, device=dev), torch.arange(q.shape[1], device=dev)[:, None, None],
               torch.arange(lq, device=dev)[None, :, None],
               torch.arange(lk, device=dev)[None, None, :])
    if score_mod is not None:
        s = torch.broadcast_to(score_mod(s, *pos), s.shape).float()
    qi = torch.arange(lq, device=q.device)[:, None]
    kj = torch.arange(lk, device=q.device)[None, :]
    diag = lk - lq if align == "bottom_right" else 0
    visible = torch.ones(lq, lk, dtype=torch.bool, device=q.device)
    if left >= 0:
        visible &= kj >= qi + diag - left
    if right >= 0:
        visible &= kj <= qi + diag + right
    if mask_mod is not None:
        visible = visible & torch.as_tensor(mask_mod(*pos), device=q.device)
    if blocks is not None:
        visible = visible & blocks
    s = s.masked_fill(~visible, -math.inf)
    m = s.amax(dim=-1, keepdim=True)
    seen = torch.isfinite(m)
    m = torch.where(seen, m, torch.zeros_like(m)).detach()
    p = torch.exp(s - m)
    l = p.sum(-1, keepdim=True)
    l_safe = torch.where(seen, l, torch.ones_like(l))
    out = torch.where(seen, (p @ vs) / l_safe, torch.zeros((), device=q.device))
    lse = torch.where(seen, m + torch.log(l_safe), torch.full_like(m, -math.inf))[..., 0]
    return out.transpose(0, 1), lse


def attention_grads(q, k, v, grad_out, grad_lse, cu_seqlens_q, cu_seqlens_k, *,
                    window: Tuple[int, int], align: str, softcap: float,
                    scale: Optional[float], score_mod=None, mask_mod=None,
                    block_mask=None, captured: Tuple = ()) -> Tuple:
    """dQ, dK, dV (in the inputs' dtypes) for the upstream gradients of out
    and lse (either may be None), then one gradient per tensor of `captured`
    (tensors the modifiers read that require grad). q/k/v as
    flashmlir.attention takes them: [B, S, H, D], or packed [total, H, D]
    with cu_seqlens."""
    import torch

    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    left, right = window
    with _recording_autograd():
        qf, kf, vf = (t.detach().float().requires_grad_() for t in (q, k, v))
        if cu_seqlens_q is not None:
            bq = cu_seqlens_q.tolist()
            bk = cu_seqlens_k.tolist()
            pieces = [(slice(bq[n], bq[n + 1]), slice(bk[n], bk[n + 1]))
                      for n in range(len(bq) - 1)]
        else:
            pieces = [((b, slice(None)), (b, slice(None))) for b in range(q.shape[0])]
        outs, lses, grads_out, grads_lse = [], [], [], []
        for n, (rows_q, rows_k) in enumerate(pieces):
            sq, sk, sv = qf[rows_q], kf[rows_k], vf[rows_k]
            if sq.shape[0] == 0 or sk.shape[0] == 0:
                continue  # nothing visible: out 0, lse -inf, no gradient
            blocks = None
            if block_mask is not None:
                from .block_mask import listed_keys
                blocks = listed_keys(block_mask, n, sq.shape[0], sk.shape[0])
            o, l = _sequence_forward(sq, sk, sv, left=left, right=right, align=align,
                                     softcap=softcap, scale=scale, seq=n,
                                     score_mod=score_mod, mask_mod=mask_mod, blocks=blocks)
            if grad_out is not None:
                outs.append(o)
                grads_out.append(grad_out[rows_q].float())
            if grad_lse is not None:
                g = (grad_lse[:, rows_q] if cu_seqlens_q is not None
                     else grad_lse[rows_q[0]]).float()
                # Rows that see no key have lse = -inf and no gradient.
                lses.append(torch.where(torch.isfinite(l), l, torch.zeros_like(l)))
                grads_lse.append(torch.where(torch.isfinite(l), g, torch.zeros_like(g)))
        outputs, upstream = outs + lses, grads_out + grads_lse
        inputs = (q, k, v, *captured)
        if not outputs:
            return tuple(torch.zeros_like(t) for t in inputs)
        grads = torch.autograd.grad(outputs, (qf, kf, vf, *captured), upstream,
                                    allow_unused=True)
    return tuple(torch.zeros_like(t) if g is None else g.to(t.dtype)
                 for g, t in zip(grads, inputs))
