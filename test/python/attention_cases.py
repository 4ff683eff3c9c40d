"""Attention problems for the CPU numerics suite: MLIR generation and a float64 reference.

A `Case` describes one attention specialization and its shapes. `attention_mlir(case)`
writes the memref-level `attn.attention` function the compiler is run on, and
`reference(case, inputs)` computes the same attention in float64 with numpy, straight from
the definition (full score matrix, explicit masks, explicit softmax), sharing no code with
the compiler.
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
    return f"""func.func @{entry}({", ".join(args)}) {{
  attn.attention ins(%q, %k, %v : {q_t}, {k_t}, {v_t}){cu}
      {outs}{attrs}{regions}
  return
}}
"""


def reference(case: Case, q, k, v, slopes=None, doc_q=None, doc_k=None, descales=None):
    """out [B, Sq, Hq, Dv] and lse [B, Hq, Sq] in float64, from the definition (FP8:
    `descales` = (dq, dk, dv) [B or N, Hkv] multiply the sequence's Q, K, V heads)."""
    q, k, v = (np.asarray(x, dtype=np.float64) for x in (q, k, v))
    scale = case.scale if case.scale is not None else 1.0 / math.sqrt(case.head_dim)
    left, right = case.window_bounds()
    group = case.heads_q // case.heads_kv
    out = np.zeros((case.nbatch, case.total_q, case.heads_q, case.dv))
    lse = np.full((case.nbatch, case.heads_q, case.total_q), -np.inf)

    if case.varlen_q is not None:
        starts_q = np.concatenate([[0], np.cumsum(case.varlen_q)])
        starts_k = np.concatenate([[0], np.cumsum(case.varlen_k)])
        segments = [(0, starts_q[n], case.varlen_q[n], starts_k[n], case.varlen_k[n], n)
                    for n in range(len(case.varlen_q))]
    else:
        segments = [(b, 0, case.seqlen_q, 0, case.seqlen_k, b) for b in range(case.batch)]

    for batch, q0, lq, k0, lk, seq in segments:
        if lq == 0:
            continue
        qi = np.arange(lq)[:, None]
        kj = np.arange(lk)[None, :]
        diag = lk - lq if case.align == "bottom_right" else 0
        visible = np.ones((lq, lk), dtype=bool)
        if left >= 0:
            visible &= kj >= qi + diag - left
        if right >= 0:
            visible &= kj <= qi + diag + right
        if case.document_mask:
            visible &= doc_q[qi] == doc_k[kj]
        for h in range(case.heads_q):
            qs = q[batch, q0:q0 + lq, h, :]
            ks = k[batch, k0:k0 + lk, h // group, :]
            vs = v[batch, k0:k0 + lk, h // group, :]
            if descales is not None:
                dq, dk, dv = (float(d[seq, h // group]) for d in descales)
                qs, ks, vs = qs * dq, ks * dk, vs * dv
            s = scale * (qs @ ks.T)
            if case.softcap:
                s = case.softcap * np.tanh(s / case.softcap)
            if case.alibi:
                s = s + float(slopes[h]) * (kj - qi)
            s = np.where(visible, s, -np.inf)
            m = s.max(axis=1, initial=-np.inf)
            seen = np.isfinite(m)
            p = np.exp(s - np.where(seen, m, 0.0)[:, None])
            denom = p.sum(axis=1)
            o = np.where(seen[:, None], (p @ vs) / np.where(seen, denom, 1.0)[:, None], 0.0)
            out[batch, q0:q0 + lq, h, :] = o
            lse[batch, h, q0:q0 + lq] = np.where(seen, m + np.log(np.where(seen, denom, 1.0)),
                                                 -np.inf)
    return out, lse


def torch_reference(case: Case, q, k, v, dtype, slopes=None, doc_q=None, doc_k=None):
    """The same definition in torch, computed in `dtype` on q's device: float64 for the
    reference, the input dtype for the same-dtype baseline of the accuracy rule. q, k, v are
    [B, S, H, D] tensors (B = 1, packed, for varlen); returns out [B, Sq, Hq, Dv] in `dtype`
    and lse [B, Hq, Sq] in float64 (-inf where a row sees no key)."""
    import torch

    q, k, v = (x.to(dtype) for x in (q, k, v))
    scale = case.scale if case.scale is not None else 1.0 / math.sqrt(case.head_dim)
    left, right = case.window_bounds()
    group = case.heads_q // case.heads_kv
    out = torch.zeros(case.nbatch, case.total_q, case.heads_q, case.dv, dtype=dtype,
                      device=q.device)
    lse = torch.full((case.nbatch, case.heads_q, case.total_q), -math.inf,
                     dtype=torch.float64, device=q.device)
    if case.varlen_q is not None:
        sq = np.concatenate([[0], np.cumsum(case.varlen_q)])
        sk = np.concatenate([[0], np.cumsum(case.varlen_k)])
        segs = [(0, int(sq[n]), case.varlen_q[n], int(sk[n]), case.varlen_k[n])
                for n in range(len(case.varlen_q))]
    else:
        segs = [(b, 0, case.seqlen_q, 0, case.seqlen_k) for b in range(case.batch)]
    for b, q0, lq, k0, lk in segs:
        if lq == 0 or lk == 0:
            continue   # out stays 0, lse -inf: no visible key
        qi = torch.arange(lq, device=q.device)[:, None]
        kj = torch.arange(lk, device=q.device)[None, :]
        diag = lk - lq if case.align == "bottom_right" else 0
        vis = torch.ones(lq, lk, dtype=torch.bool, device=q.device)
        if left >= 0:
            vis &= kj >= qi + diag - left
        if right >= 0:
            vis &= kj <= qi + diag + right
        if doc_q is not None:
            vis &= doc_q.long()[qi] == doc_k.long()[kj]
        qs = q[b, q0:q0 + lq].transpose(0, 1)                              # [Hq, lq, D]
        ks = k[b, k0:k0 + lk].repeat_interleave(group, dim=1).transpose(0, 1)
        vs = v[b, k0:k0 + lk].repeat_interleave(group, dim=1).transpose(0, 1)
        s = (qs @ ks.transpose(1, 2)) * scale
        if case.softcap:
            s = case.softcap * torch.tanh(s / case.softcap)
        if slopes is not None:
            # A float32 bias, as plain PyTorch adds one: 16-bit scores promote to
            # float32 (a bf16 bias of slope·|i - j| ~ 100 would be off by ~0.5).
            wide = torch.promote_types(dtype, torch.float32)
            s = s.to(wide) + slopes.to(wide)[:, None, None] * (kj - qi).to(wide)
        s = s.masked_fill(~vis, -math.inf)
        m = s.amax(dim=-1, keepdim=True)
        seen = torch.isfinite(m)
        p = torch.exp(s - torch.where(seen, m, torch.zeros_like(m)))
        denom = p.sum(-1, keepdim=True)
        o = torch.where(seen, (p.to(dtype) @ vs) / torch.where(seen, denom, torch.ones_like(denom)).to(dtype),
                        torch.zeros((), dtype=dtype, device=q.device))
        out[b, q0:q0 + lq] = o.transpose(0, 1)
        lse[b, :, q0:q0 + lq] = torch.where(
            seen, m + torch.log(torch.where(seen, denom, torch.ones_like(denom))),
            torch.full_like(m, -math.inf))[..., 0].to(torch.float64)
    return out, lse
