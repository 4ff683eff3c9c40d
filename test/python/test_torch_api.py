"""The PyTorch API without a GPU: argument checks (TypeError/ValueError naming
the argument), flashmlir.attention on CPU tensors (the CPU path, against a
float64 reference), the flash_attn drop-ins' refusals, and the custom op's
fake implementation under torch.compile (meta tensors, fullgraph)."""

import math
import os
import shutil
import subprocess
import sys
import pathlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import flashmlir  # noqa: E402
from flashmlir import flash_attn as fa  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from attention_cases import Case, case_reference  # noqa: E402
from flashmlir.testing import reference  # noqa: E402


def qkv(b=2, sq=33, sk=40, hq=4, hk=2, d=64, dv=None, dtype=torch.bfloat16, device="cpu",
        seed=0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(b, sq, hq, d, generator=g).to(dtype).to(device)
    k = torch.randn(b, sk, hk, d, generator=g).to(dtype).to(device)
    v = torch.randn(b, sk, hk, dv or d, generator=g).to(dtype).to(device)
    return q, k, v


# -- argument checks ----------------------------------------------------------------
def test_rejects_non_tensors_and_bad_devices():
    q, k, v = qkv()
    with pytest.raises(TypeError, match="q must be a torch.Tensor"):
        flashmlir.attention(q.numpy() if q.dtype != torch.bfloat16 else [1], k, v)
    with pytest.raises(ValueError, match="k and v must be on one device|q, k and v must be on one device"):
        flashmlir.attention(q, k.to("meta"), v)


@pytest.mark.parametrize("make, error, message", [
    (lambda q, k, v: (q.float(), k, v), TypeError, "one dtype"),
    (lambda q, k, v: (q.to(torch.int8), k, v), TypeError,
     "q must be float16, bfloat16, float32 or float8_e4m3fn"),
    (lambda q, k, v: (q[0], k, v), ValueError, r"q must have rank 4 \(B, S, H, D\)"),
    (lambda q, k, v: (q, k[:1], v[:1]), ValueError, "same batch size"),
    (lambda q, k, v: (q, k, v[:, :5]), ValueError, "same sequence length"),
    (lambda q, k, v: (q[:, :, :3], k, v), ValueError, r"query heads \(3\) must be a multiple"),
    (lambda q, k, v: (q, k, v[:, :, :1]), ValueError, "k and v must have the same number of heads"),
    (lambda q, k, v: (q[..., :32], k, v), ValueError, "same head dim"),
    (lambda q, k, v: (q[..., :60], k[..., :60], v), ValueError, "multiple of 8, got 60"),
    (lambda q, k, v: (q.transpose(-1, -2).contiguous().transpose(-1, -2), k, v), ValueError,
     "contiguous in its last dimension"),
])
def test_rejects_bad_tensors(make, error, message):
    args = make(*qkv())
    with pytest.raises(error, match=message):
        flashmlir.attention(*args)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(causal=1), TypeError, "causal must be a bool"),
    (dict(causal_align="middle"), ValueError, "causal_align must be"),
    (dict(window=5), TypeError, "window must be a pair"),
    (dict(window=(-3, 0)), ValueError, "window bounds must be >= -1"),
    (dict(softcap=-1.0), ValueError, "softcap must be a finite number >= 0"),
    (dict(scale=0.0), ValueError, "scale must be a finite number > 0"),
    (dict(scale=float("nan")), ValueError, "scale must be a finite number > 0"),
    (dict(kernel="tpu"), ValueError, "kernel must be one of"),
    (dict(score_mod=3), TypeError, "score_mod must be a function"),
    # Accepted silently before: a float window was truncated, True was a scale.
    (dict(window=(1.7, 0)), TypeError, "window must be a pair of ints"),
    (dict(window=(True, 0)), TypeError, "window must be a pair of ints"),
    (dict(scale=True), TypeError, "scale must be a number or None, got bool"),
    (dict(softcap=False), TypeError, "softcap must be a number, got bool"),
    (dict(scale="0.1"), TypeError, "scale must be a number or None, got str"),
    # Finite in Python, not representable as the op's f32 attributes: these failed
    # later as "failed to parse the kernel source".
    (dict(scale=1e-300), ValueError, "scale must be a normal float32"),
    (dict(scale=1e39), ValueError, "scale must be a normal float32"),
    (dict(softcap=1e-40), ValueError, r"softcap must be 0 \(off\) or a normal float32"),
    (dict(deterministic="yes"), TypeError, "deterministic must be a bool, got 'yes'"),
])
def test_rejects_bad_options(kwargs, error, message):
    with pytest.raises(error, match=message):
        flashmlir.attention(*qkv(), **kwargs)


@pytest.mark.parametrize("shapes, message", [
    ([(2, 33, 0, 64), (2, 40, 0, 64), (2, 40, 0, 64)], "q must have at least one head"),
    ([(2, 33, 4, 64), (2, 40, 0, 64), (2, 40, 0, 64)], "k must have at least one head"),
    ([(2, 33, 4, 0), (2, 40, 2, 0), (2, 40, 2, 0)], "q must have at least one head"),
])
def test_rejects_empty_heads(shapes, message):
    # H = 0 was a ZeroDivisionError.
    q, k, v = (torch.zeros(s, dtype=torch.bfloat16) for s in shapes)
    with pytest.raises(ValueError, match=message):
        flashmlir.attention(q, k, v)


@pytest.mark.parametrize("fn, args", [
    ("flash_attn_func", (None, "k", "v")),
    ("flash_attn_varlen_func", (None, None, None, None, None, 1, 1)),
])
def test_drop_ins_name_a_missing_tensor(fn, args):
    # flash_attn_func(None, ...) was an AttributeError.
    from flashmlir import flash_attn

    with pytest.raises(TypeError, match="q must be a torch.Tensor, got NoneType"):
        getattr(flash_attn, fn)(*args)


