"""Drop-in replacements for flash_attn 2.x's forward functions.

    from flashmlir.flash_attn import flash_attn_func      # instead of flash_attn's
    out = flash_attn_func(q, k, v, causal=True)

Same signatures, argument order and defaults as flash_attn 2.x; same
semantics: (B, S, H, D) fp16/bf16 CUDA tensors, any head dim up to 256
(one the Hopper kernel does not take, e.g. 59, 111 or 40, is zero-padded to
the next multiple of 16 — of 8 for FP8, which runs on the SIMT kernel — and
the output sliced back, as flash_attn does; the default softmax scale stays
1/sqrt(D) of the given D), causal aligned to the
bottom-right corner, window_size = (left, right) with -1 = unbounded,
softcap, GQA/MQA, alibi_slopes ((H,) or (B, H) float32, varlen too: a bias
of -slope·|i + Sk - Sq - j| per sequence), softmax_scale defaulting to
1/sqrt(D), and return_attn_probs returning (out, softmax_lse, None) —
softmax_lse is (B, H, Sq) float32, or (H, total_q) for the varlen function.
Differentiable: on CPU tensors (the tests' path) through the compiled backward
(attn.attention_grad on the CPU path); on CUDA tensors through the compiled Hopper
backward (flashmlir.attention's, ALiBi calls included where it takes them).
deterministic=True gives bit-reproducible gradients as flash_attn's does (on CUDA
by the float32 recompute for now: flashmlir.attention's `deterministic`).

Not supported yet, so refused with NotImplementedError naming the argument:
dropout_p > 0, block_table (paged KV).
"""

from __future__ import annotations

import math
import numbers

from .ops import _torch, attention
from .spec import HEAD_DIM_MULTIPLE, HOPPER_HEAD_DIM_MULTIPLE, MAX_HEAD_DIM

# Devices the drop-ins take, as flash_attn (meta: shape-only tracing). The
# tests add "cpu" to run them on the CPU path.
_DEVICES = ("cuda", "meta")


def _check_tensors(rank, **tensors):
    """TypeError / ValueError naming the argument before any shape is read."""
    torch = _torch()
    for name, t in tensors.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if t.dim() != rank:
            raise ValueError(f"{name} must have rank {rank}, got shape {tuple(t.shape)}")


def _check_common(dropout_p, deterministic, q):
    if dropout_p:
        raise NotImplementedError(f"dropout_p={dropout_p}: flashmlir has no dropout yet "
                                  "(use dropout_p=0.0)")
    torch = _torch()
    if isinstance(q, torch.Tensor):
        if q.device.type not in _DEVICES:
            raise ValueError(f"q must be a CUDA tensor (like flash_attn), got a tensor on "
                             f"{q.device}")
        if q.dtype not in (torch.float16, torch.bfloat16, torch.float8_e4m3fn):
            raise TypeError(f"q must be float16, bfloat16 or float8_e4m3fn (like flash_attn), "
                            f"got {q.dtype}")


def _alibi(alibi_slopes, q_heads, batch):
    """score_mod for flash_attn's ALiBi: s - slope[b, h]·|i + Sk - Sq - j|
    (the bottom-right-aligned distance; the mods see aligned indices through
    q_idx + (Sk - Sq), passed in as `shift`)."""
    torch = _torch()
    if alibi_slopes is None:
        return None
    if not isinstance(alibi_slopes, torch.Tensor):
        raise TypeError(f"alibi_slopes must be a torch.Tensor, got "
                        f"{type(alibi_slopes).__name__}")
    if alibi_slopes.dtype != torch.float32:
        raise TypeError(f"alibi_slopes must be float32, got {alibi_slopes.dtype}")
    if tuple(alibi_slopes.shape) not in ((q_heads,), (batch, q_heads)):
        raise ValueError(f"alibi_slopes must have shape ({q_heads},) or ({batch}, {q_heads}), "
                         f"got {tuple(alibi_slopes.shape)}")
    return alibi_slopes.contiguous()


