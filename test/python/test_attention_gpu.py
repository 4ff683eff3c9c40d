"""On an sm_90 GPU: flashmlir.attention and the flash_attn drop-ins against a
float64 reference with the accuracy rule of ../shared/ANCHORS.md

    max|out - ref64| <= 2 * max|out_torch_same_dtype - ref64| + floor

on random N(0, 1) data with NaN-poisoned outputs (FLASHMLIR_POISON_OUTPUTS),
the whole numeric matrix (odd lengths, Sq != Sk both alignments, GQA/MQA,
windows, softcap, score_mod, mask_mod, varlen, Dv != D), torch.compile of a
small Transformer block, and cache hits. Skips (visibly) without such a GPU.
"""

import math
import os
import pathlib
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
if not torch.cuda.is_available() or torch.cuda.get_device_capability() != (9, 0):
    pytest.skip("needs an sm_90 (Hopper) GPU", allow_module_level=True)

os.environ["FLASHMLIR_POISON_OUTPUTS"] = "1"
import flashmlir  # noqa: E402
import flashmlir.ops  # noqa: E402
from flashmlir import flash_attn as fa  # noqa: E402

flashmlir.ops._POISON = True
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from attention_cases import Case, torch_reference  # noqa: E402

DT = {"f16": torch.float16, "bf16": torch.bfloat16, "f32": torch.float32}
FLOOR = {"f32": 1e-5, "f16": 2 ** -11, "bf16": 2 ** -8}


def definition(case, q, k, v, dtype, slopes=None, docs=None):
    """attn.attention from its definition in `dtype`: out (B, Sq, Hq, Dv), lse (B, Hq, Sq)."""
    return torch_reference(case, q, k, v, dtype, slopes, docs, docs)


def assert_accurate(case, out, lse, ref, ref_lse, same):
    got = out.double()
    assert not torch.isnan(got).any(), "unwritten (NaN) output elements"
    err = (got - ref).abs().max().item()
    bound = 2 * (same.double() - ref).abs().max().item() + FLOOR[case.dtype]
    assert err <= bound, f"max|out - ref64| = {err:.3g} > {bound:.3g}"
    if lse is not None:
        hidden = torch.isinf(ref_lse)
        assert not torch.isnan(lse).any()
        assert bool((torch.isneginf(lse.double()) == hidden).all())
        if (~hidden).any():
            lerr = (lse.double()[~hidden] - ref_lse[~hidden]).abs().max().item()
            assert lerr <= 1e-4 * (1 + ref_lse[~hidden].abs().max().item())


# The Hopper kernel's correctness cases (test/gpu/cases.py, shared with run_numerics.py),
# plus what runs on the SIMT kernel (f32: D = 96, and both modifiers).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "gpu"))
from cases import HOPPER_CASES  # noqa: E402

MATRIX = [c for c in HOPPER_CASES if c.lse] + [
    Case("simt_d96_f32", 70, 90, head_dim=96, dtype="f32"),
    Case("simt_alibi_document_200x200_f32", 200, 200, mask="causal", alibi=True,
         document_mask=True, dtype="f32", heads_q=4, heads_kv=2),
]


def inputs(case, seed):
    g = torch.Generator(device="cuda").manual_seed(seed)
    dt = DT[case.dtype]
    b, sq, sk = case.nbatch, case.total_q, case.total_k
    q = torch.randn(b, sq, case.heads_q, case.head_dim, generator=g, device="cuda").to(dt)
    k = torch.randn(b, sk, case.heads_kv, case.head_dim, generator=g, device="cuda").to(dt)
    v = torch.randn(b, sk, case.heads_kv, case.dv, generator=g, device="cuda").to(dt)
    return q, k, v


