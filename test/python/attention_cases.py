"""Attention problems of the test suites: the Case, its MLIR, its reference, the GPU matrices.

A `Case` describes one attention specialization and its shapes. `attention_mlir(case)`
writes the memref-level `attn.attention` function the compiler is run on (the CPU numerics,
and make_bundle.py for attn-compile), `attention_grad_mlir(case)` its backward
(`attn.attention_grad`, the CPU backward numerics); `case_reference(case, ...)` runs the one reference
attention, flashmlir.testing.reference (the definition, in float64 or the input dtype), on
the case's options. HOPPER_CASES and SIMT_CASES are the GPU numerics matrices
(test_attention_gpu.py runs them; make_bundle.py compiles them with attn-compile).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional, Sequence

import numpy as np

MLIR_TYPES = {"f32": "f32", "f16": "f16", "bf16": "bf16", "f8e4m3": "f8E4M3FN"}


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    seqlen_q: int
    seqlen_k: int
    heads_q: int = 2
    heads_kv: int = 2
    head_dim: int = 64
    head_dim_v: Optional[int] = None
    batch: int = 1
    dtype: str = "f32"
    mask: str = "none"              # none | causal | window
    align: str = "bottom_right"     # top_left | bottom_right
    window: tuple = (-1, -1)        # (left, right) for mask == "window"
    softcap: float = 0.0
    scale: Optional[float] = None
    alibi: bool = False             # score_mod: s + slope[h] * (kv_idx - q_idx)
    document_mask: bool = False     # mask_mod: doc_q[q_idx] == doc_k[kv_idx]
    varlen_q: Optional[Sequence[int]] = None   # per-sequence lengths (packed, batch 1)
    varlen_k: Optional[Sequence[int]] = None
    lse: bool = True
    dynamic: bool = False           # '?' for B, S, H in the memref types

    @property
    def fp8(self) -> bool:
        return self.dtype == "f8e4m3"

    @property
    def out_dtype(self) -> str:
        """FP8 inputs produce bf16; other inputs their own type."""
        return "bf16" if self.fp8 else self.dtype

    @property
    def dv(self) -> int:
        return self.head_dim_v or self.head_dim

    @property
    def total_q(self) -> int:
        return sum(self.varlen_q) if self.varlen_q is not None else self.seqlen_q

    @property
    def total_k(self) -> int:
        return sum(self.varlen_k) if self.varlen_k is not None else self.seqlen_k

    @property
    def nbatch(self) -> int:
        return 1 if self.varlen_q is not None else self.batch

    def window_bounds(self) -> tuple:
        return {"none": (-1, -1), "causal": (-1, 0), "window": tuple(self.window)}[self.mask]


def _memref(case: Case, dims: Sequence[int], elem: str, dynamic_axes=()) -> str:
    shape = "x".join("?" if (case.dynamic and i in dynamic_axes) else str(d)
                     for i, d in enumerate(dims))
    return f"memref<{shape}x{elem}>" if shape else f"memref<{elem}>"


def _modifiers(case: Case, sq: int, sk: int):
    """(arguments, attributes, regions): the case's mask, scale and softcap, its ALiBi
    score_mod (reading %slopes [Hq]) and document mask_mod (reading %doc_q, %doc_k)."""
    args = []
    if case.alibi:
        args.append(f"%slopes: memref<{case.heads_q}xf32>")
    if case.document_mask:
        args += [f"%doc_q: memref<{sq}xi32>", f"%doc_k: memref<{sk}xi32>"]

    attrs = ""
    if case.mask == "causal":
        attrs += f" mask<causal, {case.align}>"
    elif case.mask == "window":
        attrs += f" mask<window [{case.window[0]}, {case.window[1]}], {case.align}>"
    if case.scale is not None:
        attrs += f" scale({case.scale!r})"
    if case.softcap:
        attrs += f" softcap({case.softcap!r})"
    regions = ""
    if case.alibi:
        regions += """ score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
        %slope = memref.load %slopes[%h] : memref<""" + str(case.heads_q) + """xf32>
        %d = arith.subi %kj, %qi : index
        %di = arith.index_cast %d : index to i64
        %df = arith.sitofp %di : i64 to f32
        %bias = arith.mulf %slope, %df : f32
        %r = arith.addf %s, %bias : f32
        attn.yield %r : f32
      }"""
    if case.document_mask:
        regions += f""" mask_mod {{
      ^bb0(%b: index, %h: index, %qi: index, %kj: index):
        %dq = memref.load %doc_q[%qi] : memref<{sq}xi32>
        %dk = memref.load %doc_k[%kj] : memref<{sk}xi32>
        %same = arith.cmpi eq, %dq, %dk : i32
        attn.yield %same : i1
      }}"""
    return args, attrs, regions


def attention_mlir(case: Case, entry: str = "attention") -> str:
    """The function `entry(q, k, v, [cu_q, cu_k], [dq, dk, dv], out, [lse], [slopes],
    [doc_q, doc_k])` (descales [B or N, Hkv] for FP8 inputs)."""
    t = MLIR_TYPES[case.dtype]
    b, sq, sk = case.nbatch, case.total_q, case.total_k
    q_t = _memref(case, (b, sq, case.heads_q, case.head_dim), t, (0, 1, 2))
    k_t = _memref(case, (b, sk, case.heads_kv, case.head_dim), t, (0, 1, 2))
    v_t = _memref(case, (b, sk, case.heads_kv, case.dv), t, (0, 1, 2))
    o_t = _memref(case, (b, sq, case.heads_q, case.dv), MLIR_TYPES[case.out_dtype], (0, 1, 2))
    l_t = _memref(case, (b, case.heads_q, sq), "f32", (0, 1, 2))
    args = [f"%q: {q_t}", f"%k: {k_t}", f"%v: {v_t}"]
    cu = ""
    if case.varlen_q is not None:
        cu_t = _memref(case, (len(case.varlen_q) + 1,), "i32", (0,))
        args += [f"%cu_q: {cu_t}", f"%cu_k: {cu_t}"]
        cu = f" cu_seqlens(%cu_q, %cu_k : {cu_t}, {cu_t})"
    if case.fp8:
        n = len(case.varlen_q) if case.varlen_q is not None else b
        d_t = f"memref<{n}x{case.heads_kv}xf32>"
        args += [f"%dq: {d_t}", f"%dk: {d_t}", f"%dv: {d_t}"]
        cu += f" descale(%dq, %dk, %dv : {d_t}, {d_t}, {d_t})"
    args.append(f"%o: {o_t}")
    outs = f"outs(%o : {o_t})"
    if case.lse:
        args.append(f"%lse: {l_t}")
        outs = f"outs(%o, %lse : {o_t}, {l_t})"
    mod_args, attrs, regions = _modifiers(case, sq, sk)
    args += mod_args
    return f"""func.func @{entry}({", ".join(args)}) {{
  attn.attention ins(%q, %k, %v : {q_t}, {k_t}, {v_t}){cu}
      {outs}{attrs}{regions}
  return
}}
"""


def attention_grad_mlir(case: Case, entry: str = "attention_grad") -> str:
    """The backward of attention_mlir(case), attn.attention_grad: the function
    `entry(q, k, v, out, dout, lse, dlse, [cu_q, cu_k], dq, dk, dv, dq_acc, delta,
    [slopes], [doc_q, doc_k])`, dq_acc (like q) and delta (like lse) in f32."""
    if case.fp8:
        raise ValueError("there is no FP8 backward")
    t = MLIR_TYPES[case.dtype]
    b, sq, sk = case.nbatch, case.total_q, case.total_k
    q_t = _memref(case, (b, sq, case.heads_q, case.head_dim), t, (0, 1, 2))
    k_t = _memref(case, (b, sk, case.heads_kv, case.head_dim), t, (0, 1, 2))
    v_t = _memref(case, (b, sk, case.heads_kv, case.dv), t, (0, 1, 2))
    o_t = _memref(case, (b, sq, case.heads_q, case.dv), t, (0, 1, 2))
    l_t = _memref(case, (b, case.heads_q, sq), "f32", (0, 1, 2))
    acc_t = _memref(case, (b, sq, case.heads_q, case.head_dim), "f32", (0, 1, 2))
    args = [f"%q: {q_t}", f"%k: {k_t}", f"%v: {v_t}", f"%o: {o_t}", f"%do: {o_t}",
            f"%lse: {l_t}", f"%dlse: {l_t}"]
    extra = f" dlse(%dlse : {l_t})"
    if case.varlen_q is not None:
        cu_t = _memref(case, (len(case.varlen_q) + 1,), "i32", (0,))
        args += [f"%cu_q: {cu_t}", f"%cu_k: {cu_t}"]
        extra += f" cu_seqlens(%cu_q, %cu_k : {cu_t}, {cu_t})"
    args += [f"%grad_q: {q_t}", f"%grad_k: {k_t}", f"%grad_v: {v_t}", f"%dq_acc: {acc_t}",
             f"%delta: {l_t}"]
    mod_args, attrs, regions = _modifiers(case, sq, sk)
    args += mod_args
    return f"""func.func @{entry}({", ".join(args)}) {{
  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : {q_t}, {k_t}, {v_t}, {o_t}, {o_t}, {l_t}){extra}
      outs(%grad_q, %grad_k, %grad_v : {q_t}, {k_t}, {v_t})
      workspace(%dq_acc, %delta : {acc_t}, {l_t}){attrs}{regions}
  return
}}
"""


def case_reference(case: Case, q, k, v, dtype=None, *, slopes=None, doc_q=None, doc_k=None,
                   descales=None):
    """flashmlir.testing.reference with the case's scale, mask, softcap, varlen offsets and
    modifiers: ALiBi s + slopes[h]·(kv_idx − q_idx) and the document mask
    doc_q[q_idx] == doc_k[kv_idx]. q, k, v are [B, S, H, D] (B = 1, packed, for varlen),
    numpy arrays or torch tensors (slopes, docs, descales alike); computed in `dtype`
    (default float64). Returns out [B, Sq, Hq, Dv] and lse [B, Hq, Sq] (-inf where a row
    sees no key) as numpy arrays for numpy inputs, torch tensors otherwise."""
    import torch
    from flashmlir.testing import reference

    as_numpy = isinstance(q, np.ndarray)
    q, k, v = (torch.as_tensor(x) for x in (q, k, v))
    dev = q.device
    tensor = lambda x: None if x is None else torch.as_tensor(x).to(dev)  # noqa: E731
    slopes, doc_q, doc_k = tensor(slopes), tensor(doc_q), tensor(doc_k)
    score_mod = mask_mod = None
    if case.alibi:
        def score_mod(s, b, h, q_idx, kv_idx):
            return s + slopes[h] * (kv_idx - q_idx)
    if case.document_mask:
        def mask_mod(b, h, q_idx, kv_idx):
            return doc_q[q_idx] == doc_k[kv_idx]
    cu_q = cu_k = None
    if case.varlen_q is not None:
        cu_q, cu_k = (torch.tensor(np.concatenate([[0], np.cumsum(n)]), dtype=torch.int64)
                      for n in (case.varlen_q, case.varlen_k))
    out, lse = reference(
        q, k, v, scale=case.scale, align=case.align, window=case.window_bounds(),
        softcap=case.softcap, score_mod=score_mod, mask_mod=mask_mod, cu_seqlens_q=cu_q,
        cu_seqlens_k=cu_k, dtype=torch.float64 if dtype is None else dtype,
        descales=None if descales is None else tuple(tensor(d) for d in descales))
    if as_numpy:
        return out.numpy(), lse.numpy()
    return out, lse


# -- the backward's problem and accuracy rule (test_cpu_backward.py, test_backward_gpu.py)


@dataclasses.dataclass
class GradProblem:
    """Inputs of attention_grad_mlir(case) and the gradients to compare with: q, k, v
    ~ N(0, 1) in the case's dtype; out and lse of the float64 reference (out rounded to
    the dtype, lse in f32, as a forward kernel hands them over); dO ~ N(0, 1) in the
    dtype, dLSE ~ N(0, 1) (0 where a row sees no key); `ref` the float64 autograd
    gradients from those values, `same` plain PyTorch's in the dtype (None for f32)."""
    q: object
    k: object
    v: object
    out: object
    dout: object
    lse: object
    dlse: object
    extras: dict
    ref: tuple
    same: Optional[tuple]
    lse64: object