def _alibi_mod(slopes, shift, per_sequence=False):
    """flash_attn's ALiBi as a score_mod: s - slope·|i + shift - j|, slopes (H,)
    or (B, H) (row b: batch b, or sequence b of a varlen call), shift = Sk - Sq
    (per_sequence: an int32 tensor with one per sequence, read at b)."""
    if not per_sequence:
        if slopes.dim() == 1:
            def score_mod(score, b, h, q_idx, kv_idx):
                return score - slopes[h] * abs(q_idx + shift - kv_idx)
        else:
            def score_mod(score, b, h, q_idx, kv_idx):
                return score - slopes[b, h] * abs(q_idx + shift - kv_idx)
    elif slopes.dim() == 1:
        def score_mod(score, b, h, q_idx, kv_idx):
            return score - slopes[h] * abs(q_idx + shift[b] - kv_idx)
    else:
        def score_mod(score, b, h, q_idx, kv_idx):
            return score - slopes[b, h] * abs(q_idx + shift[b] - kv_idx)
    return score_mod


def _head_dim_multiple(dtype):
    """What the drop-ins pad head dims to: the Hopper kernel's multiple for the
    16-bit types it takes, the kernels' common one (the SIMT kernel) for FP8."""
    torch = _torch()
    return (HOPPER_HEAD_DIM_MULTIPLE if dtype in (torch.float16, torch.bfloat16)
            else HEAD_DIM_MULTIPLE)


def _pad_head_dims(q, k, v, softmax_scale):
    """flash_attn's head-dim rule: q/k of head dim D and v of Dv up to MAX_HEAD_DIM,
    zero-padded to the next multiple of _head_dim_multiple (zeros change neither
    Q·Kᵀ nor the kept columns of P·V). Returns q, k, v, the softmax scale to pass
    (1/sqrt(D) of the original D when padding, else as given) and Dv."""
    torch = _torch()
    if not all(isinstance(t, torch.Tensor) and t.dim() for t in (q, k, v)):
        return q, k, v, softmax_scale, None  # attention() names what is wrong
    d, dv = q.shape[-1], v.shape[-1]
    for name, size in (("q", d), ("v", dv)):
        if size > MAX_HEAD_DIM:
            raise ValueError(f"the head dim of {name} must be at most {MAX_HEAD_DIM} (like "
                             f"flash_attn), got {size}")
    if k.shape[-1] != d:  # attention() names the mismatch
        return q, k, v, softmax_scale, dv

    multiple = _head_dim_multiple(q.dtype)

    def pad(t):
        extra = -t.shape[-1] % multiple
        if not extra:
            return t
        if t.dtype == torch.float8_e4m3fn:  # zero bits are +0.0; pad the bytes
            return torch.nn.functional.pad(t.view(torch.uint8), (0, extra)).view(t.dtype)
        return torch.nn.functional.pad(t, (0, extra))

    if d % multiple and softmax_scale is None:
        softmax_scale = 1.0 / math.sqrt(d)
    return pad(q), pad(k), pad(v), softmax_scale, dv


def _result(out, lse, dv, return_attn_probs):
    if dv is not None and out.shape[-1] != dv:
        out = out[..., :dv]  # the padded head dim's columns (zeros) dropped
    return (out, lse, None) if return_attn_probs else out


def flash_attn_func(q, k, v, dropout_p=0.0, softmax_scale=None, causal=False,
                    window_size=(-1, -1), softcap=0.0, alibi_slopes=None,
                    deterministic=False, return_attn_probs=False, q_descale=None,
                    k_descale=None, v_descale=None):
    """q (B, Sq, H, D), k/v (B, Sk, Hkv, D) -> out (B, Sq, H, D). float8_e4m3fn
    inputs take q_descale/k_descale/v_descale (B, Hkv) float32, as flash_attn 3's
    FP8 interface does (out in bfloat16)."""
    _check_tensors(4, q=q, k=k, v=v)
    _check_common(dropout_p, deterministic, q)
    score_mod = None
    slopes = _alibi(alibi_slopes, q.shape[2], q.shape[0])
    if slopes is not None:
        score_mod = _alibi_mod(slopes, k.shape[1] - q.shape[1])
    q, k, v, softmax_scale, dv = _pad_head_dims(q, k, v, softmax_scale)
    out, lse = attention(q, k, v, causal=causal, window=window_size, softcap=softcap,
                         scale=softmax_scale, score_mod=score_mod, return_lse=True,
                         q_descale=q_descale, k_descale=k_descale, v_descale=v_descale,
                         deterministic=bool(deterministic))
    return _result(out, lse, dv, return_attn_probs)


