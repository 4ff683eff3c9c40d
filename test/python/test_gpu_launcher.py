"""flashmlir._cuda (the C++ CUDA runtime for Python) and flashmlir.gpu on this machine.

Without a GPU, every driver-backed call must fail with a clear RuntimeError (never a
crash), and bad arguments must be rejected before the driver is reached. The launch
itself is checked on the H100/H200 by test/python/test_attention_gpu.py
(see bench/RESULTS.md); here it is skipped visibly.
"""

import pytest

import flashmlir
from flashmlir import _cuda


def _have_gpu():
    try:
        _cuda.device_info(0)
        return True
    except RuntimeError:
        return False


HAVE_GPU = _have_gpu()


@pytest.mark.skipif(HAVE_GPU, reason="a CUDA driver is present")
def test_no_driver_is_a_clear_error():
    with pytest.raises(RuntimeError, match="driver|device|CUDA"):
        _cuda.device_info(0)
    with pytest.raises(RuntimeError, match="driver|device|CUDA"):
        _cuda.Module(".version 8.0\n.target sm_90a\n.address_size 64\n")


def test_tensor_map_arguments_checked_before_the_driver():
    with pytest.raises(ValueError, match="same rank"):
        _cuda.encode_tensor_map("bf16", 0, [64, 2, 128, 1], [128, 256, 32768], [64, 1], 128)
    with pytest.raises(ValueError, match="swizzle must be"):
        _cuda.encode_tensor_map("bf16", 0, [64], [], [64], 7)
    with pytest.raises(ValueError, match="element type"):
        _cuda.encode_tensor_map("f64", 0, [64], [], [64], 0)


def test_launcher_module_imports_without_torch_or_gpu():
    import flashmlir.gpu as gpu
    assert hasattr(gpu, "HopperKernel")
    assert flashmlir.cpu_compile is not None


@pytest.mark.skipif(not HAVE_GPU, reason="no CUDA GPU here: the Hopper kernels run in "
                    "test/python/test_attention_gpu.py on the GPU machine")
def test_device_is_visible():
    info = _cuda.device_info(0)
    assert info["sm_count"] > 0


# -- the launcher's argument checks (flashmlir.gpu.check_arguments) ------------------
# No GPU needed: the checks are run against CPU tensors and device "cpu"; on the GPU
# the launcher runs the same function with its device (test_attention_gpu.py).
torch = pytest.importorskip("torch")
from flashmlir.gpu import HopperKernel, check_arguments  # noqa: E402

CPU = torch.device("cpu")
BASE = dict(dtype="bf16", batch=2, seqlen_q=100, seqlen_k=120, heads_q=4, heads_kv=2,
            head_dim=64, head_dim_v=64)


def _signature(**change):
    return flashmlir.compile(flashmlir.AttentionSpec(**{**BASE, **change})).metadata["signature"]


def _tensors(b=2, sq=100, sk=120, hq=4, hk=2, d=64, dv=64, dtype=torch.bfloat16):
    return [torch.zeros(b, sq, hq, d, dtype=dtype), torch.zeros(b, sk, hk, d, dtype=dtype),
            torch.zeros(b, sk, hk, dv, dtype=dtype), torch.zeros(b, sq, hq, dv, dtype=dtype),
            torch.zeros(b, hq, sq)]


def test_launcher_accepts_what_the_signature_says():
    check_arguments(_signature(), _tensors(), CPU)


