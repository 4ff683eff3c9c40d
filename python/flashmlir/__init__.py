"""flashmlir: an MLIR attention-kernel compiler (Python side).

Today this package exposes the CPU execution path (JIT-compile memref-level
MLIR for this machine and run it on numpy arrays) and, in `flashmlir.gpu`,
the launcher of compiled Hopper kernels on torch tensors (it needs only the
small `_cuda` runtime extension, see python/src/cuda_bindings.cpp).

    import numpy as np, flashmlir
    k = flashmlir.cpu_compile(source, "kernel")     # CompileError on bad IR
    k.run(x, out)                                  # numpy arrays, in place

The build puts this package and its extension module `_flashmlir` under
`<build>/python/flashmlir/`; use it with `PYTHONPATH=<build>/python` (what
tools/test.sh exports). It is not installed anywhere.

Arguments of `CpuKernel.run` map to the entry's memref arguments in order:
float16 -> f16, float32 -> f32, float64 -> f64, int32 -> i32, int64 -> i64.
numpy has no bfloat16, so bf16 memrefs take uint16 arrays of bf16 bit
patterns, marked explicitly with `flashmlir.bf16(bits)` (a plain uint16 array
is rejected, so a dtype mix-up cannot pass silently); `to_bf16_bits` and
`from_bf16_bits` convert. Arrays may have any strides that the memref layout
admits: identity layouts (`memref<?x?xf32>`) need C-contiguous arrays,
`strided<[?, ?], offset: ?>` layouts take any view. Read-only arrays are
rejected for arguments the kernel may write.
"""

import numpy as _np

try:
    from ._flashmlir import (  # noqa: F401  (re-exported API)
        HAS_ATTN_PASSES,
        BF16Bits,
        CompileError,
        CpuKernel,
        cpu_compile,
    )
except ImportError as _error:  # a GPU-only install: flashmlir.gpu still works
    _missing = _error

    def cpu_compile(*args, **kwargs):
        raise ImportError(f"flashmlir's compiler extension is not built: {_missing}")

__all__ = [
    "BF16Bits",
    "CompileError",
    "CpuKernel",
    "HAS_ATTN_PASSES",
    "bf16",
    "cpu_compile",
    "from_bf16_bits",
    "to_bf16_bits",
]


def bf16(bits):
    """Marks a uint16 array of bf16 bit patterns as a bf16 argument of run()."""
    return BF16Bits(bits)


def to_bf16_bits(values):
    """Rounds float32 values to bf16 (nearest, ties to even; NaN stays NaN)
    and returns their bit patterns as a uint16 array."""
    bits = _np.ascontiguousarray(values, dtype=_np.float32).view(_np.uint32)
    rounding = ((bits >> 16) & 1) + _np.uint32(0x7FFF)
    rounded = ((bits + rounding) >> 16).astype(_np.uint16)
    nan = _np.isnan(_np.asarray(values, dtype=_np.float32))
    return _np.where(nan, _np.uint16(0x7FC0), rounded).astype(_np.uint16)


def from_bf16_bits(bits):
    """The float32 values of a uint16 array of bf16 bit patterns (exact)."""
    wide = _np.asarray(bits, dtype=_np.uint16).astype(_np.uint32)
    return (wide << 16).view(_np.float32)