@pytest.mark.parametrize("case", MATRIX, ids=[c.name for c in MATRIX])
def test_attention_matrix(case):
    q, k, v = inputs(case, seed=len(case.name))
    kwargs = dict(causal=case.mask == "causal", causal_align=case.align, softcap=case.softcap,
                  scale=case.scale, return_lse=True)
    if case.mask == "window":
        kwargs["window"] = case.window
    slopes = docs = None
    if case.alibi:
        slopes = torch.tensor([2.0 ** (-8.0 * (h + 1) / case.heads_q)
                               for h in range(case.heads_q)], device="cuda")
        kwargs["score_mod"] = lambda s, b, h, qi, kj: s + slopes[h] * (kj - qi)
    if case.document_mask:
        docs = torch.sort(torch.randint(0, 7, (max(case.total_q, case.total_k),),
                                        device="cuda")).values.to(torch.int32)
        kwargs["mask_mod"] = lambda b, h, qi, kj: docs[qi] == docs[kj]
    if case.varlen_q is not None:
        cu = lambda lens: torch.tensor(np.concatenate([[0], np.cumsum(lens)]),  # noqa: E731
                                       dtype=torch.int32, device="cuda")
        out, lse = flashmlir.attention(q[0], k[0], v[0], cu_seqlens_q=cu(case.varlen_q),
                                       cu_seqlens_k=cu(case.varlen_k), **kwargs)
        out, lse = out[None], lse[None]
    else:
        out, lse = flashmlir.attention(q, k, v, **kwargs)
    torch.cuda.synchronize()
    ref, ref_lse = definition(case, q, k, v, torch.float64, slopes, docs)
    same, _ = definition(case, q, k, v, DT[case.dtype], slopes, docs)
    assert_accurate(case, out, lse, ref, ref_lse, same)


def sdpa(q, k, v, causal=False, dtype=torch.float64, scale=None):
    """torch SDPA on (B, S, H, D), GQA by repetition, bottom-right causal."""
    g = q.shape[2] // k.shape[2]
    qt, kt, vt = (x.to(dtype).transpose(1, 2) for x in (q, k.repeat_interleave(g, 2),
                                                         v.repeat_interleave(g, 2)))
    mask = None
    if causal:
        sq, sk = q.shape[1], k.shape[1]
        mask = torch.ones(sq, sk, dtype=torch.bool, device=q.device).tril(sk - sq)
    o = torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, attn_mask=mask, scale=scale)
    return o.transpose(1, 2)


def check_vs_sdpa(out, q, k, v, causal=False, scale=None):
    ref = sdpa(q, k, v, causal, torch.float64, scale)
    same = sdpa(q, k, v, causal, q.dtype, scale)
    err = (out.double() - ref).abs().max().item()
    bound = 2 * (same.double() - ref).abs().max().item() + FLOOR[
        "bf16" if q.dtype == torch.bfloat16 else "f16"]
    assert not torch.isnan(out).any() and err <= bound, f"{err:.3g} > {bound:.3g}"


def rand(*shape, dtype=torch.bfloat16, seed=0):
    g = torch.Generator(device="cuda").manual_seed(seed)
    return torch.randn(*shape, generator=g, device="cuda").to(dtype)


# Every P·V schedule of the Hopper kernel (attn-plan-hopper's pv_schedule), also in
# the persistent kernel with several tiles per CTA (5 CTAs): odd lengths, ragged last
# KV block, both masks, every head dim.
SCHEDULE_POINTS = [(64, 333, "none"), (128, 700, "none"), (128, 700, "causal"),
                   (256, 333, "none"), (256, 461, "causal")]


@pytest.mark.parametrize("schedule", ["serial", "deferred", "overlap"])
@pytest.mark.parametrize("d,s,mask", SCHEDULE_POINTS,
                         ids=[f"d{d}_{s}_{m}" for d, s, m in SCHEDULE_POINTS])
def test_pv_schedules(schedule, d, s, mask):
    q, k, v = (rand(2, s, 4, d, seed=i) for i in range(3))
    spec = flashmlir.AttentionSpec(dtype="bf16", batch=2, seqlen_q=s, seqlen_k=s, heads_q=4,
                                   heads_kv=4, head_dim=d, head_dim_v=d, mask=mask,
                                   lse=False, kernel="hopper", pv_schedule=schedule,
                                   persistent_ctas=5)
    kern = flashmlir.compile(spec)
    out = torch.full_like(q, float("nan"))
    kern.launcher(0)(q, k, v, out)
    torch.cuda.synchronize()
    check_vs_sdpa(out, q, k, v, causal=mask == "causal")