@pytest.mark.parametrize("damage, error, message", [
    (lambda a: a[:4], TypeError, r"the kernel takes 5 tensors \(q, k, v, out, lse\), got 4"),
    (lambda a: a[:4] + [None], TypeError, r"argument 4 \(lse\) must be a torch.Tensor"),
    (lambda a: a[:3] + [a[3].half(), a[4]], TypeError,
     r"argument 3 \(out\) must be bfloat16 \(memref<2x100x4x64xbf16>\), got torch.float16"),
    (lambda a: a[:3] + [torch.zeros(2, 200, 4, 64, dtype=torch.bfloat16), a[4]], ValueError,
     r"argument 3 \(out\) must have shape \(2, 100, 4, 64\)"),
    (lambda a: a[:4] + [torch.zeros(2, 4, 99)], ValueError, r"argument 4 \(lse\) must have shape"),
    (lambda a: a[:3] + [torch.zeros(2, 100, 64, 4, dtype=torch.bfloat16).transpose(2, 3),
                        a[4]], ValueError, r"argument 3 \(out\) must be contiguous"),
    (lambda a: [a[0], a[1], a[2], a[0], a[4]], ValueError,
     r"out \(argument 3\) overlaps q \(argument 0\)"),
])
def test_launcher_refuses_what_would_leave_the_tensors(damage, error, message):
    with pytest.raises(error, match=message):
        check_arguments(_signature(), damage(_tensors()), CPU)


def test_launcher_refuses_other_devices():
    with pytest.raises(ValueError, match=r"argument 0 \(q\) must be on cuda:0, got cpu"):
        check_arguments(_signature(), _tensors(), torch.device("cuda", 0))


def test_launcher_refuses_overlapping_views():
    # out and lse as views of one buffer that overlap (each contiguous, right shape).
    signature = _signature(dtype="f32")
    args = _tensors(dtype=torch.float32)
    buffer = torch.zeros(args[3].numel() + 10)
    args[3] = buffer[:args[3].numel()].view(args[3].shape)
    args[4] = buffer[-args[4].numel():].view(args[4].shape)
    with pytest.raises(ValueError, match=r"out \(argument 3\) overlaps lse \(argument 4\)"):
        check_arguments(signature, args, CPU)


def test_launcher_checks_dynamic_sizes_agree():
    signature = _signature(dynamic_seqlens=True, seqlen_q=1, seqlen_k=1)
    assert signature[0]["shape"] == [2, -1, 4, 64]
    check_arguments(signature, _tensors(sq=77, sk=5), CPU)
    args = _tensors(sq=77, sk=5)
    args[3] = torch.zeros(2, 50, 4, 64, dtype=torch.bfloat16)  # out shorter than q
    with pytest.raises(ValueError, match=r"these sizes must agree: q.shape\[1\] = 77, "
                                         r"out.shape\[1\] = 50, lse.shape\[2\] = 77"):
        check_arguments(signature, args, CPU)
    args = _tensors(sq=77, sk=5)
    args[2] = torch.zeros(2, 6, 2, 64, dtype=torch.bfloat16)  # v longer than k
    with pytest.raises(ValueError, match=r"k.shape\[1\] = 5, v.shape\[1\] = 6"):
        check_arguments(signature, args, CPU)


@pytest.mark.parametrize("offsets, ok", [
    ([0, 100, 250, 300], True), ([0, 100, 100, 300], True), ([0, 100, 250, 301], False),
    ([1, 100, 250, 300], False), ([0, 150, 100, 300], False), ([0, -5, 100, 300], False)])
def test_launcher_checks_cu_seqlens(offsets, ok):
    signature = _signature(batch=1, varlen=3, seqlen_q=300, seqlen_k=300)
    cu = torch.tensor(offsets, dtype=torch.int32)
    args = _tensors(b=1, sq=300, sk=300)
    args = args[:3] + [cu, torch.tensor([0, 100, 250, 300], dtype=torch.int32)] + args[3:]
    if ok:
        check_arguments(signature, args, CPU)
        check_arguments(signature, args[:3] + [args[4], cu] + args[5:], CPU)
    else:
        with pytest.raises(ValueError, match="cu_seqlens_q must rise from 0 to at most 300"):
            check_arguments(signature, args, CPU)
        check_arguments(signature, args, CPU, offsets=False)  # the caller checked them


