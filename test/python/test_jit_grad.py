"""The Hopper backward through the JIT, without a GPU: flashmlir.compile_grad (the
C API compiles attn.attention_grad into one PTX module of three kernels), the
payload checks entry by entry, the disk cache keeping forward and backward apart
(and refusing hostile entries), the FLASHMLIR_HOPPER_BACKWARD gate's decisions, and
the arguments the CUDA backward launches with, checked here on CPU tensors by the
same code. The launch itself: test_hopper_backward_gpu.py."""

import json
import warnings

import pytest

import flashmlir
from flashmlir import AttentionSpec, jit, ops

from conftest import cache_entry_path, rehash_entry  # noqa: E402

torch = pytest.importorskip("torch")

# The backward's kernels build for D = Dv = 128 (bf16/f16) so far.
GRAD = dict(dtype="bf16", batch=1, seqlen_q=257, seqlen_k=300, heads_q=4, heads_kv=2,
            head_dim=128, head_dim_v=128, mask="causal")
CPU = torch.device("cpu")


@pytest.fixture
def gate(monkeypatch):
    """FLASHMLIR_HOPPER_BACKWARD=1 and no refusal remembered from another test."""
    monkeypatch.setenv("FLASHMLIR_HOPPER_BACKWARD", "1")
    monkeypatch.setattr(ops, "_hopper_grad_refused", {})


# -- compile_grad ------------------------------------------------------------------
def test_compile_grad_returns_the_three_kernels_in_order(cache_dir):
    spec = AttentionSpec(**GRAD)
    grad = flashmlir.compile_grad(spec)
    assert isinstance(grad, flashmlir.CompiledGrad)
    assert [k["role"] for k in grad.kernels] == ["preprocess", "main", "postprocess"]
    assert [k["name"] for k in grad.kernels] == [
        "attention_grad_kernel", "attention_grad_kernel_1", "attention_grad_kernel_2"]
    assert [k["threads"] for k in grad.kernels] == [64, 384, 64]
    expected = [ty for _, ty in spec.grad_arguments()]
    for k in grad.kernels:
        assert [a["type"] for a in k["signature"]] == expected
        assert f".entry {k['name']}(" in grad.ptx
    # TMA only in the main kernel (Q, K, V, dO loaded; dQ's f32 accumulator reduced
    # into); the others read and write directly.
    maps = grad.kernels[1]["tensor_maps"]
    assert [m["element"] for m in maps] == ["bf16"] * 4 + ["f32"]
    assert maps[4]["box"] == [32, 1, 64, 1]
    assert not grad.kernels[0]["tensor_maps"] and not grad.kernels[2]["tensor_maps"]
    assert grad.metadata["kernels"] is grad.kernels and grad.metadata["kernel"] == "hopper"
    if grad.cubin is not None:  # ptxas here: its report read per kernel
        assert all(isinstance(k.get("registers"), int) for k in grad.kernels)


def test_grad_arguments_are_the_grad_functions():
    spec = AttentionSpec(**{**GRAD, "varlen": 3, "mod_tensors": ("memref<4xf32>",),
                            "score_mod": "x"})
    names = [n for n, _ in spec.grad_arguments()]
    assert names == ["q", "k", "v", "o", "do", "lse", "dlse", "cu_q", "cu_k", "dq", "dk",
                     "dv", "dq_acc", "delta", "mod0"]
    assert spec.to_grad_mlir().startswith("func.func @attention_grad(" + ", ".join(
        f"%{n}: {ty}" for n, ty in spec.grad_arguments()) + ") {")
    types = dict(spec.grad_arguments())
    assert types["dq_acc"] == "memref<1x257x4x128xf32>" and types["delta"] == "memref<1x4x257xf32>"


@pytest.mark.parametrize("change, error, message", [
    (dict(head_dim=96, head_dim_v=96), jit.CompileError, "could not compile the backward"),
    (dict(dtype="f32"), ValueError, "no GPU backward for this spec: dtype f32"),
    (dict(kernel="simt"), ValueError, "kernel=simt"),
    (dict(head_dim=72, head_dim_v=72), ValueError, "head_dim 72"),
])
def test_compile_grad_refuses(cache_dir, change, error, message):
    with pytest.raises(error, match=message):
        flashmlir.compile_grad(AttentionSpec(**{**GRAD, **change}))