@pytest.mark.parametrize("epilogue, message", [
    ("direct", "argument 3: a 16-bit tensor must be 4-byte aligned"),
    ("tma", "argument 3: a tensor the kernel accesses with TMA must be 16-byte aligned")])
def test_misaligned_output_is_refused(epilogue, message):
    # O is written in 4-byte words (direct) or by TMA (16-byte aligned base): a view
    # at an odd element offset is an error naming the argument, never a misaligned
    # store.
    q, k, v = (rand(1, 130, 2, 64, seed=i) for i in range(3))
    spec = flashmlir.AttentionSpec(dtype="bf16", batch=1, seqlen_q=130, seqlen_k=130,
                                   heads_q=2, heads_kv=2, head_dim=64, head_dim_v=64,
                                   lse=False, kernel="hopper", epilogue=epilogue)
    kern = flashmlir.compile(spec)
    out = torch.empty(q.numel() + 1, dtype=q.dtype, device="cuda")[1:].view(q.shape)
    with pytest.raises(ValueError, match=message):
        kern.launcher(0)(q, k, v, out)
    out = torch.full_like(q, float("nan"))
    kern.launcher(0)(q, k, v, out)
    torch.cuda.synchronize()
    check_vs_sdpa(out, q, k, v)


def test_flash_attn_func_and_packed():
    q, k, v = rand(2, 333, 8, 128, seed=1), rand(2, 500, 2, 128, seed=2), rand(2, 500, 2, 128, seed=3)
    check_vs_sdpa(fa.flash_attn_func(q, k, v, causal=True), q, k, v, causal=True)
    check_vs_sdpa(fa.flash_attn_func(q, k, v, softmax_scale=0.05), q, k, v, scale=0.05)
    out, lse, probs = fa.flash_attn_func(q, k, v, return_attn_probs=True)
    assert probs is None and lse.shape == (2, 8, 333) and lse.dtype == torch.float32
    qkv = rand(2, 257, 3, 4, 64, dtype=torch.float16, seed=4)
    check_vs_sdpa(fa.flash_attn_qkvpacked_func(qkv, causal=True), qkv[:, :, 0], qkv[:, :, 1],
                  qkv[:, :, 2], causal=True)
    kv = rand(2, 300, 2, 2, 64, seed=5)
    q2 = rand(2, 100, 4, 64, seed=6)
    check_vs_sdpa(fa.flash_attn_kvpacked_func(q2, kv), q2, kv[:, :, 0], kv[:, :, 1])


@pytest.mark.parametrize("mask,schedule,d,extra", [
    ("causal", "auto", 128, {}), ("none", "auto", 128, {}), ("causal", "tiles", 128, {}),
    ("causal", "auto", 128, {"softcap": 30.0}), ("window", "auto", 128, {"window": (300, 0)}),
    ("causal", "auto", 64, {}), ("none", "auto", 256, {})])
def test_dynamic_seqlens_one_kernel_many_lengths(mask, schedule, d, extra):
    # One kernel compiled for any Sq, Sk (dynamic_seqlens): the launcher computes
    # the grid and the sizes it passes from each call's tensors. d=128 is
    # persistent (causal: over pairs of q-blocks) with the work counted per call;
    # 5000 x 4500 gives each of the 132 CTAs several tiles; "tiles", windows and
    # d=256: one CTA per tile; softcap: persistent with work on every score; d=64
    # causal: BlockM 128, paired persistent (the dynamic-length choice).
    spec = flashmlir.AttentionSpec(dtype="bf16", batch=2, seqlen_q=1, seqlen_k=1, heads_q=4,
                                   heads_kv=2, head_dim=d, head_dim_v=d, mask=mask,
                                   dynamic_seqlens=True, schedule=schedule, **extra)
    kernel = flashmlir.compile(spec)
    persistent = schedule == "auto" and d <= 128 and mask != "window"
    assert (kernel.metadata["persistent_ctas"] > 0) == persistent
    run = kernel.launcher(0)
    for n, (sq, sk) in enumerate(((1, 1), (129, 300), (1000, 1000), (333, 200),
                                  (5000, 4500))):
        q, k, v = rand(2, sq, 4, d, seed=n), rand(2, sk, 2, d, seed=10 + n), \
            rand(2, sk, 2, d, seed=20 + n)
        out = torch.full_like(q, float("nan"))
        lse = torch.full((2, 4, sq), float("nan"), device="cuda")
        run(q, k, v, out, lse)
        torch.cuda.synchronize()
        case = Case("dyn", sq, sk, heads_q=4, heads_kv=2, batch=2, dtype="bf16", mask=mask,
                    head_dim=d, **extra)
        ref, ref_lse = definition(case, q, k, v, torch.float64)
        same, _ = definition(case, q, k, v, torch.bfloat16)
        assert_accurate(case, out, lse, ref, ref_lse, same)


