"""flashmlir.attention: the PyTorch entry point.

    out = flashmlir.attention(q, k, v, causal=True)          # (B, S, H, D) CUDA tensors
    out, lse = flashmlir.attention(q, k, v, return_lse=True, score_mod=alibi)

Every call checks its arguments (TypeError / ValueError naming the argument),
describes the call as an AttentionSpec, takes the kernel from the JIT cache
(compiling it the first time) and launches it on the current stream.
Without score_mod / mask_mod the call goes through the torch custom op
`torch.ops.flashmlir.attention`, which has a fake implementation, so
torch.compile traces through it without graph breaks. Gradients: on CPU
tensors, the compiled backward (attn.attention_grad through the CPU path,
O(S) memory; _run_cpu_grad), modifiers and block masks included; on CUDA
tensors the compiled Hopper backward (jit.compile_grad's three kernels;
_run_hopper_grad) where the compiler builds it for the spec (on by default;
FLASHMLIR_HOPPER_BACKWARD=0 turns it off); on CUDA tensors otherwise, and for tensors a score_mod/mask_mod captures that require
grad, a recompute in float32 PyTorch math (flashmlir.backward), at PyTorch's
speed and memory. FP8 calls are inference only.
"""


import dataclasses
import math
import numbers
import os
import warnings
from typing import Callable, Optional, Tuple

from . import jit, mods
from .block_mask import block_mask_tensors
from .spec import DTYPES, HEAD_DIM_MULTIPLE, AttentionSpec, kernel_option_values

_SUPPORTED_CAPABILITY = (9, 0)


def _tuning_knobs():
    """Benchmark knobs from the environment: FLASHMLIR_PERSISTENT_CTAS
    (AttentionSpec.persistent_ctas; default 132, 0 = one CTA per tile) and
    FLASHMLIR_PV_SCHEDULE (AttentionSpec.pv_schedule; default "auto") and
    FLASHMLIR_EPILOGUE (AttentionSpec.epilogue; default "auto") and
    FLASHMLIR_DYNAMIC_SEQLENS=1 (dense calls without modifiers compile one
    kernel for every Sq, Sk: AttentionSpec.dynamic_seqlens). A bad value is an
    error naming the variable when attention() is called, not at import."""
    ctas = os.environ.get("FLASHMLIR_PERSISTENT_CTAS", "132")
    schedule = os.environ.get("FLASHMLIR_PV_SCHEDULE", "auto")
    epilogue = os.environ.get("FLASHMLIR_EPILOGUE", "auto")
    try:
        ctas_value = int(ctas)
    except ValueError:
        ctas_value = -1
    if ctas_value < 0:
        raise ValueError(f"FLASHMLIR_PERSISTENT_CTAS must be a non-negative integer, "
                         f"got {ctas!r}")
    # The allowed values: the compiler's table (spec.kernel_options()); none
    # without the compiler, as in AttentionSpec._check_kernel_options.
    for variable, option, value in (("FLASHMLIR_PV_SCHEDULE", "pv_schedule", schedule),
                                    ("FLASHMLIR_EPILOGUE", "epilogue", epilogue)):
        try:
            values = kernel_option_values(option)
        except ImportError:
            continue
        if value not in values:
            raise ValueError(f"{variable} must be one of {values}, got {value!r}")
    dynamic = os.environ.get("FLASHMLIR_DYNAMIC_SEQLENS", "0")
    if dynamic not in ("0", "1"):
        raise ValueError(f"FLASHMLIR_DYNAMIC_SEQLENS must be 0 or 1, got {dynamic!r}")
    return {"persistent_ctas": ctas_value, "pv_schedule": schedule, "epilogue": epilogue,
            "dynamic_seqlens": dynamic == "1"}


class PerformanceWarning(UserWarning):
    """A call runs on a slow path: the SIMT bring-up kernel, or the backward's
    recompute where the Hopper backward does not take the spec."""


def _torch():
    import torch

    return torch


# -- argument checks -------------------------------------------------------------
def _check_tensor(name, t, rank):
    torch = _torch()
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.device.type not in ("cuda", "cpu", "meta"):
        raise ValueError(f"{name} must be a CUDA (or CPU) tensor, got a tensor on {t.device}")
    if t.dim() != rank:
        layout = "(B, S, H, D)" if rank == 4 else "(total_tokens, H, D)"
        raise ValueError(f"{name} must have rank {rank} {layout}, got shape {tuple(t.shape)}")
    if t.dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float8_e4m3fn):
        raise TypeError(f"{name} must be float16, bfloat16, float32 or float8_e4m3fn, got "
                        f"{t.dtype}")
    if t.stride(-1) != 1:
        raise ValueError(f"{name} must be contiguous in its last dimension (head dim), "
                         f"got strides {t.stride()}")


def _check_cu_seqlens(name, cu, q):
    torch = _torch()
    if not isinstance(cu, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(cu).__name__}")
    if cu.dtype != torch.int32:
        raise TypeError(f"{name} must be int32, got {cu.dtype}")
    if cu.dim() != 1 or cu.numel() < 2:
        raise ValueError(f"{name} must be 1-D with batch + 1 >= 2 entries, got shape "
                         f"{tuple(cu.shape)}")
    if cu.device != q.device:
        raise ValueError(f"{name} must be on {q.device} like q, got {cu.device}")


def _check_cu_values(cu_q, cu_k, total_q, total_k):
    """The offsets must be 0 = c[0] <= c[1] <= ... <= c[-1] <= total: the kernels
    index the packed tensors with them (and clamp them, as a backstop only). One
    small device-to-host copy per call, always."""
    for name, cu, total in (("cu_seqlens_q", cu_q, total_q), ("cu_seqlens_k", cu_k, total_k)):
        values = cu.tolist()
        if values[0] != 0 or any(b < a for a, b in zip(values, values[1:])) or values[-1] > total:
            raise ValueError(f"{name} must rise from 0 to at most {total} (the packed "
                             f"length), got {values if len(values) <= 16 else values[:16]}")


_devices_checked = set()


def _check_device(t):
    if t.device.type != "cuda" or t.device in _devices_checked:
        return
    torch = _torch()
    cap = torch.cuda.get_device_capability(t.device)
    if cap != _SUPPORTED_CAPABILITY:
        name = torch.cuda.get_device_name(t.device)
        raise ValueError(f"q is on {t.device} ({name}, sm_{cap[0]}{cap[1]}); flashmlir's "
                         f"kernels need an sm_90 (Hopper) GPU")
    _devices_checked.add(t.device)