def test_missing_compiler_extension_is_named(tmp_path):
    """A package without flashmlir._compiler says so (it was reported as "most
    likely due to a circular import")."""
    package = pathlib.Path(flashmlir.__file__).parent
    copy = tmp_path / "flashmlir"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("_compiler*", "__pycache__"))
    code = ("import flashmlir\n"
            "try:\n    flashmlir.build_id()\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "flashmlir._compiler is not installed" in out.stdout, out.stdout
    assert "circular import" not in out.stdout


@pytest.mark.parametrize("name, value", [
    ("FLASHMLIR_PV_SCHEDULE", "eager"),
    ("FLASHMLIR_EPILOGUE", "smem"),
    ("FLASHMLIR_PERSISTENT_CTAS", "many"),
    ("FLASHMLIR_PERSISTENT_CTAS", "-4"),
])
def test_bad_tuning_knob_names_the_variable(monkeypatch, name, value):
    # The knobs are read per call (not at import), and a bad value names its variable.
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        flashmlir.attention(*qkv())


needs_cpu_path_early = pytest.mark.skipif(not flashmlir.HAS_CPU_PATH,
                                          reason="flashmlir._flashmlir (CPU path) not built")


def varlen_inputs(lens_q=(5, 0, 17), lens_k=(9, 3, 17), hq=4, hk=2, d=64):
    g = torch.Generator().manual_seed(1)
    tq, tk = sum(lens_q), sum(lens_k)
    q = torch.randn(tq, hq, d, generator=g).to(torch.bfloat16)
    k = torch.randn(tk, hk, d, generator=g).to(torch.bfloat16)
    v = torch.randn(tk, hk, d, generator=g).to(torch.bfloat16)
    cu = lambda lens: torch.tensor(np.concatenate([[0], np.cumsum(lens)]), dtype=torch.int32)  # noqa: E731
    return q, k, v, cu(lens_q), cu(lens_k)


@pytest.mark.parametrize("change, error, message", [
    (lambda a: {**a, "cu_seqlens_k": None}, ValueError, "give both cu_seqlens_q and cu_seqlens_k"),
    (lambda a: {**a, "cu_seqlens_q": a["cu_seqlens_q"].long()}, TypeError, "cu_seqlens_q must be int32"),
    (lambda a: {**a, "cu_seqlens_k": a["cu_seqlens_k"][:2]}, ValueError, "same length"),
    (lambda a: {**a, "cu_seqlens_q": a["cu_seqlens_q"].reshape(2, 2)}, ValueError, "must be 1-D"),
    (lambda a: {**a, "cu_seqlens_q": torch.tensor([0, 5, 3, 22], dtype=torch.int32)}, ValueError,
     "cu_seqlens_q must rise from 0"),
    (lambda a: {**a, "cu_seqlens_k": torch.tensor([0, 9, 12, 99], dtype=torch.int32)}, ValueError,
     "at most 29"),
])
def test_rejects_bad_cu_seqlens(change, error, message):
    q, k, v, cq, ck = varlen_inputs()
    kwargs = change({"cu_seqlens_q": cq, "cu_seqlens_k": ck})
    with pytest.raises(error, match=message):
        flashmlir.attention(q, k, v, **kwargs)


@needs_cpu_path_early
def test_cu_seqlens_are_always_checked():
    """FLASHMLIR_TRUST_CU_SEQLENS=1 used to skip the check: offsets past the
    packed tensors then crashed the CPU path (SIGSEGV) or corrupted its heap.
    The variable is gone; in a child process so that a regression cannot take
    pytest down."""
    code = """
import os, torch, flashmlir
os.environ["FLASHMLIR_TRUST_CU_SEQLENS"] = "1"
q = torch.randn(29, 4, 64).to(torch.bfloat16)
cq = torch.tensor([0, 5, 12, 29], dtype=torch.int32)
ck = torch.tensor([0, 9, 12, 100000], dtype=torch.int32)
try:
    flashmlir.attention(q, q[:, :2], q[:, :2], cu_seqlens_q=cq, cu_seqlens_k=ck)
    print("ran")
except ValueError as e:
    print("refused:", e)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, (out.returncode, out.stderr[-2000:])
    assert "refused: cu_seqlens_k must rise from 0 to at most 29" in out.stdout


# -- the CPU path through the same API -------------------------------------------------
needs_cpu_path = pytest.mark.skipif(not flashmlir.HAS_CPU_PATH,
                                    reason="flashmlir._flashmlir (CPU path) not built here")


@needs_cpu_path
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float32])
def test_cpu_path_matches_float64(dtype):
    q, k, v = qkv(dtype=dtype, seed=3)
    out, lse = flashmlir.attention(q, k, v, causal=True, return_lse=True)
    case = Case("cpu", 33, 40, heads_q=4, heads_kv=2, batch=2, mask="causal")
    ref, ref_lse = case_reference(case, q.float().numpy(), k.float().numpy(), v.float().numpy())
    same_dtype = {torch.float32: 1e-5, torch.float16: 2 ** -10, torch.bfloat16: 2 ** -7}[dtype]
    assert out.dtype == dtype and out.shape == (2, 33, 4, 64)
    assert np.abs(out.float().numpy() - ref).max() <= same_dtype + 1e-5
    assert np.abs(lse.numpy() - ref_lse).max() < 1e-4



def fp8_inputs(shape, seed):
    """float8_e4m3fn values (N(0, 1)·8 rounded: normals and subnormals) and float64 copies."""
    g = torch.Generator().manual_seed(seed)
    x = (8 * torch.randn(*shape, generator=g)).to(torch.float8_e4m3fn)
    return x, x.to(torch.float64).numpy()


@needs_cpu_path
def test_cpu_path_fp8_with_descales():
    # FP8 q, k, v with per-(batch, KV head) descales: out (bf16) = softmax(scale·(dq·Q)
    # (dk·K)ᵀ)(dv·V) against float64; causal, GQA 4 -> 2; then varlen (per-sequence
    # descales) with an empty sequence.
    (q, q64), (k, k64), (v, v64) = (fp8_inputs(s, seed) for seed, s in
                                    enumerate([(2, 33, 4, 64), (2, 40, 2, 64), (2, 40, 2, 64)]))
    g = torch.Generator().manual_seed(7)
    dq, dk, dv = (torch.rand(2, 2, generator=g) / 4 + 1 / 16 for _ in range(3))
    out, lse = flashmlir.attention(q, k, v, causal=True, return_lse=True, q_descale=dq,
                                   k_descale=dk, v_descale=dv)
    assert out.dtype == torch.bfloat16 and out.shape == (2, 33, 4, 64)
    case = Case("fp8", 33, 40, heads_q=4, heads_kv=2, batch=2, mask="causal")
    ref, ref_lse = case_reference(case, q64, k64, v64,
                             descales=tuple(d.double().numpy() for d in (dq, dk, dv)))
    assert np.abs(out.float().numpy() - ref).max() <= 2 ** -7 * np.abs(ref).max() + 1e-4
    assert np.abs(lse.numpy() - ref_lse).max() < 1e-4
    # Without the descales the result differs (the test sees them).
    plain = case_reference(case, q64, k64, v64)[0]
    assert np.abs(plain - ref).max() > 0.1
    # Inference only: inputs that require grad are refused, naming the reason.
    with pytest.raises(NotImplementedError, match="no FP8 backward"):
        flashmlir.attention(q, k, v, q_descale=dq.requires_grad_(), k_descale=dk,
                            v_descale=dv)
    dq = dq.detach()

    lens_q, lens_k = (5, 0, 17), (9, 3, 17)
    (q, q64), (k, k64), (v, v64) = (fp8_inputs(s, 10 + seed) for seed, s in
                                    enumerate([(22, 4, 64), (29, 2, 64), (29, 2, 64)]))
    cq, ck = (torch.tensor([0, *np.cumsum(n)], dtype=torch.int32) for n in (lens_q, lens_k))
    dq, dk, dv = (torch.rand(3, 2, generator=g) / 4 + 1 / 16 for _ in range(3))
    out = flashmlir.attention(q, k, v, cu_seqlens_q=cq, cu_seqlens_k=ck, q_descale=dq,
                              k_descale=dk, v_descale=dv)
    case = Case("fp8vl", 0, 0, varlen_q=list(lens_q), varlen_k=list(lens_k), heads_q=4,
                heads_kv=2)
    ref, _ = case_reference(case, q64[None], k64[None], v64[None],
                       descales=tuple(d.double().numpy() for d in (dq, dk, dv)))
    assert np.abs(out.float().numpy() - ref[0]).max() <= 2 ** -7 * np.abs(ref).max() + 1e-4


def test_fp8_argument_errors():
    q = torch.zeros(1, 8, 2, 64, dtype=torch.float8_e4m3fn)
    d = torch.ones(1, 2)
    with pytest.raises(ValueError, match="need q_descale, k_descale and v_descale"):
        flashmlir.attention(q, q, q)
    with pytest.raises(ValueError, match=r"k_descale must have shape \(1, 2\)"):
        flashmlir.attention(q, q, q, q_descale=d, k_descale=torch.ones(2, 2), v_descale=d)
    with pytest.raises(TypeError, match="v_descale must be a float32 tensor"):
        flashmlir.attention(q, q, q, q_descale=d, k_descale=d, v_descale=d.double())
    b = torch.zeros(1, 8, 2, 64, dtype=torch.bfloat16)
    with pytest.raises(ValueError, match="apply to float8_e4m3fn inputs only"):
        flashmlir.attention(b, b, b, q_descale=d, k_descale=d, v_descale=d)
    with pytest.raises(ValueError, match="out_dtype of f8E4M3FN inputs"):
        flashmlir.AttentionSpec(dtype="f8E4M3FN", batch=1, seqlen_q=8, seqlen_k=8, heads_q=2,
                                heads_kv=2, head_dim=64, head_dim_v=64, out_dtype="f32")


@needs_cpu_path
def test_cpu_path_varlen_and_score_mod():
    q, k, v, cq, ck = varlen_inputs()
    slopes = torch.tensor([0.5, 0.25, 0.125, 0.0625])

    def alibi(score, b, h, q_idx, kv_idx):
        return score + slopes[h] * (kv_idx - q_idx)

    out, lse = flashmlir.attention(q, k, v, causal=True, score_mod=alibi, cu_seqlens_q=cq,
                                   cu_seqlens_k=ck, return_lse=True)
    case = Case("vl", 0, 0, varlen_q=[5, 0, 17], varlen_k=[9, 3, 17], heads_q=4, heads_kv=2,
                mask="causal", alibi=True)
    ref, ref_lse = case_reference(case, q.float().numpy()[None], k.float().numpy()[None],
                             v.float().numpy()[None], slopes=slopes.numpy())
    assert out.shape == (22, 4, 64) and lse.shape == (4, 22)
    assert np.abs(out.float().numpy() - ref[0]).max() <= 2 ** -7 + 1e-5
    hidden = np.isinf(ref_lse[0])
    assert np.abs(lse.numpy()[~hidden] - ref_lse[0][~hidden]).max() < 1e-4


# -- flash_attn drop-ins -----------------------------------------------------------------
def test_drop_ins_refuse_what_flash_attn_refuses():
    q, k, v = qkv()
    with pytest.raises(NotImplementedError, match="dropout_p"):
        fa.flash_attn_func(q, k, v, dropout_p=0.1)
    with pytest.raises(ValueError, match="q must be a CUDA tensor"):
        fa.flash_attn_func(q, k, v)
    with pytest.raises(TypeError, match="float16, bfloat16 or float8_e4m3fn"):
        fa.flash_attn_func(q.float().to("meta"), k.float().to("meta"), v.float().to("meta"))
    with pytest.raises(ValueError, match=r"qkv must be a \(B, S, 3, H, D\)"):
        fa.flash_attn_qkvpacked_func(q)
    with pytest.raises(ValueError, match=r"kv must be a \(B, Sk, 2, Hkv, D\)"):
        fa.flash_attn_kvpacked_func(q, k)
    qv, kv_, vv, cq, ck = varlen_inputs()
    with pytest.raises(NotImplementedError, match="block_table"):
        fa.flash_attn_varlen_func(qv.to("meta"), kv_.to("meta"), vv.to("meta"), cq, ck, 17, 17,
                                  block_table=torch.zeros(1))
    m = lambda t: t.to("meta")  # noqa: E731
    with pytest.raises(ValueError, match=r"alibi_slopes must have shape \(4,\)"):
        fa.flash_attn_func(m(q), m(k), m(v), alibi_slopes=torch.ones(3))


def test_drop_in_signatures_match_flash_attn():
    import inspect

    # flash_attn 2's parameters in its order; flash_attn 3's FP8 descales after them.
    fp8 = ["q_descale", "k_descale", "v_descale"]
    expected = {
        "flash_attn_func": ["q", "k", "v", "dropout_p", "softmax_scale", "causal", "window_size",
                            "softcap", "alibi_slopes", "deterministic", "return_attn_probs",
                            *fp8],
        "flash_attn_qkvpacked_func": ["qkv", "dropout_p", "softmax_scale", "causal",
                                      "window_size", "softcap", "alibi_slopes", "deterministic",
                                      "return_attn_probs"],
        "flash_attn_kvpacked_func": ["q", "kv", "dropout_p", "softmax_scale", "causal",
                                     "window_size", "softcap", "alibi_slopes", "deterministic",
                                     "return_attn_probs"],
        "flash_attn_varlen_func": ["q", "k", "v", "cu_seqlens_q", "cu_seqlens_k", "max_seqlen_q",
                                   "max_seqlen_k", "dropout_p", "softmax_scale", "causal",
                                   "window_size", "softcap", "alibi_slopes", "deterministic",
                                   "return_attn_probs", "block_table", *fp8],
    }
    for name, params in expected.items():
        assert list(inspect.signature(getattr(fa, name)).parameters) == params, name


# -- the custom op under torch.compile ----------------------------------------------------
def test_custom_op_fake_shapes():
    q, k, v = (t.to("meta") for t in qkv(dv=128, d=64))
    out, lse = torch.ops.flashmlir.attention(q, k, v, None, None, "causal", "bottom_right", -1,
                                             0, 0.0, -1.0, "auto", 0, 0, 0)
    assert out.shape == (2, 33, 4, 128) and out.dtype == torch.bfloat16
    assert lse.shape == (2, 4, 33) and lse.dtype == torch.float32


@needs_cpu_path
def test_torch_compile_traces_without_graph_breaks():
    class Block(torch.nn.Module):
        def __init__(self, dim=256, heads=4):
            super().__init__()
            self.heads = heads
            self.qkv = torch.nn.Linear(dim, 3 * dim, dtype=torch.bfloat16)
            self.proj = torch.nn.Linear(dim, dim, dtype=torch.bfloat16)

        def forward(self, x):
            b, s, _ = x.shape
            q, k, v = self.qkv(x).view(b, s, 3, self.heads, -1).unbind(2)
            o = flashmlir.attention(q, k, v, causal=True)
            return x + self.proj(o.reshape(b, s, -1))

    block = Block()
    x = torch.randn(2, 48, 256, dtype=torch.bfloat16)
    eager = block(x)
    explanation = torch._dynamo.explain(block)(x)
    assert explanation.graph_break_count == 0, explanation.break_reasons
    compiled = torch.compile(block, fullgraph=True, backend="eager")
    assert torch.allclose(compiled(x).float(), eager.float(), atol=1e-2)


# -- the reference itself (flashmlir.testing.reference) against torch's own SDPA -------------
@pytest.mark.parametrize("sq,sk,hq,hk,dv,kwargs", [
    (33, 40, 4, 2, 64, dict(causal=True)),
    (40, 33, 4, 2, 64, dict(causal=True, align="top_left")),
    (50, 37, 2, 1, 128, dict(window=(8, 3), align="top_left")),
    (37, 37, 4, 4, 64, dict(window=(5, -1), scale=0.3)),
    (20, 29, 4, 2, 64, dict(alibi=True, causal=True)),
    (30, 30, 2, 2, 64, dict(documents=True)),
], ids=["causal_br_gqa", "causal_tl", "window_tl_dv128", "window_left_scale", "alibi_causal",
        "documents"])
def test_reference_matches_sdpa(sq, sk, hq, hk, dv, kwargs):
    """The one reference attention of the tests and benchmarks against torch's SDPA
    (float64, its math backend) given the same masks as a dense attn_mask: GQA by
    repetition, both causal alignments, windows, Dv != D, a custom scale, ALiBi as a
    float bias, a document mask; and its LSE against logsumexp of the dense scores."""
    g = torch.Generator().manual_seed(5)
    q = torch.randn(2, sq, hq, 64, generator=g, dtype=torch.float64)
    k = torch.randn(2, sk, hk, 64, generator=g, dtype=torch.float64)
    v = torch.randn(2, sk, hk, dv, generator=g, dtype=torch.float64)
    kwargs = dict(kwargs)
    slopes = torch.tensor([0.5, 0.25, 0.125, 0.0625][:hq]) if kwargs.pop("alibi", 0) else None
    docs = torch.arange(max(sq, sk)) // 7 if kwargs.pop("documents", 0) else None
    if slopes is not None:
        kwargs["score_mod"] = lambda s, b, h, i, j: s + slopes[h] * (j - i)
    if docs is not None:
        kwargs["mask_mod"] = lambda b, h, i, j: docs[i] == docs[j]
    out, lse = reference(q, k, v, **kwargs)

    i, j = torch.arange(sq)[:, None], torch.arange(sk)[None, :]
    left, right = (-1, 0) if kwargs.get("causal") else kwargs.get("window", (-1, -1))
    diag = sk - sq if kwargs.get("align", "bottom_right") == "bottom_right" else 0
    keep = torch.ones(sq, sk, dtype=torch.bool)
    if left >= 0:
        keep &= j >= i + diag - left
    if right >= 0:
        keep &= j <= i + diag + right
    if docs is not None:
        keep &= docs[i] == docs[j]
    bias = torch.zeros(hq, sq, sk, dtype=torch.float64).masked_fill(~keep, -math.inf)
    if slopes is not None:
        bias = bias + slopes.double()[:, None, None] * (j - i)
    qt, kt, vt = (x.transpose(1, 2).repeat_interleave(hq // x.shape[2], 1) for x in (q, k, v))
    want = torch.nn.functional.scaled_dot_product_attention(
        qt, kt, vt, attn_mask=bias, scale=kwargs.get("scale")).transpose(1, 2)
    seen = keep.any(1)  # SDPA gives NaN where a row sees no key; the reference 0
    assert (out[:, seen] - want[:, seen]).abs().max().item() < 1e-12
    assert (out[:, ~seen] == 0).all()
    scores = qt @ kt.transpose(-1, -2) * kwargs.get("scale", 64 ** -0.5) + bias
    assert torch.equal(torch.isneginf(lse), ~seen.expand_as(lse))
    assert (lse[..., seen] - torch.logsumexp(scores, -1)[..., seen]).abs().max().item() < 1e-12


def test_reference_packed_sequences_and_softcap():
    """cu_seqlens: each sequence of the packed reference is the reference of that
    sequence alone (an empty one included); softcap is cap·tanh(s/cap) before the masks."""
    g = torch.Generator().manual_seed(6)
    lens_q, lens_k = [5, 0, 17], [9, 3, 17]
    q = torch.randn(sum(lens_q), 4, 64, generator=g, dtype=torch.float64)
    k = torch.randn(sum(lens_k), 2, 64, generator=g, dtype=torch.float64)
    v = torch.randn(sum(lens_k), 2, 64, generator=g, dtype=torch.float64)
    cq, ck = (torch.tensor([0, *np.cumsum(n)]) for n in (lens_q, lens_k))
    out, lse = reference(q, k, v, causal=True, softcap=2.0, cu_seqlens_q=cq, cu_seqlens_k=ck)
    assert out.shape == (22, 4, 64) and lse.shape == (4, 22)
    for n in range(3):
        sl_q, sl_k = slice(int(cq[n]), int(cq[n + 1])), slice(int(ck[n]), int(ck[n + 1]))
        alone, alone_lse = reference(q[None, sl_q], k[None, sl_k], v[None, sl_k], causal=True,
                                     score_mod=lambda s, b, h, i, j: 2.0 * torch.tanh(s / 2.0))
        assert torch.allclose(out[sl_q], alone[0], atol=1e-12)
        assert torch.allclose(lse[:, sl_q], alone_lse[0], atol=1e-12)


@needs_cpu_path
def test_strided_inputs_are_made_contiguous():
    """(B, H, S, D) tensors viewed as (B, S, H, D) — last dim contiguous, the rest not —
    give the same result as their contiguous copies (attention copies them once)."""
    g = torch.Generator().manual_seed(11)
    q, k, v = (torch.randn(2, 4, 37, 64, generator=g).to(torch.bfloat16).transpose(1, 2)
               for _ in range(3))
    assert not q.is_contiguous() and q.stride(-1) == 1
    out = flashmlir.attention(q, k, v, causal=True)
    again = flashmlir.attention(q.contiguous(), k.contiguous(), v.contiguous(), causal=True)
    assert torch.equal(out, again)


def test_varlen_max_seqlen_must_be_an_int():
    qv, kv_, vv, cq, ck = varlen_inputs()
    m = lambda t: t.to("meta")  # noqa: E731
    with pytest.raises(TypeError, match="max_seqlen_q must be a non-negative int"):
        fa.flash_attn_varlen_func(m(qv), m(kv_), m(vv), cq, ck, 17.5, 17)


# -- backward: the compiled backward on CPU tensors (attn.attention_grad) -------------
GRAD_CASES = [
    dict(name="none_gqa", sq=33, sk=40, kwargs={}),
    dict(name="causal_br", sq=33, sk=40, kwargs=dict(causal=True)),
    dict(name="causal_tl", sq=40, sk=33, kwargs=dict(causal=True, causal_align="top_left")),
    dict(name="window", sq=37, sk=37, kwargs=dict(window=(5, 3))),
    dict(name="softcap_scale", sq=20, sk=29, kwargs=dict(softcap=2.0, scale=0.3)),
]


def _case_for(name, sq, sk, kwargs, **extra):
    if kwargs.get("causal"):
        mask, window = "causal", (-1, 0)
    elif "window" in kwargs:
        mask, window = "window", kwargs["window"]
    else:
        mask, window = "none", (-1, -1)
    return Case(name, sq, sk, heads_q=4, heads_kv=2, batch=2, mask=mask, window=window,
                align=kwargs.get("causal_align", "bottom_right"),
                softcap=kwargs.get("softcap", 0.0), scale=kwargs.get("scale"), **extra)


@needs_cpu_path
@pytest.mark.parametrize("c", GRAD_CASES, ids=[c["name"] for c in GRAD_CASES])
def test_backward_matches_float64_autograd(c):
    # dQ, dK, dV of out and lse against torch autograd through the float64 reference
    # (its own implementation of the masks): GQA, Sq != Sk both ways, both causal
    # alignments, a window, softcap and a custom scale.
    q, k, v = qkv(sq=c["sq"], sk=c["sk"], dtype=torch.float32)
    for t in (q, k, v):
        t.requires_grad_()
    out, lse = flashmlir.attention(q, k, v, return_lse=True, **c["kwargs"])
    g_out, g_lse = torch.randn_like(out), torch.randn_like(lse)
    hidden = torch.isinf(lse.detach())
    g_lse = g_lse.masked_fill(hidden, 0)
    grads = torch.autograd.grad((out, lse), (q, k, v), (g_out, g_lse))
    case = _case_for(c["name"], c["sq"], c["sk"], c["kwargs"])
    q64, k64, v64 = (t.detach().double().requires_grad_() for t in (q, k, v))
    ref, ref_lse = case_reference(case, q64, k64, v64, torch.float64)
    ref_lse = torch.where(torch.isinf(ref_lse), torch.zeros_like(ref_lse), ref_lse)
    expected = torch.autograd.grad((ref, ref_lse), (q64, k64, v64),
                                   (g_out.double(), g_lse.double()))
    for name, got, want in zip("qkv", grads, expected):
        err = (got.double() - want).abs().max().item()
        assert err <= 1e-4 * (1 + want.abs().max().item()), (name, err)


@needs_cpu_path
def test_backward_varlen_and_bf16():
    q, k, v, cq, ck = varlen_inputs()
    q, k, v = (t.to(torch.bfloat16).requires_grad_() for t in (q, k, v))
    out = flashmlir.attention(q, k, v, causal=True, cu_seqlens_q=cq, cu_seqlens_k=ck)
    g = torch.randn_like(out)
    grads = torch.autograd.grad(out, (q, k, v), g)
    assert all(x.dtype == torch.bfloat16 for x in grads)
    case = Case("vl", 0, 0, varlen_q=[5, 0, 17], varlen_k=[9, 3, 17], heads_q=4, heads_kv=2,
                mask="causal")
    q64, k64, v64 = (t.detach().double()[None].requires_grad_() for t in (q, k, v))
    ref, _ = case_reference(case, q64, k64, v64, torch.float64)
    expected = torch.autograd.grad(ref, (q64, k64, v64), g.double()[None])
    for got, want in zip(grads, expected):
        # bf16 gradients of float32 math: the rounding of the result only.
        assert (got.double() - want[0]).abs().max().item() <= 2 ** -7 * (1 + want.abs().max().item())


@needs_cpu_path
def test_backward_under_torch_compile():
    # A training step of a small block through torch.compile (AOTAutograd traces the
    # op's backward too) gives eager's gradients.
    class Block(torch.nn.Module):
        def __init__(self, dim=256, heads=4):
            super().__init__()
            self.heads = heads
            self.qkv = torch.nn.Linear(dim, 3 * dim)
            self.proj = torch.nn.Linear(dim, dim)

        def forward(self, x):
            b, s, _ = x.shape
            q, k, v = self.qkv(x).view(b, s, 3, self.heads, -1).unbind(2)
            o = flashmlir.attention(q, k, v, causal=True)
            return x + self.proj(o.reshape(b, s, -1))

    torch.manual_seed(0)
    block, x = Block(), torch.randn(2, 48, 256)
    block(x).square().mean().backward()
    eager = [p.grad.clone() for p in block.parameters()]
    block.zero_grad()
    torch.compile(block, fullgraph=True, backend="aot_eager")(x).square().mean().backward()
    for want, p in zip(eager, block.parameters()):
        assert torch.allclose(p.grad, want, atol=1e-6)


@needs_cpu_path
def test_modifiers_under_torch_compile_graph_break():
    # A mask_mod with a block mask inside a compiled function: a graph break (the
    # call runs eagerly), the same output and gradients as eager; Dynamo used to
    # fail tracing the modifier path (InternalTorchDynamoError).
    docs = torch.arange(100) // 40

    def same_doc(b, h, i, j):
        return docs[i] == docs[j]

    bm = flashmlir.create_block_mask(same_doc, None, None, 100, 100, device="cpu",
                                     BLOCK_SIZE=64)

    def step(q, k, v):
        return (flashmlir.attention(q, k, v, mask_mod=same_doc, block_mask=bm) * 2).sum()

    q, k, v = qkv(b=1, sq=100, sk=100, hq=2, hk=2, dtype=torch.float32, seed=4)
    grads = []
    for fn in (step, torch.compile(step, backend="aot_eager")):
        leaves = [t.clone().requires_grad_() for t in (q, k, v)]
        loss = fn(*leaves)
        loss.backward()
        grads.append((loss.detach(), [t.grad for t in leaves]))
    (l0, g0), (l1, g1) = grads
    assert torch.allclose(l0, l1)
    assert all(torch.allclose(a, b) for a, b in zip(g0, g1))


@needs_cpu_path
def test_modifier_backward_matches_float64_autograd():
    # score_mod (ALiBi with learnable slopes: a captured tensor that requires grad)
    # and mask_mod (documents) under autograd: the kernel forward, the recompute
    # backward; dQ, dK, dV and dslopes against float64 autograd of the definition.
    q, k, v = qkv(dtype=torch.float32, seed=7)
    slopes = torch.tensor([0.5, 0.25, 0.125, 0.0625], requires_grad=True)
    docs_q = torch.tensor([0] * 11 + [1] * 22)
    docs_k = torch.tensor([0] * 15 + [1] * 25)

    def alibi(s, b, h, i, j):
        return s + slopes[h] * (j - i)

    def same_doc(b, h, i, j):
        return docs_q[i] == docs_k[j]

    leaves = [t.clone().requires_grad_() for t in (q, k, v)]
    out, lse = flashmlir.attention(*leaves, causal=True, score_mod=alibi, mask_mod=same_doc,
                                   return_lse=True)
    g = torch.Generator().manual_seed(1)
    w_out = torch.randn(out.shape, generator=g)
    w_lse = torch.randn(lse.shape, generator=g)
    finite = torch.isfinite(lse)
    ((out * w_out).sum() + (lse.where(finite, 0) * w_lse).sum()).backward()

    ref_leaves = [t.double().requires_grad_() for t in (q, k, v)]
    ref_slopes = slopes.detach().double().requires_grad_()
    ro, rl = reference(*ref_leaves, causal=True, mask_mod=same_doc,
                       score_mod=lambda s, b, h, i, j: s + ref_slopes[h] * (j - i))
    ((ro * w_out.double()).sum() + (rl.where(finite, 0) * w_lse.double()).sum()).backward()
    for got, ref in zip([*leaves, slopes], [*ref_leaves, ref_slopes]):
        assert got.grad is not None
        err = (got.grad.double() - ref.grad).abs().max().item()
        assert err <= 1e-4 * (1 + ref.grad.abs().max().item()), err


@needs_cpu_path
def test_cpu_gradients_come_from_the_compiled_backward(monkeypatch):
    # CPU tensors train through attn.attention_grad on the CPU path, never the PyTorch
    # recompute (kept for CUDA tensors): with the recompute made to fail, gradients of
    # the custom op, of a modifier call and of a drop-in still come, and the backward
    # kernel was compiled for each.
    import flashmlir.backward as backward
    import flashmlir.ops as ops

    def recompute(*args, **kwargs):
        raise AssertionError("the recompute backward ran on CPU tensors")

    monkeypatch.setattr(backward, "attention_grads", recompute)
    monkeypatch.setattr(fa, "_DEVICES", fa._DEVICES + ("cpu",))
    monkeypatch.setattr(ops, "_cpu_grad_kernels", {})
    q, k, v = (t.requires_grad_() for t in qkv(sq=20, sk=29))
    flashmlir.attention(q, k, v, causal=True).float().sum().backward()
    flashmlir.attention(q, k, v, score_mod=lambda s, b, h, i, j: s * 0.5).float().sum().backward()
    fa.flash_attn_func(q, k, v, window_size=(4, 4)).float().sum().backward()
    assert all(t.grad is not None and torch.isfinite(t.grad).all() for t in (q, k, v))
    assert len(ops._cpu_grad_kernels) == 3


@needs_cpu_path
def test_deterministic_reaches_the_backward_op(monkeypatch):
    # deterministic=True (flash_attn's argument) travels with the custom op to its
    # backward through the drop-ins and flashmlir.attention; on the CPU path the
    # compiled backward is deterministic: the same gradients either way.
    import flashmlir.ops as ops

    seen = []
    route = ops._backward_route

    def spy(q, deterministic):
        seen.append(deterministic)
        return route(q, deterministic)

    monkeypatch.setattr(ops, "_backward_route", spy)
    monkeypatch.setattr(fa, "_DEVICES", fa._DEVICES + ("cpu",))
    q, k, v = (t.requires_grad_() for t in qkv(sq=20, sk=29))
    grads = {}
    for flag in (False, True):
        for t in (q, k, v):
            t.grad = None
        fa.flash_attn_func(q, k, v, causal=True, deterministic=flag).float().sum().backward()
        grads[flag] = [t.grad.clone() for t in (q, k, v)]
        # With ALiBi: the modifier calls' autograd.Function.
        fa.flash_attn_func(q, k, v, alibi_slopes=torch.full((2, 4), 0.25),
                           deterministic=flag).float().sum().backward()
    assert seen == [False, False, True, True]
    for a, b in zip(grads[False], grads[True]):
        assert torch.equal(a, b)


def test_deterministic_takes_the_recompute_on_cuda(monkeypatch):
    # The route on CUDA tensors (a stand-in: only its device is read): the Hopper
    # backward unless deterministic=True, whose gradients must be reproducible bit
    # for bit (the Hopper backward's dQ reduce-adds run in the order programs finish).
    import types

    import flashmlir.ops as ops

    monkeypatch.setattr(ops, "_compiled_backward", lambda q: False)
    cuda = types.SimpleNamespace(device=types.SimpleNamespace(type="cuda"))
    assert ops._backward_route(cuda, False) == "hopper"
    assert ops._backward_route(cuda, True) == "recompute"


@needs_cpu_path
def test_recompute_backward_records_its_graph_inside_the_custom_op(monkeypatch):
    # The recompute (the CUDA tensors' backward without FLASHMLIR_HOPPER_BACKWARD=1, and
    # the fallback where the Hopper backward refuses a spec) runs inside
    # torch.ops.flashmlir.attention_backward, which the dispatcher calls below autograd:
    # there enable_grad alone records nothing ("element 0 of tensors does not require
    # grad", first seen on an H100). Made to run on CPU tensors, it must give float64
    # autograd's gradients.
    import flashmlir.ops as ops

    monkeypatch.setattr(ops, "_compiled_backward", lambda q: False)
    q, k, v = qkv(sq=20, sk=29, dtype=torch.float32, seed=5)
    leaves = [t.clone().requires_grad_() for t in (q, k, v)]
    out, lse = flashmlir.attention(*leaves, causal=True, return_lse=True)
    g = torch.Generator().manual_seed(2)
    w_out, w_lse = torch.randn(out.shape, generator=g), torch.randn(lse.shape, generator=g)
    ((out * w_out).sum() + (lse * w_lse).sum()).backward()
    ref = [t.double().requires_grad_() for t in (q, k, v)]
    ro, rl = reference(*ref, causal=True)
    ((ro * w_out.double()).sum() + (rl * w_lse.double()).sum()).backward()
    for got, want in zip(leaves, ref):
        err = (got.grad.double() - want.grad).abs().max().item()
        assert err <= 1e-4 * (1 + want.grad.abs().max().item()), err


@needs_cpu_path
def test_nonlinear_score_mod_backward_matches_float64_autograd():
    # A score_mod whose derivative in the score is not 1 (a per-head scale, a leaky
    # branch, a clamp: mul, select, maximum), compiled into the backward by
    # attn-score-mod-grad; its tensors need no gradient. dq, dk, dv and the LSE's
    # gradient against float64 autograd of the definition.
    q, k, v = qkv(sq=37, sk=41, dtype=torch.float32, seed=8)
    gain = torch.tensor([1.0, 0.5, 2.0, 0.25])

    def mod(s, b, h, i, j):
        t = s * gain[h]
        return flashmlir.maximum(flashmlir.where(t > 0, t, t * 0.1), -3.0) + (j - i) * 0.01

    leaves = [t.clone().requires_grad_() for t in (q, k, v)]
    out, lse = flashmlir.attention(*leaves, causal=True, causal_align="top_left",
                                   score_mod=mod, return_lse=True)
    g = torch.Generator().manual_seed(3)
    w_out, w_lse = torch.randn(out.shape, generator=g), torch.randn(lse.shape, generator=g)
    ((out * w_out).sum() + (lse * w_lse).sum()).backward()

    def ref_mod(s, b, h, i, j):
        t = s * gain.double()[h]
        return torch.clamp(torch.where(t > 0, t, t * 0.1), min=-3.0) + (j - i) * 0.01

    ref = [t.double().requires_grad_() for t in (q, k, v)]
    ro, rl = reference(*ref, causal=True, align="top_left", score_mod=ref_mod)
    ((ro * w_out.double()).sum() + (rl * w_lse.double()).sum()).backward()
    for got, want in zip(leaves, ref):
        err = (got.grad.double() - want.grad).abs().max().item()
        assert err <= 1e-4 * (1 + want.grad.abs().max().item()), err


@needs_cpu_path
def test_drop_in_backward_bf16_gqa_padded_head_dim():
    # flash_attn_func with a head dim the kernels pad (59 -> 64), GQA, causal, softcap:
    # bf16 gradients by the compiled backward, within the accuracy rule of float64
    # autograd (the plain bf16 PyTorch gradients as the baseline).
    from flashmlir.testing import FLOOR

    g = torch.Generator().manual_seed(12)
    q = torch.randn(2, 45, 4, 59, generator=g).bfloat16()
    k = torch.randn(2, 50, 2, 59, generator=g).bfloat16()
    v = torch.randn(2, 50, 2, 59, generator=g).bfloat16()
    w = torch.randn(2, 45, 4, 59, generator=g).bfloat16()
    fa_devices = fa._DEVICES
    fa._DEVICES = fa_devices + ("cpu",)
    try:
        leaves = [t.clone().requires_grad_() for t in (q, k, v)]
        fa.flash_attn_func(*leaves, causal=True, softcap=10.0).backward(w)
    finally:
        fa._DEVICES = fa_devices
    grads = {}
    for dtype in (torch.float64, torch.bfloat16):
        xs = [t.to(dtype).requires_grad_() for t in (q, k, v)]
        reference(*xs, causal=True, softcap=10.0, dtype=dtype)[0].backward(w.to(dtype))
        grads[dtype] = [x.grad for x in xs]
    for got, ref, same in zip(leaves, grads[torch.float64], grads[torch.bfloat16]):
        err = (got.grad.double() - ref).abs().max().item()
        bound = 2 * (same.double() - ref).abs().max().item() + FLOOR[torch.bfloat16]
        assert err <= bound, (err, bound)


@needs_cpu_path
def test_dynamic_seqlens_knob_spec(monkeypatch):
    # FLASHMLIR_DYNAMIC_SEQLENS=1: dense calls without modifiers get one spec for
    # every length (Sq = Sk = 1 in it); with a modifier, the static one; a bad
    # value names the variable.
    import flashmlir.ops as ops

    monkeypatch.setenv("FLASHMLIR_DYNAMIC_SEQLENS", "1")
    q, k, v = qkv()
    tiles = {"block_m": 0, "block_n": 0, "stages": 0}
    common = dict(mask="causal", align="bottom_right", window=(-1, 0), softcap=0.0,
                  scale=None, varlen=0, lse=True, kernel="auto", tiles=tiles)
    spec = ops._spec_for(q, k, v, traced=None, **common)
    assert spec.dynamic_seqlens and (spec.seqlen_q, spec.seqlen_k) == (1, 1)
    assert "memref<2x?x4x64xbf16>" in spec.to_mlir()
    traced = flashmlir.mods.trace(lambda s, b, h, i, j: s * 2.0, None)
    assert not ops._spec_for(q, k, v, traced=traced, **common).dynamic_seqlens
    monkeypatch.setenv("FLASHMLIR_DYNAMIC_SEQLENS", "yes")
    with pytest.raises(ValueError, match="FLASHMLIR_DYNAMIC_SEQLENS"):
        ops._spec_for(q, k, v, traced=None, **common)


@needs_cpu_path
def test_varlen_totals_share_a_kernel():
    # Packed calls compile for their totals and sequence count rounded up to powers of
    # two (totals at least 256), with cu_seqlens padded by empty sequences: two batches
    # of new totals (22 and 30 queries, 3 and 2 sequences) run one kernel, each exact,
    # and LSE keeps the call's own (Hq, total) shape.
    import flashmlir.ops as ops

    cases = [((5, 0, 17), (9, 3, 17)), ((13, 17), (20, 11))]
    before = len(ops._cpu_kernels)
    for lens_q, lens_k in cases:
        q, k, v, cq, ck = varlen_inputs(lens_q, lens_k)
        out, lse = flashmlir.attention(q, k, v, causal=True, cu_seqlens_q=cq,
                                       cu_seqlens_k=ck, return_lse=True)
        assert out.shape == (sum(lens_q), 4, 64) and lse.shape == (4, sum(lens_q))
        assert lse.is_contiguous()
        case = Case("vl", 0, 0, varlen_q=list(lens_q), varlen_k=list(lens_k), heads_q=4,
                    heads_kv=2, mask="causal")
        ref, ref_lse = case_reference(case, q.float().numpy()[None], k.float().numpy()[None],
                                 v.float().numpy()[None])
        assert np.abs(out.float().numpy() - ref[0]).max() <= 2 ** -7 + 1e-5
        hidden = np.isinf(ref_lse[0])
        assert (np.isinf(lse.numpy()) == hidden).all()
        assert np.abs(lse.numpy()[~hidden] - ref_lse[0][~hidden]).max() < 1e-4
    assert len(ops._cpu_kernels) == before + 1