def test_dynamic_seqlens_knob(monkeypatch):
    # FLASHMLIR_DYNAMIC_SEQLENS=1: flashmlir.attention runs new lengths on one kernel.
    monkeypatch.setenv("FLASHMLIR_DYNAMIC_SEQLENS", "1")
    flashmlir.cache.clear_memory()
    specs = set()
    for n, (sq, sk) in enumerate(((200, 200), (517, 300), (1024, 1024))):
        q, k, v = rand(1, sq, 4, 64, seed=n), rand(1, sk, 4, 64, seed=5 + n), \
            rand(1, sk, 4, 64, seed=9 + n)
        out, lse = flashmlir.attention(q, k, v, causal=True, return_lse=True)
        case = Case("dk", sq, sk, heads_q=4, heads_kv=4, dtype="bf16", mask="causal")
        ref, ref_lse = definition(case, q, k, v, torch.float64)
        same, _ = definition(case, q, k, v, torch.bfloat16)
        assert_accurate(case, out, lse, ref, ref_lse, same)
        specs.update(key for key in flashmlir.cache._memory)
    assert len(specs) == 1, specs


def test_modifier_backward_on_the_gpu():
    # flash_attn's alibi_slopes (a traced score_mod) under autograd, causal, GQA:
    # the Hopper kernel forward, the recompute backward; dQ, dK, dV against
    # float64 autograd of the definition (bf16 inputs: a bf16-sized tolerance).
    q = rand(1, 257, 4, 64, seed=1).requires_grad_()
    k = rand(1, 300, 2, 64, seed=2).requires_grad_()
    v = rand(1, 300, 2, 64, seed=3).requires_grad_()
    slopes = torch.tensor([0.5, 0.25, 0.125, 0.0625], device="cuda")
    out = fa.flash_attn_func(q, k, v, causal=True, alibi_slopes=slopes)
    w = torch.randn(out.shape, device="cuda", generator=torch.Generator("cuda").manual_seed(4))
    (out.float() * w).sum().backward()
    ref = [t.detach().double().requires_grad_() for t in (q, k, v)]
    kk, vv = (t.repeat_interleave(2, 2) for t in ref[1:])
    s = torch.einsum("bqhd,bkhd->bhqk", ref[0], kk) / 8.0
    i = torch.arange(257, device="cuda")[:, None]
    j = torch.arange(300, device="cuda")[None, :]
    s = s + slopes.double()[:, None, None] * (j - i - 43)   # bottom-right: i' = i + 43
    s = s.masked_fill(j > i + 43, -math.inf)
    (torch.einsum("bhqk,bkhd->bqhd", torch.softmax(s, -1), vv) * w.double()).sum().backward()
    for got, want in zip((q, k, v), ref):
        err = (got.grad.double() - want.grad).abs().max().item()
        assert err <= 2e-2 * (1 + want.grad.abs().max().item()), err