# -- the cache -------------------------------------------------------------------------
def test_forward_and_backward_are_separate_entries(cache_dir):
    spec = AttentionSpec(**GRAD)
    stats = flashmlir.cache.stats
    forward, grad = flashmlir.compile(spec), flashmlir.compile_grad(spec)
    assert isinstance(forward, flashmlir.CompiledKernel) and isinstance(grad, jit.CompiledGrad)
    assert forward.ptx != grad.ptx
    assert flashmlir.compile(spec) is forward and flashmlir.compile_grad(spec) is grad
    fwd_path, grad_path = cache_entry_path(cache_dir, spec, False), cache_entry_path(cache_dir, spec, True)
    assert fwd_path.exists() and grad_path.exists() and fwd_path != grad_path
    assert json.loads(grad_path.read_text())["identity"]["grad"] is True
    assert json.loads(fwd_path.read_text())["identity"]["grad"] is False

    flashmlir.cache.clear_memory()
    before = dict(stats)
    grad_again, forward_again = flashmlir.compile_grad(spec), flashmlir.compile(spec)
    assert stats["disk_hits"] == before["disk_hits"] + 2
    assert stats["compiles"] == before["compiles"]
    assert isinstance(grad_again, jit.CompiledGrad) and grad_again.ptx == grad.ptx
    assert len(grad_again.kernels) == 3
    assert isinstance(forward_again, flashmlir.CompiledKernel)
    assert forward_again.ptx == forward.ptx


def test_an_entry_of_the_other_kind_is_not_loaded(cache_dir):
    """A forward's entry under the backward's name (as copied, re-labelled, and
    re-labelled and re-hashed) is compiled again, and the other way round."""
    spec = AttentionSpec(**GRAD)
    good_forward, good_grad = flashmlir.compile(spec), flashmlir.compile_grad(spec)
    entries = {grad: json.loads(cache_entry_path(cache_dir, spec, grad).read_text())
               for grad in (False, True)}
    for grad in (True, False):
        other, own = entries[not grad], entries[grad]
        for make in (lambda: dict(other),
                     lambda: {**other, "identity": own["identity"]},
                     lambda: rehash_entry({**other, "identity": own["identity"]})):
            cache_entry_path(cache_dir, spec, grad).write_text(json.dumps(make()))
            flashmlir.cache.clear_memory()
            before = dict(flashmlir.cache.stats)
            got = flashmlir.compile_grad(spec) if grad else flashmlir.compile(spec)
            assert flashmlir.cache.stats["rebuilt_corrupt"] == before["rebuilt_corrupt"] + 1
            assert flashmlir.cache.stats["compiles"] == before["compiles"] + 1
            assert got.ptx == (good_grad if grad else good_forward).ptx


def _main_again(payload):
    extra = dict(payload["kernels"][1])
    extra["name"] = "attention_grad_kernel_3"
    payload["kernels"].append(extra)


def _set(index, key, value):
    def damage(payload):
        payload["kernels"][index][key] = value
    return damage


# Damage to a backward's payload: the kernel count, and each check on a kernel other
# than the first (the forward's checks read only kernels[0]).
GRAD_DAMAGE = {
    "two_kernels": lambda p: p["kernels"].pop(),
    "four_kernels": _main_again,
    "no_kernels": lambda p: p["kernels"].clear(),
    "kernel_not_an_object": lambda p: p["kernels"].__setitem__(2, "attention_grad_kernel_2"),
    "block": _set(1, "block", [384, 1]),
    "grid": _set(2, "grid", [5, "x", 1]),
    "shared_memory": _set(1, "dynamic_shared_memory", -1),
    "signature_of_other_shapes": lambda p: p["kernels"][2]["signature"][7].update(
        type="memref<1x999x4x128xbf16>"),
    "signature_short": lambda p: p["kernels"][1]["signature"].pop(),
    "tensor_map_operand": lambda p: p["kernels"][1]["tensor_maps"][0].update(operand=99),
    "argument_past_the_signature": _set(2, "arguments", [99]),
    "tiles": _set(1, "tiles", {"block_m": "64"}),
    "name_not_in_the_ptx": _set(2, "name", "planted_kernel"),
    "names_repeat": _set(2, "name", "attention_grad_kernel"),
}


@pytest.fixture(scope="module")
def grad_payload():
    """The backward's payload of GRAD (compiled once; copy before changing it)."""
    return json.dumps(jit.compile_payload(AttentionSpec(**GRAD), grad=True))