def flash_attn_qkvpacked_func(qkv, dropout_p=0.0, softmax_scale=None, causal=False,
                              window_size=(-1, -1), softcap=0.0, alibi_slopes=None,
                              deterministic=False, return_attn_probs=False):
    """qkv (B, S, 3, H, D) -> out (B, S, H, D)."""
    torch = _torch()
    if not isinstance(qkv, torch.Tensor) or qkv.dim() != 5 or qkv.shape[2] != 3:
        raise ValueError(f"qkv must be a (B, S, 3, H, D) tensor, got "
                         f"{tuple(qkv.shape) if isinstance(qkv, torch.Tensor) else type(qkv)}")
    q, k, v = qkv.unbind(2)
    return flash_attn_func(q, k, v, dropout_p, softmax_scale, causal, window_size, softcap,
                           alibi_slopes, deterministic, return_attn_probs)


def flash_attn_kvpacked_func(q, kv, dropout_p=0.0, softmax_scale=None, causal=False,
                             window_size=(-1, -1), softcap=0.0, alibi_slopes=None,
                             deterministic=False, return_attn_probs=False):
    """q (B, Sq, H, D), kv (B, Sk, 2, Hkv, D) -> out (B, Sq, H, D)."""
    torch = _torch()
    if not isinstance(kv, torch.Tensor) or kv.dim() != 5 or kv.shape[2] != 2:
        raise ValueError(f"kv must be a (B, Sk, 2, Hkv, D) tensor, got "
                         f"{tuple(kv.shape) if isinstance(kv, torch.Tensor) else type(kv)}")
    k, v = kv.unbind(2)
    return flash_attn_func(q, k, v, dropout_p, softmax_scale, causal, window_size, softcap,
                           alibi_slopes, deterministic, return_attn_probs)


def flash_attn_varlen_func(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k,
                           dropout_p=0.0, softmax_scale=None, causal=False,
                           window_size=(-1, -1), softcap=0.0, alibi_slopes=None,
                           deterministic=False, return_attn_probs=False, block_table=None,
                           q_descale=None, k_descale=None, v_descale=None):
    """q (total_q, H, D), k/v (total_k, Hkv, D), cu_seqlens int32 (B + 1) ->
    out (total_q, H, D). max_seqlen_q/k are accepted for compatibility (the
    kernel reads the offsets). FP8: descales (B, Hkv) as in flash_attn_func."""
    _check_tensors(3, q=q, k=k, v=v)
    _check_common(dropout_p, deterministic, q)
    if block_table is not None:
        raise NotImplementedError("block_table: paged KV caches are not supported yet")
    for name, m in (("max_seqlen_q", max_seqlen_q), ("max_seqlen_k", max_seqlen_k)):
        if not isinstance(m, numbers.Integral) or isinstance(m, bool) or m < 0:
            raise TypeError(f"{name} must be a non-negative int, got {m!r}")
    score_mod = None
    torch = _torch()
    if alibi_slopes is not None and isinstance(cu_seqlens_q, torch.Tensor):
        slopes = _alibi(alibi_slopes, q.shape[1], cu_seqlens_q.numel() - 1)
        # Per-sequence bottom-right shift Sk_b - Sq_b, read by sequence index b.
        shift = ((cu_seqlens_k[1:] - cu_seqlens_k[:-1]) -
                 (cu_seqlens_q[1:] - cu_seqlens_q[:-1])).to(torch.int32)
        score_mod = _alibi_mod(slopes, shift, per_sequence=True)
    q, k, v, softmax_scale, dv = _pad_head_dims(q, k, v, softmax_scale)
    out, lse = attention(q, k, v, causal=causal, window=window_size, softcap=softcap,
                         scale=softmax_scale, score_mod=score_mod,
                         cu_seqlens_q=cu_seqlens_q, cu_seqlens_k=cu_seqlens_k, return_lse=True,
                         q_descale=q_descale, k_descale=k_descale, v_descale=v_descale,
                         deterministic=bool(deterministic))
    return _result(out, lse, dv, return_attn_probs)
