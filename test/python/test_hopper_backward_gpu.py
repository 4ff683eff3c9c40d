"""On an sm_90 GPU: training through flashmlir.attention with the compiled Hopper
backward (on by default; flashmlir.compile_grad's three kernels,
launched by ops._run_hopper_grad) against float64 autograd of the one reference
attention, with the CPU backward suite's problem and accuracy rule
(attention_cases.grad_problem, check_grads). The recompute (flashmlir.backward)
is made to fail, so a call that falls back fails the test instead of passing on
the recompute's gradients. Skips without such a GPU.

    PYTHONPATH=build/python python3 -m pytest -q test/python/test_hopper_backward_gpu.py

They passed on an H100 on 2026-12-07 (bench/RESULTS.md), and the gate's default is on
(ops._hopper_backward_enabled; FLASHMLIR_HOPPER_BACKWARD=0 keeps the recompute).
"""

import pathlib
import sys
import warnings
import zlib

import pytest

torch = pytest.importorskip("torch")
if not torch.cuda.is_available() or torch.cuda.get_device_capability() != (9, 0):
    pytest.skip("needs an sm_90 (Hopper) GPU", allow_module_level=True)

import flashmlir  # noqa: E402
from flashmlir import backward, jit, ops  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from attention_cases import GRAD_HOPPER_CASES, Case, check_grads, grad_problem  # noqa: E402

# Packed sequences (totals and sequence count bucketed, as the forward's), empty
# sequences and GQA included.
VARLEN_CASES = [
    Case("g_varlen_causal_bf16_gqa2_d128", 0, 0, mask="causal", heads_q=4, heads_kv=2,
         head_dim=128, dtype="bf16", varlen_q=(100, 1, 157), varlen_k=(120, 7, 140)),
    Case("g_varlen_none_f16_d128", 0, 0, head_dim=128, dtype="f16",
         varlen_q=(64, 0, 200, 33), varlen_k=(64, 30, 100, 0)),
]
CUDA = torch.device("cuda")


@pytest.fixture
def hopper_backward(monkeypatch):
    monkeypatch.setenv("FLASHMLIR_HOPPER_BACKWARD", "1")
    monkeypatch.setattr(ops, "_hopper_grad_refused", {})

    def recompute(*args, **kwargs):
        raise AssertionError("the recompute ran: the Hopper backward did not take the call")

    monkeypatch.setattr(backward, "attention_grads", recompute)


def _cu(lens):
    return torch.tensor([0, *torch.tensor(lens).cumsum(0).tolist()], dtype=torch.int32,
                        device=CUDA)


def _attention_kwargs(case: Case, extras: dict) -> dict:
    """flashmlir.attention's options for `case` (its modifiers as functions)."""
    kw = dict(scale=case.scale, softcap=case.softcap, causal_align=case.align)
    if case.mask == "causal":
        kw["causal"] = True
    elif case.mask == "window":
        kw["window"] = tuple(case.window)
    if case.alibi:
        slopes = extras["slopes"].to(CUDA)
        kw["score_mod"] = lambda s, b, h, q_idx, kv_idx: s + slopes[h] * (kv_idx - q_idx)
    if case.document_mask:
        doc_q, doc_k = extras["doc_q"].to(CUDA), extras["doc_k"].to(CUDA)
        kw["mask_mod"] = lambda b, h, q_idx, kv_idx: doc_q[q_idx] == doc_k[kv_idx]
    if case.varlen_q is not None:
        kw.update(cu_seqlens_q=_cu(case.varlen_q), cu_seqlens_k=_cu(case.varlen_k))
    return kw


def train(case: Case, p, steps: int = 1):
    """dq, dk, dv (as grad_problem's tensors: batch 1 when packed) of `steps`
    backward passes through flashmlir.attention on the GPU, from grad_problem's
    q, k, v, dO and dLSE."""
    packed = case.varlen_q is not None
    view = (lambda t: t[0]) if packed else (lambda t: t)  # noqa: E731
    kw = _attention_kwargs(case, p.extras)
    for _ in range(steps):
        q, k, v = (view(t).to(CUDA).requires_grad_() for t in (p.q, p.k, p.v))
        out, lse = flashmlir.attention(q, k, v, return_lse=True, **kw)
        torch.autograd.backward((out, lse), (view(p.dout).to(CUDA), view(p.dlse).to(CUDA)))
    torch.cuda.synchronize()
    return [t.grad.unsqueeze(0) if packed else t.grad for t in (q, k, v)]


@pytest.mark.parametrize("case", GRAD_HOPPER_CASES + VARLEN_CASES, ids=lambda c: c.name)
def test_training_matches_float64_autograd(hopper_backward, case):
    p = grad_problem(case, seed=zlib.crc32(case.name.encode()))
    with warnings.catch_warnings():
        warnings.simplefilter("error", flashmlir.PerformanceWarning)  # no fallback
        # Twice: the second backward's workspace may hold the first's values, which
        # the preprocess must zero.
        grads = train(case, p, steps=2)
    errors = check_grads(case, grads, p.ref, p.same)
    print(case.name, "max|err| dq dk dv:", " ".join(f"{e:.3g}" for e in errors))
    # A row that sees no key: dq = 0 exactly (never NaN).
    hidden = torch.isneginf(p.lse64).transpose(1, 2)
    assert (grads[0].cpu()[hidden] == 0).all()