@pytest.mark.parametrize("damage", list(GRAD_DAMAGE))
def test_check_payload_refuses_malformed_backward_payloads(grad_payload, damage):
    spec = AttentionSpec(**GRAD)
    payload = json.loads(grad_payload)
    jit.check_payload(spec, payload, grad=True)
    GRAD_DAMAGE[damage](payload)
    with pytest.raises(ValueError, match="malformed kernel payload|signature"):
        jit.check_payload(spec, payload, grad=True)


@pytest.mark.parametrize("damage", list(GRAD_DAMAGE))
def test_malformed_backward_entries_are_rebuilt_never_loaded(cache_dir, damage, monkeypatch):
    """A damaged backward entry, its hash made to match, is compiled again."""
    monkeypatch.setenv("FLASHMLIR_CUBIN", "0")  # ptxas adds nothing here but time
    spec = AttentionSpec(**GRAD)
    good = flashmlir.compile_grad(spec)
    path = cache_entry_path(cache_dir, spec, True)
    entry = json.loads(path.read_text())
    GRAD_DAMAGE[damage](entry["payload"])
    path.write_text(json.dumps(rehash_entry(entry)))
    flashmlir.cache.clear_memory()
    before = flashmlir.cache.stats["rebuilt_corrupt"]
    again = flashmlir.compile_grad(spec)
    assert flashmlir.cache.stats["rebuilt_corrupt"] == before + 1
    assert again.ptx == good.ptx and [k["name"] for k in again.kernels] == [
        k["name"] for k in good.kernels]
    assert json.loads(path.read_text())["payload"]["kernels"] == good._launches


def test_kernel_counts_tell_forward_from_backward(cache_dir):
    spec = AttentionSpec(**GRAD)
    forward = jit.compile_payload(spec)
    backward = jit.compile_payload(spec, grad=True)
    jit.check_payload(spec, forward)
    jit.check_payload(spec, backward, grad=True)
    with pytest.raises(ValueError, match="1 kernels, the backward has 3"):
        jit.check_payload(spec, forward, grad=True)
    with pytest.raises(ValueError, match="3 kernels, the forward has 1"):
        jit.check_payload(spec, backward)
    # A forward payload with a second kernel would be launched only in part.
    forward["kernels"].append(dict(forward["kernels"][0]))
    with pytest.raises(ValueError, match="2 kernels, the forward has 1"):
        jit.check_payload(spec, forward)


def test_ptxas_report_is_read_per_kernel():
    report = """ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function 'k_2' for 'sm_90a'
ptxas info    : Function properties for k_2
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 32 registers, used 1 barriers
ptxas info    : Compiling entry function 'k_1' for 'sm_90a'
ptxas info    : Function properties for k_1
    584 bytes stack frame, 2040 bytes spill stores, 2172 bytes spill loads
ptxas info    : Used 168 registers, used 16 barriers, 584 bytes cumulative stack size
ptxas info    : Compiling entry function 'k' for 'sm_90a'
ptxas info    : Function properties for k
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 50 registers, used 1 barriers
"""
    assert jit._parse_ptxas_report_per_function(report) == {
        "k": {"registers": 50, "spill_bytes": 0}, "k_1": {"registers": 168, "spill_bytes": 2040},
        "k_2": {"registers": 32, "spill_bytes": 0}}


# -- the gate (flashmlir.ops) ------------------------------------------------------------
def test_gate_is_on_by_default_and_0_turns_it_off(cache_dir, monkeypatch):
    monkeypatch.setattr(ops, "_hopper_grad_refused", {})
    monkeypatch.setenv("FLASHMLIR_HOPPER_BACKWARD", "0")
    before = flashmlir.cache.stats["compiles"]
    assert ops._hopper_grad(AttentionSpec(**GRAD)) is None
    assert flashmlir.cache.stats["compiles"] == before  # nothing compiled
    monkeypatch.delenv("FLASHMLIR_HOPPER_BACKWARD")
    assert isinstance(ops._hopper_grad(AttentionSpec(**GRAD)), jit.CompiledGrad)


def test_gate_value_is_checked(monkeypatch):
    monkeypatch.setenv("FLASHMLIR_HOPPER_BACKWARD", "yes")
    with pytest.raises(ValueError, match="FLASHMLIR_HOPPER_BACKWARD must be 0 or 1, got 'yes'"):
        ops._hopper_grad(AttentionSpec(**GRAD))


