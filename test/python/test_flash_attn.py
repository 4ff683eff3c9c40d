"""The flash_attn drop-ins (flashmlir.flash_attn) on the CPU path, against the float64
definition with the accuracy rule (flashmlir.testing): every head dim flash_attn takes
(up to 256; one the Hopper kernel does not take is zero-padded to the next multiple of
16 -- of 8 for FP8, which runs on the SIMT kernel --, the output sliced back, the softmax
scale that of the given head dim), and alibi_slopes of
shape (H,) and (B, H) with every function, varlen included. Broken variants of both
(the padded head dim's scale; one sequence's slopes for all) must fail the same checks.

The drop-ins take CUDA tensors only, like flash_attn; here their device check admits CPU
tensors (fa._DEVICES), so the same code runs on the CPU path. On an sm_90 GPU
test_attention_gpu.py runs them on the kernels.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import flashmlir  # noqa: E402
from flashmlir import AttentionSpec  # noqa: E402
from flashmlir import flash_attn as fa  # noqa: E402
from flashmlir.testing import assert_accurate, reference  # noqa: E402

pytestmark = pytest.mark.skipif(not flashmlir.HAS_CPU_PATH,
                                reason="flashmlir._flashmlir (CPU path) not built here")


@pytest.fixture(autouse=True)
def cpu_tensors(monkeypatch):
    monkeypatch.setattr(fa, "_DEVICES", fa._DEVICES + ("cpu",))


def rand(*shape, seed, dtype=torch.bfloat16, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return (scale * torch.randn(*shape, generator=g)).to(dtype)


def check(out, q, k, v, lse=None, **definition):
    """The accuracy rule against the float64 definition (and LSE when given)."""
    ref, ref_lse = reference(q, k, v, **definition)
    same, _ = reference(q, k, v, dtype=q.dtype, **definition)
    return assert_accurate(out, ref, same, lse=lse, ref_lse=ref_lse)


def cu(lens):
    return torch.tensor(np.concatenate([[0], np.cumsum(lens)]), dtype=torch.int32)


# -- head dims -----------------------------------------------------------------------------
@pytest.mark.parametrize("d", [8, 59, 111, 250, 256])
@pytest.mark.parametrize("causal", [False, True])
def test_every_head_dim_up_to_256(d, causal):
    q, k, v = rand(2, 33, 4, d, seed=1), rand(2, 40, 2, d, seed=2), rand(2, 40, 2, d, seed=3)
    out, lse, probs = fa.flash_attn_func(q, k, v, causal=causal, return_attn_probs=True)
    assert out.shape == (2, 33, 4, d) and lse.shape == (2, 4, 33) and probs is None
    check(out, q, k, v, lse=lse, causal=causal)        # scale 1/sqrt(d), d as given
    out = fa.flash_attn_func(q, k, v, causal=causal, softmax_scale=0.3)
    check(out, q, k, v, causal=causal, scale=0.3)


class Padded(Exception):
    """Raised by the spy below with the head dims attention() was called with."""


def spy_head_dims(monkeypatch):
    """attention() as the drop-ins call it, replaced by a spy that raises Padded with
    (D, Dv) of the tensors it is given."""
    def spy(q, k, v, **kwargs):
        raise Padded(q.shape[-1], k.shape[-1], v.shape[-1])
    monkeypatch.setattr(fa, "attention", spy)


@pytest.mark.parametrize("d,dv", [(8, 8), (40, 40), (59, 59), (72, 24), (111, 111), (120, 64),
                                  (200, 136), (248, 248)])
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_16_bit_head_dims_are_padded_for_the_hopper_kernel(monkeypatch, d, dv, dtype):
    """bf16/f16 head dims pad to the next multiple of 16, the ones the Hopper kernel
    takes: a multiple of 8 such as 40 or 72 (q/k) or 24 (v) would run on the SIMT
    kernel. The spec of the padded call resolves to the Hopper kernel."""
    m = lambda *s: torch.empty(*s, dtype=dtype, device="meta")  # noqa: E731
    spy_head_dims(monkeypatch)
    with pytest.raises(Padded) as padded:
        fa.flash_attn_func(m(1, 8, 2, d), m(1, 8, 2, d), m(1, 8, 2, dv))
    want = (-(-d // 16) * 16, -(-dv // 16) * 16)
    assert padded.value.args == (want[0], want[0], want[1])
    spec = AttentionSpec(dtype="bf16" if dtype == torch.bfloat16 else "f16", batch=1,
                         seqlen_q=8, seqlen_k=8, heads_q=2, heads_kv=2, head_dim=want[0],
                         head_dim_v=want[1])
    assert spec.resolved_kernel == "hopper"
    with pytest.raises(Padded) as padded:
        fa.flash_attn_varlen_func(m(8, 2, d), m(8, 2, d), m(8, 2, dv), cu([8]), cu([8]), 8, 8)
    assert padded.value.args == (want[0], want[0], want[1])


def test_fp8_head_dims_pad_to_8(monkeypatch):
    # FP8 runs on the SIMT kernel (and the CPU path), which takes multiples of 8.
    m = lambda *s: torch.empty(*s, dtype=torch.float8_e4m3fn, device="meta")  # noqa: E731
    spy_head_dims(monkeypatch)
    for d, want in ((40, 40), (59, 64), (111, 112)):
        with pytest.raises(Padded) as padded:
            fa.flash_attn_func(m(1, 8, 2, d), m(1, 8, 2, d), m(1, 8, 2, d))
        assert padded.value.args == (want, want, want)


@pytest.mark.parametrize("d", [40, 72, 200])
def test_head_dims_padded_to_16_are_right(d):
    # The zero columns added past a multiple of 8 (40 -> 48) change nothing: out keeps
    # the given head dim, the scale is 1/sqrt(d).
    q, k, v = rand(2, 37, 4, d, seed=30), rand(2, 45, 2, d, seed=31), rand(2, 45, 2, d, seed=32)
    out, lse, _ = fa.flash_attn_func(q, k, v, causal=True, return_attn_probs=True)
    assert out.shape == (2, 37, 4, d)
    check(out, q, k, v, lse=lse, causal=True)


def test_packed_functions_pad_too():
    qkv = rand(2, 37, 3, 4, 59, seed=4, dtype=torch.float16)
    out = fa.flash_attn_qkvpacked_func(qkv, causal=True)
    assert out.shape == (2, 37, 4, 59)
    check(out, qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2], causal=True)
    q, kv = rand(2, 20, 4, 111, seed=5), rand(2, 30, 2, 2, 111, seed=6)
    out = fa.flash_attn_kvpacked_func(q, kv, window_size=(7, 3))
    assert out.shape == (2, 20, 4, 111)
    check(out, q, kv[:, :, 0], kv[:, :, 1], window=(7, 3))


def test_varlen_pads_too():
    lens_q, lens_k = [5, 0, 17], [9, 3, 17]
    q, k, v = rand(22, 4, 59, seed=7), rand(29, 2, 59, seed=8), rand(29, 2, 59, seed=9)
    out, lse, _ = fa.flash_attn_varlen_func(q, k, v, cu(lens_q), cu(lens_k), 17, 17,
                                            causal=True, return_attn_probs=True)
    assert out.shape == (22, 4, 59) and lse.shape == (4, 22)
    check(out, q, k, v, lse=lse, causal=True, cu_seqlens_q=cu(lens_q), cu_seqlens_k=cu(lens_k))


def test_padding_is_differentiable():
    # The padded columns carry no gradient; dQ/dK/dV keep the given head dim.
    q, k, v = (rand(1, 20, 2, 59, seed=s, dtype=torch.float16).requires_grad_()
               for s in (10, 11, 12))
    fa.flash_attn_func(q, k, v, causal=True).float().square().sum().backward()
    ref = [t.detach().double().requires_grad_() for t in (q, k, v)]
    reference(*ref, causal=True)[0].square().sum().backward()
    for got, want in zip((q, k, v), ref):
        assert got.grad.shape == (1, 20, 2, 59)
        err = (got.grad.double() - want.grad).abs().max().item()
        assert err <= 2e-2 * (1 + want.grad.abs().max().item()), err


def test_head_dims_over_256_are_refused():
    m = lambda *s: torch.empty(*s, dtype=torch.bfloat16, device="meta")  # noqa: E731
    with pytest.raises(ValueError, match="head dim of q must be at most 256.*got 257"):
        fa.flash_attn_func(m(1, 8, 2, 257), m(1, 8, 2, 257), m(1, 8, 2, 257))
    with pytest.raises(ValueError, match="head dim of v must be at most 256.*got 264"):
        fa.flash_attn_varlen_func(m(8, 2, 64), m(8, 2, 64), m(8, 2, 264), cu([8]), cu([8]), 8, 8)


def test_padding_with_the_padded_scale_is_caught(monkeypatch):
    """The check can fail: a drop-in that pads 33 -> 48 but lets the softmax scale follow
    the padded head dim (1/sqrt(48) instead of 1/sqrt(33)) is rejected by the same check."""
    q, k, v = (rand(2, 64, 2, 33, seed=s, dtype=torch.float16, scale=2.0) for s in (13, 14, 15))
    check(fa.flash_attn_func(q, k, v), q, k, v)
    padded = fa._pad_head_dims

    def padded_scale(q, k, v, softmax_scale):
        q, k, v, _, dv = padded(q, k, v, softmax_scale)
        return q, k, v, None, dv                      # attention() then takes 1/sqrt(48)

    monkeypatch.setattr(fa, "_pad_head_dims", padded_scale)
    with pytest.raises(AssertionError, match="max.out - ref64"):
        check(fa.flash_attn_func(q, k, v), q, k, v)


# -- ALiBi ---------------------------------------------------------------------------------
def alibi(slopes, shift):
    """flash_attn's ALiBi as the reference's score_mod: -slope·|i + Sk - Sq - j|, slopes
    (H,) or (B, H) (row b: the batch or the sequence), shift per sequence."""
    def score_mod(s, b, h, i, j):
        slope = slopes[h] if slopes.dim() == 1 else slopes[b, h]
        return s - slope * (i + shift[b] - j).abs()
    return score_mod


def per_sequence_slopes(n, heads):
    # Steep for the first sequence, nearly flat for the last: mixing them up is visible.
    return torch.tensor([[2.0 ** (-(h + 1) * (1 + 3 * b)) for h in range(heads)]
                         for b in range(n)], dtype=torch.float32)


@pytest.mark.parametrize("shape", ["H", "BH"])
@pytest.mark.parametrize("causal", [False, True])
def test_varlen_alibi(shape, causal):
    lens_q, lens_k = [5, 0, 17, 12], [9, 3, 17, 30]
    q, k, v = rand(34, 4, 64, seed=16), rand(59, 2, 64, seed=17), rand(59, 2, 64, seed=18)
    slopes = per_sequence_slopes(4, 4)
    if shape == "H":
        slopes = slopes[0]
    out, lse, _ = fa.flash_attn_varlen_func(q, k, v, cu(lens_q), cu(lens_k), 17, 30,
                                            causal=causal, alibi_slopes=slopes,
                                            return_attn_probs=True)
    shift = torch.tensor(lens_k) - torch.tensor(lens_q)
    check(out, q, k, v, lse=lse, causal=causal, score_mod=alibi(slopes, shift),
          cu_seqlens_q=cu(lens_q), cu_seqlens_k=cu(lens_k))


def test_batch_alibi_and_head_dim_together():
    q, k, v = rand(3, 20, 4, 59, seed=19), rand(3, 25, 2, 59, seed=20), rand(3, 25, 2, 59, seed=21)
    slopes = per_sequence_slopes(3, 4)
    out = fa.flash_attn_func(q, k, v, alibi_slopes=slopes, causal=True)
    check(out, q, k, v, causal=True, score_mod=alibi(slopes, torch.full((3,), 5)))


def test_varlen_alibi_with_one_sequences_slopes_is_caught(monkeypatch):
    """The check can fail: (B, H) slopes read as if every sequence had the first one's
    (a varlen ALiBi that ignores b) are rejected by the same check."""
    lens_q, lens_k = [16, 16], [24, 24]
    q, k, v = rand(32, 2, 64, seed=22), rand(48, 2, 64, seed=23), rand(48, 2, 64, seed=24)
    slopes = per_sequence_slopes(2, 2)
    shift = torch.tensor([8, 8])
    call = lambda: fa.flash_attn_varlen_func(q, k, v, cu(lens_q), cu(lens_k), 16, 24,  # noqa: E731
                                             alibi_slopes=slopes)
    definition = dict(score_mod=alibi(slopes, shift), cu_seqlens_q=cu(lens_q),
                      cu_seqlens_k=cu(lens_k))
    check(call(), q, k, v, **definition)
    real = fa._alibi_mod
    monkeypatch.setattr(fa, "_alibi_mod", lambda s, shift, per_sequence=False: real(
        s[0], shift, per_sequence))
    with pytest.raises(AssertionError, match="max.out - ref64"):
        check(call(), q, k, v, **definition)


def test_alibi_slopes_shapes_are_checked():
    m = lambda *s: torch.empty(*s, dtype=torch.bfloat16, device="meta")  # noqa: E731
    with pytest.raises(ValueError, match=r"alibi_slopes must have shape \(4,\) or \(3, 4\)"):
        fa.flash_attn_varlen_func(m(8, 4, 64), m(8, 2, 64), m(8, 2, 64), cu([2, 3, 3]),
                                  cu([2, 3, 3]), 3, 3, alibi_slopes=torch.ones(2, 4))