def _mask(causal, causal_align, window):
    if not isinstance(causal, bool):
        raise TypeError(f"causal must be a bool, got {type(causal).__name__}")
    if causal_align not in ("top_left", "bottom_right"):
        raise ValueError(f"causal_align must be 'top_left' or 'bottom_right', got {causal_align!r}")
    try:
        left, right = window
    except (TypeError, ValueError):
        raise TypeError(f"window must be a pair of ints (left, right), got {window!r}") from None
    if not all(isinstance(w, numbers.Integral) and not isinstance(w, bool)
               for w in (left, right)):
        raise TypeError(f"window must be a pair of ints (left, right), got {window!r}")
    left, right = int(left), int(right)
    if left < -1 or right < -1:
        raise ValueError(f"window bounds must be >= -1 (-1 = unbounded), got {tuple(window)}")
    if causal:
        right = 0 if right < 0 else min(right, 0)
    if (left, right) == (-1, -1):
        return "none", (-1, -1)
    if (left, right) == (-1, 0):
        return "causal", (-1, 0)
    return "window", (left, right)


def _check_descales(q, descales, nseq, heads_kv):
    """FP8 inputs take q_descale, k_descale, v_descale: float32 (sequences, Hkv) on
    q's device (flash_attn 3's layout); other inputs none."""
    torch = _torch()
    given = [d is not None for d in descales]
    if q.dtype != torch.float8_e4m3fn:
        if any(given):
            raise ValueError(f"q_descale, k_descale and v_descale apply to float8_e4m3fn "
                             f"inputs only, got {q.dtype}")
        return ()
    if not all(given):
        raise ValueError("float8_e4m3fn inputs need q_descale, k_descale and v_descale "
                         "(float32, (batch or sequences, heads_kv))")
    out = []
    for name, d in zip(("q_descale", "k_descale", "v_descale"), descales):
        if not isinstance(d, torch.Tensor) or d.dtype != torch.float32:
            raise TypeError(f"{name} must be a float32 tensor, got "
                            f"{getattr(d, 'dtype', type(d).__name__)}")
        if tuple(d.shape) != (nseq, heads_kv):
            raise ValueError(f"{name} must have shape ({nseq}, {heads_kv}) (sequences, "
                             f"heads_kv), got {tuple(d.shape)}")
        if d.device != q.device:
            raise ValueError(f"{name} must be on {q.device} like q, got {d.device}")
        out.append(d.contiguous())
    return tuple(out)


def _spec_for(q, k, v, *, mask, align, window, softcap, scale, varlen, lse, traced, kernel,
              tiles, sparse=None) -> AttentionSpec:
    knobs = _tuning_knobs()
    if q.dim() == 3:  # varlen: (total, H, D) as batch 1
        b, sq, hq, d = 1, q.shape[0], q.shape[1], q.shape[2]
        sk, hk, dv = k.shape[0], k.shape[1], v.shape[2]
    else:
        b, sq, hq, d = q.shape
        sk, hk, dv = k.shape[1], k.shape[2], v.shape[3]
    # One kernel for all lengths (its lengths in the spec fixed at 1: one cache
    # entry): dense calls without modifiers or block masks only.
    knobs["dynamic_seqlens"] &= not varlen and traced is None and sparse is None
    if knobs["dynamic_seqlens"]:
        sq = sk = 1
    return AttentionSpec(
        dtype=DTYPES[str(q.dtype).split(".")[-1]], batch=b, seqlen_q=sq, seqlen_k=sk,
        heads_q=hq, heads_kv=hk, head_dim=d, head_dim_v=dv, mask=mask, align=align,
        window=window, softcap=float(softcap), scale=scale, varlen=varlen, lse=lse,
        score_mod=traced.score_mod if traced else "",
        mask_mod=traced.mask_mod if traced else "",
        mod_tensors=traced.tensor_types if traced else (), kernel=kernel,
        block_mask=sparse[2] if sparse else (), block_size=sparse[1] if sparse else (0, 0),
        **knobs, **tiles)


# Eager calls seen before (see attention): key -> (launcher, out shape, lse shape,
# the tensors the modifiers read).
_fast_calls = {}
_FAST_CALLS_KEPT = 1024