def test_gate_takes_a_spec_the_backward_builds(cache_dir, gate):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grad = ops._hopper_grad(AttentionSpec(**GRAD))
    assert isinstance(grad, jit.CompiledGrad)


@pytest.mark.parametrize("change, compiles, message", [
    # The compiler's refusals, quoted.
    (dict(head_dim=96, head_dim_v=96), 1, "built for head dims 64 and 128"),
    (dict(block_mask=("memref<1x4x3xi32>", "memref<1x4x3x3xi32>"), block_size=(128, 128),
          seqlen_q=384, seqlen_k=384), 1, "takes no block mask"),
    (dict(ctas_per_sm=2), 1, "ctas-per-sm must be 1 for the backward"),
    # No Hopper kernel at all: nothing compiled.
    (dict(dtype="f32"), 0, "dtype f32"),
    (dict(head_dim=72, head_dim_v=72), 0, "head_dim 72"),
])
def test_gate_falls_back_on_refusal_warning_once(cache_dir, gate, monkeypatch, change,
                                                 compiles, message):
    spec = AttentionSpec(**{**GRAD, **change})
    calls, compile_payload = [], jit.compile_payload
    monkeypatch.setattr(jit, "compile_payload",
                        lambda *a, **kw: calls.append(a) or compile_payload(*a, **kw))
    with pytest.warns(ops.PerformanceWarning,
                      match=rf"the Hopper backward does not take this call \(.*{message}.*\); its gradients are recomputed"):
        assert ops._hopper_grad(spec) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning, and no second compile
        assert ops._hopper_grad(spec) is None
    assert len(calls) == compiles


def test_backward_spec_drops_the_forwards_tuning(cache_dir, gate):
    """The forward's tiles and knobs are not the backward's: a block_m of 128 (which
    the backward refuses) or kernel='simt' still gets the Hopper backward."""
    spec = AttentionSpec(**{**GRAD, "block_m": 128, "stages": 3, "kernel": "simt",
                            "epilogue": "tma", "persistent_ctas": 0})
    grad_spec = ops._grad_spec(spec)
    assert grad_spec == AttentionSpec(**GRAD)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert isinstance(ops._hopper_grad(grad_spec), jit.CompiledGrad)


def test_run_hopper_grad_falls_back_before_touching_tensors(cache_dir, gate, monkeypatch):
    """_run_hopper_grad returns None (the recompute) when the gate is off or the
    spec is refused: CPU tensors never reach a launch here."""
    q = torch.zeros(1, 64, 2, 96, dtype=torch.bfloat16)  # D = 96: refused
    spec = ops._spec_for(q, q, q, mask="none", align="bottom_right", window=(-1, -1),
                         softcap=0.0, scale=None, varlen=0, lse=True, traced=None,
                         kernel="auto", tiles={})
    lse = torch.zeros(1, 2, 64)
    with pytest.warns(ops.PerformanceWarning):
        assert ops._run_hopper_grad(spec, q, q, q, q, lse, None, None, None, None) is None
    monkeypatch.setenv("FLASHMLIR_HOPPER_BACKWARD", "0")
    monkeypatch.setattr(jit, "compile_grad", lambda spec: pytest.fail("compiled"))
    assert ops._run_hopper_grad(spec, q, q, q, q, lse, None, None, None, None) is None


# -- the arguments of the CUDA backward (the same code, on CPU tensors) -------------------
def _cu(lens):
    return torch.tensor([0, *torch.tensor(lens).cumsum(0).tolist()], dtype=torch.int32)