def test_on_a_side_stream(hopper_backward):
    """The kernels run in order on torch's current stream (here not the default)."""
    case = GRAD_HOPPER_CASES[3]
    p = grad_problem(case, seed=1)
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        grads = train(case, p)
    stream.synchronize()
    check_grads(case, grads, p.ref, p.same)


def test_misaligned_upstream_gradient(hopper_backward):
    """dO a contiguous view 2 bytes into its storage (the main kernel reads it
    by TMA, which needs a 16-byte aligned base): copied, not refused, and the
    gradients are right."""
    case = GRAD_HOPPER_CASES[0]
    p = grad_problem(case, seed=3)
    q, k, v = (t.to(CUDA).requires_grad_() for t in (p.q, p.k, p.v))
    out, lse = flashmlir.attention(q, k, v, return_lse=True,
                                   **_attention_kwargs(case, p.extras))
    dout = p.dout.to(CUDA)
    shifted = torch.empty(dout.numel() + 1, dtype=dout.dtype, device=CUDA)[1:]
    shifted = shifted.view(dout.shape).copy_(dout)
    assert shifted.is_contiguous() and shifted.data_ptr() % 16 == 2
    torch.autograd.backward((out, lse), (shifted, p.dlse.to(CUDA)))
    check_grads(case, [q.grad, k.grad, v.grad], p.ref, p.same)


def test_deterministic_gradients_repeat_bit_for_bit(monkeypatch):
    """deterministic=True: the same gradients twice, bit for bit, from the recompute
    (the Hopper backward's dQ order is the order its programs finish), with one
    PerformanceWarning; the Hopper backward is not run."""
    def hopper(*args, **kwargs):
        raise AssertionError("deterministic=True ran the Hopper backward")

    monkeypatch.setattr(ops, "_run_hopper_grad", hopper)
    monkeypatch.setattr(ops, "_warned_deterministic", False)
    case = GRAD_HOPPER_CASES[0]
    p = grad_problem(case, seed=4)
    runs = []
    with pytest.warns(flashmlir.PerformanceWarning, match="deterministic=True"):
        for _ in range(2):
            q, k, v = (t.to(CUDA).requires_grad_() for t in (p.q, p.k, p.v))
            out, lse = flashmlir.attention(q, k, v, return_lse=True, deterministic=True,
                                           **_attention_kwargs(case, p.extras))
            torch.autograd.backward((out, lse), (p.dout.to(CUDA), p.dlse.to(CUDA)))
            runs.append([t.grad.clone() for t in (q, k, v)])
    for a, b in zip(*runs):
        assert torch.equal(a, b)
    check_grads(case, runs[0], p.ref, p.same)


def test_loss_of_out_only(hopper_backward):
    """No gradient reaches lse (grad_lse None): dLSE is zero."""
    case = GRAD_HOPPER_CASES[0]
    p = grad_problem(case, seed=2)
    q, k, v = (t.to(CUDA).requires_grad_() for t in (p.q, p.k, p.v))
    out = flashmlir.attention(q, k, v, **_attention_kwargs(case, p.extras))
    (out.float() * p.dout.to(CUDA).float()).sum().backward()
    leaves = [t.double().requires_grad_() for t in (p.q, p.k, p.v)]
    from attention_cases import case_reference
    out64, _ = case_reference(case, *leaves)
    ref = torch.autograd.grad(out64, leaves, p.dout.double())
    same_leaves = [t.clone().requires_grad_() for t in (p.q, p.k, p.v)]
    out_same, _ = case_reference(case, *same_leaves, p.q.dtype)
    same = torch.autograd.grad(out_same, same_leaves, p.dout)
    check_grads(case, [q.grad, k.grad, v.grad], ref, same)


def test_gate_off_keeps_the_recompute(monkeypatch):
    monkeypatch.setenv("FLASHMLIR_HOPPER_BACKWARD", "0")
    monkeypatch.setattr(jit, "compile_grad",
                        lambda spec: pytest.fail("the Hopper backward was compiled"))
    case = GRAD_HOPPER_CASES[1]
    p = grad_problem(case, seed=3)
    check_grads(case, train(case, p), p.ref, p.same)


def test_refused_spec_falls_back_to_the_recompute(monkeypatch):
    """D = 96 (the backward's kernels build D = 64 and 128 so far): one warning, the
    recompute's gradients."""
    monkeypatch.setenv("FLASHMLIR_HOPPER_BACKWARD", "1")
    monkeypatch.setattr(ops, "_hopper_grad_refused", {})
    case = Case("g_none_64x80_bf16_d96", 64, 80, head_dim=96, dtype="bf16")
    p = grad_problem(case, seed=4)
    with pytest.warns(flashmlir.PerformanceWarning, match="the Hopper backward does not take"):
        grads = train(case, p)
    check_grads(case, grads, p.ref, p.same)