def test_flash_attn_window_and_alibi():
    q, k, v = rand(1, 300, 4, 64, seed=7), rand(1, 300, 4, 64, seed=8), rand(1, 300, 4, 64, seed=9)
    case = Case("w", 300, 300, heads_q=4, heads_kv=4, dtype="bf16", mask="window",
                window=(50, 10))
    out = fa.flash_attn_func(q, k, v, window_size=(50, 10))
    ref, _ = definition(case, q, k, v, torch.float64)
    same, _ = definition(case, q, k, v, torch.bfloat16)
    assert_accurate(case, out, None, ref, None, same)
    slopes = torch.tensor([0.5, 0.25, 0.125, 0.0625], device="cuda")
    out = fa.flash_attn_func(q, k, v, causal=True, alibi_slopes=slopes)
    # flash_attn's ALiBi under a causal mask: -slope·|i - j| = slope·(j - i).
    case = Case("a", 300, 300, heads_q=4, heads_kv=4, dtype="bf16", mask="causal")
    ref, _ = definition(case, q, k, v, torch.float64, slopes)
    same, _ = definition(case, q, k, v, torch.bfloat16, slopes)
    assert_accurate(case, out, None, ref, None, same)


def test_modifier_calls_take_the_fast_path(monkeypatch):
    # A call with the same modifier code and captures as an earlier one skips the
    # trace, checks and spec; the kernel reads the captured tensor in place, so an
    # in-place update is seen, and a new tensor is a new key. (Poisoned outputs
    # turn the fast path off: not here.)
    monkeypatch.setattr(flashmlir.ops, "_POISON", False)
    q, k, v = rand(1, 300, 4, 64, seed=11), rand(1, 300, 4, 64, seed=12), rand(1, 300, 4, 64, seed=13)
    slopes = torch.tensor([0.5, 0.25, 0.125, 0.0625], device="cuda")

    def alibi(score, b, h, q_idx, kv_idx):
        return score + slopes[h] * (kv_idx - q_idx)

    case = Case("a", 300, 300, heads_q=4, heads_kv=4, dtype="bf16", mask="causal")

    def check(out, s):
        ref, _ = definition(case, q, k, v, torch.float64, s)
        same, _ = definition(case, q, k, v, torch.bfloat16, s)
        assert_accurate(case, out, None, ref, None, same)

    before = len(flashmlir.ops._fast_calls)
    first = flashmlir.attention(q, k, v, causal=True, score_mod=alibi)
    assert len(flashmlir.ops._fast_calls) == before + 1
    again = flashmlir.attention(q, k, v, causal=True, score_mod=alibi)
    assert len(flashmlir.ops._fast_calls) == before + 1
    assert torch.equal(first, again)
    check(again, slopes)
    slopes.mul_(4)
    check(flashmlir.attention(q, k, v, causal=True, score_mod=alibi), slopes)
    slopes = slopes / 8  # a new tensor: traced again (new key)
    check(flashmlir.attention(q, k, v, causal=True, score_mod=alibi), slopes)
    assert len(flashmlir.ops._fast_calls) == before + 2


def test_flash_attn_varlen_func():
    lens_q, lens_k = [100, 1, 37, 250], [120, 64, 37, 250]
    cu = lambda lens: torch.tensor(np.concatenate([[0], np.cumsum(lens)]), dtype=torch.int32,  # noqa: E731
                                   device="cuda")
    q = rand(sum(lens_q), 8, 128, seed=10)
    k, v = rand(sum(lens_k), 2, 128, seed=11), rand(sum(lens_k), 2, 128, seed=12)
    out, lse, _ = fa.flash_attn_varlen_func(q, k, v, cu(lens_q), cu(lens_k), max(lens_q),
                                            max(lens_k), causal=True, return_attn_probs=True)
    assert out.shape == q.shape and lse.shape == (8, sum(lens_q))
    for n in range(len(lens_q)):
        q0, k0 = sum(lens_q[:n]), sum(lens_k[:n])
        sl_q, sl_k = slice(q0, q0 + lens_q[n]), slice(k0, k0 + lens_k[n])
        check_vs_sdpa(out[sl_q][None], q[sl_q][None], k[sl_k][None], v[sl_k][None], causal=True)