def attention(q, k, v, *, causal: bool = False, causal_align: str = "bottom_right",
              window: Tuple[int, int] = (-1, -1), softcap: float = 0.0,
              scale: Optional[float] = None, score_mod: Optional[Callable] = None,
              mask_mod: Optional[Callable] = None, cu_seqlens_q=None, cu_seqlens_k=None,
              return_lse: bool = False, kernel: str = "auto", block_m: int = 0,
              block_n: int = 0, stages: int = 0, block_mask=None, q_descale=None,
              k_descale=None, v_descale=None, deterministic: bool = False):
    """Scaled dot-product attention, softmax(scale·Q·Kᵀ + masks)·V, on CUDA tensors.

    q (B, Sq, Hq, D), k (B, Sk, Hkv, D), v (B, Sk, Hkv, Dv); Hq a multiple of
    Hkv (GQA/MQA). With cu_seqlens_q/k (int32, batch + 1 offsets), q, k, v are
    packed (total, H, D) and each sequence attends only to its own keys.
    causal aligns the diagonal to the bottom-right (flash_attn 2.1+) or
    top-left corner; window = (left, right) keeps keys j with
    i' - left <= j <= i' + right (i' the aligned query position; -1 =
    unbounded); softcap > 0 caps scores at softcap·tanh(s/softcap); scale
    defaults to 1/sqrt(D). score_mod(score, b, h, q_idx, kv_idx) -> score and
    mask_mod(b, h, q_idx, kv_idx) -> bool are traced (flashmlir.mods).
    block_mask (flashmlir.create_block_mask, or FlexAttention's BlockMask):
    only the KV blocks it lists are visited, mask_mod applied in its partial
    blocks (flashmlir.block_mask); not with cu_seqlens.
    float8_e4m3fn q, k, v (inference) take q_descale, k_descale, v_descale,
    float32 (B or sequences, Hkv): S = scale·(dq·Q)(dk·K)ᵀ, O = P·(dv·V), out
    in bfloat16; they run on the CPU path (CPU tensors) or the SIMT kernel.
    Returns out (like q, last dim Dv; bfloat16 for FP8 inputs) and, with return_lse, the log-sum-exp
    (B, Hq, Sq) in float32 ((Hq, total) when packed). Under torch.compile a
    call with modifiers or a block mask is a graph break (it runs eagerly).
    deterministic (flash_attn's argument): gradients reproducible bit for
    bit. The forward is either way; the compiled Hopper backward adds the
    programs' dQ shares in whatever order they finish, so deterministic=True
    takes the float32 recompute backward on CUDA tensors (flashmlir.backward:
    O(S²) memory; one PerformanceWarning) until an ordered mode exists. The
    CPU path's backward is deterministic.
    """
    if not isinstance(deterministic, bool):
        raise TypeError(f"deterministic must be a bool, got {deterministic!r}")
    torch = _torch()
    modified = score_mod is not None or mask_mod is not None or block_mask is not None
    descales = (q_descale, k_descale, v_descale)
    fp8 = any(d is not None for d in descales) or (
        isinstance(q, torch.Tensor) and q.dtype == torch.float8_e4m3fn)
    if fp8 and torch.is_grad_enabled() and any(
            isinstance(t, torch.Tensor) and t.requires_grad for t in (q, k, v, *descales)):
        raise NotImplementedError(
            "float8_e4m3fn attention is inference only: there is no FP8 backward (call it "
            "under torch.no_grad() or pass tensors that do not require grad)")
    if (modified or fp8) and torch.compiler.is_compiling():
        # Dynamo cannot trace the modifier path (its trace keys hold code objects
        # and captured tensors): a graph break, the call eager.
        return _eager_attention()(
            q, k, v, causal=causal, causal_align=causal_align, window=window,
            softcap=softcap, scale=scale, score_mod=score_mod, mask_mod=mask_mod,
            cu_seqlens_q=cu_seqlens_q, cu_seqlens_k=cu_seqlens_k, return_lse=return_lse,
            kernel=kernel, block_m=block_m, block_n=block_n, stages=stages,
            block_mask=block_mask, q_descale=q_descale, k_descale=k_descale,
            v_descale=v_descale, deterministic=deterministic)
    # The eager fast path: a call shaped like an earlier successful one (same
    # shapes, strides, dtypes, devices and options, and modifiers with the same
    # code and captures, mods.trace_keys) skips the checks, the trace, the spec
    # and the cache lookup — they would all come out the same.
    fast_key = None
    eligible = (cu_seqlens_q is None and cu_seqlens_k is None and not _POISON
                and not fp8 and not torch.compiler.is_compiling())
    sparse_key, sparse_now = _block_mask_fast_key(block_mask) if eligible else (None, ())
    traces = score_mod is not None or mask_mod is not None
    mods_key = mods.trace_keys(score_mod, mask_mod) if traces and eligible else ()
    if eligible and (not traces or mods_key is not None) and sparse_key is not False:
        try:
            fast_key = (q.shape, k.shape, v.shape, q.stride(), k.stride(), v.stride(), q.dtype,
                        k.dtype, v.dtype, q.get_device(), k.get_device(), v.get_device(),
                        causal, causal_align, tuple(window), softcap, scale, kernel, block_m,
                        block_n, stages, mods_key, sparse_key)
            hit = _fast_calls.get(fast_key)
        except (AttributeError, TypeError):
            fast_key = hit = None
        if hit is not None and not (torch.is_grad_enabled() and (
                q.requires_grad or k.requires_grad or v.requires_grad)):
            launcher, out_shape, lse_shape, mod_tensors = hit
            out = q.new_empty(out_shape)
            lse = q.new_empty(lse_shape, dtype=torch.float32)
            # Shaped like a checked call (the key), out and lse new: unchecked.
            launcher.launch(q, k, v, out, lse, *mod_tensors, *sparse_now)
            return (out, lse) if return_lse else out

    varlen = cu_seqlens_q is not None or cu_seqlens_k is not None
    rank = 3 if varlen else 4
    for name, t in (("q", q), ("k", k), ("v", v)):
        _check_tensor(name, t, rank)
    if not (q.dtype == k.dtype == v.dtype):
        raise TypeError(f"q, k and v must have one dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
    if not (q.device == k.device == v.device):
        raise ValueError(f"q, k and v must be on one device, got {q.device}, {k.device}, "
                         f"{v.device}")
    if varlen:
        if cu_seqlens_q is None or cu_seqlens_k is None:
            raise ValueError("give both cu_seqlens_q and cu_seqlens_k, or neither")
        _check_cu_seqlens("cu_seqlens_q", cu_seqlens_q, q)
        _check_cu_seqlens("cu_seqlens_k", cu_seqlens_k, q)
        if cu_seqlens_q.numel() != cu_seqlens_k.numel():
            raise ValueError(f"cu_seqlens_q and cu_seqlens_k must have the same length (batch "
                             f"+ 1), got {cu_seqlens_q.numel()} and {cu_seqlens_k.numel()}")
        if k.shape[0] != v.shape[0]:
            raise ValueError(f"k and v must have the same total length, got {k.shape[0]} "
                             f"and {v.shape[0]}")
        hq, hk, hv = q.shape[1], k.shape[1], v.shape[1]
        dq, dk = q.shape[2], k.shape[2]
    else:
        if not (q.shape[0] == k.shape[0] == v.shape[0]):
            raise ValueError(f"q, k and v must have the same batch size, got {q.shape[0]}, "
                             f"{k.shape[0]}, {v.shape[0]}")
        if k.shape[1] != v.shape[1]:
            raise ValueError(f"k and v must have the same sequence length, got {k.shape[1]} "
                             f"and {v.shape[1]}")
        hq, hk, hv = q.shape[2], k.shape[2], v.shape[2]
        dq, dk = q.shape[3], k.shape[3]
    for name, t in (("q", q), ("k", k), ("v", v)):
        if 0 in t.shape[1 if varlen else 2:]:
            raise ValueError(f"{name} must have at least one head and one head-dim element, "
                             f"got shape {tuple(t.shape)}")
    if hk != hv:
        raise ValueError(f"k and v must have the same number of heads, got {hk} and {hv}")
    if hq % hk:
        raise ValueError(f"the query heads ({hq}) must be a multiple of the key/value heads "
                         f"({hk})")
    if dq != dk:
        raise ValueError(f"q and k must have the same head dim, got {dq} and {dk}")
    for name, d in (("q", dq), ("v", v.shape[-1])):
        if d % HEAD_DIM_MULTIPLE:
            raise ValueError(f"the head dim of {name} must be a multiple of "
                             f"{HEAD_DIM_MULTIPLE}, got {d}")
    real = lambda x: isinstance(x, numbers.Real) and not isinstance(x, bool)  # noqa: E731
    if not real(softcap):
        raise TypeError(f"softcap must be a number, got {type(softcap).__name__}")
    if softcap < 0 or not math.isfinite(softcap):
        raise ValueError(f"softcap must be a finite number >= 0, got {softcap!r}")
    if scale is not None and not real(scale):
        raise TypeError(f"scale must be a number or None, got {type(scale).__name__}")
    if scale is not None and (not scale > 0 or not math.isfinite(scale)):
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
    mask, window_ = _mask(causal, causal_align, window)
    descales = _check_descales(q, descales, cu_seqlens_q.numel() - 1 if varlen else q.shape[0],
                               hk)

    sparse = None
    if block_mask is not None:
        if varlen:
            raise ValueError("block_mask does not apply to packed sequences (cu_seqlens)")
        sparse = block_mask_tensors(block_mask, q, q.shape[1], q.shape[0], q.shape[2])
    traced = None
    if score_mod is not None or mask_mod is not None:
        traced = mods.cached_trace(score_mod, mask_mod, keys=mods_key)
        for t in traced.tensors:
            if t.device != q.device:
                raise ValueError(f"a tensor read by score_mod/mask_mod is on {t.device}, q on "
                                 f"{q.device}")

    contiguous = q.is_contiguous() and k.is_contiguous() and v.is_contiguous()
    q, k, v = (t if t.is_contiguous() else t.contiguous() for t in (q, k, v))
    spec = _spec_for(q, k, v, mask=mask, align=causal_align, window=window_, softcap=softcap,
                     scale=None if scale is None else float(scale),
                     varlen=cu_seqlens_q.numel() - 1 if varlen else 0, lse=True,
                     traced=traced, kernel=kernel,
                     tiles={"block_m": block_m, "block_n": block_n, "stages": stages},
                     sparse=sparse)
    if fp8:
        # Inference only (float8 tensors carry no gradients); no autograd wrapper.
        out, lse = _run(spec, q, k, v, cu_seqlens_q, cu_seqlens_k,
                        list(traced.tensors) if traced else [], sparse[0] if sparse else (),
                        descales)
        return (out, lse) if return_lse else out
    if traced is None and sparse is None:
        out, lse = torch.ops.flashmlir.attention(
            q, k, v, cu_seqlens_q, cu_seqlens_k, mask, causal_align, window_[0], window_[1],
            float(softcap), -1.0 if scale is None else float(scale), kernel,
            block_m, block_n, stages, deterministic)
        _remember_fast_call(fast_key, contiguous, spec, q, out, lse, ())
    else:
        read = list(traced.tensors) if traced else []
        captured = tuple(t for t in read if t.is_floating_point() and t.requires_grad)
        if torch.is_grad_enabled() and (q.requires_grad or k.requires_grad
                                        or v.requires_grad or captured):
            # The kernel forward, the float32 recompute backward (flashmlir.backward)
            # with the same modifier functions evaluated on tensors.
            grad_options = dict(window=window_, align=causal_align, softcap=float(softcap),
                                scale=None if scale is None else float(scale),
                                score_mod=score_mod, mask_mod=mask_mod, block_mask=block_mask)
            run = lambda: _run(spec, q, k, v, cu_seqlens_q, cu_seqlens_k,  # noqa: E731
                               [t.detach() for t in read], sparse[0] if sparse else ())
            compiled = (spec, tuple(t.detach() for t in read),
                        tuple(sparse[0]) if sparse else (), deterministic)
            out, lse = _ModifiedAttention.apply(q, k, v, cu_seqlens_q, cu_seqlens_k, run,
                                                grad_options, compiled, *captured)
            return (out, lse) if return_lse else out
        out, lse = _run(spec, q, k, v, cu_seqlens_q, cu_seqlens_k, read,
                        sparse[0] if sparse else ())
        # The modifiers' tensors as they are (contiguous: the kernel reads them in
        # place, so later in-place updates are seen; the trace keys hold them alive).
        # The block mask's come with each call (sparse_now).
        if all(t.is_contiguous() for t in read):
            _remember_fast_call(fast_key, contiguous, spec, q, out, lse, tuple(read))
    return (out, lse) if return_lse else out


_eager_attention_fn = None


def _eager_attention():
    """attention wrapped in torch.compiler.disable (built once, on first use)."""
    global _eager_attention_fn
    if _eager_attention_fn is None:
        _eager_attention_fn = _torch().compiler.disable(attention)
    return _eager_attention_fn


def _remember_fast_call(fast_key, contiguous, spec, q, out, lse, mod_tensors):
    if (fast_key is not None and contiguous and q.device.type == "cuda"
            and len(_fast_calls) < _FAST_CALLS_KEPT):
        _fast_calls[fast_key] = (jit.compile(spec).launcher(q.device.index or 0),
                                 tuple(out.shape), tuple(lse.shape), mod_tensors)


# FLASHMLIR_POISON_OUTPUTS=1 fills outputs with NaN before each launch, so
# an element a kernel fails to write shows up (the GPU tests set it).
_POISON = os.environ.get("FLASHMLIR_POISON_OUTPUTS") == "1"


def _outputs(q, v, varlen, lse_total=None, dtype=None):
    """out (of `dtype`, default q's) and lse for q, v; packed, lse has
    `lse_total` columns (the kernel's total, default q's)."""
    torch = _torch()
    dtype = dtype or q.dtype
    if varlen:
        out = q.new_empty((q.shape[0], q.shape[1], v.shape[-1]), dtype=dtype)
        lse = torch.empty((q.shape[1], lse_total or q.shape[0]), dtype=torch.float32,
                          device=q.device)
    else:
        out = q.new_empty((*q.shape[:3], v.shape[-1]), dtype=dtype)
        lse = torch.empty((q.shape[0], q.shape[2], q.shape[1]), dtype=torch.float32,
                          device=q.device)
    if _POISON and q.device.type != "meta":
        out.fill_(float("nan"))
        lse.fill_(float("nan"))
    return out, lse


_warned = set()


def _bucket(n: int, floor: int) -> int:
    """n rounded up to a power of two, at least `floor`."""
    return max(floor, 1 << max(0, n - 1).bit_length())


def _bucketed_varlen(spec: AttentionSpec, cu_q, cu_k):
    """A packed call's spec with its totals and sequence count rounded up, and
    cu_seqlens padded with empty sequences to match.

    Why: every batch of a serving loop has new totals, and each would compile a
    kernel (0.2-0.4 s plus the driver's PTX JIT). A kernel for larger totals is
    exact on the actual tensors: it reads Q, K, V only inside the sequences of
    cu_seqlens (the GPU's tensor maps are encoded from the actual tensors, so a
    ragged last block reads zeros, masked anyway; the CPU path gets padded
    copies), writes O only inside them, and an empty sequence does no work.
    LSE, laid out (Hq, total), goes to a bucket-sized buffer and is cut. Not
    with modifiers: the shapes of their tensors are part of the spec."""
    torch = _torch()
    tq, tk = _bucket(spec.seqlen_q, 256), _bucket(spec.seqlen_k, 256)
    n = _bucket(spec.varlen, 1)
    if n > spec.varlen:
        pad = n - spec.varlen
        cu_q = torch.cat([cu_q, cu_q[-1:].expand(pad)])
        cu_k = torch.cat([cu_k, cu_k[-1:].expand(pad)])
    return dataclasses.replace(spec, seqlen_q=tq, seqlen_k=tk, varlen=n), cu_q, cu_k


def _modified_attention_function():
    torch = _torch()

    class ModifiedAttention(torch.autograd.Function):
        """Calls with score_mod/mask_mod/block_mask under autograd: the kernel's
        out and lse forward; gradients of q, k, v by the compiled backward on
        CPU tensors (`compiled` = (spec, modifier tensors, block mask tensors,
        deterministic)) and on CUDA tensors where the Hopper backward takes the
        spec (unless FLASHMLIR_HOPPER_BACKWARD=0 or deterministic: _backward_route);
        else — CUDA tensors otherwise, or float tensors the modifiers capture that
        need gradients too — by recompute (flashmlir.backward)."""

        @staticmethod
        def forward(ctx, q, k, v, cu_q, cu_k, run, options, compiled, *captured):
            with torch.no_grad():
                out, lse = run()
            ctx.save_for_backward(q, k, v, cu_q, cu_k, out, lse, *captured)
            ctx.options = options
            ctx.compiled = compiled
            return out, lse

        @staticmethod
        def backward(ctx, grad_out, grad_lse):
            q, k, v, cu_q, cu_k, out, lse, *captured = ctx.saved_tensors
            spec, mod_tensors, sparse_tensors, deterministic = ctx.compiled
            grads = None
            route = _backward_route(q, deterministic)
            if not captured and route == "cpu":
                grads = _run_cpu_grad(spec, q, k, v, out, lse, grad_out, grad_lse, cu_q,
                                      cu_k, mod_tensors, sparse_tensors)
            elif not captured and route == "hopper":
                # None: FLASHMLIR_HOPPER_BACKWARD off, or the spec not taken.
                grads = _run_hopper_grad(spec, q, k, v, out, lse, grad_out, grad_lse, cu_q,
                                         cu_k, mod_tensors, sparse_tensors)
            elif deterministic and route == "recompute":
                _warn_deterministic_recompute()
            if grads is None:
                from .backward import attention_grads

                grads = attention_grads(q, k, v, grad_out, grad_lse, cu_q, cu_k,
                                        captured=tuple(captured), **ctx.options)
            return (*grads[:3], None, None, None, None, None, *grads[3:])

    return ModifiedAttention


class _LazyFunction:
    """torch.autograd.Function subclasses need torch; built on first use."""

    def __init__(self, make):
        self._make, self._fn = make, None

    def apply(self, *args):
        if self._fn is None:
            self._fn = self._make()
        return self._fn.apply(*args)


_ModifiedAttention = _LazyFunction(_modified_attention_function)


def _block_mask_fast_key(block_mask):
    """(key, tensors) of a block mask for the eager fast path: its structure
    (shapes, block size) keys the kernel, its tensors go to each launch. (None,
    ()) without one; (False, ()) when the fast path cannot take it (tensors not
    contiguous int32, or not a block mask: the slow path reports it)."""
    if block_mask is None:
        return None, ()
    try:
        tensors = [block_mask.kv_num_blocks, block_mask.kv_indices]
        if block_mask.full_kv_num_blocks is not None:
            tensors += [block_mask.full_kv_num_blocks, block_mask.full_kv_indices]
        size = block_mask.BLOCK_SIZE
        key = (tuple(size) if not isinstance(size, int) else (size, size),
               tuple((tuple(t.shape), t.dtype, t.device) for t in tensors))
        if not all(t.is_contiguous() for t in tensors):
            return False, ()
    except (AttributeError, TypeError):
        return False, ()
    return key, tuple(tensors)


def _out_dtype(spec: AttentionSpec):
    torch = _torch()
    return {"bf16": torch.bfloat16, "f16": torch.float16,
            "f32": torch.float32}[spec.output_dtype]


def _run(spec: AttentionSpec, q, k, v, cu_q, cu_k, mod_tensors, sparse_tensors=(),
         descales=()):
    """Compiles (or finds) the kernel and launches it: (out, lse)."""
    if q.device.type == "meta":   # shapes only (tracing): compiles nothing
        return _outputs(q, v, spec.varlen, dtype=_out_dtype(spec))
    if spec.varlen:
        _check_cu_values(cu_q, cu_k, spec.seqlen_q, spec.seqlen_k)
    total_q = spec.seqlen_q
    if spec.varlen and not mod_tensors and not descales:  # (descales: one per sequence)
        spec, cu_q, cu_k = _bucketed_varlen(spec, cu_q, cu_k)
    if q.device.type == "cpu":
        if spec.dynamic_seqlens:  # the CPU path compiles for the actual lengths
            spec = dataclasses.replace(spec, dynamic_seqlens=False, seqlen_q=q.shape[1],
                                       seqlen_k=k.shape[1])
        return _run_cpu(spec, q, k, v, cu_q, cu_k, mod_tensors, total_q, sparse_tensors,
                        descales)
    _check_device(q)
    kernel = jit.compile(spec)
    if spec.resolved_kernel == "simt" and spec not in _warned:
        _warned.add(spec)
        warnings.warn(f"flashmlir: this call runs on the SIMT bring-up kernel "
                      f"({spec.hopper_unsupported()}); it is correct but slow",
                      PerformanceWarning, stacklevel=3)
    out, lse = _outputs(q, v, spec.varlen, lse_total=spec.seqlen_q, dtype=_out_dtype(spec))
    args = _kernel_arguments(spec, q, k, v, cu_q, cu_k, out, lse, mod_tensors,
                             sparse_tensors, descales)
    launcher = kernel.launcher(q.device.index or 0)
    launcher.check(args, offsets=False)  # cu_seqlens: checked above, before bucketing
    launcher.launch(*args)
    if spec.varlen and lse.shape[1] != total_q:
        lse = lse[:, :total_q].contiguous()
    return out, lse


def _kernel_arguments(spec: AttentionSpec, q, k, v, cu_q, cu_k, out, lse, mod_tensors=(),
                      sparse_tensors=(), descales=()):
    """The kernel's arguments in signature order (AttentionSpec.arguments()). The
    memrefs are (1, total, H, D) and (1, H, total) when packed."""
    view = (lambda t: t.unsqueeze(0)) if spec.varlen else (lambda t: t)
    args = [view(q), view(k), view(v)]
    if spec.varlen:
        args += [cu_q, cu_k]
    args += list(descales)
    args += [view(out), view(lse)]
    args += [t.contiguous() for t in mod_tensors]
    args += list(sparse_tensors)
    return args


_cpu_kernels = {}


def _run_cpu(spec: AttentionSpec, q, k, v, cu_q, cu_k, mod_tensors, total_q,
             sparse_tensors=(), descales=()):
    """The same spec on the CPU path (attn-tile{target=cpu} and the CPU JIT of
    flashmlir._flashmlir): slow, exact to the accuracy rule; for tests and
    machines without a GPU."""
    import numpy as np
    import flashmlir

    torch = _torch()
    kernel = _cpu_kernels.get(spec)
    if kernel is None:
        kernel = flashmlir.cpu_compile(
            spec.to_mlir(), "attention",
            front_end="builtin.module(attn-to-cpu-loops)")
        _cpu_kernels[spec] = kernel

    def array(t):
        t = t.contiguous()
        if t.dtype == torch.bfloat16:
            return flashmlir.bf16(t.view(torch.int16).numpy().view(np.uint16))
        if t.dtype == torch.float8_e4m3fn:
            return flashmlir.f8e4m3(t.view(torch.uint8).numpy())
        return t.numpy()

    def padded(t, rows):
        # A packed tensor to the kernel's total (memrefs are static here);
        # the rows past the sequences are never read.
        if t.shape[0] == rows:
            return t
        return torch.cat([t, t.new_zeros((rows - t.shape[0], *t.shape[1:]))])

    if spec.varlen:
        q, k, v = padded(q, spec.seqlen_q), padded(k, spec.seqlen_k), padded(v, spec.seqlen_k)
    out, lse = _outputs(q, v, spec.varlen, dtype=_out_dtype(spec))
    shape = (lambda t: t.unsqueeze(0)) if spec.varlen else (lambda t: t)
    args = [array(shape(q)), array(shape(k)), array(shape(v))]
    if spec.varlen:
        args += [cu_q.numpy(), cu_k.numpy()]
    args += [d.numpy() for d in descales]
    args += [array(shape(out)), shape(lse).numpy()]
    args += [array(t) for t in mod_tensors]
    args += [t.numpy() for t in sparse_tensors]
    kernel.run(*args)
    if spec.varlen and out.shape[0] != total_q:
        out, lse = out[:total_q], lse[:, :total_q].contiguous()
    return out, lse


_cpu_grad_kernels = {}


def _compiled_backward(q) -> bool:
    """Whether q's gradients come from the compiled backward on the CPU path:
    CPU tensors with the CPU path built. (CUDA tensors: _run_hopper_grad
    unless FLASHMLIR_HOPPER_BACKWARD=0, else the recompute.)"""
    import flashmlir

    return q.device.type == "cpu" and flashmlir.HAS_CPU_PATH


def _run_cpu_grad(spec: AttentionSpec, q, k, v, out, lse, dout, dlse, cu_q, cu_k,
                  mod_tensors=(), sparse_tensors=()):
    """dq, dk, dv of `spec`'s attention by its compiled backward on the CPU path
    (spec.to_grad_mlir(): attn.attention_grad through attn-to-cpu-loops, the
    same front end as the forward's). q, k, v, out as attention() takes and
    returns them ((B, S, H, D), or packed (total, H, D) with cu_seqlens), lse
    (B, Hq, Sq) or (Hq, total); dout / dlse the gradients reaching out / lse
    (None: zero). Returns the gradients in the inputs' dtypes."""
    import numpy as np
    import flashmlir

    torch = _torch()
    if spec.dynamic_seqlens:  # the CPU path compiles for the actual lengths
        spec = dataclasses.replace(spec, dynamic_seqlens=False, seqlen_q=q.shape[1],
                                   seqlen_k=k.shape[1])
    total_q, total_k = spec.seqlen_q, spec.seqlen_k
    if spec.varlen and not mod_tensors:
        spec, cu_q, cu_k = _bucketed_varlen(spec, cu_q, cu_k)
    kernel = _cpu_grad_kernels.get(spec)
    if kernel is None:
        kernel = flashmlir.cpu_compile(spec.to_grad_mlir(), "attention_grad",
                                       front_end="builtin.module(attn-to-cpu-loops)")
        _cpu_grad_kernels[spec] = kernel

    def array(t):
        if t.dtype == torch.bfloat16:
            return flashmlir.bf16(t.view(torch.int16).numpy().view(np.uint16))
        return t.numpy()

    args, (dq, dk, dv) = _grad_arguments(spec, q, k, v, out, lse, dout, dlse, cu_q, cu_k,
                                         mod_tensors, sparse_tensors)
    kernel.run(*(array(t) for t in args))
    if spec.varlen:
        dq, dk, dv = dq[:total_q], dk[:total_k], dv[:total_k]
    return dq, dk, dv


def _grad_arguments(spec: AttentionSpec, q, k, v, out, lse, dout, dlse, cu_q, cu_k,
                    mod_tensors=(), sparse_tensors=()):
    """The arguments of spec.to_grad_mlir()'s function (spec.grad_arguments(),
    in order) on q's device, and (dq, dk, dv), for the compiled backward on
    the CPU path and on the GPU alike. `spec` as the kernel is compiled
    (packed totals bucketed, cu_q / cu_k padded to match): packed tensors are
    copied into the kernel's totals (the rows past the sequences are never
    read; the backward's signature fixes every size); dout / dlse None
    become zeros; dq, dk, dv (packed: the kernel's totals, to be cut) and the
    f32 workspace dq_acc and delta are new (the kernels write them before
    reading; NaN under FLASHMLIR_POISON_OUTPUTS=1)."""
    torch = _torch()

    def padded(t, rows, dim=0):
        t = t.detach().contiguous()
        if t.shape[dim] == rows:
            return t
        shape = list(t.shape)
        shape[dim] = rows - t.shape[dim]
        return torch.cat([t, t.new_zeros(shape)], dim=dim)

    def aligned(t):
        # The kernels read 16-byte aligned bases (TMA on sm_90a; the SIMT
        # copies' vectors): a view that starts elsewhere (an upstream
        # gradient, say) is copied once rather than refused.
        return t if t.data_ptr() % 16 == 0 else t.clone()

    dout = torch.zeros_like(out) if dout is None else dout.to(out.dtype)
    dlse = torch.zeros_like(lse) if dlse is None else dlse.float()
    rows_q, rows_k = spec.seqlen_q, spec.seqlen_k
    if spec.varlen:
        q, out, dout = (padded(t, rows_q) for t in (q, out, dout))
        k, v = padded(k, rows_k), padded(v, rows_k)
        lse, dlse = padded(lse, rows_q, 1), padded(dlse, rows_q, 1)
    else:
        q, k, v, out, dout, lse, dlse = (t.detach().contiguous()
                                         for t in (q, k, v, out, dout, lse, dlse))
    q, k, v, out, dout, lse, dlse = map(aligned, (q, k, v, out, dout, lse, dlse))
    dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
    dq_acc = torch.empty(q.shape, dtype=torch.float32, device=q.device)
    delta = torch.empty(lse.shape, dtype=torch.float32, device=q.device)
    if _POISON:
        for t in (dq, dk, dv, dq_acc, delta):
            t.fill_(float("nan"))
    shape = (lambda t: t.unsqueeze(0)) if spec.varlen else (lambda t: t)
    args = [shape(t) for t in (q, k, v, out, dout, lse, dlse)]
    if spec.varlen:
        args += [cu_q, cu_k]
    args += [shape(t) for t in (dq, dk, dv, dq_acc, delta)]
    args += [t.contiguous() for t in mod_tensors]
    args += list(sparse_tensors)
    return args, (dq, dk, dv)


# -- the Hopper backward (on unless FLASHMLIR_HOPPER_BACKWARD=0) -----------------
# Specs whose Hopper backward was refused: spec -> why (compiled and warned once).
_hopper_grad_refused = {}


def _hopper_backward_enabled() -> bool:
    """CUDA gradients from the compiled Hopper backward where it takes the spec:
    on by default (its kernels pass test_backward_gpu.py and
    test_hopper_backward_gpu.py on an H100, sanitizers clean);
    FLASHMLIR_HOPPER_BACKWARD=0 keeps the PyTorch recompute. Read at every
    backward call; a bad value is a ValueError naming the variable."""
    value = os.environ.get("FLASHMLIR_HOPPER_BACKWARD", "1")
    if value not in ("0", "1"):
        raise ValueError(f"FLASHMLIR_HOPPER_BACKWARD must be 0 or 1, got {value!r}")
    return value == "1"


def _grad_spec(spec: AttentionSpec) -> AttentionSpec:
    """The spec the backward is compiled for: the forward's problem with the
    kernel options at their defaults (the forward's tiles and tuning knobs are
    the forward kernel's; a 128-row block_m, say, is one the backward refuses)."""
    defaults = {f.name: f.default for f in dataclasses.fields(AttentionSpec)
                if f.name in ("kernel", "block_m", "block_n", "stages", "ping_pong",
                              "pv_schedule", "persistent_ctas", "schedule", "epilogue",
                              "ctas_per_sm")}
    return dataclasses.replace(spec, **defaults)


def _hopper_grad(spec: AttentionSpec):
    """The compiled Hopper backward (jit.CompiledGrad) of `spec` (as it will be
    launched: bucketed, _grad_spec), or None when the gradients must come from
    the recompute (flashmlir.backward): FLASHMLIR_HOPPER_BACKWARD=0, or the
    backward does not take the spec.

    "Takes the spec" is decided by compiling it, not by a copy of the
    compiler's rules here (head dims, block masks, ctas_per_sm... change as the
    backward grows): the compiler's refusal (CompileError) means the
    recompute, with one PerformanceWarning per spec quoting its diagnostic,
    and is remembered (no second compile). Only the forward's own rule is
    checked first (spec.hopper_unsupported(): no Hopper kernel at all, e.g.
    f32 or a head dim that is not a multiple of 16), and a missing compiler
    (ImportError) falls back the same way."""
    if not _hopper_backward_enabled():
        return None
    why = _hopper_grad_refused.get(spec)
    if why is None:
        why = spec.hopper_unsupported()
        if not why:
            try:
                return jit.compile_grad(spec)
            except (jit.CompileError, ImportError) as error:
                why = str(error)
        _hopper_grad_refused[spec] = why
        # MLIR's diagnostic line ("'attn.program_grid' op attn-plan-hopper: ...").
        lines = [line.strip() for line in why.splitlines() if line.strip()]
        diagnostic = next((line.split(": ", 1)[-1] for line in lines if "' op " in line),
                          lines[-1] if lines else why)
        warnings.warn(f"flashmlir: the Hopper backward does not take this call "
                      f"({diagnostic}); its gradients are recomputed in PyTorch "
                      f"(flashmlir.backward)", PerformanceWarning,
                      stacklevel=2)
    return None


def _run_hopper_grad(spec: AttentionSpec, q, k, v, out, lse, dout, dlse, cu_q, cu_k,
                     mod_tensors=(), sparse_tensors=()):
    """dq, dk, dv of `spec`'s attention (a forward's spec, as _spec_for makes
    it) by the compiled Hopper backward on CUDA tensors: its three kernels
    (preprocess, main, postprocess) in order on torch's current stream. q, k,
    v, out, lse, dout, dlse, cu_q, cu_k as _run_cpu_grad takes them. None when
    _hopper_grad(spec) says the recompute must run instead."""
    if not _hopper_backward_enabled():
        return None
    total_q, total_k = spec.seqlen_q, spec.seqlen_k
    if spec.varlen:
        _check_cu_values(cu_q, cu_k, total_q, total_k)
        if not mod_tensors:
            spec, cu_q, cu_k = _bucketed_varlen(spec, cu_q, cu_k)
    grad = _hopper_grad(_grad_spec(spec))
    if grad is None:
        return None
    args, (dq, dk, dv) = _grad_arguments(grad.spec, q, k, v, out, lse, dout, dlse, cu_q,
                                         cu_k, mod_tensors, sparse_tensors)
    device = q.device.index or 0
    # Offsets checked above (one copy); the rest, shapes and aliasing, here.
    grad.check(args, device, offsets=False)
    grad.launch(*args, device=device)
    if spec.varlen:
        dq, dk, dv = dq[:total_q], dk[:total_k], dv[:total_k]
    return dq, dk, dv


def _backward_route(q, deterministic: bool) -> str:
    """Which backward computes a custom-op call's gradients: "cpu" (the
    compiled backward on the CPU path: deterministic), "hopper" (the compiled
    Hopper backward on CUDA tensors; it may still refuse the spec) or
    "recompute" (float32 PyTorch, flashmlir.backward: what deterministic=True
    takes on CUDA tensors, the Hopper backward's dQ order being the order its
    programs finish)."""
    if _compiled_backward(q):
        return "cpu"
    if q.device.type == "cuda" and not deterministic:
        return "hopper"
    return "recompute"


_warned_deterministic = False


def _warn_deterministic_recompute():
    """One PerformanceWarning per process: deterministic=True's backward."""
    global _warned_deterministic
    if not _warned_deterministic:
        _warned_deterministic = True
        warnings.warn("deterministic=True: the compiled Hopper backward adds dQ in the order "
                      "its programs finish (not reproducible bit for bit), so the backward "
                      "recomputes in float32 PyTorch (flashmlir.backward: O(S^2) memory, "
                      "slower) until an ordered mode exists", PerformanceWarning, stacklevel=4)


def _register_custom_op():
    torch = _torch()
    from torch.library import custom_op

    @custom_op("flashmlir::attention", mutates_args=())
    def attention_op(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                     cu_seqlens_q: Optional[torch.Tensor], cu_seqlens_k: Optional[torch.Tensor],
                     mask: str, align: str, window_left: int, window_right: int,
                     softcap: float, scale: float, kernel: str, block_m: int, block_n: int,
                     stages: int, deterministic: bool = False
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
        varlen = cu_seqlens_q is not None
        spec = _spec_for(q, k, v, mask=mask, align=align, window=(window_left, window_right),
                         softcap=softcap, scale=None if scale < 0 else scale,
                         varlen=cu_seqlens_q.numel() - 1 if varlen else 0, lse=True,
                         traced=None, kernel=kernel,
                         tiles={"block_m": block_m, "block_n": block_n, "stages": stages})
        return _run(spec, q, k, v, cu_seqlens_q, cu_seqlens_k, [])

    @attention_op.register_fake
    def _(q, k, v, cu_seqlens_q, cu_seqlens_k, mask, align, window_left, window_right,
          softcap, scale, kernel, block_m, block_n, stages, deterministic=False):
        return _outputs(q, v, cu_seqlens_q is not None)

    # Gradients (torch.ops.flashmlir.attention_backward): on CPU tensors the
    # compiled backward (attn.attention_grad on the CPU path); on CUDA tensors,
    # unless FLASHMLIR_HOPPER_BACKWARD=0, the compiled Hopper backward where it
    # takes the spec (_run_hopper_grad), else a recompute in float32 PyTorch
    # math (flashmlir.backward).
    def setup_context(ctx, inputs, output):
        (q, k, v, cu_q, cu_k, mask, align, left, right, softcap, scale, kernel, block_m,
         block_n, stages, deterministic) = inputs  # (torch fills in the defaults)
        ctx.save_for_backward(q, k, v, cu_q, cu_k, *output)
        ctx.spec_options = dict(mask=mask, align=align, window=(left, right),
                                softcap=softcap, scale=None if scale < 0 else scale,
                                kernel=kernel, tiles={"block_m": block_m,
                                                      "block_n": block_n, "stages": stages},
                                deterministic=deterministic)

    def backward(ctx, grad_out, grad_lse):
        q, k, v, cu_q, cu_k, out, lse = ctx.saved_tensors
        o = ctx.spec_options
        dq, dk, dv = attention_backward_op(
            q, k, v, out, lse, grad_out, grad_lse, cu_q, cu_k, o["mask"], o["align"],
            o["window"][0], o["window"][1], float(o["softcap"]),
            -1.0 if o["scale"] is None else float(o["scale"]), o["kernel"],
            o["tiles"]["block_m"], o["tiles"]["block_n"], o["tiles"]["stages"],
            o["deterministic"])
        return (dq, dk, dv) + (None,) * 13

    # The backward as a custom op of its own (with a fake implementation), so
    # AOTAutograd traces a training step's backward graph through it.
    @custom_op("flashmlir::attention_backward", mutates_args=())
    def attention_backward_op(
            q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, out: torch.Tensor,
            lse: torch.Tensor, grad_out: Optional[torch.Tensor],
            grad_lse: Optional[torch.Tensor], cu_seqlens_q: Optional[torch.Tensor],
            cu_seqlens_k: Optional[torch.Tensor], mask: str, align: str, window_left: int,
            window_right: int, softcap: float, scale: float, kernel: str, block_m: int,
            block_n: int, stages: int, deterministic: bool = False
            ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        spec = lambda: _spec_for(  # noqa: E731
            q, k, v, mask=mask, align=align, window=(window_left, window_right),
            softcap=softcap, scale=None if scale < 0 else scale,
            varlen=cu_seqlens_q.numel() - 1 if cu_seqlens_q is not None else 0, lse=True,
            traced=None, kernel=kernel,
            tiles={"block_m": block_m, "block_n": block_n, "stages": stages})
        route = _backward_route(q, deterministic)
        if route == "cpu":
            return _run_cpu_grad(spec(), q, k, v, out, lse, grad_out, grad_lse, cu_seqlens_q,
                                 cu_seqlens_k)
        if route == "hopper":
            # None: FLASHMLIR_HOPPER_BACKWARD off, or the spec not taken.
            grads = _run_hopper_grad(spec(), q, k, v, out, lse, grad_out, grad_lse,
                                     cu_seqlens_q, cu_seqlens_k)
            if grads is not None:
                return grads
        elif deterministic:
            _warn_deterministic_recompute()
        from .backward import attention_grads

        return attention_grads(q, k, v, grad_out, grad_lse, cu_seqlens_q, cu_seqlens_k,
                               window=(window_left, window_right), align=align,
                               softcap=softcap, scale=None if scale < 0 else scale)

    @attention_backward_op.register_fake
    def _(q, k, v, out, lse, grad_out, grad_lse, cu_seqlens_q, cu_seqlens_k, *options):
        return torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)

    attention_op.register_autograd(backward, setup_context=setup_context)
    return attention_op


try:
    _attention_op = _register_custom_op()
except ImportError:  # no torch: flashmlir.compile still works
    _attention_op = None