def modifier_tensors(case: Case, g):
    """ALiBi slopes 2^(-8 h / H) and random document ids (sorted), as the forward suite."""
    import torch

    extras = {}
    if case.alibi:
        extras["slopes"] = torch.tensor([2.0 ** (-8.0 * (h + 1) / case.heads_q)
                                         for h in range(case.heads_q)], dtype=torch.float32)
    if case.document_mask:
        def docs(n):
            return torch.sort(torch.randint(0, max(1, n // 20) + 1, (n,), generator=g))[0].to(
                torch.int32)
        extras["doc_q"] = docs(case.total_q)
        extras["doc_k"] = extras["doc_q"] if case.total_q == case.total_k else docs(case.total_k)
    return extras


def grad_problem(case: Case, seed: int) -> GradProblem:
    """The backward problem of `case` on the CPU (GradProblem)."""
    import torch

    dtype = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}[case.dtype]
    g = torch.Generator().manual_seed(seed)
    b, sq, sk = case.nbatch, case.total_q, case.total_k
    q, k, v = (torch.randn(shape, generator=g).to(dtype) for shape in
               ((b, sq, case.heads_q, case.head_dim), (b, sk, case.heads_kv, case.head_dim),
                (b, sk, case.heads_kv, case.dv)))
    extras = modifier_tensors(case, g)
    leaves64 = [t.double().requires_grad_() for t in (q, k, v)]
    out64, lse64 = case_reference(case, *leaves64, **extras)
    hidden = torch.isneginf(lse64.detach())
    dout = torch.randn(out64.shape, generator=g).to(dtype)
    dlse = torch.randn(lse64.shape, generator=g).masked_fill(hidden, 0)
    finite = lambda lse: torch.where(torch.isneginf(lse), torch.zeros_like(lse), lse)  # noqa: E731
    ref = torch.autograd.grad((out64, finite(lse64)), leaves64, (dout.double(), dlse.double()))
    same = None
    if dtype != torch.float32:
        leaves = [t.clone().requires_grad_() for t in (q, k, v)]
        out_same, lse_same = case_reference(case, *leaves, dtype, **extras)
        same = torch.autograd.grad((out_same, finite(lse_same)), leaves, (dout, dlse))
    return GradProblem(q, k, v, out64.detach().to(dtype), dout, lse64.detach().float(),
                       dlse.float(), extras, ref, same, lse64.detach())


def check_grads(case: Case, grads, ref, same):
    """The accuracy rule per gradient (ANCHORS.md, as FlashAttention's tests): for
    bf16/f16, max|g - ref| <= 2·max|g_same - ref| + FLOOR[dtype]; for f32 (computed in
    f32 from exact inputs) max|g - ref| <= 1e-4·(1 + max|ref|). NaN never passes.
    Returns the max errors of dq, dk, dv."""
    import torch
    from flashmlir.testing import FLOOR

    errors = []
    for name, got, want, baseline in zip(("dq", "dk", "dv"), grads, ref,
                                         same or (None,) * 3):
        got, want = got.double().cpu(), want.cpu()
        assert not torch.isnan(got).any(), f"{name}: {int(torch.isnan(got).sum())} NaN"
        err = (got - want).abs().max().item() if got.numel() else 0.0
        if baseline is None:
            bound = 1e-4 * (1 + (want.abs().max().item() if got.numel() else 0.0))
        else:
            same_err = (baseline.double().cpu() - want).abs().max().item() if got.numel() else 0.0
            bound = 2 * same_err + FLOOR[baseline.dtype]
        assert err <= bound, f"{name}: max|err| {err:.3g} > bound {bound:.3g}"
        errors.append(err)
    return errors


# -- the GPU numerics matrices (static shapes) --------------------------------------------
# SIMT_CASES for the SIMT bring-up kernel, HOPPER_CASES for the warp-specialized Hopper
# kernel (bf16/f16, D and Dv every multiple of 16 up to 256, score_mod and mask_mod
# included). Cases
# with lse=False are the benchmark's shapes (B·S = 16k tokens, hidden 2048): compiled
# without the LSE output, checked like the others. test_attention_gpu.py runs both on an
# sm_90 GPU; make_bundle.py compiles them with attn-compile (PTX, launch JSON, ptxas).
SIMT_CASES = [
    Case("gpu_none_17x17_f32", 17, 17, batch=2),
    Case("gpu_none_17x17_f32_b1", 17, 17, batch=1),
    Case("gpu_none_17x17_bf16_b2", 17, 17, batch=2, dtype="bf16"),
    Case("gpu_causal_33x33_f32_b2", 33, 33, batch=2, mask="causal"),
    Case("gpu_none_100x300_f32_b1_d128", 100, 300, head_dim=128),
    Case("gpu_none_1x1000_bf16_mqa8", 1, 1000, heads_q=8, heads_kv=1, dtype="bf16"),
    Case("gpu_causal_tl_129x127_f16_d96", 129, 127, mask="causal", align="top_left",
         dtype="f16", head_dim=96),
    Case("gpu_causal_br_17x129_bf16_gqa4", 17, 129, mask="causal", dtype="bf16",
         heads_q=8, heads_kv=2, head_dim=128),
    Case("gpu_causal_br_129x17_bf16", 129, 17, mask="causal", dtype="bf16"),
    Case("gpu_causal_br_1000x1000_bf16_d128", 1000, 1000, mask="causal", dtype="bf16",
         heads_q=4, heads_kv=1, head_dim=128),
    Case("gpu_window_64_0_br_300x300_f16", 300, 300, mask="window", window=(64, 0), dtype="f16"),
    Case("gpu_window_32_32_200x129_bf16_gqa8", 200, 129, mask="window", window=(32, 32),
         dtype="bf16", heads_q=8, heads_kv=1),
    Case("gpu_softcap_causal_129x129_bf16_d256", 129, 129, mask="causal", softcap=20.0,
         dtype="bf16", head_dim=256),
    Case("gpu_alibi_causal_200x200_f16", 200, 200, mask="causal", alibi=True, dtype="f16",
         heads_q=4, heads_kv=2),
    Case("gpu_document_257x257_bf16", 257, 257, mask="causal", align="top_left",
         document_mask=True, dtype="bf16"),
    Case("gpu_varlen_causal_bf16", 0, 0, varlen_q=[17, 0, 129, 1, 64],
         varlen_k=[17, 5, 200, 1, 0], mask="causal", dtype="bf16", heads_q=4, heads_kv=2),
    Case("gpu_dv_ne_d_f16", 65, 200, head_dim=64, head_dim_v=128, dtype="f16"),
    # The benchmark's d = 128, S = 4k shape, causal and not (the SIMT kernel's speed there:
    # bench/RESULTS.md, 2026-11-22; it is a correctness baseline, not tuned).
    Case("gpu_time_4k_causal_bf16_d128", 4096, 4096, mask="causal", dtype="bf16",
         heads_q=16, heads_kv=16, head_dim=128, batch=4, lse=False),
    Case("gpu_time_4k_none_bf16_d128", 4096, 4096, dtype="bf16",
         heads_q=16, heads_kv=16, head_dim=128, batch=4, lse=False),
]


HOPPER_CASES = [
    Case("h_none_17x17_bf16_b2", 17, 17, batch=2, dtype="bf16"),
    Case("h_none_1x1000_bf16_mqa8", 1, 1000, heads_q=8, heads_kv=1, dtype="bf16"),
    Case("h_none_300x1000_bf16_d256", 300, 1000, dtype="bf16", head_dim=256),
    Case("h_none_257x513_f16_d128", 257, 513, dtype="f16", head_dim=128, batch=2),
    Case("h_causal_tl_129x127_f16_d128", 129, 127, mask="causal", align="top_left",
         dtype="f16", head_dim=128),
    Case("h_causal_br_17x129_bf16_gqa4_d128", 17, 129, mask="causal", dtype="bf16",
         heads_q=8, heads_kv=2, head_dim=128),
    Case("h_causal_br_129x17_bf16", 129, 17, mask="causal", dtype="bf16"),
    Case("h_causal_br_1000x1000_bf16_gqa4_d128", 1000, 1000, mask="causal", dtype="bf16",
         heads_q=4, heads_kv=1, head_dim=128),
    # d = 256 causal: the paired persistent kernel at BlockN 64 (Sq != Sk, odd, GQA).
    Case("h_causal_br_333x517_f16_gqa2_d256", 333, 517, mask="causal", dtype="f16",
         heads_q=4, heads_kv=2, head_dim=256, batch=2),
    Case("h_causal_tl_700x700_bf16_d256", 700, 700, mask="causal", align="top_left",
         dtype="bf16", head_dim=256),
    Case("h_window_64_0_br_300x300_f16", 300, 300, mask="window", window=(64, 0), dtype="f16"),
    Case("h_window_32_32_200x129_bf16_gqa8", 200, 129, mask="window", window=(32, 32),
         dtype="bf16", heads_q=8, heads_kv=1),
    Case("h_softcap_causal_129x129_bf16_d256", 129, 129, mask="causal", softcap=20.0,
         dtype="bf16", head_dim=256),
    # Softcap where tanh bends: scale 1 at d = 128 gives |s| ~ 11 (max ~ 50), s/20 up to ~2.5.
    Case("h_softcap_scale1_200x333_bf16_d128", 200, 333, softcap=20.0, scale=1.0,
         dtype="bf16", head_dim=128),
    Case("h_softcap_scale1_causal_257x257_f16_d64", 257, 257, mask="causal", softcap=20.0,
         scale=1.0, dtype="f16"),
    Case("h_varlen_causal_bf16", 0, 0, varlen_q=[17, 0, 129, 1, 64],
         varlen_k=[17, 5, 200, 1, 0], mask="causal", dtype="bf16", heads_q=4, heads_kv=2),
    Case("h_dv_ne_d_f16", 65, 200, head_dim=64, head_dim_v=128, dtype="f16"),
    # score_mod (ALiBi, reading a [Hq] tensor) and mask_mod (documents, reading a
    # [S] tensor) in the kernel: every head dim, GQA, Sq != Sk, a ragged last KV
    # block, with a causal/window mask and softcap on top, and packed sequences.
    Case("h_alibi_causal_200x200_f16_gqa", 200, 200, mask="causal", alibi=True, dtype="f16",
         heads_q=4, heads_kv=2),
    Case("h_alibi_none_257x513_bf16_d128", 257, 513, alibi=True, dtype="bf16",
         head_dim=128, batch=2),
    Case("h_alibi_softcap_causal_129x300_bf16_d256", 129, 300, mask="causal", alibi=True,
         softcap=20.0, dtype="bf16", head_dim=256),
    Case("h_document_257x257_bf16", 257, 257, mask="causal", align="top_left",
         document_mask=True, dtype="bf16"),
    Case("h_document_300x700_f16_d128", 300, 700, document_mask=True, dtype="f16",
         head_dim=128, heads_q=4, heads_kv=1),
    Case("h_document_window_333x333_bf16_d256", 333, 333, mask="window", window=(100, 20),
         document_mask=True, dtype="bf16", head_dim=256),
    Case("h_alibi_document_1000x1000_bf16_d128", 1000, 1000, mask="causal", alibi=True,
         document_mask=True, dtype="bf16", head_dim=128, heads_q=8, heads_kv=2),
    Case("h_varlen_alibi_document_bf16", 0, 0, varlen_q=[17, 0, 129, 1, 64],
         varlen_k=[17, 5, 200, 1, 0], mask="causal", alibi=True, document_mask=True,
         dtype="bf16", heads_q=4, heads_kv=2),
    # The head dims between 64, 128 and 256 (every multiple of 16), each tensor's shared
    # tiles in chunks of 64, 32 or 16 columns (the conversion's SwizzledRows), each dim
    # with another mask, modifier or shape: odd lengths, Sq != Sk, GQA; three consumers
    # at D = 48; the persistent kernels (paired under causal masks); Dv != D mixing two
    # layouts; varlen (the direct epilogue).
    Case("h_none_300x517_f16_gqa2_d16", 300, 517, dtype="f16", heads_q=4, heads_kv=2,
         head_dim=16, batch=2),
    Case("h_causal_br_257x300_bf16_d32", 257, 300, mask="causal", dtype="bf16", head_dim=32),
    Case("h_window_64_0_br_333x333_bf16_d48", 333, 333, mask="window", window=(64, 0),
         dtype="bf16", head_dim=48),
    Case("h_none_2049x2047_bf16_d48", 2049, 2047, dtype="bf16", head_dim=48),
    Case("h_none_1000x1000_bf16_gqa4_d80", 1000, 1000, dtype="bf16", heads_q=8, heads_kv=2,
         head_dim=80),
    Case("h_causal_tl_129x127_f16_d96", 129, 127, mask="causal", align="top_left",
         dtype="f16", head_dim=96),
    Case("h_none_257x513_bf16_d96", 257, 513, dtype="bf16", head_dim=96, batch=2),
    Case("h_causal_br_1000x1000_bf16_gqa4_d96", 1000, 1000, mask="causal", dtype="bf16",
         heads_q=4, heads_kv=1, head_dim=96),
    Case("h_alibi_causal_200x333_bf16_gqa2_d96", 200, 333, mask="causal", alibi=True,
         dtype="bf16", heads_q=4, heads_kv=2, head_dim=96),
    Case("h_document_300x300_f16_mqa4_d112", 300, 300, document_mask=True, dtype="f16",
         heads_q=4, heads_kv=1, head_dim=112),
    Case("h_softcap_scale1_200x333_bf16_d112", 200, 333, softcap=20.0, scale=1.0,
         dtype="bf16", head_dim=112),
    Case("h_causal_br_333x517_bf16_gqa2_d144", 333, 517, mask="causal", dtype="bf16",
         heads_q=4, heads_kv=2, head_dim=144, batch=2),
    Case("h_none_300x1000_f16_d160", 300, 1000, dtype="f16", head_dim=160),
    Case("h_window_32_32_200x129_bf16_gqa8_d176", 200, 129, mask="window", window=(32, 32),
         dtype="bf16", heads_q=8, heads_kv=1, head_dim=176),
    Case("h_causal_tl_700x700_bf16_d192", 700, 700, mask="causal", align="top_left",
         dtype="bf16", head_dim=192),
    Case("h_alibi_none_257x513_f16_d208", 257, 513, alibi=True, dtype="f16", head_dim=208),
    Case("h_softcap_causal_129x129_bf16_d224", 129, 129, mask="causal", softcap=20.0,
         dtype="bf16", head_dim=224),
    Case("h_alibi_document_window_333x333_bf16_d240", 333, 333, mask="window",
         window=(100, 20), alibi=True, document_mask=True, dtype="bf16", head_dim=240),
    Case("h_dv96_d64_none_65x200_f16", 65, 200, head_dim=64, head_dim_v=96, dtype="f16"),
    Case("h_dv64_d96_causal_200x300_bf16", 200, 300, mask="causal", head_dim=96,
         head_dim_v=64, dtype="bf16"),
    Case("h_dv48_d80_none_129x200_bf16", 129, 200, head_dim=80, head_dim_v=48, dtype="bf16"),
    Case("h_dv128_d176_causal_1000x1000_f16_gqa2", 1000, 1000, mask="causal", head_dim=176,
         head_dim_v=128, dtype="f16", heads_q=4, heads_kv=2),
    Case("h_dv160_d240_window_64_0_300x300_bf16", 300, 300, mask="window", window=(64, 0),
         head_dim=240, head_dim_v=160, dtype="bf16"),
    Case("h_varlen_causal_bf16_d80", 0, 0, varlen_q=[17, 0, 129, 1, 64],
         varlen_k=[17, 5, 200, 1, 0], mask="causal", dtype="bf16", heads_q=4, heads_kv=2,
         head_dim=80),
    Case("h_varlen_none_f16_d112", 0, 0, varlen_q=[17, 0, 129, 1, 64],
         varlen_k=[17, 5, 200, 1, 0], dtype="f16", heads_q=4, heads_kv=2, head_dim=112),
    Case("h_varlen_alibi_document_bf16_d96", 0, 0, varlen_q=[17, 0, 129, 1, 64],
         varlen_k=[17, 5, 200, 1, 0], mask="causal", alibi=True, document_mask=True,
         dtype="bf16", heads_q=4, heads_kv=2, head_dim=96),
    # Timing points of the FlashAttention-3 sweep (B·S = 16k tokens, hidden 2048).
    Case("h_time_4k_none_bf16_d128", 4096, 4096, dtype="bf16", heads_q=16, heads_kv=16,
         head_dim=128, batch=4, lse=False),
    Case("h_time_4k_causal_bf16_d128", 4096, 4096, mask="causal", dtype="bf16",
         heads_q=16, heads_kv=16, head_dim=128, batch=4, lse=False),
    Case("h_time_16k_none_bf16_d128", 16384, 16384, dtype="bf16", heads_q=16, heads_kv=16,
         head_dim=128, batch=1, lse=False),
    Case("h_time_16k_causal_bf16_d128", 16384, 16384, mask="causal", dtype="bf16",
         heads_q=16, heads_kv=16, head_dim=128, batch=1, lse=False),
    Case("h_time_4k_none_bf16_d64", 4096, 4096, dtype="bf16", heads_q=32, heads_kv=32,
         head_dim=64, batch=4, lse=False),
    Case("h_time_4k_none_bf16_d256", 4096, 4096, dtype="bf16", heads_q=8, heads_kv=8,
         head_dim=256, batch=4, lse=False),
    Case("h_time_1k_none_bf16_d128", 1024, 1024, dtype="bf16", heads_q=16, heads_kv=16,
         head_dim=128, batch=16, lse=False),
    # d = 96 (hidden 2048: 21 heads), the persistent kernels.
    Case("h_time_4k_none_bf16_d96", 4096, 4096, dtype="bf16", heads_q=21, heads_kv=21,
         head_dim=96, batch=4, lse=False),
    Case("h_time_4k_causal_bf16_d96", 4096, 4096, mask="causal", dtype="bf16", heads_q=21,
         heads_kv=21, head_dim=96, batch=4, lse=False),
]


# The backward on the Hopper kernels (attention_grad_mlir; make_bundle.py's `grad` kind,
# test_backward_gpu.py): the main grid through the warp-specialized level, the
# preprocess and postprocess through the SIMT mapping. bf16/f16, odd lengths, Sq != Sk
# both ways, masks, softcap, a score_mod, a mask_mod, Dv != D, varlen with empty
# sequences, dynamic shapes, GQA; D = 128 (q-blocks of 64 rows) and D = 64 (q-blocks of
# 128 rows: two m64 fragments per consumer tile).
GRAD_HOPPER_CASES = [
    Case("g_none_256x256_bf16_d128_b2", 256, 256, heads_q=4, heads_kv=4, head_dim=128,
         batch=2, dtype="bf16"),
    Case("g_none_300x200_bf16_d128", 300, 200, head_dim=128, dtype="bf16"),
    Case("g_none_77x513_f16_d128", 77, 513, head_dim=128, dtype="f16"),
    Case("g_causal_br_257x300_f16_d128", 257, 300, mask="causal", head_dim=128,
         dtype="f16"),
    Case("g_causal_tl_129x127_bf16_gqa2_d128", 129, 127, mask="causal", align="top_left",
         heads_q=4, heads_kv=2, head_dim=128, dtype="bf16"),
    Case("g_window_20_5_200x200_bf16_d128", 200, 200, mask="window", window=(20, 5),
         head_dim=128, dtype="bf16"),
    Case("g_softcap_causal_150x150_bf16_d128", 150, 150, mask="causal", softcap=5.0,
         head_dim=128, dtype="bf16"),
    Case("g_alibi_none_100x170_bf16_d128", 100, 170, alibi=True, heads_q=4, heads_kv=4,
         head_dim=128, dtype="bf16"),
    Case("g_document_none_100x100_bf16_d128", 100, 100, document_mask=True, head_dim=128,
         dtype="bf16"),
    Case("g_none_100x140_bf16_d128_dv64", 100, 140, head_dim=128, head_dim_v=64,
         dtype="bf16"),
    Case("g_varlen_causal_bf16_d128", 0, 0, varlen_q=[17, 0, 40, 1], varlen_k=[17, 5, 70, 0],
         mask="causal", heads_q=4, heads_kv=2, head_dim=128, dtype="bf16"),
    Case("g_dynamic_causal_200x200_bf16_d128_b2", 200, 200, mask="causal", head_dim=128,
         dtype="bf16", dynamic=True, batch=2),
    # D = 64: q-blocks of 128 rows, two m64 fragments per consumer tile.
    Case("g_none_300x300_bf16_d64", 300, 300, head_dim=64, dtype="bf16"),
    Case("g_causal_br_333x200_f16_d64_gqa2", 333, 200, mask="causal", heads_q=4,
         heads_kv=2, head_dim=64, dtype="f16"),
]