@pytest.mark.parametrize("lens_q, lens_k", [(None, None), ((100, 37, 120), (90, 50, 160))])
@pytest.mark.parametrize("upstream", ["both", "none"])
def test_backward_arguments_pass_its_checks(cache_dir, gate, lens_q, lens_k, upstream):
    """What _run_hopper_grad builds for a dense or packed call (packed totals and
    sequence count bucketed; grad_out / grad_lse None: zeros) passes CompiledGrad's
    checks, through the same functions, on CPU tensors."""
    hq, hk, d = 4, 2, 128
    if lens_q is None:
        q = torch.randn(2, 200, hq, d, dtype=torch.bfloat16)
        k = v = torch.randn(2, 150, hk, d, dtype=torch.bfloat16)
        out, lse = torch.randn(2, 200, hq, d, dtype=torch.bfloat16), torch.randn(2, hq, 200)
        cu_q = cu_k = None
    else:
        q = torch.randn(sum(lens_q), hq, d, dtype=torch.bfloat16)
        k = v = torch.randn(sum(lens_k), hk, d, dtype=torch.bfloat16)
        out, lse = torch.randn(sum(lens_q), hq, d, dtype=torch.bfloat16), torch.randn(
            hq, sum(lens_q))
        cu_q, cu_k = _cu(lens_q), _cu(lens_k)
    spec = ops._spec_for(q, k, v, mask="causal", align="bottom_right", window=(-1, 0),
                         softcap=0.0, scale=None, varlen=0 if cu_q is None else len(lens_q),
                         lse=True, traced=None, kernel="auto", tiles={})
    if spec.varlen:
        spec, cu_q, cu_k = ops._bucketed_varlen(spec, cu_q, cu_k)
        assert spec.seqlen_q > q.shape[0] and spec.varlen == 4  # bucketed
    grad = ops._hopper_grad(ops._grad_spec(spec))
    assert isinstance(grad, jit.CompiledGrad)
    dout, dlse = (torch.randn_like(out), torch.randn_like(lse)) if upstream == "both" else (
        None, None)
    args, (dq, dk, dv) = ops._grad_arguments(grad.spec, q, k, v, out, lse, dout, dlse, cu_q,
                                             cu_k)
    grad.check(args, CPU)
    names = [n for n, _ in grad.spec.grad_arguments()]
    if upstream == "none":
        assert not args[names.index("do")].any() and not args[names.index("dlse")].any()
    assert args[names.index("dq")].data_ptr() == dq.data_ptr()
    assert dq.shape[-3] == grad.spec.seqlen_q and dk.shape[-3] == grad.spec.seqlen_k


def test_backward_checks_refuse_what_would_leave_the_tensors(cache_dir):
    spec = AttentionSpec(**GRAD)
    grad = flashmlir.compile_grad(spec)
    q, k, v = (torch.zeros(1, 257, 4, 128, dtype=torch.bfloat16),
               torch.zeros(1, 300, 2, 128, dtype=torch.bfloat16),
               torch.zeros(1, 300, 2, 128, dtype=torch.bfloat16))
    lse = torch.zeros(1, 4, 257)

    def args():
        return [q, k, v, torch.zeros_like(q), torch.zeros_like(q), lse, torch.zeros_like(lse),
                torch.zeros_like(q), torch.zeros_like(k), torch.zeros_like(v),
                torch.zeros(q.shape), torch.zeros_like(lse)]

    grad.check(args(), CPU)
    bad = args()
    bad[7] = q  # dq is q
    with pytest.raises(ValueError, match=r"dq \(argument 7\) overlaps q \(argument 0\)"):
        grad.check(bad, CPU)
    bad = args()
    bad[10] = torch.zeros(q.shape, dtype=torch.bfloat16)
    with pytest.raises(TypeError, match=r"argument 10 \(dq_acc\) must be float32"):
        grad.check(bad, CPU)
    with pytest.raises(TypeError, match="the kernel takes 12 tensors"):
        grad.check(args()[:11], CPU)
    with pytest.raises(ValueError, match=r"argument 0 \(q\) must be on cuda:0"):
        grad(*args())


def test_backward_checks_dynamic_lengths_agree(cache_dir):
    spec = AttentionSpec(**{**GRAD, "dynamic_seqlens": True, "seqlen_q": 1, "seqlen_k": 1})
    grad = flashmlir.compile_grad(spec)
    assert isinstance(grad.kernels[0]["grid"][0], dict)  # sizes from the shapes

    def args(sq=77, sk=90, dq_rows=None):
        q = torch.zeros(1, sq, 4, 128, dtype=torch.bfloat16)
        k = torch.zeros(1, sk, 2, 128, dtype=torch.bfloat16)
        lse = torch.zeros(1, 4, sq)
        return [q, k, torch.zeros_like(k), torch.zeros_like(q), torch.zeros_like(q), lse,
                torch.zeros_like(lse), torch.zeros(1, dq_rows or sq, 4, 128,
                                                   dtype=torch.bfloat16),
                torch.zeros_like(k), torch.zeros_like(k), torch.zeros(q.shape),
                torch.zeros_like(lse)]

    grad.check(args(), CPU)
    with pytest.raises(ValueError, match=r"these sizes must agree: .*dq.shape\[1\] = 500"):
        grad.check(args(dq_rows=500), CPU)