def test_second_call_hits_the_cache():
    q, k, v = rand(1, 777, 4, 64, seed=13), rand(1, 777, 4, 64, seed=14), rand(1, 777, 4, 64, seed=15)
    flashmlir.attention(q, k, v)
    compiles = flashmlir.cache.stats["compiles"] + flashmlir.cache.stats["disk_hits"]
    hits = flashmlir.cache.stats["memory_hits"]
    flashmlir.attention(q, k, v)
    assert flashmlir.cache.stats["compiles"] + flashmlir.cache.stats["disk_hits"] == compiles
    assert flashmlir.cache.stats["memory_hits"] == hits + 1


def test_torch_compile_transformer_block():
    class Block(torch.nn.Module):
        def __init__(self, dim=512, heads=4, kv_heads=2):
            super().__init__()
            self.h, self.kvh, self.d = heads, kv_heads, dim // heads
            self.norm = torch.nn.LayerNorm(dim)
            self.q = torch.nn.Linear(dim, dim)
            self.kv = torch.nn.Linear(dim, 2 * kv_heads * self.d)
            self.proj = torch.nn.Linear(dim, dim)
            self.mlp = torch.nn.Sequential(torch.nn.Linear(dim, 4 * dim), torch.nn.GELU(),
                                           torch.nn.Linear(4 * dim, dim))

        def forward(self, x):
            b, s, _ = x.shape
            y = self.norm(x)
            q = self.q(y).view(b, s, self.h, self.d)
            k, v = self.kv(y).view(b, s, 2, self.kvh, self.d).unbind(2)
            o = fa.flash_attn_func(q, k, v, causal=True)
            x = x + self.proj(o.reshape(b, s, -1))
            return x + self.mlp(x)

    # Inference: the op is forward-only (no autograd formula yet), so a
    # graph that needs gradients through it is refused at trace time.
    block = Block().cuda().to(torch.bfloat16).eval()
    x = rand(2, 384, 512, seed=16)
    with torch.no_grad():
        eager = block(x)
        compiled = torch.compile(block, fullgraph=True)
        got = compiled(x)
        torch.cuda.synchronize()
        assert (got.float() - eager.float()).abs().max().item() < 0.1
        explanation = torch._dynamo.explain(block)(x)
    assert explanation.graph_break_count == 0


def test_unsupported_gpu_message_names_the_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a: (8, 0))
    monkeypatch.setattr(flashmlir.ops, "_devices_checked", set())
    q = rand(1, 64, 2, 64)
    with pytest.raises(ValueError, match="need an sm_90"):
        flashmlir.attention(q, q, q)


@pytest.mark.parametrize("causal", [False, True])
def test_fp8_with_descales_on_the_gpu(causal):
    # float8_e4m3fn q, k, v with (B, Hkv) descales through flash_attn_func (FA3's FP8
    # interface): out in bfloat16 = softmax(scale·(dq·Q)(dk·K)ᵀ)(dv·V) against float64.
    # The wgmma kernel has no FP8 yet: this runs the SIMT kernel (a PerformanceWarning).
    g = torch.Generator(device="cuda").manual_seed(5)
    q8, k8, v8 = ((8 * torch.randn(2, n, h, 64, device="cuda", generator=g)).to(
        torch.float8_e4m3fn) for n, h in ((129, 4), (300, 2), (300, 2)))
    dq, dk, dv = (torch.rand(2, 2, device="cuda", generator=g) / 4 + 1 / 16 for _ in range(3))
    with pytest.warns(flashmlir.PerformanceWarning):
        out = fa.flash_attn_func(q8, k8, v8, causal=causal, q_descale=dq, k_descale=dk,
                                 v_descale=dv)
    assert out.dtype == torch.bfloat16 and out.shape == (2, 129, 4, 64)
    per_head = lambda d: d.double()[:, None, :, None]  # noqa: E731  (B, 1, H, 1)
    scaled = [q8.double() * per_head(dq.repeat_interleave(2, 1)), k8.double() * per_head(dk),
              v8.double() * per_head(dv)]
    case = Case("fp8", 129, 300, heads_q=4, heads_kv=2, batch=2,
                mask="causal" if causal else "none")
    ref, _ = torch_reference(case, *scaled, torch.float64)
    err = (out.double() - ref).abs().max().item()
    assert err <= 2 ** -7 * ref.abs().max().item() + 1e-3, err