def test_launcher_takes_packed_tensors_shorter_than_the_bucket():
    """flashmlir.attention compiles packed calls for bucketed totals (300 here)
    and passes the actual tensors (280 query rows, 290 keys) with LSE of the
    kernel's static total: accepted; cu_seqlens are checked against the actual
    tensors, and lse must still have the static shape."""
    signature = _signature(batch=1, varlen=3, seqlen_q=300, seqlen_k=300)
    args = _tensors(b=1, sq=280, sk=290)
    args[4] = torch.zeros(1, 4, 300)  # lse: the kernel's layout (H, static total)
    cu_q = torch.tensor([0, 100, 250, 280], dtype=torch.int32)
    cu_k = torch.tensor([0, 100, 250, 290], dtype=torch.int32)
    args = args[:3] + [cu_q, cu_k] + args[3:]
    check_arguments(signature, args, CPU)
    with pytest.raises(ValueError, match="cu_seqlens_q must rise from 0 to at most 280"):
        check_arguments(signature, args[:3] + [torch.tensor([0, 100, 250, 300],
                                                            dtype=torch.int32)] + args[4:], CPU)
    with pytest.raises(ValueError, match=r"argument 6 \(lse\) must have shape \(1, 4, 300\)"):
        check_arguments(signature, args[:6] + [torch.zeros(1, 4, 280)], CPU)
    longer = _tensors(b=1, sq=310, sk=290)
    with pytest.raises(ValueError, match=r"argument 0 \(q\) must have shape \(1, 300, 4, 64\)"):
        check_arguments(signature, [longer[0]] + args[1:], CPU)
    with pytest.raises(ValueError, match=r"q.shape\[1\] = 280, out.shape\[1\] = 270"):
        check_arguments(signature, args[:5] + [torch.zeros(1, 270, 4, 64,
                                                           dtype=torch.bfloat16)] + args[6:], CPU)


@pytest.mark.parametrize("lens_q, lens_k, causal", [
    ((100, 150, 30), (100, 150, 40), False), ((5, 0, 17, 1), (9, 3, 17, 0), True)])
def test_attention_builds_arguments_its_launcher_accepts(lens_q, lens_k, causal):
    """What flashmlir.attention passes the GPU launcher for a packed call (totals
    and sequence count bucketed, actual tensors) passes the launcher's checks;
    checked here with CPU tensors through the same code (ops._run's)."""
    from flashmlir import ops

    tq, tk = sum(lens_q), sum(lens_k)
    q = torch.zeros(tq, 4, 64, dtype=torch.bfloat16)
    k = v = torch.zeros(tk, 2, 64, dtype=torch.bfloat16)
    cu = lambda lens: torch.tensor([0, *torch.tensor(lens).cumsum(0).tolist()],  # noqa: E731
                                   dtype=torch.int32)
    spec = ops._spec_for(q, k, v, mask="causal" if causal else "none", align="bottom_right",
                         window=(-1, 0) if causal else (-1, -1), softcap=0.0, scale=None,
                         varlen=len(lens_q), lse=True, traced=None, kernel="auto", tiles={})
    spec, cu_q, cu_k = ops._bucketed_varlen(spec, cu(lens_q), cu(lens_k))
    assert spec.seqlen_q > tq  # the bucket is longer than the tensors
    out, lse = ops._outputs(q, v, spec.varlen, lse_total=spec.seqlen_q)
    args = ops._kernel_arguments(spec, q, k, v, cu_q, cu_k, out, lse)
    signature = flashmlir.compile(spec).metadata["signature"]
    check_arguments(signature, args, CPU)


def test_launcher_needs_a_signature():
    meta = {"kernels": [{"name": "k", "grid": [1, 1, 1], "block": [128, 1, 1],
                         "dynamic_shared_memory": 0, "arguments": [0]}]}
    with pytest.raises(ValueError, match="no 'signature'"):
        HopperKernel(".version 8.0\n", meta)
