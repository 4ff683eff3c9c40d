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


def test_launcher_needs_a_signature():
    meta = {"kernels": [{"name": "k", "grid": [1, 1, 1], "block": [128, 1, 1],
                         "dynamic_shared_memory": 0, "arguments": [0]}]}
    with pytest.raises(ValueError, match="no 'signature'"):
        HopperKernel(".version 8.0\n", meta)
