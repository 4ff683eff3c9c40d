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
